/* cx-webchat-service.c: the "WebChatService" plugin of one window's bus: the customer side of
 * a GMS Chat API v2 chat, its transport, and the session cookies that let every window of a
 * site share one chat.
 *
 * Transport. With "auto", the service opens cxdesk-server's push socket
 * (ws://host/cx/1/chat/{service}/{chatId}/socket, derived from dataURL) and falls back to
 * polling `refresh` every pollRate ms when the socket cannot open; with "poll" it only polls,
 * which works against a plain GMS. Every transcript entry, from any source (push frames, refresh
 * replies, the replies to send and disconnect, which ask for the transcript too), goes through
 * receive_messages(): an entry is published once, in index order, when its index is the next
 * one expected, so the sources may overlap freely.
 *
 * Windows. The state lives in session cookies on the site's cookie domain (CxHttp's site
 * cookies, in the application's one jar): "session" (chat id), "keys" ({secureKey, alias,
 * userId}), "ping" (ms since the epoch of the last good exchange, written at most once a
 * second), "index" (next transcript position) and "chatStartLock" (ms since the epoch). A
 * service created on a site whose cookies name a chat pinged less than restoreTimeout ago
 * restores it (transcript from index 1, then "restored"); with an older ping it deletes them and
 * publishes "restoreTimeout". startChat takes the lock (refreshed every 500 ms while the start
 * request runs, honoured while under 2 s old); a window that finds the lock taken, or a live
 * chat in the cookies, waits for the session cookie (the jar's "changed" signal, and a timer
 * for when the lock goes stale) and restores that chat instead of starting a second one.
 *
 * Server gone. pollExceptionLimit consecutive failed exchanges (no answer, a timeout, a 5xx,
 * a reply that is not GMS), or a push socket that closes and cannot reconnect, make the service
 * publish "chatServerWentOffline" and probe with `refresh` after 1 s, 2 s, 4 s … up to 30 s.
 * sendMessage keeps a queue: one message in flight at a time, in order; while offline the queue
 * waits, and each command resolves when its message is acknowledged. When a probe succeeds the
 * queue is sent, then "chatServerBackOnline" is published and the transport resumes.
 *
 * Resending. A message whose send failed without an answer may have been stored. Before it is
 * sent again the transcript is read (a `refresh` asked after the failure, which also brings it
 * up to date), and the message counts as delivered, with that index, if the transcript has a Client
 * "Message" with exactly its text at an index after the last message this service saw acknowledged
 * and at or after the position the transcript had when the message was first sent (the server
 * appends it after that). Two identical texts sent in that window from two windows of the same chat
 * are indistinguishable: the second is then taken as delivered.
 *
 * Disposing the service (a window closes) cancels its requests and keeps the cookies: the chat
 * goes on, and another window restores it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-chat.h"
#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"
#include "services/cx-webchat-service.h"

#define DEFAULT_POLL_RATE_MS 3000
#define MIN_POLL_RATE_MS 1000
#define MAX_POLL_RATE_MS 30000
#define DEFAULT_POLL_EXCEPTION_LIMIT 5
#define DEFAULT_RESTORE_TIMEOUT_MS 60000
#define MIN_RESTORE_TIMEOUT_MS 1000
#define DEFAULT_AJAX_TIMEOUT_MS 3000
#define MIN_AJAX_TIMEOUT_MS 500
#define MAX_AJAX_TIMEOUT_MS 120000

#define START_LOCK_VALID_MS 2000
#define START_LOCK_REFRESH_MS 500
#define PING_MIN_INTERVAL_MS 1000
#define TYPING_IDLE_MS 5000
#define FIRST_RETRY_MS 1000
#define MAX_RETRY_MS 30000

/* The largest file sendFile reads into memory, whatever the server's limits say. */
#define MAX_UPLOAD_SIZE (32 * 1024 * 1024)

#define COOKIE_SESSION CX_WEBCHAT_COOKIE_PREFIX "session"
#define COOKIE_KEYS CX_WEBCHAT_COOKIE_PREFIX "keys"
#define COOKIE_PING CX_WEBCHAT_COOKIE_PREFIX "ping"
#define COOKIE_INDEX CX_WEBCHAT_COOKIE_PREFIX "index"
#define COOKIE_LOCK CX_WEBCHAT_COOKIE_PREFIX "chatStartLock"
#define COOKIE_OPEN CX_WEBCHAT_COOKIE_PREFIX "open"
#define COOKIE_UNREAD CX_WEBCHAT_COOKIE_PREFIX "unreadMessages"

/* The commander name that may use the private "poll" command. */
#define PRIVATE_COMMANDER CX_WEBCHAT_SERVICE_NAME

typedef enum
{
  STATE_IDLE,      /* no chat */
  STATE_STARTING,  /* startChat: waiting for the start lock, or our start request runs */
  STATE_RESTORING, /* reading the transcript of the chat the cookies name */
  STATE_ACTIVE,    /* in a chat */
} State;

typedef enum
{
  PUSH_UNTRIED,     /* not tried for this chat (or since the server came back) */
  PUSH_ACTIVE,      /* the push socket is the transport of this chat */
  PUSH_UNAVAILABLE, /* it could not open: this chat polls */
} PushState;

/* How a request to GMS ended. */
typedef enum
{
  OUTCOME_OK,
  OUTCOME_CANCELLED, /* the service went away, or the chat ended: touch nothing */
  OUTCOME_REFUSED,   /* a definite answer: the server did not do it (4xx, GMS error) */
  OUTCOME_FAILED,    /* no usable answer: the server may or may not have done it */
} Outcome;

typedef struct
{
  char *text;
  CxCommand *command;
  guint first_position; /* next_position when first sent; 0: never sent */
} Outgoing;

struct _CxWebChatService
{
  GObject parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  CxHttp *http;
  char *site_url;
  char *data_url;      /* no trailing slash */
  char *push_url_base; /* ws(s)://…/cx/1/chat/{service}; NULL when dataURL has no such form */
  guint poll_rate_ms;
  guint poll_exception_limit;
  guint restore_timeout_ms;
  guint ajax_timeout_ms;
  gboolean push_allowed; /* transport "auto" */

  /* Every request of the current chat (or start). Cancelled, and replaced, when the chat ends;
   * cancelled in dispose. A callback that sees G_IO_ERROR_CANCELLED touches nothing. */
  GCancellable *cancellable;
  gboolean disposed;

  State state;
  char *chat_id;
  char *user_id;
  char *secure_key;
  char *alias;
  guint next_position;   /* every entry below it has been published */
  GPtrArray *transcript; /* CxMessage, every published entry, in index order */
  guint last_acked_index;
  gboolean agent_typing;
  gint64 last_ping_ms;

  guint generation; /* changes when a chat begins or ends */

  /* Starting and restoring */
  GHashTable *start_form; /* the start request's fields, from the first startChat */
  GPtrArray *start_waiters;
  GPtrArray *restore_waiters;
  gboolean start_in_flight;
  guint lock_refresh_id;
  guint lock_wait_id;
  guint cookie_check_id;
  guint restore_timeout_idle_id;
  gulong jar_changed_id;

  /* Transport */
  gboolean polling_enabled; /* startPoll / stopPoll */
  PushState push_state;
  SoupWebsocketConnection *socket;
  gboolean socket_connecting;
  gboolean socket_had_frame;
  guint tick_id; /* the next poll, or the next ping refresh while on the push socket */
  gboolean refresh_in_flight;
  GPtrArray *poll_waiters;
  guint failures; /* consecutive failed exchanges */
  gboolean offline;
  gboolean recovering; /* offline, but a probe succeeded: the queue is being sent */
  guint retry_delay_ms;
  guint retry_id;

  /* Sending */
  GQueue outbox; /* Outgoing */
  gboolean send_in_flight;
  gboolean outbox_blocked;         /* an uncertain send: wait for a fresh transcript */
  gboolean refresh_predates_block; /* the refresh under way was asked before that failure */

  /* Typing */
  gboolean typing;
  guint typing_timeout_id;

  /* Ending */
  GPtrArray *end_waiters;
  gboolean end_in_flight;
  gboolean push_ended;           /* the push socket said the chat is over: read the rest */
  gboolean refresh_predates_end; /* the refresh under way was asked before that */
};

G_DEFINE_FINAL_TYPE (CxWebChatService, cx_webchat_service, G_TYPE_OBJECT)

static const char *const event_names[] = {
  "started",
  "restored",
  "restoreTimeout",
  "restoreFailed",
  "messageReceived",
  "agentConnected",
  "agentDisconnected",
  "agentTypingStarted",
  "agentTypingStopped",
  "ended",
  "error",
  "chatServerWentOffline",
  "chatServerBackOnline",
  NULL,
};

/* Small helpers */

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static void
outgoing_free (Outgoing *outgoing)
{
  g_free (outgoing->text);
  g_clear_object (&outgoing->command);
  g_free (outgoing);
}

static JsonNode *
chat_id_node (const char *chat_id)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "chatId", chat_id);
  return cx_json_node_new_object (object);
}

static JsonArray *
messages_to_array (GPtrArray *messages, guint from)
{
  JsonArray *array = json_array_new ();

  for (guint i = from; i < messages->len; i++)
    json_array_add_element (array, cx_message_to_json (g_ptr_array_index (messages, i)));

  return array;
}

static void
publish (CxWebChatService *self, const char *event, JsonNode *data)
{
  /* A disposed service is off its bus: it has nothing more to say. */
  if (self->disposed || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  cx_plugin_publish (self->plugin, event, data);
}

static void
publish_error (CxWebChatService *self, const char *message)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", message);
  data = cx_json_node_new_object (object);
  publish (self, "error", data);
}

/* Resolves and empties a list of waiting commands. */
static void
resolve_all (GPtrArray *commands, JsonNode *result)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  /* A resolution may run code that adds to the list: answer those in a later round. The copy
   * holds its own references, and frees them. */
  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_resolve (g_ptr_array_index (taken, i), result);
}

static void
reject_all (GPtrArray *commands, const GError *error)
{
  g_autoptr (GPtrArray) taken = NULL;

  if (commands->len == 0)
    return;

  taken = g_ptr_array_copy (commands, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_size (commands, 0);
  for (guint i = 0; i < taken->len; i++)
    cx_command_reject (g_ptr_array_index (taken, i), g_error_copy (error));
}

/* Cookies */

static void
set_cookie (CxWebChatService *self, const char *name, const char *value)
{
  g_autoptr (GError) error = NULL;

  /* The site address was checked at construction: this cannot fail. */
  if (!cx_http_set_site_cookie (self->http, self->site_url, name, value, &error))
    g_debug ("Could not set the cookie %s: %s", name, error->message);
}

static void
set_cookie_int (CxWebChatService *self, const char *name, gint64 value)
{
  char buffer[32];

  g_snprintf (buffer, sizeof buffer, "%" G_GINT64_FORMAT, value);
  set_cookie (self, name, buffer);
}

/* Returns FALSE if the cookie is absent or not a whole number. */
static gboolean
get_cookie_int (CxWebChatService *self, const char *name, gint64 *value)
{
  g_autofree char *text = cx_http_get_site_cookie (self->http, self->site_url, name);

  return text != NULL && g_ascii_string_to_signed (text, 10, 0, G_MAXINT64, value, NULL);
}

static void
delete_session_cookies (CxWebChatService *self)
{
  /* The session first: a window that sees it gone does not look at the others. */
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_SESSION);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_KEYS);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_PING);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_INDEX);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_OPEN);
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_UNREAD);
}

static void
write_session_cookies (CxWebChatService *self)
{
  JsonObject *keys = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *text = NULL;

  json_object_set_string_member (keys, "secureKey", self->secure_key);
  json_object_set_string_member (keys, "alias", self->alias);
  json_object_set_string_member (keys, "userId", self->user_id);
  node = cx_json_node_new_object (keys);
  text = json_to_string (node, FALSE);

  self->last_ping_ms = now_ms ();
  set_cookie (self, COOKIE_KEYS, text);
  set_cookie_int (self, COOKIE_INDEX, self->next_position);
  set_cookie_int (self, COOKIE_PING, self->last_ping_ms);
  /* Last: other windows wait for this one, and then read the others. */
  set_cookie (self, COOKIE_SESSION, self->chat_id);
}

/* A successful exchange: the chat is alive. */
static void
touch_ping (CxWebChatService *self)
{
  gint64 now = now_ms ();

  if (self->state != STATE_ACTIVE || now - self->last_ping_ms < PING_MIN_INTERVAL_MS)
    return;

  self->last_ping_ms = now;
  set_cookie_int (self, COOKIE_PING, now);
}

typedef struct
{
  char *chat_id;
  char *secure_key;
  char *alias;
  char *user_id;
  gint64 ping;
  gboolean has_ping;
} CookieSession;

static void
cookie_session_clear (CookieSession *session)
{
  g_clear_pointer (&session->chat_id, g_free);
  g_clear_pointer (&session->secure_key, g_free);
  g_clear_pointer (&session->alias, g_free);
  g_clear_pointer (&session->user_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CookieSession, cookie_session_clear)

static char *
dup_nonempty_member (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  if (json_node_get_string (node)[0] == '\0')
    return NULL;

  return g_strdup (json_node_get_string (node));
}

/* Reads the session and keys cookies. Returns FALSE when they do not name a chat (absent, or
 * not what this service writes). */
static gboolean
read_cookie_session (CxWebChatService *self, CookieSession *session)
{
  g_autofree char *keys = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;

  session->chat_id = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_SESSION);
  keys = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_KEYS);
  session->has_ping = get_cookie_int (self, COOKIE_PING, &session->ping);
  if (session->chat_id == NULL || session->chat_id[0] == '\0' || keys == NULL)
    return FALSE;

  root = cx_json_parse (keys, strlen (keys), 4096, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;

  object = json_node_get_object (root);
  session->secure_key = dup_nonempty_member (object, "secureKey");
  session->alias = dup_nonempty_member (object, "alias");
  session->user_id = dup_nonempty_member (object, "userId");

  return session->secure_key != NULL && session->alias != NULL && session->user_id != NULL;
}

static gboolean
cookie_session_is_fresh (CxWebChatService *self, const CookieSession *session)
{
  gint64 age;

  if (!session->has_ping)
    return FALSE;

  age = now_ms () - session->ping;
  /* A ping from the future (a clock step) counts as now. */
  return age < (gint64) self->restore_timeout_ms;
}

/* Configuration */

static gboolean
config_get_uint (JsonObject *config, const char *member, guint fallback, guint min, guint max,
                 guint *out, GError **error)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, member) : NULL;
  gint64 value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      *out = fallback;
      return TRUE;
    }

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    value = (gint64) json_node_get_double (node);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat setting “%s” must be a number"), member);
      return FALSE;
    }

  *out = (guint) CLAMP (value, (gint64) min, (gint64) max);
  return TRUE;
}

/* ws://host/…/cx/1/chat/{service} for http://host/…/genesys/2/chat/{service}, or NULL. */
static char *
derive_push_url_base (GUri *data_uri)
{
  static const char marker[] = "/genesys/2/chat/";
  const char *path = g_uri_get_path (data_uri);
  const char *found = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *push_path = NULL;
  const char *service;
  const char *scheme;

  for (const char *p = strstr (path, marker); p != NULL; p = strstr (p + 1, marker))
    found = p;
  if (found == NULL)
    return NULL;

  service = found + strlen (marker);
  if (service[0] == '\0' || strchr (service, '/') != NULL)
    return NULL;

  prefix = g_strndup (path, found - path);
  push_path = g_strconcat (prefix, "/cx/1/chat/", service, NULL);
  scheme = g_ascii_strcasecmp (g_uri_get_scheme (data_uri), "https") == 0 ? "wss" : "ws";

  return g_uri_join (G_URI_FLAGS_ENCODED_PATH, scheme, NULL, g_uri_get_host (data_uri),
                     g_uri_get_port (data_uri), push_path, NULL, NULL);
}

static gboolean
parse_config (CxWebChatService *self, JsonObject *config, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GUri) trimmed = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  JsonNode *node;
  const char *data_url = NULL;
  const char *transport = "auto";
  const char *scheme;
  gsize length;

  node = config != NULL ? json_object_get_member (config, "dataURL") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
    data_url = json_node_get_string (node);
  if (data_url == NULL || data_url[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat settings have no “dataURL”"));
      return FALSE;
    }

  uri = g_uri_parse (data_url, SOUP_HTTP_URI_FLAGS, &local_error);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat “dataURL” “%s” is not an http:// or https:// address"), data_url);
      return FALSE;
    }

  /* Per-chat addresses are dataURL + "/{chatId}/{op}". */
  path = g_strdup (g_uri_get_path (uri));
  length = strlen (path);
  while (length > 0 && path[length - 1] == '/')
    path[--length] = '\0';
  trimmed = soup_uri_copy (uri, SOUP_URI_PATH, path, SOUP_URI_FRAGMENT, NULL, SOUP_URI_NONE);
  self->data_url = g_uri_to_string (trimmed);
  self->push_url_base = derive_push_url_base (trimmed);

  node = config != NULL ? json_object_get_member (config, "transport") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
    transport = json_node_get_string (node);
  if (g_str_equal (transport, "auto"))
    self->push_allowed = TRUE;
  else if (g_str_equal (transport, "poll"))
    self->push_allowed = FALSE;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The chat “transport” must be “auto” or “poll”, not “%s”"), transport);
      return FALSE;
    }

  return config_get_uint (config, "pollRate", DEFAULT_POLL_RATE_MS, MIN_POLL_RATE_MS,
                          MAX_POLL_RATE_MS, &self->poll_rate_ms, error) &&
         config_get_uint (config, "pollExceptionLimit", DEFAULT_POLL_EXCEPTION_LIMIT, 1, 1000,
                          &self->poll_exception_limit, error) &&
         config_get_uint (config, "restoreTimeout", DEFAULT_RESTORE_TIMEOUT_MS,
                          MIN_RESTORE_TIMEOUT_MS, G_MAXINT, &self->restore_timeout_ms, error) &&
         config_get_uint (config, "ajaxTimeout", DEFAULT_AJAX_TIMEOUT_MS, MIN_AJAX_TIMEOUT_MS,
                          MAX_AJAX_TIMEOUT_MS, &self->ajax_timeout_ms, error);
}

/* Requests to GMS */

typedef struct
{
  SoupMessage *msg;
  CxCommand *command;
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_object (&request->msg);
  g_clear_object (&request->command);
  g_free (request);
}

static GHashTable *
new_form (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
form_add (GHashTable *form, const char *name, const char *value)
{
  g_hash_table_replace (form, g_strdup (name), g_strdup (value));
}

static void
form_add_uint (GHashTable *form, const char *name, guint value)
{
  g_hash_table_replace (form, g_strdup (name), g_strdup_printf ("%u", value));
}

static void
gms_post_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonNode) root = NULL;
  CxGmsReply *reply = NULL;
  const char *data;
  gsize size = 0;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_bytes_get_data (body, &size);
  root = cx_json_parse (data, size, CX_GMS_MAX_REPLY_SIZE, &error);
  if (root == NULL || !cx_gms_parse_reply (root, &reply, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The callback may run from inside g_task_return_pointer(): the tree of a long transcript
   * (two kilobytes a message) goes first, so that what the callback builds reuses its memory. */
  g_clear_pointer (&root, json_node_unref);
  g_clear_pointer (&body, g_bytes_unref);
  g_task_return_pointer (task, reply, (GDestroyNotify) cx_gms_reply_free);
}

/* A file to upload with a request: its name, type and bytes. */
typedef struct
{
  const char *name;
  const char *content_type;
  GBytes *bytes;
} Upload;

/* The request body: @form url-encoded or, with @upload, as the fields of a multipart form
 * beside the file. */
static void
set_request_body (SoupMessage *msg, GHashTable *form, const Upload *upload)
{
  g_autoptr (GBytes) body = NULL;

  if (upload == NULL)
    {
      char *encoded = soup_form_encode_hash (form);

      body = g_bytes_new_take (encoded, strlen (encoded));
      soup_message_set_request_body_from_bytes (msg, SOUP_FORM_MIME_TYPE_URLENCODED, body);
    }
  else
    {
      g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
      GHashTableIter iter;
      gpointer name, value;

      g_hash_table_iter_init (&iter, form);
      while (g_hash_table_iter_next (&iter, &name, &value))
        soup_multipart_append_form_string (multipart, name, value);
      soup_multipart_append_form_file (multipart, "file", upload->name, upload->content_type,
                                       upload->bytes);
      soup_multipart_to_message (multipart, soup_message_get_request_headers (msg), &body);
      soup_message_set_request_body_from_bytes (msg, NULL, body);
    }
}

/* POSTs @form (with @upload, as a multipart form) to dataURL (@op NULL: start a chat) or, with
 * the chat's keys added to @form, to dataURL/{chatId}/{op}. @command, if any, comes back from
 * gms_post_finish(). */
static void
gms_post_full_async (CxWebChatService *self, const char *op, GHashTable *form, CxCommand *command,
                     const Upload *upload, GAsyncReadyCallback callback)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *url = NULL;
  Request *request;

  /* No source object: a request must not keep the service alive. A callback finds its task
   * cancelled once the service is disposed (or the chat ended), and then touches nothing. */
  task = g_task_new (NULL, self->cancellable, callback, self);
  g_task_set_source_tag (task, gms_post_full_async);

  if (op != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (self->chat_id, NULL, FALSE);

      url = g_strdup_printf ("%s/%s/%s", self->data_url, escaped, op);
      form_add (form, "userId", self->user_id);
      form_add (form, "secureKey", self->secure_key);
      form_add (form, "alias", self->alias);
    }
  else
    {
      url = g_strdup (self->data_url);
    }

  request = g_new0 (Request, 1);
  request->command = command != NULL ? g_object_ref (command) : NULL;
  g_task_set_task_data (task, request, request_free);

  /* The address was built from dataURL, which parsed, and an escaped id. */
  request->msg = soup_message_new (SOUP_METHOD_POST, url);
  if (request->msg == NULL)
    {
      g_task_return_new_error (task, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                               _ ("“%s” is not an address"), url);
      return;
    }

  set_request_body (request->msg, form, upload);
  soup_message_headers_replace (soup_message_get_request_headers (request->msg), "Accept",
                                "application/json");

  cx_http_send_async (self->http, request->msg, self->ajax_timeout_ms, self->cancellable,
                      gms_post_cb, g_steal_pointer (&task));
}

static void
gms_post_async (CxWebChatService *self, const char *op, GHashTable *form, CxCommand *command,
                GAsyncReadyCallback callback)
{
  gms_post_full_async (self, op, form, command, NULL, callback);
}

/* What a customer can read about a failed request. CxHttp's messages name the address and the
 * HTTP status: they are for support staff, and go to the debug log. The domain and code stay,
 * so that callers can still tell the cases apart. */
static GError *
human_error (const GError *error, guint status)
{
  const char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  g_debug ("Request failed (HTTP status %u): %s", status, error->message);

  if (error->domain == CX_HTTP_ERROR)
    {
      switch (error->code)
        {
          case CX_HTTP_ERROR_TIMED_OUT:
            text = _ ("The chat server did not answer in time");
            break;
          case CX_HTTP_ERROR_NETWORK:
            text = _ ("The chat server cannot be reached");
            break;
          case CX_HTTP_ERROR_INVALID_URI:
            text = _ ("The chat is not set up correctly: its server address is not valid");
            break;
          case CX_HTTP_ERROR_TOO_LARGE:
          case CX_HTTP_ERROR_NOT_JSON:
            text = _ ("The chat server gave an answer that could not be understood");
            break;
          case CX_HTTP_ERROR_STATUS:
          default:
            break;
        }
    }
  else if (error->domain == CX_GMS_ERROR)
    {
      switch (error->code)
        {
          case CX_GMS_ERROR_CHAT_NOT_FOUND:
            text = _ ("This chat no longer exists on the chat server");
            break;
          case CX_GMS_ERROR_INVALID_KEY:
            text = _ ("The chat server no longer accepts this chat");
            break;
          case CX_GMS_ERROR_TOO_LONG:
            text = _ ("That is too long for the chat server");
            break;
          case CX_GMS_ERROR_FILE_LIMIT:
            text = _ ("The chat server does not accept this file");
            break;
          case CX_GMS_ERROR_RATE_LIMITED:
            text = _ ("Too much at once: wait a moment and try again");
            break;
          case CX_GMS_ERROR_UNAVAILABLE:
            text = _ ("The chat service is not available now");
            break;
          case CX_GMS_ERROR_INVALID_OPERATION:
            text = _ ("The chat server refused this now (the chat may have ended)");
            break;
          default:
            text = _ ("The chat server refused the request");
            break;
        }
    }
  else if (error->domain == CX_PROTOCOL_ERROR || error->domain == JSON_PARSER_ERROR)
    {
      text = _ ("The chat server gave an answer that could not be understood");
    }

  if (text == NULL && status != 0)
    {
      if (status == SOUP_STATUS_NOT_FOUND)
        text = _ ("This chat no longer exists on the chat server");
      else if (status == SOUP_STATUS_FORBIDDEN || status == SOUP_STATUS_UNAUTHORIZED)
        text = _ ("The chat server no longer accepts this chat");
      else if (status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
        text = _ ("That is too large for the chat server");
      else if (status == 429)
        text = _ ("Too much at once: wait a moment and try again");
      else if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
        text = _ ("The chat service is not available now");
      else if (status >= 500)
        text = _ ("The chat server has a problem: try again later");
      else if (status == SOUP_STATUS_BAD_REQUEST)
        text = _ ("The chat server refused it as not valid");
    }

  if (text == NULL)
    text = _ ("The chat server refused the request");

  return g_error_new_literal (error->domain, error->code, text);
}

/* How a request ended, from its error and the HTTP status it got. */
static Outcome
classify_failure (const GError *error, guint status)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return OUTCOME_CANCELLED;
  if (error->domain == CX_GMS_ERROR)
    return OUTCOME_REFUSED;
  if (g_error_matches (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS) && status >= 400 &&
      status < 500 && status != SOUP_STATUS_REQUEST_TIMEOUT)
    return OUTCOME_REFUSED;
  return OUTCOME_FAILED;
}

static CxGmsReply *
gms_post_finish (GAsyncResult *result, Outcome *outcome, CxCommand **command, GError **error)
{
  GTask *task = G_TASK (result);
  Request *request = g_task_get_task_data (task);
  g_autoptr (GError) local_error = NULL;
  CxGmsReply *reply;
  guint status;

  *outcome = OUTCOME_FAILED;
  g_return_val_if_fail (g_task_get_source_tag (task) == gms_post_full_async, NULL);

  if (command != NULL)
    *command = request->command != NULL ? g_object_ref (request->command) : NULL;

  reply = g_task_propagate_pointer (task, &local_error);
  if (reply != NULL)
    {
      *outcome = OUTCOME_OK;
      return reply;
    }

  status = request->msg != NULL ? soup_message_get_status (request->msg) : 0;
  *outcome = classify_failure (local_error, status);
  g_propagate_error (error, human_error (local_error, status));
  return NULL;
}

/* The transcript */

static int
compare_index (gconstpointer a, gconstpointer b)
{
  const CxMessage *first = *(const CxMessage *const *) a;
  const CxMessage *second = *(const CxMessage *const *) b;

  return first->index < second->index ? -1 : first->index > second->index;
}

static gboolean
still_in_chat (CxWebChatService *self, guint generation)
{
  return !self->disposed && self->state == STATE_ACTIVE && self->generation == generation;
}

static void
publish_with_nickname (CxWebChatService *self, const char *event, CxMessage *message,
                       gboolean with_text)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "nickname",
                                 message->from_nickname != NULL ? message->from_nickname : "");
  if (with_text)
    json_object_set_string_member (object, "text", message->text != NULL ? message->text : "");
  data = cx_json_node_new_object (object);
  publish (self, event, data);
}

/* The events a transcript entry stands for, besides messageReceived. */
static void
publish_derived (CxWebChatService *self, CxMessage *message)
{
  if (message->from_type != CX_PARTY_AGENT)
    return;

  switch (message->type)
    {
      case CX_MESSAGE_PARTICIPANT_JOINED:
        publish_with_nickname (self, "agentConnected", message, FALSE);
        break;

      case CX_MESSAGE_PARTICIPANT_LEFT:
        self->agent_typing = FALSE;
        publish_with_nickname (self, "agentDisconnected", message, FALSE);
        break;

      case CX_MESSAGE_TYPING_STARTED:
        self->agent_typing = TRUE;
        publish_with_nickname (self, "agentTypingStarted", message, TRUE);
        break;

      case CX_MESSAGE_TYPING_STOPPED:
        self->agent_typing = FALSE;
        publish_with_nickname (self, "agentTypingStopped", message, FALSE);
        break;

      case CX_MESSAGE_TEXT:
        /* A message ends the typing that led to it. */
        if (self->agent_typing)
          {
            self->agent_typing = FALSE;
            publish_with_nickname (self, "agentTypingStopped", message, FALSE);
          }
        break;

      default:
        break;
    }
}

static void poll_now (CxWebChatService *self);

/* Publishes the entries of @messages not published yet, in index order, each exactly once.
 * With @strict (push frames, which are contiguous), an entry past the next index means
 * something was missed: the rest waits for a refresh, which reads from the next index. */
static void
receive_messages (CxWebChatService *self, GPtrArray *messages, gboolean strict)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  g_autoptr (GPtrArray) sorted = NULL;
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *object;
  guint generation = self->generation;
  gboolean gap = FALSE;

  if (self->state != STATE_ACTIVE || messages->len == 0)
    return;

  sorted = g_ptr_array_copy (messages, (GCopyFunc) cx_message_ref, NULL);
  g_ptr_array_set_free_func (sorted, (GDestroyNotify) cx_message_unref);
  g_ptr_array_sort (sorted, compare_index);
  fresh = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);

  for (guint i = 0; i < sorted->len; i++)
    {
      CxMessage *message = g_ptr_array_index (sorted, i);

      if (message->index < self->next_position)
        continue;
      if (strict && message->index > self->next_position)
        {
          gap = TRUE;
          break;
        }

      g_ptr_array_add (self->transcript, cx_message_ref (message));
      g_ptr_array_add (fresh, cx_message_ref (message));
      self->next_position = message->index + 1;
    }

  if (fresh->len > 0)
    {
      set_cookie_int (self, COOKIE_INDEX, self->next_position);

      object = json_object_new ();
      json_object_set_array_member (object, "messages", messages_to_array (fresh, 0));
      data = cx_json_node_new_object (object);
      publish (self, "messageReceived", data);

      for (guint i = 0; i < fresh->len && still_in_chat (self, generation); i++)
        publish_derived (self, g_ptr_array_index (fresh, i));
    }

  if (gap && still_in_chat (self, generation))
    {
      g_debug ("Chat %s: the push socket skipped to a later index, reading the transcript",
               self->chat_id);
      poll_now (self);
    }
}

/* Ending */

static void
close_socket (CxWebChatService *self)
{
  if (self->socket == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->socket, self);
  if (soup_websocket_connection_get_state (self->socket) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->socket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&self->socket);
}

/* Stops every request, timer and socket of the current chat. */
static void
stop_chat_activity (CxWebChatService *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  close_socket (self);

  self->socket_connecting = FALSE;
  self->socket_had_frame = FALSE;
  self->push_state = PUSH_UNTRIED;
  self->refresh_in_flight = FALSE;
  self->send_in_flight = FALSE;
  self->end_in_flight = FALSE;
  self->push_ended = FALSE;
  self->refresh_predates_end = FALSE;
  self->outbox_blocked = FALSE;
  self->refresh_predates_block = FALSE;
  self->offline = FALSE;
  self->recovering = FALSE;
  self->failures = 0;
  self->typing = FALSE;
  self->agent_typing = FALSE;
}

static void
clear_chat (CxWebChatService *self)
{
  g_clear_pointer (&self->chat_id, g_free);
  g_clear_pointer (&self->user_id, g_free);
  g_clear_pointer (&self->secure_key, g_free);
  g_clear_pointer (&self->alias, g_free);
}

/* The chat is over, or gone, for this service. The cookies go too unless the server could not
 * be asked (another window may still reach it). */
static void
end_session (CxWebChatService *self, gboolean delete_cookies, const char *error_message)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  Outgoing *outgoing;

  if (self->state != STATE_ACTIVE)
    return;

  stop_chat_activity (self);
  self->state = STATE_IDLE;
  self->generation++;
  if (delete_cookies)
    delete_session_cookies (self);

  error = g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("The chat has ended"));
  while ((outgoing = g_queue_pop_head (&self->outbox)) != NULL)
    {
      cx_command_reject (outgoing->command, g_error_copy (error));
      outgoing_free (outgoing);
    }
  reject_all (self->poll_waiters, error);

  data = chat_id_node (self->chat_id);
  clear_chat (self);

  if (error_message != NULL)
    publish_error (self, error_message);
  publish (self, "ended", data);
  resolve_all (self->end_waiters, data);
}

/* Everything a reply carries: new transcript entries, and whether the chat is over. */
static void
handle_reply (CxWebChatService *self, CxGmsReply *reply)
{
  guint generation = self->generation;

  receive_messages (self, reply->messages, FALSE);
  if (reply->chat_ended && still_in_chat (self, generation))
    end_session (self, TRUE, NULL);
}

/* Transport: polling, the push socket, and the server going away */

static void start_transport (CxWebChatService *self);
static void pump_outbox (CxWebChatService *self);

static gboolean
tick_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->tick_id = 0;
  if (self->state != STATE_ACTIVE || self->offline)
    return G_SOURCE_REMOVE;

  if (self->push_state == PUSH_ACTIVE)
    {
      /* An open socket is a live chat: say so to the other windows. */
      if (self->socket != NULL)
        touch_ping (self);
      /* A send is waiting for a transcript that a failed refresh did not bring. */
      if (self->outbox_blocked)
        poll_now (self);
      self->tick_id = g_timeout_add (self->poll_rate_ms, tick_cb, self);
    }
  else if (self->polling_enabled || self->outbox_blocked)
    {
      poll_now (self);
    }

  return G_SOURCE_REMOVE;
}

static void
schedule_tick (CxWebChatService *self, guint delay_ms)
{
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->tick_id = g_timeout_add (delay_ms, tick_cb, self);
}

static gboolean
retry_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->retry_id = 0;
  poll_now (self);
  return G_SOURCE_REMOVE;
}

/* The next probe while offline: 1 s, 2 s, 4 s … 30 s after the failures that led to it. */
static void
schedule_retry (CxWebChatService *self)
{
  if (self->retry_id != 0 || self->refresh_in_flight)
    return;

  self->retry_id = g_timeout_add (self->retry_delay_ms, retry_cb, self);
  self->retry_delay_ms = MIN (self->retry_delay_ms * 2, MAX_RETRY_MS);
}

static void
go_offline (CxWebChatService *self)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->offline)
    return;

  g_debug ("Chat %s: the chat server is offline", self->chat_id);
  self->offline = TRUE;
  self->recovering = FALSE;
  close_socket (self);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  self->retry_delay_ms = FIRST_RETRY_MS;
  schedule_retry (self);

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  publish (self, "chatServerWentOffline", data);
}

/* Back online once a probe succeeded and every queued message is sent. */
static void
maybe_back_online (CxWebChatService *self)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->state != STATE_ACTIVE || !self->offline || !self->recovering || self->send_in_flight ||
      !g_queue_is_empty (&self->outbox))
    return;

  g_debug ("Chat %s: the chat server is back", self->chat_id);
  self->offline = FALSE;
  self->recovering = FALSE;
  self->failures = 0;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  /* The socket gets a fresh chance; if it cannot open, the chat polls. */
  self->push_state = PUSH_UNTRIED;

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  publish (self, "chatServerBackOnline", data);

  if (self->state == STATE_ACTIVE && !self->offline)
    start_transport (self);
}

static void
exchange_succeeded (CxWebChatService *self)
{
  self->failures = 0;
  touch_ping (self);
}

static void
exchange_failed (CxWebChatService *self, const GError *error)
{
  self->failures++;
  g_debug ("Chat %s: failure %u of %u: %s", self->chat_id, self->failures,
           self->poll_exception_limit, error->message);

  if (self->offline)
    {
      self->recovering = FALSE;
      schedule_retry (self);
      return;
    }

  if (self->failures >= self->poll_exception_limit)
    go_offline (self);
}

static void
refresh_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) nothing = NULL;
  gboolean predates_block;
  gboolean predates_end;
  Outcome outcome;
  guint generation;

  reply = gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->refresh_in_flight = FALSE;
  predates_block = self->refresh_predates_block;
  self->refresh_predates_block = FALSE;
  predates_end = self->refresh_predates_end;
  self->refresh_predates_end = FALSE;

  if (self->push_ended && outcome != OUTCOME_OK)
    {
      /* The server said the chat is over; its last entries are lost, not the ending. */
      end_session (self, TRUE, NULL);
      return;
    }

  if (outcome == OUTCOME_REFUSED)
    {
      /* The server does not know this chat, or these keys, any more. */
      end_session (self, TRUE, error->message);
      return;
    }

  if (outcome == OUTCOME_FAILED)
    {
      reject_all (self->poll_waiters, error);
      exchange_failed (self, error);
      if (self->offline)
        schedule_retry (self);
      else if (self->push_state != PUSH_ACTIVE && (self->polling_enabled || self->outbox_blocked))
        schedule_tick (self, self->poll_rate_ms);
      return;
    }

  exchange_succeeded (self);
  handle_reply (self, reply);
  if (!still_in_chat (self, generation))
    return;

  if (self->push_ended)
    {
      /* Read before the end: read once more, for the entries that came with it. */
      if (predates_end)
        poll_now (self);
      else
        end_session (self, TRUE, NULL);
      return;
    }

  nothing = json_node_new (JSON_NODE_NULL);
  resolve_all (self->poll_waiters, nothing);

  if (predates_block && self->outbox_blocked)
    {
      /* This transcript was read before the send failed: it cannot tell whether the server
       * stored the message. Read it again. */
      poll_now (self);
      return;
    }

  /* The transcript is fresh: a message whose send was uncertain can be checked now. */
  if (self->offline)
    self->recovering = TRUE;
  self->outbox_blocked = FALSE;
  pump_outbox (self);
  if (!still_in_chat (self, generation))
    return;
  maybe_back_online (self);

  if (!self->offline && self->push_state != PUSH_ACTIVE && self->polling_enabled &&
      self->tick_id == 0 && !self->refresh_in_flight)
    schedule_tick (self, self->poll_rate_ms);
}

/* Reads the transcript from the next index now (a poll, a probe, or a check). */
static void
poll_now (CxWebChatService *self)
{
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE || self->refresh_in_flight)
    return;

  if (self->push_state != PUSH_ACTIVE)
    g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);

  self->refresh_in_flight = TRUE;
  form = new_form ();
  form_add_uint (form, "transcriptPosition", self->next_position);
  gms_post_async (self, "refresh", form, NULL, refresh_cb);
}

/* The push socket says the chat is over. The entries that ended it (the customer's or the
 * agent's ParticipantLeft) may not have come over it: they are read before the chat ends here,
 * from the reply to our own disconnect if one is under way, or else from a last refresh. */
static void
push_chat_ended (CxWebChatService *self)
{
  self->push_ended = TRUE;
  close_socket (self);

  if (self->end_in_flight)
    return;

  if (self->refresh_in_flight)
    self->refresh_predates_end = TRUE;
  else
    poll_now (self);
}

static void
push_message_cb (SoupWebsocketConnection *socket, int type, GBytes *message, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxAgentEvent) event = NULL;
  g_autoptr (GError) error = NULL;
  const char *data;
  gsize length = 0;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  data = g_bytes_get_data (message, &length);
  if (!cx_agent_event_parse (data, length, &event, &error))
    {
      g_debug ("Chat %s: ignoring a push frame: %s", self->chat_id, error->message);
      return;
    }

  if (event->chat_id == NULL || g_strcmp0 (event->chat_id, self->chat_id) != 0)
    return;

  self->socket_had_frame = TRUE;
  exchange_succeeded (self);

  if (event->type == CX_AGENT_EVENT_MESSAGES)
    receive_messages (self, event->messages, TRUE);
  else if (event->type == CX_AGENT_EVENT_CHAT_ENDED)
    push_chat_ended (self);
}

static void connect_push (CxWebChatService *self);

static void
push_closed_cb (SoupWebsocketConnection *socket, gpointer user_data)
{
  CxWebChatService *self = user_data;
  gboolean had_frame = self->socket_had_frame;

  g_debug ("Chat %s: the push socket closed (code %u)", self->chat_id,
           soup_websocket_connection_get_close_code (socket));
  close_socket (self);

  if (self->state != STATE_ACTIVE || self->offline)
    return;

  if (had_frame)
    {
      /* It worked: open it again. If that fails, the server is gone. */
      connect_push (self);
      return;
    }

  /* Closed before it said anything (a refused key, a server that does not push): poll, and
   * let the poll find out what is the matter. */
  self->push_state = PUSH_UNAVAILABLE;
  poll_now (self);
}

static void
push_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (SoupWebsocketConnection) socket = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) hello = NULL;
  g_autofree char *text = NULL;

  socket = cx_http_websocket_connect_finish (CX_HTTP (source), result, &error);
  if (socket == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->socket_connecting = FALSE;
  if (self->state != STATE_ACTIVE || self->offline)
    return;

  if (socket == NULL)
    {
      g_debug ("Chat %s: no push socket: %s", self->chat_id, error->message);
      if (self->push_state == PUSH_ACTIVE)
        {
          /* The socket worked, closed, and cannot reopen. */
          self->failures = MAX (self->failures, self->poll_exception_limit);
          go_offline (self);
          return;
        }

      self->push_state = PUSH_UNAVAILABLE;
      poll_now (self);
      return;
    }

  self->socket = g_steal_pointer (&socket);
  self->socket_had_frame = FALSE;
  self->push_state = PUSH_ACTIVE;
  soup_websocket_connection_set_max_incoming_payload_size (self->socket, CX_AGENT_FRAME_MAX_SIZE);
  g_signal_connect (self->socket, "message", G_CALLBACK (push_message_cb), self);
  g_signal_connect (self->socket, "closed", G_CALLBACK (push_closed_cb), self);

  /* The key goes in the first frame, never in the address. */
  hello = cx_push_hello_build (self->secure_key, self->user_id, self->alias, self->next_position);
  text = json_to_string (hello, FALSE);
  soup_websocket_connection_send_text (self->socket, text);

  schedule_tick (self, self->poll_rate_ms);
}

static void
connect_push (CxWebChatService *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;

  if (self->socket != NULL || self->socket_connecting)
    return;

  escaped = g_uri_escape_string (self->chat_id, NULL, FALSE);
  url = g_strdup_printf ("%s/%s/socket", self->push_url_base, escaped);
  self->socket_connecting = TRUE;
  cx_http_websocket_connect_async (self->http, url, NULL, NULL, self->cancellable, push_connect_cb,
                                   self);
}

static void
start_transport (CxWebChatService *self)
{
  if (self->push_allowed && self->push_url_base != NULL && self->push_state != PUSH_UNAVAILABLE)
    connect_push (self);
  else
    poll_now (self);
}

/* Sending: one message in flight at a time, in order */

/* The transcript entry that is @outgoing, if the server stored it although its send failed:
 * a Client message with its text, after the last acknowledged one and at or after the position
 * the transcript had when it was first sent (see the top of this file). */
static CxMessage *
find_delivered (CxWebChatService *self, Outgoing *outgoing, GPtrArray *messages)
{
  guint from = MAX (self->last_acked_index + 1, outgoing->first_position);

  for (guint i = 0; i < messages->len; i++)
    {
      CxMessage *message = g_ptr_array_index (messages, i);

      if (message->index >= from && message->type == CX_MESSAGE_TEXT &&
          message->from_type == CX_PARTY_CLIENT && g_strcmp0 (message->text, outgoing->text) == 0)
        return message;
    }

  return NULL;
}

/* @outgoing, off the queue, is stored at @index. */
static void
acknowledge (CxWebChatService *self, Outgoing *outgoing, guint index)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) result = NULL;

  self->last_acked_index = MAX (self->last_acked_index, index);
  json_object_set_int_member (object, "index", index);
  result = cx_json_node_new_object (object);
  cx_command_resolve (outgoing->command, result);
  outgoing_free (outgoing);
}

static void post_simple (CxWebChatService *self, const char *op, const char *message,
                         CxCommand *command);

static void
send_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Outgoing *outgoing;
  CxMessage *stored;
  Outcome outcome;
  guint generation;
  guint index;

  reply = gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->send_in_flight = FALSE;

  if (outcome == OUTCOME_FAILED)
    {
      /* Maybe stored, maybe not: the next good refresh asked from now on tells
       * (pump_outbox). */
      self->outbox_blocked = TRUE;
      if (self->refresh_in_flight)
        self->refresh_predates_block = TRUE;
      exchange_failed (self, error);
      if (!self->offline)
        poll_now (self);
      return;
    }

  outgoing = g_queue_pop_head (&self->outbox);
  if (outcome == OUTCOME_REFUSED)
    {
      g_autoptr (GError) rejection = g_error_new (
          CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("The message was not sent: %s"), error->message);

      cx_command_reject (outgoing->command, g_steal_pointer (&rejection));
      outgoing_free (outgoing);
      /* The chat may have ended under us: the transcript says. */
      poll_now (self);
      pump_outbox (self);
      return;
    }

  exchange_succeeded (self);

  /* The reply carries the transcript from where this service was: the message is in it. */
  stored = find_delivered (self, outgoing, reply->messages);
  if (stored != NULL)
    index = stored->index;
  else
    index = reply->next_position > 0 ? reply->next_position - 1 : 0;

  handle_reply (self, reply);
  acknowledge (self, outgoing, index);

  if (still_in_chat (self, generation))
    pump_outbox (self);
}

static void
send_head (CxWebChatService *self, Outgoing *outgoing)
{
  g_autoptr (GHashTable) form = new_form ();

  if (outgoing->first_position == 0)
    outgoing->first_position = self->next_position;

  /* A message ends the customer's typing. */
  if (self->typing)
    {
      self->typing = FALSE;
      g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
      post_simple (self, "stopTyping", NULL, NULL);
    }

  self->send_in_flight = TRUE;
  form_add (form, "message", outgoing->text);
  form_add (form, "messageType", "text");
  form_add_uint (form, "transcriptPosition", self->next_position);
  gms_post_async (self, "send", form, NULL, send_reply_cb);
}

static void
pump_outbox (CxWebChatService *self)
{
  Outgoing *outgoing;

  while (self->state == STATE_ACTIVE && !self->send_in_flight && !self->outbox_blocked &&
         (!self->offline || self->recovering) &&
         (outgoing = g_queue_peek_head (&self->outbox)) != NULL)
    {
      /* Sent before without an answer: the transcript is fresh here, see if it got there. */
      if (outgoing->first_position != 0)
        {
          CxMessage *stored = find_delivered (self, outgoing, self->transcript);

          if (stored != NULL)
            {
              g_debug ("Chat %s: message %u was stored before the failure: not resent",
                       self->chat_id, stored->index);
              g_queue_pop_head (&self->outbox);
              acknowledge (self, outgoing, stored->index);
              continue;
            }
        }

      send_head (self, outgoing);
    }

  maybe_back_online (self);
}

static void
send_message_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *message = NULL;
  Outgoing *outgoing;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    message = json_object_get_member (json_node_get_object (data), "message");
  if (message == NULL || json_node_get_value_type (message) != G_TYPE_STRING ||
      json_node_get_string (message)[0] == '\0')
    {
      cx_command_reject_message (command, _ ("sendMessage needs a “message”"));
      return;
    }

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Queued, also while offline: the command resolves once the server has the message. */
  outgoing = g_new0 (Outgoing, 1);
  outgoing->text = g_strdup (json_node_get_string (message));
  outgoing->command = g_object_ref (command);
  g_queue_push_tail (&self->outbox, outgoing);
  pump_outbox (self);
}

/* Typing, and other requests answered with nothing but a status */

static void
simple_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  Outcome outcome;

  reply = gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      if (command != NULL)
        cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  hold = g_object_ref (self);
  if (outcome == OUTCOME_OK)
    {
      exchange_succeeded (self);
      if (command != NULL)
        cx_command_resolve (command, NULL);
      handle_reply (self, reply);
      return;
    }

  if (command != NULL)
    cx_command_reject (command, g_error_copy (error));
  if (outcome == OUTCOME_FAILED)
    exchange_failed (self, error);
}

static void
post_simple (CxWebChatService *self, const char *op, const char *message, CxCommand *command)
{
  g_autoptr (GHashTable) form = new_form ();

  if (message != NULL)
    form_add (form, "message", message);
  gms_post_async (self, op, form, command, simple_reply_cb);
}

static gboolean
typing_idle_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->typing_timeout_id = 0;
  if (self->typing && self->state == STATE_ACTIVE && !self->offline)
    post_simple (self, "stopTyping", NULL, NULL);
  self->typing = FALSE;

  return G_SOURCE_REMOVE;
}

static void
send_typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *message = NULL;
  const char *preview = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    message = json_object_get_member (json_node_get_object (data), "message");
  if (message != NULL && json_node_get_value_type (message) == G_TYPE_STRING)
    preview = json_node_get_string (message);

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Typing is of the moment: while offline it is not sent, nor kept. */
  if (self->offline)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  self->typing_timeout_id = g_timeout_add (TYPING_IDLE_MS, typing_idle_cb, self);

  if (self->typing)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  self->typing = TRUE;
  post_simple (self, "startTyping", preview, command);
}

/* endChat */

static void
end_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Outcome outcome;
  guint generation;

  reply = gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->end_in_flight = FALSE;

  if (outcome == OUTCOME_FAILED && !self->push_ended)
    {
      reject_all (self->end_waiters, error);
      exchange_failed (self, error);
      return;
    }

  if (outcome == OUTCOME_OK)
    {
      exchange_succeeded (self);
      handle_reply (self, reply);
    }

  /* Over, whatever the reply said; refused means it was already gone. */
  if (still_in_chat (self, generation))
    end_session (self, TRUE, NULL);
}

static void
end_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  g_ptr_array_add (self->end_waiters, g_object_ref (command));
  if (self->end_in_flight)
    return;

  self->end_in_flight = TRUE;
  form = new_form ();
  form_add_uint (form, "transcriptPosition", self->next_position);
  gms_post_async (self, "disconnect", form, NULL, end_reply_cb);
}

/* Files */

/* The file limits of a file/limits reply (its userData). */
static gboolean
reply_file_limits (CxGmsReply *reply, CxGmsFileLimits *limits, GError **error)
{
  if (reply->user_data == NULL)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The chat server did not give its file limits"));
      return FALSE;
    }
  return cx_gms_file_limits_parse (reply->user_data, limits, error);
}

static void
file_limits_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CxGmsFileLimits) limits = { 0 };
  Outcome outcome;

  reply = gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  if (outcome != OUTCOME_OK)
    {
      cx_command_reject (command, g_error_copy (error));
      if (outcome == OUTCOME_FAILED)
        exchange_failed (self, error);
      return;
    }

  exchange_succeeded (self);
  if (!reply_file_limits (reply, &limits, &error))
    cx_command_reject (command, g_steal_pointer (&error));
  else
    cx_command_resolve (command, reply->user_data);
}

static void
get_file_limits_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Resolves with GMS's own userData: upload-max-files, upload-max-file-size,
   * upload-max-total-size, upload-file-types, checked first. */
  form = new_form ();
  gms_post_async (self, "file/limits", form, command, file_limits_reply_cb);
}

/* sendFile: the file's size and name are checked against the server's limits before it is read,
 * so a file the server would refuse is neither read nor sent. Each step finds the command's
 * FileToSend on the command; a step that finds its work cancelled (the service disposed, or
 * the chat ended) rejects the command and touches nothing else. */
typedef struct
{
  CxWebChatService *self;
  GFile *file;
  char *name;
  char *content_type;
  guint64 size;
  guint generation;
} FileToSend;

#define FILE_TO_SEND_KEY "cx-webchat-file-to-send"

static void
file_to_send_free (gpointer data)
{
  FileToSend *send = data;

  g_clear_object (&send->file);
  g_free (send->name);
  g_free (send->content_type);
  g_free (send);
}

static FileToSend *
file_to_send (CxCommand *command)
{
  return g_object_get_data (G_OBJECT (command), FILE_TO_SEND_KEY);
}

/* A step of sendFile failed: the command says why; a failed exchange also counts against the
 * connection, as it does for every other request. */
static void
send_file_failed (CxWebChatService *self, CxCommand *command, Outcome outcome, GError *error)
{
  g_autoptr (GError) rejection = NULL;

  if (outcome == OUTCOME_FAILED)
    exchange_failed (self, error);
  rejection = g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("The file was not sent: %s"),
                           error->message);
  cx_command_reject (command, g_steal_pointer (&rejection));
}

static void
file_uploaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  JsonNode *id;
  guint generation;
  Outcome outcome;

  reply = gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }
  if (outcome != OUTCOME_OK)
    {
      send_file_failed (self, command, outcome, error);
      return;
    }

  exchange_succeeded (self);
  /* {file-id, file-name, file-size, file-type}, as GMS gives them: at least the id. */
  id = reply->user_data != NULL && JSON_NODE_HOLDS_OBJECT (reply->user_data)
           ? json_object_get_member (json_node_get_object (reply->user_data), "file-id")
           : NULL;
  if (id == NULL || json_node_get_value_type (id) != G_TYPE_STRING)
    {
      g_autoptr (GError) invalid =
          g_error_new_literal (CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The chat server did not say which file it stored"));

      send_file_failed (self, command, OUTCOME_REFUSED, invalid);
    }
  else
    cx_command_resolve (command, reply->user_data);

  /* The FileUploaded entry comes over the push socket, or with the next refresh. */
  generation = self->generation;
  handle_reply (self, reply);
  if (still_in_chat (self, generation) && self->push_state != PUSH_ACTIVE &&
      !self->refresh_in_flight)
    poll_now (self);
}

static void
file_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxCommand) command = user_data;
  FileToSend *send = file_to_send (command);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GHashTable) form = NULL;
  char *contents = NULL;
  gsize length = 0;
  Upload upload;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cx_command_reject (command, g_steal_pointer (&error));
      else
        cx_command_reject_message (command, _ ("“%s” cannot be read: %s"), send->name,
                                   error->message);
      return;
    }
  bytes = g_bytes_new_take (contents, length);

  /* The size was checked; the file may have changed since. */
  if (length != send->size || length > MAX_UPLOAD_SIZE)
    {
      cx_command_reject_message (command, _ ("“%s” changed while it was being sent"), send->name);
      return;
    }

  if (!still_in_chat (send->self, send->generation))
    {
      cx_command_reject_message (command, _ ("The chat has ended"));
      return;
    }

  upload.name = send->name;
  upload.content_type = send->content_type;
  upload.bytes = bytes;
  form = new_form ();
  gms_post_full_async (send->self, "file", form, command, &upload, file_uploaded_cb);
}

static void
send_file_limits_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (CxGmsFileLimits) limits = { 0 };
  FileToSend *send;
  Outcome outcome;

  reply = gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }
  if (outcome != OUTCOME_OK)
    {
      send_file_failed (self, command, outcome, error);
      return;
    }
  exchange_succeeded (self);

  send = file_to_send (command);
  if (reply_file_limits (reply, &limits, &error))
    /* The server counts the chat's earlier files; this checks the file itself. */
    cx_gms_file_limits_check (&limits, send->name, send->size, 0, 0, &error);
  if (error == NULL && send->size > MAX_UPLOAD_SIZE)
    {
      g_autofree char *largest = g_format_size (MAX_UPLOAD_SIZE);

      error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT, _ ("The file is larger than %s"),
                           largest);
    }
  if (error != NULL)
    {
      send_file_failed (self, command, OUTCOME_REFUSED, error);
      return;
    }

  g_file_load_contents_async (send->file, self->cancellable, file_loaded_cb,
                              g_object_ref (command));
}

static void
file_info_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxCommand) command = user_data;
  FileToSend *send = file_to_send (command);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) form = NULL;
  const char *type;

  info = g_file_query_info_finish (G_FILE (source), result, &error);
  if (info == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cx_command_reject (command, g_steal_pointer (&error));
      else
        cx_command_reject_message (command, _ ("The file cannot be read: %s"), error->message);
      return;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      cx_command_reject_message (command, _ ("“%s” is not a file"),
                                 g_file_info_get_display_name (info));
      return;
    }
  if (!still_in_chat (send->self, send->generation))
    {
      cx_command_reject_message (command, _ ("The chat has ended"));
      return;
    }

  send->name = g_strdup (g_file_info_get_display_name (info));
  send->size = g_file_info_get_size (info);
  type = g_file_info_get_content_type (info);
  send->content_type = type != NULL ? g_content_type_get_mime_type (type) : NULL;
  if (send->content_type == NULL)
    send->content_type = g_strdup ("application/octet-stream");

  form = new_form ();
  gms_post_async (send->self, "file/limits", form, command, send_file_limits_cb);
}

static void
send_file_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *path = NULL;
  FileToSend *send;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    path = json_object_get_member (json_node_get_object (data), "path");
  if (path == NULL || json_node_get_value_type (path) != G_TYPE_STRING ||
      *json_node_get_string (path) == '\0')
    {
      cx_command_reject_message (command, _ ("sendFile needs the “path” of a file"));
      return;
    }
  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  send = g_new0 (FileToSend, 1);
  send->self = self;
  send->file = g_file_new_for_path (json_node_get_string (path));
  send->generation = self->generation;
  g_object_set_data_full (G_OBJECT (command), FILE_TO_SEND_KEY, send, file_to_send_free);

  g_file_query_info_async (send->file,
                           G_FILE_ATTRIBUTE_STANDARD_TYPE
                           "," G_FILE_ATTRIBUTE_STANDARD_SIZE
                           "," G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME
                           "," G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, self->cancellable,
                           file_info_cb, g_object_ref (command));
}

static void
poll_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  /* As in the Widgets: only the service itself may poll on demand. */
  if (g_strcmp0 (cx_command_get_commander (command), PRIVATE_COMMANDER) != 0)
    {
      cx_command_reject (command, g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
                                                       _ ("Access Denied to private command")));
      return;
    }

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  g_ptr_array_add (self->poll_waiters, g_object_ref (command));
  poll_now (self);
}

static void
start_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->polling_enabled = TRUE;
  if (self->state == STATE_ACTIVE && !self->offline && self->push_state != PUSH_ACTIVE &&
      self->tick_id == 0 && !self->refresh_in_flight)
    poll_now (self);

  cx_command_resolve (command, NULL);
}

static void
stop_poll_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;

  /* Stops the periodic refresh; the push socket, and probes while offline, go on. */
  self->polling_enabled = FALSE;
  if (self->push_state != PUSH_ACTIVE)
    g_clear_handle_id (&self->tick_id, g_source_remove);

  cx_command_resolve (command, NULL);
}

/* Starting and restoring */

static void evaluate_start (CxWebChatService *self);

/* A chat begins for this service (started here, or restored). */
static void
begin_session (CxWebChatService *self, const char *chat_id, const char *user_id,
               const char *secure_key, const char *alias)
{
  /* Copied first: the arguments may be the service's own fields. */
  char *new_chat_id = g_strdup (chat_id);
  char *new_user_id = g_strdup (user_id);
  char *new_secure_key = g_strdup (secure_key);
  char *new_alias = g_strdup (alias);

  clear_chat (self);
  self->chat_id = new_chat_id;
  self->user_id = new_user_id;
  self->secure_key = new_secure_key;
  self->alias = new_alias;
  self->next_position = 1;
  self->last_acked_index = 0;
  self->last_ping_ms = 0;
  g_ptr_array_set_size (self->transcript, 0);
  self->state = STATE_ACTIVE;
  self->generation++;
}

/* The startChat fields in GMS form: nickname (or firstName / lastName), emailAddress, subject,
 * userData[key]. */
static GHashTable *
start_form_from_data (JsonNode *data, GError **error)
{
  static const struct
  {
    const char *member;
    const char *field;
  } fields[] = {
    { "nickname", "nickname" },  { "firstname", "firstName" }, { "lastname", "lastName" },
    { "email", "emailAddress" }, { "subject", "subject" },
  };
  g_autoptr (GHashTable) form = new_form ();
  JsonObject *object;
  JsonNode *user_data;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat needs a nickname, or a first and last name"));
      return NULL;
    }

  object = json_node_get_object (data);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      JsonNode *node = json_object_get_member (object, fields[i].member);

      if (node == NULL || JSON_NODE_HOLDS_NULL (node))
        continue;
      if (json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                       _ ("startChat: “%s” must be text"), fields[i].member);
          return NULL;
        }
      if (json_node_get_string (node)[0] != '\0')
        form_add (form, fields[i].field, json_node_get_string (node));
    }

  if (!g_hash_table_contains (form, "nickname") && !g_hash_table_contains (form, "firstName") &&
      !g_hash_table_contains (form, "lastName"))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat needs a nickname, or a first and last name"));
      return NULL;
    }

  user_data = json_object_get_member (object, "userData");
  if (user_data != NULL && JSON_NODE_HOLDS_OBJECT (user_data))
    {
      JsonObjectIter iter;
      const char *key;
      JsonNode *value;

      json_object_iter_init (&iter, json_node_get_object (user_data));
      while (json_object_iter_next (&iter, &key, &value))
        {
          g_autofree char *field = g_strdup_printf ("userData[%s]", key);
          g_autofree char *text = NULL;

          /* GMS user data is text: numbers and booleans are sent as JSON writes them. */
          if (!JSON_NODE_HOLDS_VALUE (value))
            continue;
          if (json_node_get_value_type (value) == G_TYPE_STRING)
            text = g_strdup (json_node_get_string (value));
          else
            text = json_to_string (value, FALSE);
          form_add (form, field, text);
        }
    }
  else if (user_data != NULL && !JSON_NODE_HOLDS_NULL (user_data))
    {
      g_set_error_literal (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                           _ ("startChat: “userData” must be an object"));
      return NULL;
    }

  return g_steal_pointer (&form);
}

/* The chat panel's state as the site's cookies keep it ("panel": {state, unreadMessages}), for
 * a window that restores the chat to show it as the others do. */
static void
add_panel_state (CxWebChatService *self, JsonObject *object)
{
  g_autofree char *state = cx_http_get_site_cookie (self->http, self->site_url, COOKIE_OPEN);
  JsonObject *panel;
  gint64 unread = 0;

  if (state == NULL || (!g_str_equal (state, "open") && !g_str_equal (state, "minimized") &&
                        !g_str_equal (state, "closed")))
    return;

  panel = json_object_new ();
  json_object_set_string_member (panel, "state", state);
  if (get_cookie_int (self, COOKIE_UNREAD, &unread))
    json_object_set_int_member (panel, "unreadMessages", MIN (unread, G_MAXINT32));
  json_object_set_object_member (object, "panel", panel);
}

static void
save_panel_state_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object = NULL;
  JsonNode *state = NULL;
  JsonNode *unread = NULL;
  const char *value;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      object = json_node_get_object (data);
      state = json_object_get_member (object, "state");
      unread = json_object_get_member (object, "unreadMessages");
    }

  value = state != NULL && json_node_get_value_type (state) == G_TYPE_STRING
              ? json_node_get_string (state)
              : NULL;
  if (value == NULL ||
      (!g_str_equal (value, "open") && !g_str_equal (value, "minimized") &&
       !g_str_equal (value, "closed")) ||
      (unread != NULL &&
       (json_node_get_value_type (unread) != G_TYPE_INT64 || json_node_get_int (unread) < 0)))
    {
      cx_command_reject_message (
          command, _ ("savePanelState needs a “state” (open, minimized or closed) and a "
                      "whole “unreadMessages”"));
      return;
    }

  /* Kept for the chat only: with no chat there is nothing for another window to restore. */
  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  set_cookie (self, COOKIE_OPEN, value);
  set_cookie_int (self, COOKIE_UNREAD, unread != NULL ? json_node_get_int (unread) : 0);
  cx_command_resolve (command, NULL);
}

static void
restore_failed (CxWebChatService *self, gboolean forget, const GError *error)
{
  g_autoptr (CxWebChatService) hold = g_object_ref (self);
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  clear_chat (self);
  self->state = STATE_IDLE;
  if (forget)
    delete_session_cookies (self);

  json_object_set_string_member (object, "message", error->message);
  data = cx_json_node_new_object (object);
  publish (self, "restoreFailed", data);
  reject_all (self->restore_waiters, error);

  /* A startChat that found this chat in the cookies starts its own now. */
  if (forget && self->start_waiters->len > 0 && self->start_form != NULL)
    {
      self->state = STATE_STARTING;
      evaluate_start (self);
    }
  else
    {
      reject_all (self->start_waiters, error);
      g_clear_pointer (&self->start_form, g_hash_table_unref);
    }
}

static void
restore_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (JsonNode) result_node = NULL;
  JsonObject *object;
  Outcome outcome;
  guint generation;

  reply = gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  if (outcome != OUTCOME_OK)
    {
      /* Refused: the chat is gone. Failed: the server may come back for another window. */
      restore_failed (self, outcome == OUTCOME_REFUSED, error);
      return;
    }

  begin_session (self, self->chat_id, self->user_id, self->secure_key, self->alias);
  generation = self->generation;
  exchange_succeeded (self);

  /* The whole transcript, published once as "restored", not as messageReceived. */
  for (guint i = 0; i < reply->messages->len; i++)
    {
      CxMessage *message = g_ptr_array_index (reply->messages, i);

      if (message->index < self->next_position)
        continue;
      g_ptr_array_add (self->transcript, cx_message_ref (message));
      self->next_position = message->index + 1;
      if (message->from_type == CX_PARTY_AGENT && message->type == CX_MESSAGE_TYPING_STARTED)
        self->agent_typing = TRUE;
      else if (message->from_type == CX_PARTY_AGENT)
        self->agent_typing = FALSE;
    }
  set_cookie_int (self, COOKIE_INDEX, self->next_position);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id);
  json_object_set_array_member (object, "messages", messages_to_array (self->transcript, 0));
  add_panel_state (self, object);
  data = cx_json_node_new_object (object);
  result_node = chat_id_node (self->chat_id);

  publish (self, "restored", data);
  resolve_all (self->restore_waiters, result_node);

  if (reply->chat_ended)
    {
      /* It ended while no window was looking. A startChat waiting on it starts a new one. */
      if (still_in_chat (self, generation))
        end_session (self, TRUE, NULL);
      if (!self->disposed && self->state == STATE_IDLE && self->start_waiters->len > 0 &&
          self->start_form != NULL)
        {
          self->state = STATE_STARTING;
          evaluate_start (self);
        }
      return;
    }

  g_clear_pointer (&self->start_form, g_hash_table_unref);
  resolve_all (self->start_waiters, result_node);
  if (still_in_chat (self, generation))
    start_transport (self);
}

/* Reads the transcript of the chat the cookies name, from index 1. */
static void
begin_restore (CxWebChatService *self, CookieSession *session)
{
  g_autoptr (GHashTable) form = new_form ();

  clear_chat (self);
  self->chat_id = g_steal_pointer (&session->chat_id);
  self->user_id = g_steal_pointer (&session->user_id);
  self->secure_key = g_steal_pointer (&session->secure_key);
  self->alias = g_steal_pointer (&session->alias);
  self->state = STATE_RESTORING;

  form_add_uint (form, "transcriptPosition", 1);
  gms_post_async (self, "refresh", form, NULL, restore_reply_cb);
}

static gboolean
restore_timeout_idle_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);

  self->restore_timeout_idle_id = 0;
  json_node_take_object (data, json_object_new ());
  publish (self, "restoreTimeout", data);

  return G_SOURCE_REMOVE;
}

/* What the cookies say when the window opens: a live chat to restore, an expired one to
 * forget, or nothing. */
static void
restore_from_cookies (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };

  if (!read_cookie_session (self, &session))
    {
      /* Half a session (a cookie deleted by hand, a foreign value) is no session. */
      if (session.chat_id != NULL)
        delete_session_cookies (self);
      return;
    }

  if (cookie_session_is_fresh (self, &session))
    {
      begin_restore (self, &session);
      return;
    }

  delete_session_cookies (self);
  /* From the main loop, so that whoever created the service has subscribed by then. */
  if (self->restore_timeout_idle_id == 0)
    self->restore_timeout_idle_id = g_idle_add (restore_timeout_idle_cb, self);
}

static gboolean
lock_refresh_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  set_cookie_int (self, COOKIE_LOCK, now_ms ());
  return G_SOURCE_CONTINUE;
}

static void
start_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  Outcome outcome;
  guint generation;

  reply = gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  self->start_in_flight = FALSE;
  g_clear_handle_id (&self->lock_refresh_id, g_source_remove);

  if (outcome == OUTCOME_OK && (reply->chat_id == NULL || reply->user_id == NULL ||
                                reply->secure_key == NULL || reply->alias == NULL))
    {
      g_clear_error (&error);
      error = g_error_new_literal (CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                                   _ ("The chat server did not say which chat it started"));
    }

  if (error != NULL)
    {
      cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_LOCK);
      self->state = STATE_IDLE;
      g_clear_pointer (&self->start_form, g_hash_table_unref);
      publish_error (self, error->message);
      reject_all (self->start_waiters, error);
      reject_all (self->restore_waiters, error);
      return;
    }

  begin_session (self, reply->chat_id, reply->user_id, reply->secure_key, reply->alias);
  generation = self->generation;
  write_session_cookies (self);
  /* After the session cookie: a window waiting on the lock finds the chat, not a free lock. */
  cx_http_delete_site_cookie (self->http, self->site_url, COOKIE_LOCK);
  g_clear_pointer (&self->start_form, g_hash_table_unref);

  data = chat_id_node (self->chat_id);
  publish (self, "started", data);
  resolve_all (self->start_waiters, data);
  resolve_all (self->restore_waiters, data);

  if (!still_in_chat (self, generation))
    return;
  handle_reply (self, reply);
  if (still_in_chat (self, generation))
    start_transport (self);
}

static gboolean
lock_wait_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->lock_wait_id = 0;
  evaluate_start (self);
  return G_SOURCE_REMOVE;
}

/* startChat, and every change of the cookies while it waits: restore the chat the cookies
 * name, wait for the window that holds the start lock, or take the lock and start. */
static void
evaluate_start (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };
  gint64 lock = 0;

  if (self->state != STATE_STARTING || self->start_in_flight)
    return;

  g_clear_handle_id (&self->lock_wait_id, g_source_remove);

  if (read_cookie_session (self, &session))
    {
      if (cookie_session_is_fresh (self, &session))
        {
          begin_restore (self, &session);
          return;
        }

      /* Nobody has pinged it for restoreTimeout: it is over for the client. */
      delete_session_cookies (self);
    }

  if (get_cookie_int (self, COOKIE_LOCK, &lock))
    {
      gint64 age = now_ms () - lock;

      if (age > -START_LOCK_VALID_MS && age < START_LOCK_VALID_MS)
        {
          /* Another window is starting the chat. Its session cookie brings us back here
           * (jar_changed_cb), or its lock goes stale and this timer does. */
          self->lock_wait_id =
              g_timeout_add ((guint) (START_LOCK_VALID_MS - age + 1), lock_wait_cb, self);
          return;
        }
    }

  self->start_in_flight = TRUE;
  set_cookie_int (self, COOKIE_LOCK, now_ms ());
  self->lock_refresh_id = g_timeout_add (START_LOCK_REFRESH_MS, lock_refresh_cb, self);
  gms_post_async (self, NULL, self->start_form, NULL, start_reply_cb);
}

/* No chat here, and another window of the site has started one: join it, as a window opened
 * now would. */
static void
pick_up_chat (CxWebChatService *self)
{
  g_auto (CookieSession) session = { 0 };

  if (self->state != STATE_IDLE || self->disposed)
    return;

  if (read_cookie_session (self, &session) && cookie_session_is_fresh (self, &session))
    begin_restore (self, &session);
}

static gboolean
cookie_check_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->cookie_check_id = 0;
  if (self->state == STATE_IDLE)
    pick_up_chat (self);
  else
    evaluate_start (self);
  return G_SOURCE_REMOVE;
}

static void
jar_changed_cb (SoupCookieJar *jar, SoupCookie *old_cookie, SoupCookie *new_cookie,
                gpointer user_data)
{
  CxWebChatService *self = user_data;
  SoupCookie *cookie = new_cookie != NULL ? new_cookie : old_cookie;

  if (cookie == NULL || !g_str_has_prefix (soup_cookie_get_name (cookie), CX_WEBCHAT_COOKIE_PREFIX))
    return;

  /* Idle, only a session cookie being set (a chat starting in another window) matters; its
   * domain is checked when the cookies are read for this site. */
  if (self->state == STATE_IDLE)
    {
      if (new_cookie != NULL && g_str_equal (soup_cookie_get_name (new_cookie), COOKIE_SESSION) &&
          self->cookie_check_id == 0)
        self->cookie_check_id = g_idle_add (cookie_check_cb, self);
      return;
    }

  if (self->state != STATE_STARTING || self->start_in_flight)
    return;

  /* Not from inside the jar's signal: once the other window has written all its cookies. */
  if (self->cookie_check_id == 0)
    self->cookie_check_id = g_idle_add (cookie_check_cb, self);
}

static void
start_chat_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;

  if (self->state == STATE_ACTIVE)
    {
      /* One chat at a time: this is it. */
      result = chat_id_node (self->chat_id);
      cx_command_resolve (command, result);
      return;
    }

  /* Checked at once, even when another start is under way, so a bad call fails now. */
  form = start_form_from_data (cx_command_get_data (command), &error);
  if (form == NULL)
    {
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  g_ptr_array_add (self->start_waiters, g_object_ref (command));
  if (self->start_form == NULL)
    self->start_form = g_steal_pointer (&form);

  /* A start or a restore under way answers this call too (one request for both). */
  if (self->state != STATE_IDLE)
    return;

  self->state = STATE_STARTING;
  evaluate_start (self);
}

static void
restore_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_auto (CookieSession) session = { 0 };
  g_autoptr (JsonNode) result = NULL;

  switch (self->state)
    {
      case STATE_ACTIVE:
        result = chat_id_node (self->chat_id);
        cx_command_resolve (command, result);
        return;

      case STATE_STARTING:
      case STATE_RESTORING:
        g_ptr_array_add (self->restore_waiters, g_object_ref (command));
        return;

      case STATE_IDLE:
      default:
        break;
    }

  if (!read_cookie_session (self, &session))
    {
      cx_command_reject_message (command, _ ("There is no chat to restore"));
      return;
    }

  if (!cookie_session_is_fresh (self, &session))
    {
      g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);

      delete_session_cookies (self);
      json_node_take_object (data, json_object_new ());
      publish (self, "restoreTimeout", data);
      cx_command_reject_message (command, _ ("The chat was left too long ago to restore"));
      return;
    }

  g_ptr_array_add (self->restore_waiters, g_object_ref (command));
  begin_restore (self, &session);
}

/* Commands */

static void
get_session_data_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonObject *object;
  g_autoptr (JsonNode) result = NULL;

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Never the secure key: it is the chat's password, and data on the bus is widely seen. */
  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id);
  json_object_set_string_member (object, "userId", self->user_id);
  json_object_set_string_member (object, "alias", self->alias);
  result = cx_json_node_new_object (object);
  cx_command_resolve (command, result);
}

static void
get_transcript_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) result = NULL;

  json_object_set_array_member (object, "messages", messages_to_array (self->transcript, 0));
  result = cx_json_node_new_object (object);
  cx_command_resolve (command, result);
}

typedef struct
{
  const char *name;
  CxCommandFunc func;
} CommandSpec;

static const CommandSpec command_specs[] = {
  { "startChat", start_chat_cb },
  { "restore", restore_cb },
  { "sendMessage", send_message_cb },
  { "sendTyping", send_typing_cb },
  { "endChat", end_chat_cb },
  { "getFileLimits", get_file_limits_cb },
  { "sendFile", send_file_cb },
  { "savePanelState", save_panel_state_cb },
  { "getSessionData", get_session_data_cb },
  { "getTranscript", get_transcript_cb },
  { "poll", poll_command_cb },
  { "startPoll", start_poll_cb },
  { "stopPoll", stop_poll_cb },
};

/* Object */

static void
cx_webchat_service_dispose (GObject *object)
{
  CxWebChatService *self = CX_WEBCHAT_SERVICE (object);
  g_autoptr (GError) error = NULL;
  Outgoing *outgoing;

  self->disposed = TRUE;

  /* The chat goes on without this window: nothing is sent, no cookie is touched. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);

  g_clear_handle_id (&self->lock_refresh_id, g_source_remove);
  g_clear_handle_id (&self->lock_wait_id, g_source_remove);
  g_clear_handle_id (&self->cookie_check_id, g_source_remove);
  g_clear_handle_id (&self->restore_timeout_idle_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  close_socket (self);

  if (self->jar_changed_id != 0 && self->http != NULL)
    g_signal_handler_disconnect (cx_http_get_cookie_jar (self->http), self->jar_changed_id);
  self->jar_changed_id = 0;

  if (self->plugin != NULL)
    {
      CxBus *bus = cx_plugin_get_bus (self->plugin);

      /* No command reaches the service after this. */
      if (bus != NULL)
        cx_bus_unregister_plugin (bus, self->plugin);
    }

  /* What still waits is answered now: the window is gone. */
  error =
      g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN, _ ("The chat window was closed"));
  reject_all (self->start_waiters, error);
  reject_all (self->restore_waiters, error);
  reject_all (self->poll_waiters, error);
  reject_all (self->end_waiters, error);
  while ((outgoing = g_queue_pop_head (&self->outbox)) != NULL)
    {
      cx_command_reject (outgoing->command, g_error_copy (error));
      outgoing_free (outgoing);
    }

  g_clear_object (&self->plugin);
  g_clear_object (&self->bus);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_webchat_service_parent_class)->dispose (object);
}

static void
cx_webchat_service_finalize (GObject *object)
{
  CxWebChatService *self = CX_WEBCHAT_SERVICE (object);

  g_clear_pointer (&self->start_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->restore_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->poll_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->end_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->transcript, g_ptr_array_unref);
  g_clear_pointer (&self->start_form, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_free (self->site_url);
  g_free (self->data_url);
  g_free (self->push_url_base);
  g_free (self->chat_id);
  g_free (self->user_id);
  g_free (self->secure_key);
  g_free (self->alias);

  G_OBJECT_CLASS (cx_webchat_service_parent_class)->finalize (object);
}

static void
cx_webchat_service_class_init (CxWebChatServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_webchat_service_dispose;
  object_class->finalize = cx_webchat_service_finalize;
}

static void
cx_webchat_service_init (CxWebChatService *self)
{
  self->cancellable = g_cancellable_new ();
  self->transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  self->start_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->restore_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->poll_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->end_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->next_position = 1;
  self->polling_enabled = TRUE;
  g_queue_init (&self->outbox);
}

/**
 * cx_webchat_service_new:
 * @bus: the window's bus
 * @http: the application's #CxHttp
 * @site_url: the address of the site the window shows (its cookies hold the chat's state)
 * @config: (nullable): the `webchat` object of a `_genesys.widgets` configuration: dataURL
 *   (required), pollRate, pollExceptionLimit, restoreTimeout, ajaxTimeout (ms), transport
 *   ("auto" or "poll")
 * @error: return location for a #GError
 *
 * Registers the "WebChatService" plugin on @bus and makes it ready. If the site's cookies name
 * a chat pinged within restoreTimeout, the chat is restored ("restored" follows).
 *
 * Returns: (transfer full): the service, or %NULL with @error set (bad configuration or site
 *   address, or the name is taken on @bus)
 */
CxWebChatService *
cx_webchat_service_new (CxBus *bus, CxHttp *http, const char *site_url, JsonObject *config,
                        GError **error)
{
  g_autoptr (CxWebChatService) self = NULL;
  g_autofree char *domain = NULL;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (CX_IS_HTTP (http), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CX_TYPE_WEBCHAT_SERVICE, NULL);
  self->http = g_object_ref (http);
  self->site_url = g_strdup (site_url);

  domain = cx_http_get_cookie_domain (http, site_url, error);
  if (domain == NULL || !parse_config (self, config, error))
    return NULL;

  plugin = cx_bus_register_plugin (bus, CX_WEBCHAT_SERVICE_NAME, error);
  if (plugin == NULL)
    return NULL;
  self->bus = g_object_ref (bus);
  self->plugin = g_object_ref (plugin);

  if (!cx_plugin_register_events (plugin, event_names, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (command_specs); i++)
    if (!cx_plugin_register_command (plugin, command_specs[i].name, command_specs[i].func, self,
                                     NULL, error))
      return NULL;

  /* Another window may start a chat while this one waits to start one. */
  self->jar_changed_id = g_signal_connect (cx_http_get_cookie_jar (http), "changed",
                                           G_CALLBACK (jar_changed_cb), self);

  cx_plugin_ready (plugin);
  restore_from_cookies (self);

  return g_steal_pointer (&self);
}

CxPlugin *
cx_webchat_service_get_plugin (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->plugin;
}

const char *
cx_webchat_service_get_site_url (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->site_url;
}

/**
 * cx_webchat_service_get_chat_id:
 *
 * Returns: (nullable): the id of the chat this service is in, or %NULL
 */
const char *
cx_webchat_service_get_chat_id (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), NULL);

  return self->state == STATE_ACTIVE ? self->chat_id : NULL;
}

/**
 * cx_webchat_service_get_uses_push:
 *
 * Returns: whether the chat's messages come over the push socket (%FALSE: polling)
 */
gboolean
cx_webchat_service_get_uses_push (CxWebChatService *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT_SERVICE (self), FALSE);

  return self->push_state == PUSH_ACTIVE;
}
