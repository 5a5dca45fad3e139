/* test-http-chunked.c: the framing of a chunked request body (src/protocol/cx-http-chunked.c),
 * which the server's gate follows to find the next pipelined head: well-formed bodies end
 * where they end, whatever follows them; malformed ones fail at their first bad byte; and the
 * answer is the same however the body is cut into pieces. */
#include "config.h"

#include <string.h>

#include "protocol/cx-http-chunked.h"

typedef struct
{
  const char *input;
  CxHttpChunkedStatus status;
  gsize used; /* G_MAXSIZE: all of it */
} Case;

/* The input in one call, then byte by byte: the same status and the same length. */
static void
check_case (const char *input, gsize length, CxHttpChunkedStatus status, gsize used)
{
  CxHttpChunked chunks;
  CxHttpChunkedStatus got, again;
  gsize n = 0, offset = 0;

  if (used == G_MAXSIZE)
    used = length;

  cx_http_chunked_init (&chunks);
  got = cx_http_chunked_scan (&chunks, input, length, &n);
  if (got != status || n != used)
    g_error ("“%s”: expected %d after %zu bytes, got %d after %zu", g_strescape (input, NULL),
             status, used, got, n);
  /* It stays where it ended. */
  if (status != CX_HTTP_CHUNKED_MORE)
    {
      again = cx_http_chunked_scan (&chunks, input, length, &n);
      g_assert_cmpint (again, ==, status);
      g_assert_cmpuint (n, ==, 0);
    }

  cx_http_chunked_init (&chunks);
  got = CX_HTTP_CHUNKED_MORE;
  while (offset < length && got == CX_HTTP_CHUNKED_MORE)
    {
      got = cx_http_chunked_scan (&chunks, input + offset, 1, &n);
      offset += n;
    }
  g_assert_cmpint (got, ==, status);
  g_assert_cmpuint (offset, ==, used);
}

static void
test_chunked_cases (void)
{
  static const Case cases[] = {
    /* Whole bodies, and what follows them is not theirs. */
    { "0\r\n\r\n", CX_HTTP_CHUNKED_END, 5 },
    { "5\r\nhello\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 15 },
    { "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", CX_HTTP_CHUNKED_END, 15 },
    { "3\r\nabc\r\n2\r\nde\r\n000\r\n\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 22 },
    { "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 35 },
    { "5;name=value\r\nhello\r\n0;last\r\n\r\n", CX_HTTP_CHUNKED_END, 31 },
    { "5 \t; name = \"v a l\"\r\nhello\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 33 },
    { "00000000000000f\r\n0123456789abcde\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 39 },
    /* Data may hold anything: CR, LF, what looks like a chunk. */
    { "4\r\n\r\n\r\n\r\n0\r\n\r\n", CX_HTTP_CHUNKED_END, 14 },
    /* Not over yet. */
    { "", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    { "5", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    { "5\r\nhel", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    { "5\r\nhello\r\n0\r\n", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    { "5\r\nhello\r\n0\r\n\r", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    { "fffffffffffffff\r\nabc", CX_HTTP_CHUNKED_MORE, G_MAXSIZE },
    /* Malformed: fails at the first bad byte. */
    { "\r\n", CX_HTTP_CHUNKED_ERROR, 0 },
    { "x\r\n", CX_HTTP_CHUNKED_ERROR, 0 },
    { " 5\r\nhello\r\n0\r\n\r\n", CX_HTTP_CHUNKED_ERROR, 0 },
    { "-5\r\n", CX_HTTP_CHUNKED_ERROR, 0 },
    { "+5\r\n", CX_HTTP_CHUNKED_ERROR, 0 },
    { "0x5\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 1 },
    { "5x\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 1 },
    { "5 x\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 2 },
    { "5\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 1 },
    { "5\r\rhello\r\n", CX_HTTP_CHUNKED_ERROR, 2 },
    { "5\r\nhello\n0\r\n\r\n", CX_HTTP_CHUNKED_ERROR, 8 },
    { "5\r\nhello!\r\n0\r\n\r\n", CX_HTTP_CHUNKED_ERROR, 8 },
    { "5\r\nhello\r\nzz\r\n\r\n", CX_HTTP_CHUNKED_ERROR, 10 },
    { "5;a\x01\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 3 },
    { "5;caf\xc3\xa9\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 5 },
    { "0\r\nX-Trailer: 1\r\n\r\n", CX_HTTP_CHUNKED_ERROR, 3 },
    { "0\r\n\n", CX_HTTP_CHUNKED_ERROR, 3 },
    { "0\r\n\r\r", CX_HTTP_CHUNKED_ERROR, 4 },
    /* 16 hex digits, leading zeros or not */
    { "0000000000000005\r\nhello\r\n", CX_HTTP_CHUNKED_ERROR, 15 },
    { "ffffffffffffffff\r\n", CX_HTTP_CHUNKED_ERROR, 15 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (cases[i].input, strlen (cases[i].input), cases[i].status, cases[i].used);

  /* A NUL where a size belongs, and one in the data. */
  check_case ("\0\r\n", 3, CX_HTTP_CHUNKED_ERROR, 0);
  check_case ("1\r\n\0\r\n0\r\n\r\n", 11, CX_HTTP_CHUNKED_END, 11);
}

/* A chunk-size line of CX_HTTP_CHUNKED_MAX_LINE bytes passes; one byte more fails at its
 * last byte that could be read with it (libsoup reads that many bytes for the line). */
static void
test_chunked_line_cap (void)
{
  for (gsize extra = 0; extra < 2; extra++)
    {
      gsize line = CX_HTTP_CHUNKED_MAX_LINE + extra;
      g_autofree char *padding = g_strnfill (line - strlen ("5;\r\n"), 'x');
      g_autofree char *body = g_strdup_printf ("5;%s\r\nhello\r\n0\r\n\r\n", padding);

      if (extra == 0)
        check_case (body, strlen (body), CX_HTTP_CHUNKED_END, strlen (body));
      else
        check_case (body, strlen (body), CX_HTTP_CHUNKED_ERROR, CX_HTTP_CHUNKED_MAX_LINE - 1);
    }
}

/* A large chunk in one call and in uneven pieces: the data is skipped, not read byte by byte,
 * and the end is found exactly. */
static void
test_chunked_large (void)
{
  gsize size = 3 * 1024 * 1024;
  g_autoptr (GString) body = g_string_new (NULL);
  CxHttpChunked chunks;
  CxHttpChunkedStatus status = CX_HTTP_CHUNKED_MORE;
  gsize offset = 0, n = 0, end;

  g_string_append_printf (body, "%zx\r\n", size);
  g_string_set_size (body, body->len + size);
  memset (body->str + body->len - size, 'a', size);
  g_string_append (body, "\r\n0\r\n\r\n");
  end = body->len;
  g_string_append (body, "GET / HTTP/1.1\r\n\r\n");

  check_case (body->str, body->len, CX_HTTP_CHUNKED_END, end);
  cx_http_chunked_init (&chunks);
  while (status == CX_HTTP_CHUNKED_MORE)
    {
      status =
          cx_http_chunked_scan (&chunks, body->str + offset, MIN (body->len - offset, 8191), &n);
      offset += n;
    }
  g_assert_cmpint (status, ==, CX_HTTP_CHUNKED_END);
  g_assert_cmpuint (offset, ==, end);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/protocol/http-chunked/cases", test_chunked_cases);
  g_test_add_func ("/protocol/http-chunked/line-cap", test_chunked_line_cap);
  g_test_add_func ("/protocol/http-chunked/large", test_chunked_large);

  return g_test_run ();
}
