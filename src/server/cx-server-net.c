/* cx-server-net.c: the connection layer under the SoupServer (issue 9 items 2, 4, 7, 8, 16):
 * our own accept loop that never stops accepting, a cap on concurrent connections, the header,
 * body and idle timeouts, the request-head limits, and cutting off a body that is over its
 * limit. Every connection's input passes through a gate (cx-server-gate.c) that refuses heads
 * over the limit and makes libsoup let go of a client that hangs up between requests.
 *
 * libsoup 3.2.3's own listener drops its accept source on the first failed accept() (EMFILE),
 * and has no timeouts. So we accept on our own listening socket and hand every connection to
 * the SoupServer with soup_server_accept_iostream(). Each connection has a record, keyed by the
 * remote GSocketAddress we hand over (soup_server_message_get_remote_address() returns that
 * very object), and a weak reference on its GIOStream says when libsoup (or a WebSocket, which
 * holds the stream until it closes) is done with it, so the count is exact. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <glib/gi18n-lib.h>

#include "server/cx-server-private.h"

/* How often the timeouts are checked. */
#define SWEEP_INTERVAL_MS 1000
/* After a failed accept(), how long before we try again. */
#define ACCEPT_BACKOFF_MS 100
/* At most one log line per this many µs about failed accepts or refused connections. */
#define LOG_INTERVAL_US (10 * G_USEC_PER_SEC)
/* Accepts per wake-up, so that a flood does not starve the connections already in. */
#define ACCEPT_BATCH 64
/* A body over its limit: after the 413 the server reads (and drops) at most this much more, or
 * for at most this long, so that a client still sending sees the reply rather than a reset. */
#define DRAIN_BYTES (256 * 1024)
#define DRAIN_TIMEOUT_US (2 * G_USEC_PER_SEC)
/* After a flood, give freed memory back to the system once the count falls to zero. */
#define TRIM_AFTER_PEAK 64

typedef enum
{
  CONN_FIRST,     /* accepted, its first request's headers not complete (libsoup starts the
                   * first message at accept, not at its first byte) */
  CONN_IDLE,      /* waiting for the first byte of a request */
  CONN_HEADERS,   /* first byte in, headers not complete */
  CONN_BODY,      /* headers in, body not complete */
  CONN_BUSY,      /* the request is read: the handler or the reply is running */
  CONN_WEBSOCKET, /* handed over to a SoupWebsocketConnection */
  CONN_DRAINING,  /* refused: reply written, the rest of the body dropped for a while */
  CONN_CLOSING,   /* shut down by us; waiting for libsoup to let go */
} ConnState;

typedef struct
{
  CxNet *net;
  GSocket *socket;        /* owned by the stream, which outlives the record */
  GSocketAddress *remote; /* the key */
  GIOStream *stream;      /* weak; its input is the gate (cx-server-gate.c) */
  ConnState state;
  gint64 since; /* monotonic µs: when the state began */
} Conn;

struct _CxNet
{
  CxServer *server;
  GSocket *listener;
  GSource *accept_source;
  guint backoff_id;
  guint sweep_id;
  guint trim_id;
  GHashTable *conns; /* GSocketAddress (remote) -> Conn */
  guint max_connections;
  guint peak;
  gint64 last_accept_log;
  guint accept_errors;
  gint64 last_refuse_log;
  guint refused;

  /* libsoup keeps a connection alive after a reply only while the server has a listener; this
   * one is a connected socket pair that never has anything to read, so it never accepts. */
  GSocket *keepalive_pair[2];
};

static void arm_accept (CxNet *net);
static void head_started_cb (gpointer data);
static void head_refused_cb (gpointer data, guint status);

static const CxServerGateFuncs gate_funcs = { head_started_cb, head_refused_cb };

static void
conn_gone_cb (gpointer data, GObject *where_the_object_was)
{
  Conn *conn = data;
  CxNet *net = conn->net;

  /* Removing frees the record; the stream is gone, and its weak reference with it. */
  conn->stream = NULL;
  g_hash_table_remove (net->conns, conn->remote);
}

static void
conn_free (gpointer data)
{
  Conn *conn = data;

  if (conn->stream != NULL)
    {
      g_object_weak_unref (G_OBJECT (conn->stream), conn_gone_cb, conn);
      _cx_server_gate_detach (conn->stream);
    }
  g_object_unref (conn->remote);
  g_free (conn);
}

/* Ends a connection under libsoup's feet the way a client hanging up does: libsoup's pending
 * read sees the end of the stream and lets the connection go. */
static void
conn_close (Conn *conn)
{
  if (conn->state == CONN_CLOSING)
    return;
  conn->state = CONN_CLOSING;
  conn->since = g_get_monotonic_time ();
  g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
}

static Conn *
oldest_idle (CxNet *net)
{
  GHashTableIter iter;
  Conn *conn, *oldest = NULL;

  g_hash_table_iter_init (&iter, net->conns);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    if ((conn->state == CONN_IDLE || conn->state == CONN_FIRST) &&
        (oldest == NULL || conn->since < oldest->since))
      oldest = conn;
  return oldest;
}

static gboolean
close_oldest_idle (CxNet *net)
{
  Conn *conn = oldest_idle (net);

  if (conn == NULL)
    return FALSE;
  conn_close (conn);
  return TRUE;
}

static guint
live_count (CxNet *net)
{
  GHashTableIter iter;
  Conn *conn;
  guint live = 0;

  g_hash_table_iter_init (&iter, net->conns);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    live += conn->state != CONN_CLOSING;
  return live;
}

/* Connections past the cap: the server is full, a plain 503 and close. */
static void
refuse_connection (CxNet *net, GSocket *client)
{
  static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Connection: close\r\n"
                              "Retry-After: 1\r\n"
                              "Content-Length: 0\r\n\r\n";
  gint64 now = g_get_monotonic_time ();

  net->refused++;
  if (now - net->last_refuse_log > LOG_INTERVAL_US)
    {
      g_message ("At the limit of %u connections: refused %u connection(s)", net->max_connections,
                 net->refused);
      net->last_refuse_log = now;
      net->refused = 0;
    }
  g_socket_send (client, reply, sizeof reply - 1, NULL, NULL);
  g_socket_shutdown (client, FALSE, TRUE, NULL);
  g_socket_close (client, NULL);
}

static void
take_connection (CxNet *net, GSocket *client)
{
  g_autoptr (GSocketAddress) remote = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GIOStream) stream = NULL;
  Conn *conn;
  guint count = g_hash_table_size (net->conns);

  /* Connections we have shut down still hold their descriptors until libsoup lets go, so they
   * count against the cap, but a slot whose connection we just closed is as good as free. */
  if (count >= net->max_connections && !close_oldest_idle (net) &&
      live_count (net) >= net->max_connections)
    {
      refuse_connection (net, client);
      return;
    }

  remote = g_socket_get_remote_address (client, NULL);
  local = g_socket_get_local_address (client, NULL);
  if (remote == NULL || local == NULL)
    {
      /* Gone already. */
      g_socket_close (client, NULL);
      return;
    }
  g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

  conn = g_new0 (Conn, 1);
  stream = _cx_server_gate_new (client, net->server->config->max_header_bytes,
                                net->server->config->max_url_bytes, DRAIN_BYTES, &gate_funcs, conn);
  conn->net = net;
  conn->socket = client;
  conn->remote = g_object_ref (remote);
  conn->stream = stream;
  conn->state = CONN_FIRST;
  conn->since = g_get_monotonic_time ();
  g_object_weak_ref (G_OBJECT (stream), conn_gone_cb, conn);
  g_hash_table_insert (net->conns, remote, conn);
  net->peak = MAX (net->peak, g_hash_table_size (net->conns));

  soup_server_accept_iostream (net->server->soup, stream, local, remote, NULL);
}

static gboolean
backoff_done_cb (gpointer data)
{
  CxNet *net = data;

  net->backoff_id = 0;
  arm_accept (net);
  return G_SOURCE_REMOVE;
}

/* EMFILE, ENFILE, ENOBUFS, …: log (not for every one), make room if we can, and try again a
 * little later; never give up listening. */
static void
accept_failed (CxNet *net, const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  net->accept_errors++;
  if (now - net->last_accept_log > LOG_INTERVAL_US)
    {
      g_warning ("Could not accept a connection (%u time(s) since the last report, %u open): %s",
                 net->accept_errors, g_hash_table_size (net->conns), error->message);
      net->last_accept_log = now;
      net->accept_errors = 0;
    }
  close_oldest_idle (net);

  if (net->backoff_id == 0)
    net->backoff_id = g_timeout_add (ACCEPT_BACKOFF_MS, backoff_done_cb, net);
}

static gboolean
accept_cb (GSocket *socket, GIOCondition condition, gpointer data)
{
  CxNet *net = data;

  for (int i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) client = g_socket_accept (net->listener, NULL, &error);

      if (client != NULL)
        {
          take_connection (net, client);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;

      /* This source goes; the back-off arms a new one. */
      net->accept_source = NULL;
      accept_failed (net, error);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
arm_accept (CxNet *net)
{
  if (net->listener == NULL || net->accept_source != NULL)
    return;
  net->accept_source = g_socket_create_source (net->listener, G_IO_IN, NULL);
  g_source_set_callback (net->accept_source, (GSourceFunc) (void (*) (void)) accept_cb, net, NULL);
  g_source_attach (net->accept_source, NULL);
  g_source_unref (net->accept_source); /* the context holds it; destroyed by accept_failed */
}

static gboolean
trim_cb (gpointer data)
{
  CxNet *net = data;

  net->trim_id = 0;
  if (g_hash_table_size (net->conns) == 0)
    {
      /* A flood leaves glibc's arenas full of free chunks that it keeps (fragmentation, not a
       * leak: issue 9 item 8); give them back once every connection is gone. */
      malloc_trim (0);
      net->peak = 0;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
sweep_cb (gpointer data)
{
  CxNet *net = data;
  const CxServerConfig *config = net->server->config;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Conn *conn;

  g_hash_table_iter_init (&iter, net->conns);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    {
      gint64 age = now - conn->since;

      /* What libsoup has not let go of after the end of the stream. */
      if (conn->state == CONN_CLOSING && age >= DRAIN_TIMEOUT_US)
        {
          if (conn->stream != NULL)
            g_io_stream_close (conn->stream, NULL, NULL);
          g_hash_table_iter_remove (&iter);
          continue;
        }

      switch (conn->state)
        {
          case CONN_IDLE:
            if (age >= config->idle_timeout_s * G_USEC_PER_SEC)
              conn_close (conn);
            break;
          case CONN_FIRST:
            /* As nginx does: from accept, the first request's headers get the header
             * timeout (or the idle one, if shorter). */
            if (age >= MIN (config->header_timeout_s, config->idle_timeout_s) * G_USEC_PER_SEC)
              conn_close (conn);
            break;
          case CONN_HEADERS:
            if (age >= config->header_timeout_s * G_USEC_PER_SEC)
              conn_close (conn);
            break;
          case CONN_BODY:
            if (age >= config->body_timeout_s * G_USEC_PER_SEC)
              conn_close (conn);
            break;
          case CONN_DRAINING:
            if (age >= DRAIN_TIMEOUT_US)
              conn_close (conn);
            break;
          case CONN_BUSY:
          case CONN_WEBSOCKET:
          case CONN_CLOSING:
          default:
            break;
        }
    }

  if (g_hash_table_size (net->conns) == 0 && net->peak >= TRIM_AFTER_PEAK && net->trim_id == 0)
    net->trim_id = g_idle_add (trim_cb, net);
  return G_SOURCE_CONTINUE;
}

static Conn *
conn_for_message (CxNet *net, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_hash_table_lookup (net->conns, remote) : NULL;
}

static void
set_state (CxNet *net, SoupServerMessage *msg, ConnState state)
{
  Conn *conn = conn_for_message (net, msg);

  if (conn == NULL || conn->state == CONN_CLOSING || conn->state == CONN_DRAINING)
    return;
  /* libsoup starts a connection's first message when it accepts it; the header timeout of a
   * later one runs from its first byte (head_started_cb). */
  if ((conn->state == CONN_FIRST || conn->state == CONN_HEADERS) && state == CONN_HEADERS)
    return;
  conn->state = state;
  conn->since = g_get_monotonic_time ();
}

/* The status line of our own replies, which libsoup never sees. */
static const char *
reason_phrase (guint status)
{
  const char *phrase =
      status == 431 ? "Request Header Fields Too Large" : soup_status_get_phrase (status);

  return phrase != NULL ? phrase : "Error";
}

/* {"error": message} */
static char *
error_json (const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/* Writes a refusal with Connection: close straight to the socket, then ends the connection
 * (after a drain, if @drain). */
static void
send_refusal (Conn *conn, guint status, const char *content_type, const char *body, gboolean drain)
{
  g_autoptr (GString) reply = g_string_new (NULL);
  gsize length = body != NULL ? strlen (body) : 0;

  g_string_append_printf (reply, "HTTP/1.1 %u %s\r\n", status, reason_phrase (status));
  g_string_append (reply, "Server: cxdesk-server/" PACKAGE_VERSION "\r\n");
  g_string_append (reply, "Connection: close\r\nCache-Control: no-store\r\n");
  if (content_type != NULL)
    g_string_append_printf (reply, "Content-Type: %s\r\n", content_type);
  g_string_append_printf (reply, "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n", length);
  if (body != NULL)
    g_string_append (reply, body);

  /* libsoup is reading, not writing, on this connection; a short reply fits in the socket
   * buffer of a fresh connection. */
  g_socket_send (conn->socket, reply->str, reply->len, NULL, NULL);
  if (drain)
    {
      g_socket_shutdown (conn->socket, FALSE, TRUE, NULL);
      conn->state = CONN_DRAINING;
      conn->since = g_get_monotonic_time ();
    }
  else
    {
      conn_close (conn);
    }
}

/**
 * _cx_server_net_refuse:
 * @content_type: (nullable): of @body
 * @body: (nullable): the reply body
 *
 * Replies @status to @msg with Connection: close, written straight to the socket (libsoup
 * would read the whole request first), then ends the connection: at once for a request whose
 * framing or head we cannot trust, or after a short bounded drain for a body over its limit,
 * so that a client that is still sending gets to read the reply.
 */
void
_cx_server_net_refuse (CxServer *self, SoupServerMessage *msg, guint status,
                       const char *content_type, const char *body, gboolean drain)
{
  Conn *conn = self->net != NULL ? conn_for_message (self->net, msg) : NULL;
  gsize length = body != NULL ? strlen (body) : 0;

  /* However it ends, libsoup does not run a handler for it. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_body_truncate (soup_server_message_get_request_body (msg));
  if (soup_server_message_get_status (msg) == 0)
    soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  /* What libsoup replies if it gets to (without a connection record, as in a test harness). */
  if (body != NULL)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, length);

  if (conn == NULL || conn->state == CONN_CLOSING || conn->state == CONN_DRAINING)
    return;
  send_refusal (conn, status, content_type, body, drain);
}

/* A request head over the limit or with a framing libsoup cannot parse, or a malformed
 * chunked body (in CONN_BODY), seen by the gate before libsoup has all of it: the reply, and
 * the gate drains what the client still sends. */
static void
head_refused_cb (gpointer data, guint status)
{
  Conn *conn = data;
  const char *message;
  g_autofree char *text = NULL;

  if (status == SOUP_STATUS_REQUEST_URI_TOO_LONG)
    message = _ ("The request URL is too long");
  else if (status != SOUP_STATUS_BAD_REQUEST)
    message = _ ("The request headers are too large");
  else if (conn->state == CONN_BODY)
    message = _ ("The request's chunked body is malformed");
  else
    message = _ ("The request's Content-Length or Transfer-Encoding is invalid");
  text = error_json (message);

  if (conn->state == CONN_CLOSING || conn->state == CONN_DRAINING)
    return;
  send_refusal (conn, status, "application/json", text, TRUE);
}

/* The first byte of a request head on a kept-alive connection: its header timeout starts. */
static void
head_started_cb (gpointer data)
{
  Conn *conn = data;

  if (conn->state != CONN_IDLE)
    return;
  conn->state = CONN_HEADERS;
  conn->since = g_get_monotonic_time ();
}

/* Called for every chunk of a refused body while it drains. */
static void
drain_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  CxNet *net = user_data;
  Conn *conn = conn_for_message (net, msg);
  gsize *drained = g_object_get_data (G_OBJECT (msg), "cx-net-drained");

  if (conn == NULL || conn->state != CONN_DRAINING)
    return;
  if (drained == NULL)
    {
      drained = g_new0 (gsize, 1);
      g_object_set_data_full (G_OBJECT (msg), "cx-net-drained", drained, g_free);
    }
  *drained += g_bytes_get_size (chunk);
  if (*drained >= DRAIN_BYTES)
    conn_close (conn);
}

/* Request heads: what libsoup 3.2.3 accepts without complaint but we refuse (issue 9 item 16).
 * Two Content-Length headers, a Content-Length that is not a plain decimal number, or one
 * beside Transfer-Encoding make the body's length ambiguous (request smuggling): 400 and close
 * before reading it. */
typedef struct
{
  gsize bytes;
  guint content_lengths;
  gboolean bad_content_length;
  gboolean transfer_encoding;
} HeadScan;

static void
scan_header_cb (const char *name, const char *value, gpointer user_data)
{
  HeadScan *scan = user_data;

  scan->bytes += strlen (name) + strlen (value) + 4; /* ": " and CRLF */
  if (g_ascii_strcasecmp (name, "Content-Length") == 0)
    {
      scan->content_lengths++;
      if (*value == '\0' || value[strspn (value, "0123456789")] != '\0' || strlen (value) > 18)
        scan->bad_content_length = TRUE;
    }
  else if (g_ascii_strcasecmp (name, "Transfer-Encoding") == 0)
    {
      scan->transfer_encoding = TRUE;
    }
}

static gsize
target_length (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *path = g_uri_get_path (uri);
  const char *query = g_uri_get_query (uri);

  return (path ? strlen (path) : 0) + (query ? strlen (query) + 1 : 0);
}

static void
refuse_head (CxServer *self, SoupServerMessage *msg, guint status, const char *message)
{
  g_autofree char *text = error_json (message);

  _cx_server_net_refuse (self, msg, status, "application/json", text, FALSE);
}

/**
 * _cx_server_net_check_head:
 *
 * Called first thing when a request's headers are in. Returns: %FALSE if the request is
 * refused (and its connection ends)
 */
gboolean
_cx_server_net_check_head (CxServer *self, SoupServerMessage *msg)
{
  const CxServerConfig *config = self->config;
  HeadScan scan = { 0 };
  const char *method = soup_server_message_get_method (msg);

  soup_message_headers_foreach (soup_server_message_get_request_headers (msg), scan_header_cb,
                                &scan);
  /* The request line: method, target, version. */
  scan.bytes += (method ? strlen (method) : 0) + target_length (msg) + 12;

  if (target_length (msg) > config->max_url_bytes)
    refuse_head (self, msg, SOUP_STATUS_REQUEST_URI_TOO_LONG, _ ("The request URL is too long"));
  else if (scan.bytes > config->max_header_bytes)
    refuse_head (self, msg, 431, _ ("The request headers are too large"));
  else if (scan.content_lengths > 1 || scan.bad_content_length ||
           (scan.content_lengths > 0 && scan.transfer_encoding))
    refuse_head (self, msg, SOUP_STATUS_BAD_REQUEST,
                 _ ("The request's Content-Length is invalid or ambiguous"));
  else
    return TRUE;
  return FALSE;
}

static void
got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  set_state (user_data, msg, CONN_BODY);
}

static void
got_body_cb (SoupServerMessage *msg, gpointer user_data)
{
  set_state (user_data, msg, CONN_BUSY);
}

static void
wrote_informational_cb (SoupServerMessage *msg, gpointer user_data)
{
  Conn *conn = conn_for_message (user_data, msg);

  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  if (conn != NULL && conn->stream != NULL)
    _cx_server_gate_open (conn->stream);
  set_state (user_data, msg, CONN_WEBSOCKET);
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  CxNet *net = user_data;

  /* libsoup emits this when the first bytes of a request arrive. */
  set_state (net, msg, CONN_HEADERS);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), net);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (drain_chunk_cb), net);
  g_signal_connect (msg, "got-body", G_CALLBACK (got_body_cb), net);
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (wrote_informational_cb), net);
}

static void
request_done_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Conn *conn = conn_for_message (user_data, msg);

  if (conn != NULL && conn->stream != NULL)
    _cx_server_gate_next_head (conn->stream);
  set_state (user_data, msg, CONN_IDLE);
}

/* The default cap: the open-file limit, less what the database, its journal, uploads, the
 * main loop's own descriptors and the log need. */
static guint
derived_max_connections (void)
{
  struct rlimit limit;
  rlim_t files, reserve;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return 65536;
  files = limit.rlim_cur;
  reserve = CLAMP (files / 8, 32, 1024);
  return files > reserve + 16 ? (guint) MIN (files - reserve, G_MAXINT) : 16;
}

/**
 * _cx_server_net_listen:
 * @socket: a bound, listening socket
 *
 * Serves the connections of @socket. Call once.
 */
gboolean
_cx_server_net_listen (CxServer *self, GSocket *socket, GError **error)
{
  CxNet *net;
  guint derived = derived_max_connections ();
  int pair[2];

  g_return_val_if_fail (self->net == NULL, FALSE);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "socketpair: %s",
                   g_strerror (saved));
      return FALSE;
    }

  net = g_new0 (CxNet, 1);
  net->server = self;
  net->conns = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, conn_free);
  net->keepalive_pair[0] = g_socket_new_from_fd (pair[0], NULL);
  net->keepalive_pair[1] = g_socket_new_from_fd (pair[1], NULL);
  self->net = net;
  if (net->keepalive_pair[0] == NULL || net->keepalive_pair[1] == NULL ||
      !soup_server_listen_socket (self->soup, net->keepalive_pair[0], 0, error))
    return FALSE;

  net->max_connections = self->config->max_connections;
  if (net->max_connections == 0 || net->max_connections > derived)
    {
      if (net->max_connections > derived)
        g_message ("limits.maxConnections %u is over what the open-file limit allows; %u",
                   net->max_connections, derived);
      net->max_connections = derived;
    }

  net->listener = g_object_ref (socket);
  g_socket_set_blocking (socket, FALSE);
  arm_accept (net);
  net->sweep_id = g_timeout_add (SWEEP_INTERVAL_MS, sweep_cb, net);

  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), net);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (request_done_cb), net);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (request_done_cb), net);
  return TRUE;
}

/* Stops accepting; the connections already in are libsoup's to close. */
void
_cx_server_net_stop (CxServer *self)
{
  CxNet *net = self->net;

  if (net == NULL)
    return;
  g_clear_pointer (&net->accept_source, g_source_destroy);
  g_clear_handle_id (&net->backoff_id, g_source_remove);
  if (net->listener != NULL)
    {
      g_socket_close (net->listener, NULL);
      g_clear_object (&net->listener);
    }
}

void
_cx_server_net_free (CxServer *self)
{
  CxNet *net = self->net;

  if (net == NULL)
    return;
  _cx_server_net_stop (self);
  if (self->soup != NULL)
    g_signal_handlers_disconnect_by_data (self->soup, net);
  g_clear_handle_id (&net->sweep_id, g_source_remove);
  g_clear_handle_id (&net->trim_id, g_source_remove);
  g_hash_table_unref (net->conns);
  g_clear_object (&net->keepalive_pair[0]);
  g_clear_object (&net->keepalive_pair[1]);
  g_free (net);
  self->net = NULL;
}

guint
_cx_server_net_get_max_connections (CxServer *self)
{
  return self->net != NULL ? self->net->max_connections : 0;
}
