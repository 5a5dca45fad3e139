/* test-server-abuse.c: hostile clients at the connection layer (issue 9 items 2, 4, 7, 8, 15,
 * 16): file-descriptor exhaustion, slowloris and idle connections, oversized and ambiguous
 * request heads, bodies over their limit, SIGTERM with WebSockets open, and the memory a flood
 * of connections leaves behind. Every case runs against the real server on loopback, with
 * bounded counts; every wait has a generous hang guard and no case asserts a duration.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-server-abuse"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cx-test-server.h"

typedef CxTestFixture Fixture;

/* No wait in this file takes anywhere near this long unless the server is stuck. */
#define HANG_GUARD_S 60

/* Under AddressSanitizer the server is several times slower and bigger: fewer connections. */
#if defined(__SANITIZE_ADDRESS__)
#define FLOOD_CONNECTIONS 500
#else
#define FLOOD_CONNECTIONS 2000
#endif

/* Configuration */

/* The harness's configuration with these members of "limits" (and of "files") replaced. */
static char *
config_with (const CxTestConfigOptions *options, const char *first_key, ...)
{
  g_autofree char *base = cx_test_config_new (options);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  va_list args;

  json_parser_load_from_data (parser, base, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    {
      gint64 value = va_arg (args, gint64);
      g_auto (GStrv) path = g_strsplit (key, ".", 2);

      json_object_set_int_member (json_object_get_object_member (root, path[0]), path[1], value);
    }
  va_end (args);

  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

/* Raw connections: what a hostile client does, byte by byte */

static guint
server_port (CxTestServer *server)
{
  const char *url = cx_test_server_get_url (server);

  return (guint) g_ascii_strtoull (strrchr (url, ':') + 1, NULL, 10);
}

static int
raw_connect (CxTestServer *server)
{
  struct sockaddr_in address = { 0 };
  struct timeval guard = { HANG_GUARD_S, 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  address.sin_family = AF_INET;
  address.sin_port = htons (server_port (server));
  address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof guard);
  if (connect (fd, (struct sockaddr *) &address, sizeof address) != 0)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

static gboolean
raw_send (int fd, const void *data, gsize length)
{
  const char *bytes = data;

  while (length > 0)
    {
      ssize_t n = send (fd, bytes, length, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      bytes += n;
      length -= n;
    }
  return TRUE;
}

/* Sends @data while reading what the server says (into @reply), as a client that reads its
 * reply before it has sent everything does: stops sending once a reply has come or the server
 * no longer reads. */
static void
raw_send_reading (int fd, const void *data, gsize length, GString *reply)
{
  const char *bytes = data;

  while (length > 0)
    {
      struct pollfd poll_fd = { fd, POLLIN, 0 };
      char buffer[4096];
      gsize n = MIN (length, 16 * 1024);

      if (poll (&poll_fd, 1, 0) > 0)
        {
          ssize_t got = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);

          if (got > 0)
            g_string_append_len (reply, buffer, got);
          if (got == 0 || reply->len > 0)
            return;
        }
      if (!raw_send (fd, bytes, n))
        return;
      bytes += n;
      length -= n;
    }
}

/* Reads until the server closes the connection (or the hang guard): what it said. Returns
 * %FALSE if the hang guard ran out with the connection still open. */
static gboolean
raw_read_to_close (int fd, GString *out)
{
  char buffer[16384];

  for (;;)
    {
      ssize_t n = recv (fd, buffer, sizeof buffer, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return FALSE;
      if (n <= 0)
        return TRUE; /* closed, or reset */
      if (out != NULL)
        g_string_append_len (out, buffer, n);
    }
}

/* One complete reply to one request on a keep-alive connection: its status, or 0. */
static guint
raw_read_reply (int fd)
{
  g_autoptr (GString) head = g_string_new (NULL);
  char byte;
  const char *length_header;
  gsize length = 0;
  guint status = 0;

  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      if (recv (fd, &byte, 1, 0) != 1)
        return 0;
      g_string_append_c (head, byte);
    }
  sscanf (head->str, "HTTP/1.1 %u", &status);
  length_header = strstr (head->str, "Content-Length: ");
  if (length_header != NULL)
    length = g_ascii_strtoull (length_header + strlen ("Content-Length: "), NULL, 10);
  for (gsize i = 0; i < length; i++)
    if (recv (fd, &byte, 1, 0) != 1)
      return 0;
  return status;
}

/* GET /cx/1/health on a fresh connection, with the hang guard: its status, 0 if none. */
static guint
raw_health (CxTestServer *server)
{
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = raw_connect (server);
  guint status = 0;

  if (raw_send (fd, request, sizeof request - 1))
    status = raw_read_reply (fd);
  close (fd);
  return status;
}

static gboolean
server_closed (int fd)
{
  struct pollfd poll_fd = { fd, POLLIN, 0 };
  char byte;

  if (poll (&poll_fd, 1, 0) <= 0)
    return FALSE;
  return recv (fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

static gboolean
raise_own_fd_limit (guint wanted)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < wanted && limit.rlim_max > limit.rlim_cur)
    {
      limit.rlim_cur = MIN (limit.rlim_max, (rlim_t) wanted);
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  return limit.rlim_cur >= wanted;
}

/* /proc/PID/… */

static char *
proc_line (CxTestServer *server, const char *file, const char *prefix)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", cx_test_server_get_pid (server), file);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));
  g_error ("no “%s” in %s", prefix, path);
}

static guint64
server_rss_kib (CxTestServer *server)
{
  g_autofree char *line = proc_line (server, "status", "VmRSS:");

  return g_ascii_strtoull (g_strchug (line), NULL, 10);
}

/* Item 2: the server raises its soft open-file limit to the hard one, caps its connections
 * under it, and keeps accepting after the descriptors ran out. With soft 64 / hard 256 it
 * used to stop accepting for good after some 60 connections. */
static void
test_fd_exhaustion (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new_with_fd_limit (config, 64, 256);
  g_autofree char *limits = proc_line (server, "limits", "Max open files");
  g_auto (GStrv) fields = g_strsplit_set (g_strstrip (limits), " ", -1);
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  guint soft = 0, hard = 0, n = 0;

  /* "Max open files            256                  256                  files" */
  for (guint i = 0; fields[i] != NULL; i++)
    if (*fields[i] != '\0')
      {
        if (n == 0)
          soft = g_ascii_strtoull (fields[i], NULL, 10);
        else if (n == 1)
          hard = g_ascii_strtoull (fields[i], NULL, 10);
        n++;
      }
  g_test_message ("server's open-file limit: soft %u, hard %u", soft, hard);
  g_assert_cmpuint (hard, ==, 256);
  g_assert_cmpuint (soft, ==, hard);

  /* More idle connections than the server has descriptors. */
  for (guint i = 0; i < 400; i++)
    {
      int fd = raw_connect (server);

      g_array_append_val (fds, fd);
    }
  /* Served while they are all open: the oldest idle ones make room. */
  g_assert_cmpuint (raw_health (server), ==, 200);

  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);

  /* And after they are gone, again and again. */
  for (guint i = 0; i < 20; i++)
    g_assert_cmpuint (raw_health (server), ==, 200);
  cx_test_assert_healthy (server);
}

/* Item 4: a slowloris client, one byte every 300 ms and never the end of its headers, is
 * closed by the header timeout. */
static void
test_slowloris_closed (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.headerTimeoutSeconds", (gint64) 2,
                                         "limits.idleTimeoutSeconds", (gint64) 2, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  int fd = raw_connect (server);
  gint64 guard = g_get_monotonic_time () + HANG_GUARD_S * G_USEC_PER_SEC;
  guint sent = 0;
  gboolean closed = FALSE;

  while (!closed && g_get_monotonic_time () < guard)
    {
      char byte = sent < sizeof request - 1 ? request[sent] : 'a';

      if (!raw_send (fd, &byte, 1))
        closed = TRUE;
      sent++;
      g_usleep (300 * 1000);
      closed = closed || server_closed (fd);
    }
  g_test_message ("slowloris: closed after %u bytes", sent);
  g_assert_true (closed);
  close (fd);
  g_assert_cmpuint (raw_health (server), ==, 200);
}

/* Item 4: on a kept-alive connection the header timeout runs from the first byte of the next
 * request, not from the first complete line: a request line sent a byte every 300 ms, never
 * ended, is closed by the 2 s header timeout, not left to the hour-long idle timeout (as it
 * was, libsoup saying nothing before a whole line). */
static void
test_slowloris_keepalive (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.headerTimeoutSeconds", (gint64) 2,
                                         "limits.idleTimeoutSeconds", (gint64) 3600, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  static const char slow[] = "GET /cx/1/health?";
  int fd = raw_connect (server);
  gint64 guard = g_get_monotonic_time () + HANG_GUARD_S * G_USEC_PER_SEC;
  guint sent = 0;
  gboolean closed = FALSE;

  g_assert_true (raw_send (fd, request, sizeof request - 1));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  while (!closed && g_get_monotonic_time () < guard)
    {
      char byte = sent < sizeof slow - 1 ? slow[sent] : 'a';

      if (!raw_send (fd, &byte, 1))
        closed = TRUE;
      sent++;
      g_usleep (300 * 1000);
      closed = closed || server_closed (fd);
    }
  g_test_message ("slow second request: closed after %u bytes", sent);
  g_assert_true (closed);
  close (fd);
  g_assert_cmpuint (raw_health (server), ==, 200);
}

/* Item 4: an idle keep-alive connection is closed by the idle timeout, one that sends its
 * next request in time is not, and a connection that never sends a byte is closed too. */
static void
test_idle_keepalive (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.headerTimeoutSeconds", (gint64) 2,
                                         "limits.idleTimeoutSeconds", (gint64) 2, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  int busy = raw_connect (server);
  int idle = raw_connect (server);
  int silent = raw_connect (server);

  g_assert_true (raw_send (idle, request, sizeof request - 1));
  g_assert_cmpuint (raw_read_reply (idle), ==, 200);

  /* A request every 500 ms for 6 s on one connection: well past the idle timeout in total,
   * well within it between requests. */
  for (guint i = 0; i < 12; i++)
    {
      g_assert_true (raw_send (busy, request, sizeof request - 1));
      g_assert_cmpuint (raw_read_reply (busy), ==, 200);
      g_usleep (500 * 1000);
    }
  g_assert_false (server_closed (busy));

  /* The other two have been idle for 6 s by now: the server has closed them, or does. */
  g_assert_true (raw_read_to_close (idle, NULL));
  g_assert_true (raw_read_to_close (silent, NULL));
  close (busy);
  close (idle);
  close (silent);
}

/* Item 4: two hundred slowloris connections do not keep a normal client from being served,
 * and each of them is closed. */
static void
test_slowloris_flood (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.headerTimeoutSeconds", (gint64) 2,
                                         "limits.idleTimeoutSeconds", (gint64) 2, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char partial[] = "POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\nX-Slow: a";
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint i = 0; i < 200; i++)
    {
      int fd = raw_connect (server);

      g_assert_true (raw_send (fd, partial, sizeof partial - 1));
      g_array_append_val (fds, fd);
    }
  for (guint i = 0; i < 5; i++)
    g_assert_cmpuint (raw_health (server), ==, 200);

  for (guint i = 0; i < fds->len; i++)
    {
      int fd = g_array_index (fds, int, i);

      g_assert_true (raw_read_to_close (fd, NULL));
      close (fd);
    }
  g_assert_cmpuint (raw_health (server), ==, 200);
}

/* Item 16: request heads the server refuses with a 4xx reply and then closes, rather than
 * dropping them in silence or serving them. */
typedef struct
{
  const char *name;
  char *request;
  guint status;
} BadHead;

/* Many headers of 1 KiB each, @size bytes in all. */
static char *
headers_of_size (gsize size)
{
  g_autoptr (GString) headers = g_string_new (NULL);
  g_autofree char *value = g_strnfill (1000, 'h');

  for (guint i = 0; headers->len < size; i++)
    g_string_append_printf (headers, "X-Header-%u: %s\r\n", i, value);
  return g_string_free (g_steal_pointer (&headers), FALSE);
}

/* Sends each request on a fresh connection: it must get its status and a close. */
static void
check_heads (CxTestServer *server, BadHead *cases, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GString) reply = g_string_new (NULL);
      g_autofree char *expected = g_strdup_printf ("HTTP/1.1 %u ", cases[i].status);
      int fd = raw_connect (server);

      raw_send_reading (fd, cases[i].request, strlen (cases[i].request), reply);
      g_assert_true (raw_read_to_close (fd, reply));
      close (fd);
      g_test_message ("%s: “%.*s”", cases[i].name, (int) strcspn (reply->str, "\r\n"), reply->str);
      if (!g_str_has_prefix (reply->str, expected))
        g_error ("%s: expected “%s…” and a close, got “%.*s”", cases[i].name, expected,
                 (int) MIN (reply->len, 200), reply->str);
      g_free (cases[i].request);
    }
}

static void
test_bad_heads (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  g_autofree char *big_value = g_strnfill (20 * 1024, 'a');
  g_autofree char *long_query = g_strnfill (10 * 1024, 'q');
  BadHead cases[] = {
    { "20 KiB of headers",
      g_strdup_printf ("GET /cx/1/health HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big_value),
      431 },
    { "a 10 KiB URL",
      g_strdup_printf ("GET /cx/1/health?%s HTTP/1.1\r\nHost: x\r\n\r\n", long_query), 414 },
    { "two Content-Length headers",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 5\r\nContent-Length: 12\r\n\r\nnickname=Eve"),
      400 },
    { "a negative Content-Length",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: -1\r\n\r\nnickname=Eve"),
      400 },
    { "a Content-Length that is not a number",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 12abc\r\n\r\nnickname=Eve"),
      400 },
    { "Content-Length with Transfer-Encoding",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n"
                "c\r\nnickname=Eve\r\n0\r\n\r\n"),
      400 },
    { "an unknown Transfer-Encoding",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Transfer-Encoding: gzip\r\n\r\nnickname=Eve"),
      400 },
    { "a folded Content-Length",
      g_strdup ("POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1\r\n 2\r\n\r\nnickname=Eve"),
      400 },
  };

  static const char pipelined[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Type: application/x-www-form-urlencoded\r\n"
                                  "Content-Length: 12abc\r\n\r\nnickname=Eve";
  g_autoptr (GString) rest = g_string_new (NULL);
  int fd;

  check_heads (server, cases, G_N_ELEMENTS (cases));

  /* Pipelined in one write: the heads after the first are checked as well. */
  fd = raw_connect (server);
  g_assert_true (raw_send (fd, pipelined, sizeof pipelined - 1));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_true (raw_read_to_close (fd, rest));
  close (fd);
  g_test_message ("pipelined, third: “%.*s”", (int) strcspn (rest->str, "\r\n"), rest->str);
  g_assert_true (g_str_has_prefix (rest->str, "HTTP/1.1 400 "));

  cx_test_assert_healthy (server);
  /* A clean exit: under AddressSanitizer, nothing of those requests leaked. libsoup 3.2.3
   * leaked the request path of every head whose body framing it did not recognise ("12abc",
   * "gzip"); the server now refuses those before libsoup parses them. */
  cx_test_server_stop (server);
}

/* Item 16: heads over 64 KiB, which libsoup 3.2.3 dropped without a word, get their 431 (or
 * 414) and a close too, also as the second request of a kept-alive connection. */
static void
test_huge_heads (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autofree char *huge_query = g_strnfill (100 * 1024, 'q');
  g_autofree char *headers_100k = headers_of_size (100 * 1024);
  g_autofree char *headers_1m = headers_of_size (1024 * 1024);
  g_autofree char *second = NULL;
  g_autoptr (GString) reply = g_string_new (NULL);
  BadHead cases[] = {
    { "100 KiB of headers",
      g_strdup_printf ("GET /cx/1/health HTTP/1.1\r\nHost: x\r\n%s\r\n", headers_100k), 431 },
    { "1 MiB of headers",
      g_strdup_printf ("GET /cx/1/health HTTP/1.1\r\nHost: x\r\n%s\r\n", headers_1m), 431 },
    { "a 100 KiB URL",
      g_strdup_printf ("GET /cx/1/health?%s HTTP/1.1\r\nHost: x\r\n\r\n", huge_query), 414 },
  };
  int fd;

  check_heads (server, cases, G_N_ELEMENTS (cases));

  fd = raw_connect (server);
  g_assert_true (raw_send (fd, request, sizeof request - 1));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  second = g_strdup_printf ("GET /cx/1/health HTTP/1.1\r\nHost: x\r\n%s\r\n", headers_100k);
  raw_send_reading (fd, second, strlen (second), reply);
  g_assert_true (raw_read_to_close (fd, reply));
  close (fd);
  g_test_message ("100 KiB of headers, second on its connection: “%.*s”",
                  (int) strcspn (reply->str, "\r\n"), reply->str);
  g_assert_true (g_str_has_prefix (reply->str, "HTTP/1.1 431 "));

  cx_test_assert_healthy (server);
  /* A clean exit: under AddressSanitizer, nothing of those connections leaked. */
  cx_test_server_stop (server);
}

/* Item 16: the heads pipelined after a chunked body. libsoup 3.2.3 reads ahead while it reads
 * a chunked body (8 KiB at the line after the last chunk), so the server's gate follows every
 * body to its end and checks the next head from its first byte. */

/* A chunked POST /cx/1/health. Its last-chunk line is 128 bytes, as long as libsoup 3.2.3's
 * buffer for it, so that libsoup reads the empty line after it with an 8 KiB read: whatever
 * was pipelined after the body comes with it. With @size, an X-Pad header makes the request
 * up to that empty line @size bytes long. */
static char *
chunked_post (gsize size)
{
  static const char head[] = "POST /cx/1/health HTTP/1.1\r\nHost: x\r\n"
                             "Transfer-Encoding: chunked\r\n";
  g_autofree char *extension = g_strnfill (128 - strlen ("0;x=\r\n"), 'e');
  g_autofree char *body = g_strdup_printf ("5\r\nhello\r\n0;x=%s\r\n", extension);
  g_autofree char *pad = NULL;

  if (size > 0)
    {
      gsize fixed = strlen (head) + strlen ("X-Pad: \r\n\r\n") + strlen (body);
      g_autofree char *value = NULL;

      g_assert_cmpuint (size, >, fixed);
      value = g_strnfill (size - fixed, 'p');
      pad = g_strdup_printf ("X-Pad: %s\r\n", value);
    }
  return g_strdup_printf ("%s%s\r\n%s\r\n", head, pad != NULL ? pad : "", body);
}

/* A head with a 6 KiB path (what libsoup 3.2.3 leaked, per request) and a Content-Length it
 * cannot parse. */
static char *
bad_framing_head (void)
{
  g_autofree char *query = g_strnfill (6 * 1024, 'q');

  return g_strdup_printf ("POST /cx/1/health?%s HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 12abc\r\n\r\nnickname=Eve",
                          query);
}

/* On a fresh connection, a chunked POST (of @size, see chunked_post()) with @next pipelined
 * after it in one write: the POST gets its 200; then what the server says until it closes. */
static GString *
after_chunked_post (CxTestServer *server, gsize size, const char *next)
{
  g_autofree char *post = chunked_post (size);
  g_autofree char *both = g_strconcat (post, next, NULL);
  GString *rest = g_string_new (NULL);
  int fd = raw_connect (server);

  /* The server reads all of it: the heads it refuses, it drains. */
  raw_send (fd, both, strlen (both));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_true (raw_read_to_close (fd, rest));
  close (fd);
  return rest;
}

static void
test_after_chunked (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.headerTimeoutSeconds", (gint64) 5,
                                         "limits.idleTimeoutSeconds", (gint64) 5, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char head[] = "POST /cx/1/health HTTP/1.1\r\nHost: x\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n";
  static const char get[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autofree char *long_line = g_strnfill (200, 'e');
  BadHead bodies[] = {
    { "a chunk size that is not hex", g_strdup_printf ("%s5\r\nhello\r\nzz\r\n\r\n", head), 400 },
    { "a chunk size of 16 digits",
      g_strdup_printf ("%s0000000000000005\r\nhello\r\n0\r\n\r\n", head), 400 },
    { "a chunk-size line over 128 bytes",
      g_strdup_printf ("%s5;x=%s\r\nhello\r\n0\r\n\r\n", head, long_line), 400 },
    { "chunk data not followed by CRLF", g_strdup_printf ("%s5\r\nhello!\r\n0\r\n\r\n", head),
      400 },
    { "a bare LF", g_strdup_printf ("%s5\nhello\r\n0\r\n\r\n", head), 400 },
    { "a trailer field", g_strdup_printf ("%s5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", head), 400 },
  };
  g_autofree char *bad = bad_framing_head ();
  g_autofree char *post = chunked_post (0);
  g_autofree char *three = g_strconcat (post, get, post, NULL);
  g_autoptr (GString) rest = NULL;
  g_autoptr (GString) truncated = g_string_new (NULL);
  g_autofree char *partial = g_strdup_printf ("%s5\r\nhello\r\n", head);
  int fd;

  /* A head libsoup cannot parse, after a chunked body: refused, as the first would be. */
  rest = after_chunked_post (server, 0, bad);
  g_test_message ("a Content-Length of 12abc after a chunked body: “%.*s”",
                  (int) strcspn (rest->str, "\r\n"), rest->str);
  g_assert_true (g_str_has_prefix (rest->str, "HTTP/1.1 400 "));
  /* The server's own refusal, before libsoup parsed the head. */
  g_assert_nonnull (strstr (rest->str, "\"error\""));

  /* A chunked POST, a GET and a chunked POST again on one connection: all served, and the
   * connection stays open. */
  fd = raw_connect (server);
  g_assert_true (raw_send (fd, three, strlen (three)));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  g_assert_true (raw_send (fd, get, sizeof get - 1));
  g_assert_cmpuint (raw_read_reply (fd), ==, 200);
  close (fd);

  /* Chunked bodies that are not well-formed: 400 and close, before the handler runs. */
  check_heads (server, bodies, G_N_ELEMENTS (bodies));

  /* A chunked body cut short by the client: never served (libsoup 3.2.3 took the end of the
   * stream after a chunk for the end of the body, and ran the handler). */
  fd = raw_connect (server);
  g_assert_true (raw_send (fd, partial, strlen (partial)));
  shutdown (fd, SHUT_WR);
  g_assert_true (raw_read_to_close (fd, truncated));
  close (fd);
  g_test_message ("a chunked body cut short: “%.*s”", (int) strcspn (truncated->str, "\r\n"),
                  truncated->str);
  g_assert_cmpuint (truncated->len, ==, 0);

  cx_test_assert_healthy (server);
  /* A clean exit: under AddressSanitizer, nothing of those requests leaked. */
  cx_test_server_stop (server);
}

/* A 100 KiB head after a chunked body, with maxHeaderBytes at its 60 KiB maximum: its 431.
 * libsoup 3.2.3 read up to 8 KiB of it uncounted, and dropped the head without a reply once it
 * had 64 KiB: here the POST fills the server's first 8 KiB read up to the empty line after its
 * last chunk, so libsoup's read for that line takes 8 KiB of the next head. */
static void
test_huge_head_after_chunked (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = config_with (NULL, "limits.maxHeaderBytes", (gint64) 61440, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  g_autofree char *value = g_strnfill (100 * 1024, 'h');
  g_autofree char *huge =
      g_strdup_printf ("GET /cx/1/health HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", value);
  g_autoptr (GString) rest = after_chunked_post (server, 8192, huge);

  g_test_message ("100 KiB of headers after a chunked body: “%.*s”",
                  (int) strcspn (rest->str, "\r\n"), rest->str);
  g_assert_true (g_str_has_prefix (rest->str, "HTTP/1.1 431 "));
  cx_test_assert_healthy (server);
  cx_test_server_stop (server);
}

/* Memory: thousands of chunked POSTs, each followed by a head libsoup cannot parse, leave RSS
 * where a first few hundred left it (libsoup 3.2.3 leaked some 6 KiB for each: the path). */
static void
test_after_chunked_memory (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  g_autofree char *bad = bad_framing_head ();
  guint64 before = 0, after;

  for (guint round = 0; round < 2; round++)
    {
      guint count = round == 0 ? FLOOD_CONNECTIONS / 10 : FLOOD_CONNECTIONS;

      for (guint i = 0; i < count; i++)
        {
          g_autoptr (GString) rest = after_chunked_post (server, 0, bad);

          g_assert_true (g_str_has_prefix (rest->str, "HTTP/1.1 400 "));
        }
      if (round == 0)
        before = server_rss_kib (server);
    }
  after = server_rss_kib (server);
  g_test_message ("RSS: %" G_GUINT64_FORMAT " KiB before %u chunked POSTs with a bad head after "
                  "each, %" G_GUINT64_FORMAT " KiB after: %+" G_GINT64_FORMAT " KiB",
                  before, FLOOD_CONNECTIONS, after, (gint64) after - (gint64) before);
  /* The bound of flood-memory (not under AddressSanitizer, whose quarantine keeps freed
   * memory; its leak checker covers the server there, at the clean exit below). */
#if !defined(__SANITIZE_ADDRESS__)
  g_assert_cmpuint (after, <, before + 4096);
#endif
  cx_test_assert_healthy (server);
  cx_test_server_stop (server);
}

/* Item 7: a 2 MiB file, under the 5 MiB files.maxFileSize that file/limits advertises but
 * over the 1 MiB maxBodyBytes, uploads and downloads intact. */
static void
test_file_upload_limit (Fixture *unused, gconstpointer data)
{
  CxTestConfigOptions options = { .max_file_size = 5 * 1024 * 1024 };
  g_autofree char *config =
      config_with (&options, "files.maxTotalSize", (gint64) 20 * 1024 * 1024, NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (server, "sales", "Uma");
  g_autofree char *url = cx_test_server_url (server, "/genesys/2/chat/%s/%s/file",
                                             customer->service, customer->chat_id);
  g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (CxTestReply) limits = NULL;
  g_autoptr (CxTestReply) got = NULL;
  g_autofree char *file_id = NULL;
  g_autofree char *download_url = NULL;
  gsize size = 2 * 1024 * 1024;
  guint8 *bytes = g_malloc (size);
  g_autoptr (GBytes) file = NULL;

  for (gsize i = 0; i < size; i++)
    bytes[i] = (guint8) ((i * 7 + 3) & 0xff);
  file = g_bytes_new_take (bytes, size);

  limits = cx_test_customer_call (customer, "file/limits", NULL);
  g_assert_cmpuint (limits->status, ==, 200);
  g_assert_cmpint (cx_test_object_loose_int (
                       json_object_get_object_member (cx_test_reply_object (limits), "userData"),
                       "upload-max-file-size"),
                   ==, 5 * 1024 * 1024);

  soup_multipart_append_form_string (multipart, "userId", customer->user_id);
  soup_multipart_append_form_string (multipart, "secureKey", customer->secure_key);
  soup_multipart_append_form_string (multipart, "alias", customer->alias);
  soup_multipart_append_form_file (multipart, "file", "big.txt", "text/plain", file);
  msg = soup_message_new_from_multipart (url, multipart);
  reply = cx_test_send (customer->session, msg);
  if (reply->status != 200)
    g_error ("a 2 MiB upload under a 5 MiB file limit: HTTP %u “%s”", reply->status,
             cx_test_reply_text (reply));
  file_id = cx_test_object_loose_string (
      json_object_get_object_member (cx_test_reply_object (reply), "userData"), "file-id");

  download_url = cx_test_server_url (server, "/genesys/2/chat/%s/%s/file/%s/download",
                                     customer->service, customer->chat_id, file_id);
  {
    const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                   "alias",  customer->alias,   NULL };

    got = cx_test_post_formv (customer->session, download_url, fields);
  }
  g_assert_cmpuint (got->status, ==, 200);
  g_assert_cmpmem (g_bytes_get_data (got->body, NULL), g_bytes_get_size (got->body),
                   g_bytes_get_data (file, NULL), g_bytes_get_size (file));
}

/* Item 7: a chunked body that never ends is cut at the limit: the server replies 413 and
 * closes; it does not read 100 MB. */
static void
test_chunked_cut (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  static const char head[] = "POST /genesys/2/chat/sales HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n";
  const gsize chunk_size = 64 * 1024;
  const guint64 bound = 100 * 1024 * 1024;
  g_autofree char *chunk = g_malloc (chunk_size + 32);
  g_autoptr (GString) reply = g_string_new (NULL);
  int fd = raw_connect (server);
  guint64 sent = 0;
  gsize chunk_length;

  chunk_length = g_snprintf (chunk, 32, "%zx\r\n", chunk_size);
  memset (chunk + chunk_length, 'a', chunk_size);
  memcpy (chunk + chunk_length + chunk_size, "\r\n", 2);
  chunk_length += chunk_size + 2;

  g_assert_true (raw_send (fd, head, sizeof head - 1));
  while (sent < bound)
    {
      struct pollfd poll_fd = { fd, POLLIN, 0 };
      char buffer[4096];

      /* Whatever the server says while we send. */
      if (poll (&poll_fd, 1, 0) > 0)
        {
          ssize_t n = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);

          if (n > 0)
            g_string_append_len (reply, buffer, n);
        }
      if (!raw_send (fd, chunk, chunk_length))
        break;
      sent += chunk_length;
    }
  raw_read_to_close (fd, reply);
  close (fd);

  g_test_message ("chunked body: the server closed after %" G_GUINT64_FORMAT " bytes sent", sent);
  g_assert_cmpuint (sent, <, 32 * 1024 * 1024);
  if (!g_str_has_prefix (reply->str, "HTTP/1.1 413 "))
    g_error ("expected a 413 before the close, got “%.*s”", (int) MIN (reply->len, 200),
             reply->str);
  g_assert_nonnull (strstr (reply->str, "Connection: close"));
  cx_test_assert_healthy (server);
}

/* Item 15: SIGTERM closes every WebSocket with 1001 "going away", agent and customer. */
static void
test_shutdown_going_away (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = cx_test_server_new (config);
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (server, "sales", "Vic");
  g_autoptr (CxTestSocket) push = NULL;

  cx_test_agent_connect_events (ada);
  push = cx_test_customer_push_socket (customer, 1);
  cx_test_agent_barrier (ada);

  cx_test_server_stop (server);
  cx_test_socket_wait_closed (ada->events);
  cx_test_socket_wait_closed (push);
  g_assert_cmpuint (ada->events->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (push->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
}

/* Item 8: floods of connections, each with one request on a keep-alive connection, then
 * hanging up before the next (every other one with a reset rather than a FIN); the server's
 * RSS after later floods stays within a bound of the RSS after the first (fragmentation is
 * given back; nothing leaks per connection). */
static void
flood (CxTestServer *server, guint connections)
{
  static const char request[] = "GET /cx/1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autofree int *fds = g_new (int, connections);

  for (guint i = 0; i < connections; i++)
    {
      fds[i] = raw_connect (server);
      g_assert_true (raw_send (fds[i], request, sizeof request - 1));
    }
  for (guint i = 0; i < connections; i++)
    {
      g_assert_cmpuint (raw_read_reply (fds[i]), ==, 200);
      if (i % 2 == 1)
        {
          struct linger reset = { 1, 0 };

          setsockopt (fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
      close (fds[i]);
    }
}

static guint
server_fd_count (CxTestServer *server)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", cx_test_server_get_pid (server));
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint count = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    count++;
  return count;
}

static void
test_flood_memory (Fixture *unused, gconstpointer data)
{
  g_autofree char *config = cx_test_config_new (NULL);
  g_autoptr (CxTestServer) server = NULL;
  guint64 rss[6];
  guint fds_before, fds_after;

  if (!raise_own_fd_limit (FLOOD_CONNECTIONS + 64))
    {
      g_test_skip ("the hard open-file limit is too low for this test");
      return;
    }
  server = cx_test_server_new (config);

  rss[0] = server_rss_kib (server);
  fds_before = server_fd_count (server);
  for (guint round = 1; round < G_N_ELEMENTS (rss); round++)
    {
      flood (server, FLOOD_CONNECTIONS);
      /* The server sees the last connections close, and trims, within a few sweeps. */
      for (guint i = 0; i < 3; i++)
        {
          g_assert_cmpuint (raw_health (server), ==, 200);
          g_usleep (1100 * 1000);
        }
      rss[round] = server_rss_kib (server);
      g_test_message ("RSS after flood %u of %u connections: %" G_GUINT64_FORMAT
                      " KiB (start %" G_GUINT64_FORMAT " KiB)",
                      round, FLOOD_CONNECTIONS, rss[round], rss[0]);
    }

  /* Every descriptor comes back: libsoup 3.2.3 kept each keep-alive connection whose client
   * hung up between requests open for good (CLOSE-WAIT). */
  fds_after = server_fd_count (server);
  g_test_message ("server descriptors: %u before the floods, %u after", fds_before, fds_after);
  g_assert_cmpuint (fds_after, <, fds_before + 16);
  /* libsoup 3.2.3 never freed its objects for those connections, some 2.2 KiB each: with
   * 2,000 connections a flood, RSS grew by about 4.4 MB a flood, 17 MB over the later four.
   * The first flood sets the allocator's working set; after it RSS wanders by up to 2 MB
   * either way (eleven floods: no trend), so the later four must add less than 4 MiB in all.
   * (Not under AddressSanitizer, whose quarantine keeps freed memory; its leak checker
   * covers the server there.) */
  g_test_message ("RSS: %" G_GUINT64_FORMAT " KiB after the first flood, %" G_GUINT64_FORMAT
                  " KiB after the last: %+" G_GINT64_FORMAT " KiB",
                  rss[1], rss[5], (gint64) rss[5] - (gint64) rss[1]);
#if !defined(__SANITIZE_ADDRESS__)
  g_assert_cmpuint (rss[5], <, rss[1] + 4096);
#endif
  cx_test_assert_healthy (server);
  cx_test_server_stop (server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/abuse/fd-exhaustion", NULL, NULL, test_fd_exhaustion);
  cx_test_add ("/server/abuse/slowloris-closed", NULL, NULL, test_slowloris_closed);
  cx_test_add ("/server/abuse/slowloris-keepalive", NULL, NULL, test_slowloris_keepalive);
  cx_test_add ("/server/abuse/idle-keepalive", NULL, NULL, test_idle_keepalive);
  cx_test_add ("/server/abuse/slowloris-flood", NULL, NULL, test_slowloris_flood);
  cx_test_add ("/server/abuse/bad-heads", NULL, NULL, test_bad_heads);
  cx_test_add ("/server/abuse/huge-heads", NULL, NULL, test_huge_heads);
  cx_test_add ("/server/abuse/after-chunked", NULL, NULL, test_after_chunked);
  cx_test_add ("/server/abuse/huge-head-after-chunked", NULL, NULL, test_huge_head_after_chunked);
  cx_test_add ("/server/abuse/after-chunked-memory", NULL, NULL, test_after_chunked_memory);
  cx_test_add ("/server/abuse/file-upload-limit", NULL, NULL, test_file_upload_limit);
  cx_test_add ("/server/abuse/chunked-cut", NULL, NULL, test_chunked_cut);
  cx_test_add ("/server/abuse/shutdown-going-away", NULL, NULL, test_shutdown_going_away);
  cx_test_add ("/server/abuse/flood-memory", NULL, NULL, test_flood_memory);

  return g_test_run ();
}
