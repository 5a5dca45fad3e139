/* cx-server.c: CxServer: the SoupServer, request limits, shared reply helpers, and the one path
 * every chat message takes (in cx-server-commit.c): committed to the store first, pushed to sockets
 * after. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-gms-chat.h"
#include "protocol/cx-protocol.h"
#include "server/cx-server-private.h"

G_DEFINE_FINAL_TYPE (CxServer, cx_server, G_TYPE_OBJECT)

gint64
_cx_server_now (void)
{
  return g_get_real_time () / 1000;
}

/* Keys and tokens guard chats and sessions: they come from the kernel's CSPRNG, never from
 * GLib's g_random (a Mersenne Twister). */
char *
_cx_server_random_token (gsize bytes)
{
  g_autofree guint8 *buffer = g_malloc (bytes);
  GString *hex = g_string_sized_new (bytes * 2);
  gsize got = 0;

  while (got < bytes)
    {
      ssize_t n = getrandom (buffer + got, bytes - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        g_error ("getrandom failed: %s", g_strerror (errno));
      got += n;
    }

  for (gsize i = 0; i < bytes; i++)
    g_string_append_printf (hex, "%02x", buffer[i]);
  return g_string_free (hex, FALSE);
}

char *
_cx_server_hash_token (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

/* Compares two secrets in time that depends on their lengths only, not on where they differ. */
gboolean
_cx_server_equal_secret (const char *a, const char *b)
{
  gsize la, lb;
  guint8 diff;

  if (a == NULL || b == NULL)
    return FALSE;

  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guint8) a[i] ^ (guint8) b[i % (lb ? lb : 1)];
  return diff == 0;
}

void
_cx_server_reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  gsize length;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

/* The /cx/1 error shape, {"error": "…"}. */
void
_cx_server_reply_error (SoupServerMessage *msg, guint status, const char *format, ...)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  node = cx_agent_api_build_error (message);
  _cx_server_reply_json (msg, status, node);
}

void
_cx_server_reply_internal (SoupServerMessage *msg, const GError *error)
{
  g_warning ("%s %s: %s", soup_server_message_get_method (msg),
             g_uri_get_path (soup_server_message_get_uri (msg)), error->message);
  _cx_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                          _ ("The server could not complete the request"));
}

/* A JSON object from the request body, through the protocol layer's parser, which refuses
 * invalid UTF-8 and nesting deep enough to exhaust json-glib's recursion. */
JsonNode *
_cx_server_read_json_body (SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  JsonNode *root;

  if (body->length == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("The request needs a JSON body"));
      return NULL;
    }

  root = cx_json_parse (body->data, body->length, body->length, error);
  if (root != NULL && !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_clear_pointer (&root, json_node_unref);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("The request body must be a JSON object"));
    }
  return root;
}

/* _cx_server_append and _cx_server_append_one are in cx-server-commit.c (group commit). */

CxMessage *
_cx_server_system_notice (const char *text, JsonNode *user_data)
{
  return cx_message_new (CX_MESSAGE_NOTICE, CX_PARTY_EXTERNAL, CX_SYSTEM_NICKNAME,
                         CX_SYSTEM_PARTICIPANT, text, _cx_server_now (), user_data);
}

CxMessage *
_cx_server_agent_message (CxServer *self, const char *username, CxMessageType type,
                          const char *text)
{
  g_autoptr (CxAgent) agent = cx_store_get_agent (self->store, username, NULL);
  g_autofree char *participant = g_strconcat ("agent:", username, NULL);

  return cx_message_new (type, CX_PARTY_AGENT, agent ? agent->display_name : username, participant,
                         text, _cx_server_now (), NULL);
}

/* Limits */

/* What a file upload may carry beyond the file itself: the multipart boundaries, part headers
 * and the other form fields (issue 9 item 7). */
#define FILE_UPLOAD_OVERHEAD (64 * 1024)

/* The GMS file upload path, /genesys/2/chat/{service}/{chatId}/file. */
static gboolean
is_file_upload_path (const char *path)
{
  const char *rest;
  const char *slash;

  if (path == NULL || !g_str_has_prefix (path, "/genesys/2/chat/"))
    return FALSE;
  rest = path + strlen ("/genesys/2/chat/");
  slash = strchr (rest, '/');
  if (slash == NULL || slash == rest)
    return FALSE;
  rest = slash + 1;
  slash = strchr (rest, '/');
  return slash != NULL && slash != rest && g_str_equal (slash, "/file");
}

/* The body limit of a request: maxBodyBytes, except that a file upload may carry a file of
 * files.maxFileSize, so that everything file/limits advertises is reachable. */
static gsize
body_limit (CxServer *self, SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  if (is_file_upload_path (path))
    return MAX (self->config->max_body_bytes,
                (gsize) self->config->max_file_size + FILE_UPLOAD_OVERHEAD);
  return self->config->max_body_bytes;
}

/* A 413 in the error shape of the API the path belongs to, with Connection: close. Refused
 * from its headers (@while_reading FALSE), libsoup replies without reading the body; refused
 * while reading a chunked body, libsoup would read it to its end before replying, so the reply
 * is written at once and the server reads (and drops) only a little more before it closes. */
static void
refuse_too_large (CxServer *self, SoupServerMessage *msg, gboolean while_reading)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  gsize limit = body_limit (self, msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *message = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "The request body is over the limit of %llu byte",
                   "The request body is over the limit of %llu bytes", (gulong) limit),
      (unsigned long long) limit);
  g_autofree char *text = NULL;

  if (path != NULL && g_str_has_prefix (path, "/genesys/2/chat"))
    {
      error = g_error_new_literal (CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE, message);
      node = cx_gms_error_to_json (error);
    }
  else if (path != NULL && g_str_has_prefix (path, "/genesys/1/service/callback"))
    {
      error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, message);
      node = cx_callback_error_to_json (error);
    }
  else
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, message);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
    }

  if (!while_reading)
    {
      soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
      soup_message_body_truncate (soup_server_message_get_request_body (msg));
      _cx_server_reply_json (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, node);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
      return;
    }

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  _cx_server_net_refuse (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "application/json", text,
                         TRUE);
}

static void
got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  CxServer *self = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (soup_server_message_get_status (msg) != 0)
    return;

  /* A chunked body past the limit: refused at once, the rest is not read. */
  if ((gsize) body->length > body_limit (self, msg))
    refuse_too_large (self, msg, TRUE);
}

static void
got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  CxServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);

  /* The request head's own limits first (cx-server-net.c). */
  if (soup_server_message_get_status (msg) != 0 || !_cx_server_net_check_head (self, msg))
    return;
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) length > body_limit (self, msg))
    /* Refused before the body is read; a client that sent Expect: 100-continue never sends
     * it at all. */
    refuse_too_large (self, msg, FALSE);
}

/* Every request, whichever handler serves its path: early handlers only run for their own
 * path, so the limits hang off the message itself. */
static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (got_headers_cb), user_data, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (got_chunk_cb), user_data, 0);
}

static void
health_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  g_autoptr (JsonNode) node = json_from_string ("{\"status\":\"ok\"}", NULL);

  _cx_server_reply_json (msg, SOUP_STATUS_OK, node);
}

static void
not_found_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
}

/* GObject */

static void
cx_server_dispose (GObject *object)
{
  CxServer *self = CX_SERVER (object);

  cx_server_shutdown (self);
  _cx_server_commit_free (self);  /* group commit: before the store goes */
  _cx_server_cluster_free (self); /* what the last commit noted goes to the other nodes */
  _cx_server_net_free (self);
  g_clear_object (&self->soup);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (cx_server_parent_class)->dispose (object);
}

static void
cx_server_finalize (GObject *object)
{
  CxServer *self = CX_SERVER (object);

  g_hash_table_unref (self->agent_sockets);
  g_hash_table_unref (self->customer_sockets);
  g_hash_table_unref (self->pending_customer_sockets);
  g_hash_table_unref (self->invitation_timers);
  g_hash_table_unref (self->notified_positions);
  g_hash_table_unref (self->queues_to_renumber);
  g_hash_table_unref (self->rate_buckets);
  g_hash_table_unref (self->typing_previews);
  _cx_server_access_free (self); /* access rules (issue 9) */
  cx_server_config_free (self->config);

  G_OBJECT_CLASS (cx_server_parent_class)->finalize (object);
}

static void
cx_server_class_init (CxServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_server_dispose;
  object_class->finalize = cx_server_finalize;
}

static void
cx_server_init (CxServer *self)
{
  self->agent_sockets =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->customer_sockets =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  self->pending_customer_sockets =
      g_hash_table_new_full (NULL, NULL, NULL, _cx_server_customer_socket_free);
  self->invitation_timers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->notified_positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->queues_to_renumber = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rate_buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->typing_previews = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * cx_server_new:
 * @config: (transfer full): the configuration
 * @store: the store; agents of the configuration are written to it
 */
CxServer *
cx_server_new (CxServerConfig *config, CxStore *store, GError **error)
{
  g_autoptr (CxServer) self = g_object_new (CX_TYPE_SERVER, NULL);

  self->config = config;
  self->store = g_object_ref (store);

  for (guint i = 0; i < config->agents->len; i++)
    if (!cx_store_put_agent (store, g_ptr_array_index (config->agents, i), error))
      return NULL;

  self->soup = soup_server_new ("server-header", "cxdesk-server/" PACKAGE_VERSION " ", NULL);
  g_signal_connect_object (self->soup, "request-started", G_CALLBACK (request_started_cb), self, 0);
  soup_server_add_handler (self->soup, NULL, not_found_cb, self, NULL);
  soup_server_add_handler (self->soup, "/cx/1/health", health_cb, self, NULL);

  _cx_server_gms_init (self);
  _cx_server_callback_init (self);
  _cx_server_agent_init (self);
  _cx_server_cobrowse_init (self); /* issue 11 */
  _cx_server_routing_init (self);
  _cx_server_commit_init (self);  /* group commit (cx-server-commit.c) */
  _cx_server_cluster_init (self); /* PostgreSQL: events between nodes */

  return g_steal_pointer (&self);
}

/* GLib's default listen backlog is 10: a burst of new customers would have their connections
 * refused and retried by TCP a second later. */
#define LISTEN_BACKLOG 1024

gboolean
cx_server_listen (CxServer *self, const char *address, guint port, GError **error)
{
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSocket) socket = NULL;

  g_return_val_if_fail (CX_IS_SERVER (self), FALSE);

  inet = g_inet_address_new_from_string (address ? address : "127.0.0.1");
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("“%s” is not an IP address"),
                   address);
      return FALSE;
    }
  socket_address = g_inet_socket_address_new (inet, port);

  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  /* Our own accept loop, not soup_server_listen_socket (cx-server-net.c). */
  if (!g_socket_bind (socket, socket_address, TRUE, error) || !g_socket_listen (socket, error) ||
      !_cx_server_net_listen (self, socket, error))
    return FALSE;

  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  return TRUE;
}

guint
cx_server_get_port (CxServer *self)
{
  g_return_val_if_fail (CX_IS_SERVER (self), 0);
  return self->port;
}

/**
 * cx_server_shutdown:
 *
 * Stops listening, closes every socket and timer. The store stays consistent whenever this is
 * (or is not) called: everything acknowledged is already committed.
 */
/* Shutdown: how long the WebSockets' close frames may take to go out and be answered. */
#define SHUTDOWN_FLUSH_MS 1000

static gboolean
flush_deadline_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
all_closed (GPtrArray *sockets)
{
  for (guint i = 0; i < sockets->len; i++)
    if (soup_websocket_connection_get_state (g_ptr_array_index (sockets, i)) !=
        SOUP_WEBSOCKET_STATE_CLOSED)
      return FALSE;
  return TRUE;
}

/* Every agent and customer WebSocket gets a close frame 1001 "going away", so that clients
 * reconnect at once; the main context runs (for a bounded time) until the frames are out and
 * answered (issue 9 item 15). */
static void
close_websockets (CxServer *self)
{
  g_autoptr (GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;
  gboolean deadline = FALSE;
  guint deadline_id;

  g_hash_table_iter_init (&iter, self->agent_sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    for (guint i = 0; i < ((GPtrArray *) value)->len; i++)
      g_ptr_array_add (sockets, g_object_ref (g_ptr_array_index ((GPtrArray *) value, i)));
  _cx_server_collect_customer_sockets (self, sockets);
  if (sockets->len == 0)
    return;

  for (guint i = 0; i < sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "going away");
    }

  deadline_id = g_timeout_add (SHUTDOWN_FLUSH_MS, flush_deadline_cb, &deadline);
  while (!deadline && !all_closed (sockets))
    g_main_context_iteration (NULL, TRUE);
  if (!deadline)
    g_source_remove (deadline_id);
}

void
cx_server_shutdown (CxServer *self)
{
  g_return_if_fail (CX_IS_SERVER (self));

  _cx_server_gms_shutdown (self);      /* issue 9 item 5: keep the rate limits (joins the batch) */
  _cx_server_cobrowse_shutdown (self); /* issue 11: audit records end (joins the batch) */
  _cx_server_commit_flush (self);      /* group commit: what is pending, before the sockets close */
  _cx_server_routing_shutdown (self);
  _cx_server_net_stop (self);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  close_websockets (self);
  g_hash_table_remove_all (self->agent_sockets);
  g_hash_table_remove_all (self->customer_sockets);
  g_hash_table_remove_all (self->pending_customer_sockets);
}
