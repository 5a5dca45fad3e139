/* fuzz-chunked.c: the framing of a chunked request body, as the server's gate follows it (issue
 * 9 item 16). The input is the body and whatever follows it. cx_http_chunked_scan() must find
 * the same end (or the same first malformed byte) however the input is cut into pieces, and the
 * same as a second reader of the grammar written the plain way, over the whole input. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-http-chunked.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

/* The whole input in one call. */
static CxHttpChunkedStatus
scan_whole (const char *bytes, gsize size, gsize *used)
{
  CxHttpChunked chunks;

  cx_http_chunked_init (&chunks);
  return cx_http_chunked_scan (&chunks, bytes, size, used);
}

/* In pieces of 1 to 16 bytes, their sizes drawn from @seed. */
static CxHttpChunkedStatus
scan_pieces (const char *bytes, gsize size, guint32 seed, gsize *used)
{
  CxHttpChunked chunks;
  CxHttpChunkedStatus status = CX_HTTP_CHUNKED_MORE;
  gsize offset = 0, n = 0, again = 1;

  cx_http_chunked_init (&chunks);
  while (offset < size && status == CX_HTTP_CHUNKED_MORE)
    {
      gsize piece;

      seed = seed * 1103515245 + 12345;
      piece = MIN (size - offset, 1 + ((seed >> 16) & 15));
      status = cx_http_chunked_scan (&chunks, bytes + offset, piece, &n);
      fuzz_check (n <= piece);
      fuzz_check (status != CX_HTTP_CHUNKED_MORE || n == piece);
      offset += n;
    }
  *used = offset;
  /* Once it has ended, or failed, it says so again and takes nothing. */
  if (status != CX_HTTP_CHUNKED_MORE)
    {
      fuzz_check (cx_http_chunked_scan (&chunks, bytes, size, &again) == status);
      fuzz_check (again == 0);
    }
  return status;
}

/* The byte @c at @i of a chunk-size line that begins at @start: within the length cap? */
static gboolean
line_fits (gsize start, gsize i, char c)
{
  gsize position = i - start + 1;

  return position < CX_HTTP_CHUNKED_MAX_LINE || (position == CX_HTTP_CHUNKED_MAX_LINE && c == '\n');
}

/* The grammar of cx-http-chunked.c, read over the whole input. */
static CxHttpChunkedStatus
reference (const char *p, gsize n, gsize *at)
{
  gsize i = 0;

#define MORE()                                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    *at = n;                                                                                       \
    return CX_HTTP_CHUNKED_MORE;                                                                   \
  }                                                                                                \
  G_STMT_END
#define FAIL()                                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    *at = i;                                                                                       \
    return CX_HTTP_CHUNKED_ERROR;                                                                  \
  }                                                                                                \
  G_STMT_END
/* The byte at i must be c. */
#define EXPECT(c)                                                                                  \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (i == n)                                                                                    \
      MORE ();                                                                                     \
    if (p[i] != (c))                                                                               \
      FAIL ();                                                                                     \
    i++;                                                                                           \
  }                                                                                                \
  G_STMT_END

  for (;;)
    {
      gsize start = i, digits = 0;
      guint64 size = 0;

      while (i < n && g_ascii_isxdigit (p[i]))
        {
          if (++digits > CX_HTTP_CHUNKED_MAX_DIGITS)
            FAIL ();
          size = size * 16 + g_ascii_xdigit_value (p[i]);
          i++;
        }
      if (i == n)
        MORE ();
      if (digits == 0)
        FAIL ();
      if (p[i] == ' ' || p[i] == '\t' || p[i] == ';')
        {
          while (i < n && (p[i] == ' ' || p[i] == '\t'))
            {
              if (!line_fits (start, i, p[i]))
                FAIL ();
              i++;
            }
          if (i == n)
            MORE ();
          if (!line_fits (start, i, p[i]) || p[i] != ';')
            FAIL ();
          i++;
          while (i < n && p[i] != '\r')
            {
              if (!line_fits (start, i, p[i]) || !(p[i] == '\t' || (p[i] >= ' ' && p[i] <= '~')))
                FAIL ();
              i++;
            }
        }
      if (i < n && !line_fits (start, i, p[i]))
        FAIL ();
      EXPECT ('\r');
      if (i < n && !line_fits (start, i, p[i]))
        FAIL ();
      EXPECT ('\n');

      if (size == 0)
        {
          EXPECT ('\r');
          EXPECT ('\n');
          *at = i;
          return CX_HTTP_CHUNKED_END;
        }
      if (n - i < size)
        MORE ();
      i += size;
      EXPECT ('\r');
      EXPECT ('\n');
    }
#undef EXPECT
#undef FAIL
#undef MORE
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *bytes = (const char *) data;
  guint32 seed = size > 0 ? data[0] * 2654435761u : 1;
  gsize whole_used = 0, piece_used = 0, reference_at = 0;
  CxHttpChunkedStatus whole, pieces, expected;

  whole = scan_whole (bytes, size, &whole_used);
  pieces = scan_pieces (bytes, size, seed, &piece_used);
  expected = reference (bytes, size, &reference_at);

  fuzz_check (whole == CX_HTTP_CHUNKED_MORE || whole == CX_HTTP_CHUNKED_END ||
              whole == CX_HTTP_CHUNKED_ERROR);
  fuzz_check (whole_used <= size);
  fuzz_check (whole != CX_HTTP_CHUNKED_MORE || whole_used == size);
  fuzz_check (whole != CX_HTTP_CHUNKED_END || (whole_used >= 5 && bytes[whole_used - 1] == '\n'));
  fuzz_check (pieces == whole && piece_used == whole_used);
  fuzz_check (expected == whole && reference_at == whole_used);
  return 0;
}
