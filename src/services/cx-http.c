/* cx-http.c: the application's one HTTP client.
 *
 * One SoupSession and one in-memory cookie jar per application, shared by every window and
 * service, the way a browser's tabs share one network stack and cookie store. Every request
 * has a timeout and a cap on the size of the reply, and every failure becomes a CxHttpError
 * whose message a person can read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-http"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>

#include "services/cx-http.h"

#define DEFAULT_USER_AGENT "cxdesk/" PACKAGE_VERSION
#define DEFAULT_TIMEOUT_MS 15000
#define DEFAULT_MAX_RESPONSE_SIZE (8 * 1024 * 1024)
/* The body is kept in a GByteArray (guint length): stay well below that. */
#define MAX_MAX_RESPONSE_SIZE ((gsize) G_MAXINT32)
#define READ_CHUNK_SIZE (64 * 1024)
/* Long polls and WebSockets to one host, as many as a browser allows. */
#define MAX_CONNS_PER_HOST 6
/* A server's explanation goes into an error message: keep it short. */
#define MAX_EXPLANATION_CHARS 300

struct _CxHttp
{
  GObject parent_instance;

  SoupSession *session;
  SoupCookieJar *cookie_jar;
  char *user_agent;
  char *cookie_domain_override;
  guint timeout_ms;
  gsize max_response_size;
};

G_DEFINE_FINAL_TYPE (CxHttp, cx_http, G_TYPE_OBJECT)

GQuark
cx_http_error_quark (void)
{
  return g_quark_from_static_string ("cx-http-error-quark");
}

enum
{
  PROP_0,
  PROP_USER_AGENT,
  PROP_TIMEOUT,
  PROP_MAX_RESPONSE_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Request guard: the per-request cancellable, cancelled by the caller's cancellable or by the
 * timeout, so that libsoup only ever sees one cancellable and we know which one fired. */

typedef struct
{
  GCancellable *cancellable;
  GCancellable *caller_cancellable;
  gulong caller_handler_id;
  GSource *timeout_source;
  guint timeout_ms;
  gboolean timed_out;
} RequestGuard;

static void
caller_cancelled_cb (GCancellable *caller_cancellable, gpointer user_data)
{
  GCancellable *cancellable = user_data;

  g_cancellable_cancel (cancellable);
}

static gboolean
request_timeout_cb (gpointer user_data)
{
  RequestGuard *guard = user_data;

  /* Cancelling may complete the request (and free the guard) before it returns, so the flag
   * is set first and the guard is not touched afterwards. */
  if (!g_cancellable_is_cancelled (guard->cancellable))
    {
      guard->timed_out = TRUE;
      g_cancellable_cancel (guard->cancellable);
    }

  return G_SOURCE_REMOVE;
}

static void
request_guard_start (RequestGuard *guard, GCancellable *caller_cancellable, guint timeout_ms)
{
  guard->cancellable = g_cancellable_new ();
  guard->timeout_ms = timeout_ms;

  if (caller_cancellable != NULL)
    {
      guard->caller_cancellable = g_object_ref (caller_cancellable);
      /* Runs at once (and returns 0) if the caller's cancellable is already cancelled. */
      guard->caller_handler_id =
          g_cancellable_connect (caller_cancellable, G_CALLBACK (caller_cancelled_cb),
                                 g_object_ref (guard->cancellable), g_object_unref);
    }

  guard->timeout_source = g_timeout_source_new (timeout_ms);
  g_source_set_name (guard->timeout_source, "[cx-http] request timeout");
  g_source_set_callback (guard->timeout_source, request_timeout_cb, guard, NULL);
  g_source_attach (guard->timeout_source, g_main_context_get_thread_default ());
}

/* Safe to call more than once. */
static void
request_guard_stop (RequestGuard *guard)
{
  if (guard->timeout_source != NULL)
    {
      g_source_destroy (guard->timeout_source);
      g_clear_pointer (&guard->timeout_source, g_source_unref);
    }

  if (guard->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (guard->caller_cancellable, guard->caller_handler_id);
      guard->caller_handler_id = 0;
      g_clear_object (&guard->caller_cancellable);
    }
}

static void
request_guard_clear (RequestGuard *guard)
{
  request_guard_stop (guard);
  g_clear_object (&guard->cancellable);
}

/* Helpers for messages */

static char *
describe_uri (GUri *uri)
{
  /* Credentials and query strings may hold secrets: a message shown to people has neither. */
  return g_uri_to_string_partial (uri,
                                  G_URI_HIDE_USERINFO | G_URI_HIDE_QUERY | G_URI_HIDE_FRAGMENT);
}

static char *
format_size (guint64 size)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, size);
}

static char *
format_seconds (guint timeout_ms)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%g", timeout_ms / 1000.0));
}

/* Text from the network, made fit for an error message: valid UTF-8, one line, short. */
static char *
sanitize_network_text (const char *text)
{
  g_autofree char *valid = NULL;
  g_autofree char *stripped = NULL;
  GString *out;
  glong length;

  if (text == NULL)
    return NULL;

  valid = g_utf8_make_valid (text, -1);
  stripped = g_strstrip (g_strdup (valid));
  if (stripped[0] == '\0')
    return NULL;

  out = g_string_new (NULL);
  for (const char *p = stripped; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }

  length = g_utf8_strlen (out->str, -1);
  if (length > MAX_EXPLANATION_CHARS)
    {
      g_autofree char *shortened = g_utf8_substring (out->str, 0, MAX_EXPLANATION_CHARS);

      g_string_assign (out, shortened);
      g_string_append (out, "…");
    }

  return g_string_free (out, FALSE);
}

static const char *
json_object_get_string_or_null (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* The server's own explanation of an error: GMS puts it in errors[0].advice, many others in a
 * top-level "message", cxdesk-server's /cx/1 API in "error". */
static char *
find_explanation (GBytes *body)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *object;
  JsonNode *errors;
  const char *text = NULL;
  gsize size = 0;
  const char *data;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &size);
  if (size == 0)
    return NULL;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) size, NULL))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  object = json_node_get_object (root);
  errors = json_object_get_member (object, "errors");
  if (errors != NULL && JSON_NODE_HOLDS_ARRAY (errors) &&
      json_array_get_length (json_node_get_array (errors)) > 0)
    {
      JsonNode *first = json_array_get_element (json_node_get_array (errors), 0);

      if (JSON_NODE_HOLDS_OBJECT (first))
        text = json_object_get_string_or_null (json_node_get_object (first), "advice");
    }

  if (text == NULL)
    text = json_object_get_string_or_null (object, "message");
  if (text == NULL)
    text = json_object_get_string_or_null (object, "error");

  return sanitize_network_text (text);
}

static GError *
new_status_error (SoupMessage *msg, const char *uri, GBytes *body)
{
  guint status = soup_message_get_status (msg);
  g_autofree char *reason = sanitize_network_text (soup_message_get_reason_phrase (msg));
  g_autofree char *explanation = find_explanation (body);

  if (reason == NULL)
    reason = g_strdup (soup_status_get_phrase (status));

  if (explanation != NULL)
    return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS, _ ("Server answered %u %s for %s: %s"),
                        status, reason, uri, explanation);

  return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS, _ ("Server answered %u %s for %s"),
                      status, reason, uri);
}

/* Turns a failure of libsoup or of the stream into a CxHttpError; a cancellation by the caller
 * stays G_IO_ERROR_CANCELLED. */
static GError *
map_transport_error (RequestGuard *guard, const char *uri, gboolean connected, GError *error)
{
  g_autoptr (GError) owned = error;
  const char *reason = error->message;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Set only if the timer cancelled first: a caller's cancellation stays one. */
      if (guard->timed_out)
        {
          g_autofree char *seconds = format_seconds (guard->timeout_ms);

          if (connected)
            return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT,
                                _ ("The reply from %s did not end within %s seconds"), uri,
                                seconds);

          return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT,
                              _ ("No reply from %s within %s seconds"), uri, seconds);
        }

      return g_steal_pointer (&owned);
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT, _ ("No reply from %s: %s"), uri,
                        error->message);

  /* GIO says "Could not connect to HOST: Connection refused", and the URI already names the
   * host. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    reason = g_strerror (ECONNREFUSED);

  if (connected)
    return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK, _ ("Lost the connection to %s: %s"),
                        uri, reason);

  return g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK, _ ("Could not reach %s: %s"), uri,
                      reason);
}

static GUri *
parse_uri (const char *uri, gboolean websocket, GError **error)
{
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *scheme;
  const char *host;

  parsed = g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, &local_error);
  if (parsed == NULL)
    {
      g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                   _ ("“%s” is not an address: %s"), uri, local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (parsed);
  if (websocket && g_ascii_strcasecmp (scheme, "ws") != 0 &&
      g_ascii_strcasecmp (scheme, "wss") != 0)
    {
      g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                   _ ("“%s” is not a ws:// or wss:// address"), uri);
      return NULL;
    }

  if (!websocket && g_ascii_strcasecmp (scheme, "http") != 0 &&
      g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI,
                   _ ("“%s” is not an http:// or https:// address"), uri);
      return NULL;
    }

  host = g_uri_get_host (parsed);
  if (host == NULL || host[0] == '\0')
    {
      g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI, _ ("“%s” has no host name"),
                   uri);
      return NULL;
    }

  return g_steal_pointer (&parsed);
}

/* Sending and reading with a cap */

typedef struct
{
  RequestGuard guard;
  SoupMessage *msg;
  char *uri;
  GInputStream *stream;
  GByteArray *body;
  gsize max_size;
  GError *error; /* the outcome, kept while the stream closes */
} SendData;

static void
send_data_free (gpointer user_data)
{
  SendData *data = user_data;

  request_guard_clear (&data->guard);
  g_clear_object (&data->msg);
  g_clear_object (&data->stream);
  g_clear_pointer (&data->body, g_byte_array_unref);
  g_clear_error (&data->error);
  g_free (data->uri);
  g_free (data);
}

static void
send_return (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) body = NULL;

  request_guard_stop (&data->guard);

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  body = g_byte_array_free_to_bytes (g_steal_pointer (&data->body));

  if (soup_message_get_status (data->msg) >= 400)
    {
      g_task_return_error (task, new_status_error (data->msg, data->uri, body));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&body), (GDestroyNotify) g_bytes_unref);
}

static void
stream_close_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  /* The body is already complete, or the request has already failed: a failure to close
   * changes nothing the caller could act on. */
  if (!g_input_stream_close_finish (G_INPUT_STREAM (object), result, &error))
    g_debug ("Closing the reply stream failed: %s", error->message);

  send_return (task);
}

/* Ends the request with error (or with the body if error is NULL) once the stream is closed. */
static void
send_complete (GTask *task, GError *error)
{
  SendData *data = g_task_get_task_data (task);

  data->error = error;

  if (data->stream == NULL)
    {
      send_return (task);
      return;
    }

  /* Closing a stream that still has unread body would read it all first: drop the
   * connection instead. */
  if (error != NULL)
    g_cancellable_cancel (data->guard.cancellable);

  g_input_stream_close_async (data->stream, G_PRIORITY_DEFAULT, data->guard.cancellable,
                              stream_close_cb, g_object_ref (task));
}

static void
send_fail_too_large (GTask *task, guint64 known_size)
{
  SendData *data = g_task_get_task_data (task);
  g_autofree char *limit = format_size (data->max_size);

  /* An error page that is too large is still an error page: say what the status was. */
  if (soup_message_get_status (data->msg) >= 400)
    {
      send_complete (task, new_status_error (data->msg, data->uri, NULL));
      return;
    }

  if (known_size > 0)
    {
      g_autofree char *size = format_size (known_size);

      send_complete (task, g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_TOO_LARGE,
                                        _ ("The reply from %s is %s bytes, over the %s-byte limit"),
                                        data->uri, size, limit));
      return;
    }

  send_complete (task,
                 g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_TOO_LARGE,
                              _ ("The reply from %s is over the %s-byte limit"), data->uri, limit));
}

static void read_next_chunk (GTask *task);

static void
read_bytes_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize size;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL)
    {
      send_complete (task,
                     map_transport_error (&data->guard, data->uri, TRUE, g_steal_pointer (&error)));
      return;
    }

  size = g_bytes_get_size (bytes);
  if (size == 0)
    {
      send_complete (task, NULL);
      return;
    }

  g_byte_array_append (data->body, g_bytes_get_data (bytes, NULL), (guint) size);
  if (data->body->len > data->max_size)
    {
      send_fail_too_large (task, 0);
      return;
    }

  read_next_chunk (task);
}

static void
read_next_chunk (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  /* One byte over the cap is enough to know the reply is too large. */
  gsize count = MIN (READ_CHUNK_SIZE, data->max_size - data->body->len + 1);

  g_input_stream_read_bytes_async (data->stream, count, G_PRIORITY_DEFAULT, data->guard.cancellable,
                                   read_bytes_cb, g_object_ref (task));
}

static void
session_send_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers;

  data->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (data->stream == NULL)
    {
      send_complete (
          task, map_transport_error (&data->guard, data->uri, FALSE, g_steal_pointer (&error)));
      return;
    }

  headers = soup_message_get_response_headers (data->msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    {
      goffset length = soup_message_headers_get_content_length (headers);

      if (length > 0 && (guint64) length > data->max_size)
        {
          send_fail_too_large (task, (guint64) length);
          return;
        }
    }

  data->body = g_byte_array_new ();
  read_next_chunk (task);
}

/**
 * cx_http_send_async:
 * @self: a #CxHttp
 * @msg: the message to send
 * @timeout_ms: the timeout for this request in milliseconds, 0 for #CxHttp:timeout
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the whole reply has been read, or the request failed
 * @user_data: data for @callback
 *
 * Sends @msg and reads its reply, up to #CxHttp:max-response-size bytes.
 */
void
cx_http_send_async (CxHttp *self, SoupMessage *msg, guint timeout_ms, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  SendData *data;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (SOUP_IS_MESSAGE (msg));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cx_http_send_async);

  data = g_new0 (SendData, 1);
  data->msg = g_object_ref (msg);
  data->uri = describe_uri (soup_message_get_uri (msg));
  data->max_size = self->max_response_size;
  g_task_set_task_data (task, data, send_data_free);

  request_guard_start (&data->guard, cancellable, timeout_ms > 0 ? timeout_ms : self->timeout_ms);

  soup_session_send_async (self->session, msg, G_PRIORITY_DEFAULT, data->guard.cancellable,
                           session_send_cb, g_steal_pointer (&task));
}

/**
 * cx_http_send_finish:
 * @self: a #CxHttp
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the body of the reply, or %NULL with @error set; an HTTP status of
 *   400 or more is an error (%CX_HTTP_ERROR_STATUS).
 */
GBytes *
cx_http_send_finish (CxHttp *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == cx_http_send_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* JSON requests */

static JsonNode *
parse_json_reply (SoupMessage *msg, const char *uri, GBytes *body, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) parse_error = NULL;
  const char *content_type;
  const char *data;
  gsize size = 0;

  data = g_bytes_get_data (body, &size);
  parser = json_parser_new ();

  if (size > 0 && !json_parser_load_from_data (parser, data, (gssize) size, &parse_error))
    {
      /* The parser quotes the offending token, which can be the whole reply. */
      g_autofree char *reason = sanitize_network_text (parse_error->message);

      content_type =
          soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);

      /* Say what came instead when the server told us: an HTML page is a common surprise. */
      if (content_type != NULL && !g_str_has_suffix (content_type, "json"))
        {
          g_autofree char *type = sanitize_network_text (content_type);

          g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON,
                       _ ("The reply from %s is %s, not JSON: %s"), uri, type, reason);
        }
      else
        {
          g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON,
                       _ ("The reply from %s is not JSON: %s"), uri, reason);
        }

      return NULL;
    }

  if (size == 0 || json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON,
                   _ ("The reply from %s is empty, not JSON"), uri);
      return NULL;
    }

  return json_parser_steal_root (parser);
}

static void
json_send_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *uri = NULL;
  JsonNode *node;

  body = cx_http_send_finish (CX_HTTP (object), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  uri = describe_uri (soup_message_get_uri (msg));
  node = parse_json_reply (msg, uri, body, &error);
  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

/* Starts a JSON request: msg is NULL when building it failed with error. */
static void
json_request_start (CxHttp *self, SoupMessage *msg, GError *error, gpointer source_tag,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  if (msg == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_set_task_data (task, g_object_ref (msg), g_object_unref);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json");

  cx_http_send_async (self, msg, 0, cancellable, json_send_cb, g_steal_pointer (&task));
}

/**
 * cx_http_get_json_async:
 * @self: a #CxHttp
 * @uri: an http:// or https:// address
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the reply
 * @user_data: data for @callback
 *
 * GETs @uri, expecting a JSON document. Finish with cx_http_json_finish().
 */
void
cx_http_get_json_async (CxHttp *self, const char *uri, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GUri) parsed = NULL;
  GError *error = NULL;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (uri != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  parsed = parse_uri (uri, FALSE, &error);
  if (parsed != NULL)
    msg = soup_message_new_from_uri (SOUP_METHOD_GET, parsed);

  json_request_start (self, msg, error, cx_http_get_json_async, cancellable, callback, user_data);
}

/**
 * cx_http_post_form_async:
 * @self: a #CxHttp
 * @uri: an http:// or https:// address
 * @form: (nullable) (element-type utf8 utf8): the fields to post
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the reply
 * @user_data: data for @callback
 *
 * POSTs @form as application/x-www-form-urlencoded, expecting a JSON document. Finish with
 * cx_http_json_finish().
 */
void
cx_http_post_form_async (CxHttp *self, const char *uri, GHashTable *form, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GUri) parsed = NULL;
  GError *error = NULL;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (uri != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  parsed = parse_uri (uri, FALSE, &error);
  if (parsed != NULL)
    {
      g_autoptr (GBytes) body = NULL;
      char *encoded;

      encoded = form != NULL ? soup_form_encode_hash (form) : g_strdup ("");
      body = g_bytes_new_take (encoded, strlen (encoded));
      msg = soup_message_new_from_uri (SOUP_METHOD_POST, parsed);
      soup_message_set_request_body_from_bytes (msg, SOUP_FORM_MIME_TYPE_URLENCODED, body);
    }

  json_request_start (self, msg, error, cx_http_post_form_async, cancellable, callback, user_data);
}

/**
 * cx_http_post_json_async:
 * @self: a #CxHttp
 * @uri: an http:// or https:// address
 * @body: the document to post
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the reply
 * @user_data: data for @callback
 *
 * POSTs @body as application/json, expecting a JSON document. Finish with
 * cx_http_json_finish().
 */
void
cx_http_post_json_async (CxHttp *self, const char *uri, JsonNode *body, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GUri) parsed = NULL;
  GError *error = NULL;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (uri != NULL);
  g_return_if_fail (body != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  parsed = parse_uri (uri, FALSE, &error);
  if (parsed != NULL)
    {
      g_autoptr (GBytes) bytes = NULL;
      char *text;

      text = json_to_string (body, FALSE);
      bytes = g_bytes_new_take (text, strlen (text));
      msg = soup_message_new_from_uri (SOUP_METHOD_POST, parsed);
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  json_request_start (self, msg, error, cx_http_post_json_async, cancellable, callback, user_data);
}

/**
 * cx_http_json_finish:
 * @self: a #CxHttp
 * @result: the result passed to the callback
 * @status_code: (out) (optional): the HTTP status of the reply, 0 if there was none
 * @error: return location for a #GError
 *
 * Finishes cx_http_get_json_async(), cx_http_post_form_async() or cx_http_post_json_async().
 *
 * Returns: (transfer full): the reply, or %NULL with @error set
 */
JsonNode *
cx_http_json_finish (CxHttp *self, GAsyncResult *result, guint *status_code, GError **error)
{
  gpointer tag;
  SoupMessage *msg;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  tag = g_task_get_source_tag (G_TASK (result));
  g_return_val_if_fail (tag == cx_http_get_json_async || tag == cx_http_post_form_async ||
                            tag == cx_http_post_json_async,
                        NULL);

  msg = g_task_get_task_data (G_TASK (result));
  if (status_code != NULL)
    *status_code = msg != NULL ? soup_message_get_status (msg) : 0;

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* WebSockets */

typedef struct
{
  RequestGuard guard;
  SoupMessage *msg;
  char *uri;
} WebsocketData;

static void
websocket_data_free (gpointer user_data)
{
  WebsocketData *data = user_data;

  request_guard_clear (&data->guard);
  g_clear_object (&data->msg);
  g_free (data->uri);
  g_free (data);
}

static void
websocket_connect_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  WebsocketData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *connection;

  connection = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  request_guard_stop (&data->guard);

  if (connection != NULL)
    {
      g_task_return_pointer (task, connection, g_object_unref);
      return;
    }

  if (error->domain == SOUP_WEBSOCKET_ERROR)
    {
      if (soup_message_get_status (data->msg) >= 400)
        {
          g_task_return_error (task, new_status_error (data->msg, data->uri, NULL));
          return;
        }

      g_task_return_new_error (task, CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK,
                               _ ("Could not open a WebSocket to %s: %s"), data->uri,
                               error->message);
      return;
    }

  g_task_return_error (
      task, map_transport_error (&data->guard, data->uri, FALSE, g_steal_pointer (&error)));
}

/**
 * cx_http_websocket_connect_async:
 * @self: a #CxHttp
 * @uri: a ws:// or wss:// address
 * @origin: (nullable): the Origin header to send
 * @protocols: (nullable) (array zero-terminated=1): the subprotocols to offer
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the connection is open, or failed
 * @user_data: data for @callback
 *
 * Opens a WebSocket, with the same timeout and errors as the other requests.
 */
void
cx_http_websocket_connect_async (CxHttp *self, const char *uri, const char *origin,
                                 const char *const *protocols, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GUri) parsed = NULL;
  g_autoptr (GUri) http_uri = NULL;
  GError *error = NULL;
  WebsocketData *data;
  const char *http_scheme;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (uri != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cx_http_websocket_connect_async);

  parsed = parse_uri (uri, TRUE, &error);
  if (parsed == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* The handshake is an HTTP request: with an http(s) address the jar's cookies go with it. */
  http_scheme = g_ascii_strcasecmp (g_uri_get_scheme (parsed), "wss") == 0 ? "https" : "http";
  http_uri = soup_uri_copy (parsed, SOUP_URI_SCHEME, http_scheme, SOUP_URI_NONE);

  data = g_new0 (WebsocketData, 1);
  data->msg = soup_message_new_from_uri (SOUP_METHOD_GET, http_uri);
  data->uri = describe_uri (parsed);
  g_task_set_task_data (task, data, websocket_data_free);

  request_guard_start (&data->guard, cancellable, self->timeout_ms);

  soup_session_websocket_connect_async (self->session, data->msg, origin, (char **) protocols,
                                        G_PRIORITY_DEFAULT, data->guard.cancellable,
                                        websocket_connect_cb, g_steal_pointer (&task));
}

/**
 * cx_http_websocket_connect_finish:
 * @self: a #CxHttp
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the open connection, or %NULL with @error set
 */
SoupWebsocketConnection *
cx_http_websocket_connect_finish (CxHttp *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == cx_http_websocket_connect_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Site cookies */

/* A cookie name is an RFC 6265 token. */
static gboolean
cookie_name_is_valid (const char *name)
{
  if (name == NULL || name[0] == '\0')
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_isgraph (*p) || strchr ("()<>@,;:\\\"/[]?={}", *p) != NULL)
        return FALSE;
    }

  return TRUE;
}

static GUri *
parse_site_url (const char *site_url, GError **error)
{
  return parse_uri (site_url, FALSE, error);
}

static char *
normalize_domain (const char *domain)
{
  g_autofree char *lower = NULL;
  gsize length;

  while (*domain == '.')
    domain++;

  lower = g_ascii_strdown (domain, -1);
  length = strlen (lower);
  while (length > 0 && lower[length - 1] == '.')
    lower[--length] = '\0';

  if (length == 0)
    return NULL;

  return g_steal_pointer (&lower);
}

/* Domain-matching of RFC 6265 §5.1.3: what a browser checks before it accepts Domain=. */
static gboolean
host_domain_matches (const char *host, const char *domain)
{
  gsize host_length = strlen (host);
  gsize domain_length = strlen (domain);

  if (g_str_equal (host, domain))
    return TRUE;

  if (g_hostname_is_ip_address (host) || host_length <= domain_length)
    return FALSE;

  return g_str_has_suffix (host, domain) && host[host_length - domain_length - 1] == '.';
}

static char *
cookie_domain_for_host (CxHttp *self, const char *host)
{
  g_autoptr (GError) error = NULL;
  const char *base;

  if (self->cookie_domain_override != NULL)
    {
      const char *domain = self->cookie_domain_override;

      if (!host_domain_matches (host, domain))
        g_debug ("Not using the cookie domain “%s” for %s: the host is not in that domain", domain,
                 host);
      else if (g_hostname_is_ip_address (domain))
        return g_strdup (host);
      else if (soup_tld_domain_is_public_suffix (domain))
        g_debug ("Not using the cookie domain “%s” for %s: it is a public suffix", domain, host);
      else
        return g_strconcat (".", domain, NULL);
    }

  base = soup_tld_get_base_domain (host, &error);
  if (base != NULL)
    return g_strconcat (".", base, NULL);

  /* An IP address, "localhost", a host that is itself a public suffix...: a browser keeps
   * such cookies for the host alone. */
  if (!g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_IS_IP_ADDRESS) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_NOT_ENOUGH_DOMAINS) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_NO_BASE_DOMAIN) &&
      !g_error_matches (error, SOUP_TLD_ERROR, SOUP_TLD_ERROR_INVALID_HOSTNAME))
    g_debug ("No registrable domain for %s: %s", host, error->message);

  return g_strdup (host);
}

static char *
site_host (GUri *uri)
{
  g_autofree char *host = normalize_domain (g_uri_get_host (uri));

  return host != NULL ? g_steal_pointer (&host) : g_strdup (g_uri_get_host (uri));
}

/**
 * cx_http_get_cookie_domain:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the domain of the site's cookies: ".example.com" for
 *   https://www.example.com/, the host itself where there is no registrable domain, or the
 *   override if the host is in it. %NULL with @error set if @site_url is not a site's address.
 */
char *
cx_http_get_cookie_domain (CxHttp *self, const char *site_url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);

  uri = parse_site_url (site_url, error);
  if (uri == NULL)
    return NULL;

  host = site_host (uri);
  return cookie_domain_for_host (self, host);
}

/**
 * cx_http_set_cookie_domain_override:
 * @self: a #CxHttp
 * @domain: (nullable): the domain for site cookies, or %NULL for the computed one
 *
 * Like the Widgets' main.cookieOptions.domain. Used only for sites whose host is in @domain,
 * as a browser refuses a cookie for an unrelated domain.
 */
void
cx_http_set_cookie_domain_override (CxHttp *self, const char *domain)
{
  g_return_if_fail (CX_IS_HTTP (self));

  g_clear_pointer (&self->cookie_domain_override, g_free);
  if (domain != NULL)
    self->cookie_domain_override = normalize_domain (domain);
}

/**
 * cx_http_set_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name (an RFC 6265 token)
 * @value: any UTF-8 text
 * @error: return location for a #GError
 *
 * Sets a session cookie on the site's cookie domain, path "/", replacing one of the same name.
 *
 * Returns: %TRUE, or %FALSE with @error set if @site_url is not a site's address
 */
gboolean
cx_http_set_site_cookie (CxHttp *self, const char *site_url, const char *name, const char *value,
                         GError **error)
{
  g_autofree char *domain = NULL;
  g_autofree char *escaped = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), FALSE);
  g_return_val_if_fail (site_url != NULL, FALSE);
  g_return_val_if_fail (cookie_name_is_valid (name), FALSE);
  g_return_val_if_fail (value != NULL && g_utf8_validate (value, -1, NULL), FALSE);

  domain = cx_http_get_cookie_domain (self, site_url, error);
  if (domain == NULL)
    return FALSE;

  /* Cookie values cannot hold ; , spaces, quotes or non-ASCII: escape everything else. */
  escaped = g_uri_escape_string (value, NULL, FALSE);

  /* A max-age of -1 makes a session cookie: it dies with the process, as in a browser. The jar
   * replaces a cookie with the same name, domain and path. */
  soup_cookie_jar_add_cookie (self->cookie_jar, soup_cookie_new (name, escaped, domain, "/", -1));

  return TRUE;
}

static GSList *
cookies_for_site (CxHttp *self, const char *site_url, char **domain)
{
  g_autoptr (GUri) uri = NULL;
  g_autofree char *host = NULL;

  uri = parse_site_url (site_url, NULL);
  if (uri == NULL)
    return NULL;

  if (domain != NULL)
    {
      host = site_host (uri);
      *domain = cookie_domain_for_host (self, host);
    }

  return soup_cookie_jar_get_cookie_list (self->cookie_jar, uri, TRUE);
}

/**
 * cx_http_get_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name
 *
 * Reads a cookie the site can see: one on its cookie domain first, else any other (one set by
 * a server for its host, for example).
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if there is none
 */
char *
cx_http_get_site_cookie (CxHttp *self, const char *site_url, const char *name)
{
  g_autofree char *domain = NULL;
  GSList *cookies;
  SoupCookie *found = NULL;
  char *value = NULL;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  cookies = cookies_for_site (self, site_url, &domain);
  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      SoupCookie *cookie = l->data;

      if (!g_str_equal (soup_cookie_get_name (cookie), name))
        continue;

      if (g_ascii_strcasecmp (soup_cookie_get_domain (cookie), domain) == 0)
        {
          found = cookie;
          break;
        }

      if (found == NULL)
        found = cookie;
    }

  if (found != NULL)
    {
      const char *raw = soup_cookie_get_value (found);
      g_autofree char *unescaped = g_uri_unescape_string (raw, NULL);

      /* A server's cookie need not be percent-encoded: then it is taken as it is. */
      if (unescaped != NULL && g_utf8_validate (unescaped, -1, NULL))
        value = g_steal_pointer (&unescaped);
      else if (g_utf8_validate (raw, -1, NULL))
        value = g_strdup (raw);
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);

  return value;
}

/**
 * cx_http_delete_site_cookie:
 * @self: a #CxHttp
 * @site_url: the site's address (http:// or https://)
 * @name: the cookie's name
 *
 * Deletes every cookie of that name the site can see, so that cx_http_get_site_cookie() then
 * returns %NULL.
 */
void
cx_http_delete_site_cookie (CxHttp *self, const char *site_url, const char *name)
{
  GSList *cookies;

  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (site_url != NULL);
  g_return_if_fail (name != NULL);

  cookies = cookies_for_site (self, site_url, NULL);
  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      SoupCookie *cookie = l->data;

      if (g_str_equal (soup_cookie_get_name (cookie), name))
        soup_cookie_jar_delete_cookie (self->cookie_jar, cookie);
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
}

/* Object */

/**
 * cx_http_new:
 * @user_agent: (nullable): the User-Agent, or %NULL for "cxdesk/VERSION"
 *
 * Returns: (transfer full): a new #CxHttp: one per application
 */
CxHttp *
cx_http_new (const char *user_agent)
{
  return g_object_new (CX_TYPE_HTTP, "user-agent", user_agent, NULL);
}

SoupSession *
cx_http_get_session (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->session;
}

SoupCookieJar *
cx_http_get_cookie_jar (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->cookie_jar;
}

const char *
cx_http_get_user_agent (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), NULL);

  return self->user_agent;
}

guint
cx_http_get_timeout (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), 0);

  return self->timeout_ms;
}

void
cx_http_set_timeout (CxHttp *self, guint timeout_ms)
{
  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (timeout_ms > 0);

  if (self->timeout_ms == timeout_ms)
    return;

  self->timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

gsize
cx_http_get_max_response_size (CxHttp *self)
{
  g_return_val_if_fail (CX_IS_HTTP (self), 0);

  return self->max_response_size;
}

void
cx_http_set_max_response_size (CxHttp *self, gsize size)
{
  g_return_if_fail (CX_IS_HTTP (self));
  g_return_if_fail (size > 0 && size <= MAX_MAX_RESPONSE_SIZE);

  if (self->max_response_size == size)
    return;

  self->max_response_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RESPONSE_SIZE]);
}

static void
cx_http_constructed (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  G_OBJECT_CLASS (cx_http_parent_class)->constructed (object);

  if (self->user_agent == NULL)
    self->user_agent = g_strdup (DEFAULT_USER_AGENT);

  self->cookie_jar = soup_cookie_jar_new ();
  soup_cookie_jar_set_accept_policy (self->cookie_jar, SOUP_COOKIE_JAR_ACCEPT_ALWAYS);

  self->session = soup_session_new_with_options ("user-agent", self->user_agent,
                                                 "max-conns-per-host", MAX_CONNS_PER_HOST, NULL);
  soup_session_add_feature (self->session, SOUP_SESSION_FEATURE (self->cookie_jar));
}

static void
cx_http_dispose (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  /* Requests in flight hold a reference on self: there is nothing of ours left to cancel. */
  g_clear_object (&self->session);
  g_clear_object (&self->cookie_jar);

  G_OBJECT_CLASS (cx_http_parent_class)->dispose (object);
}

static void
cx_http_finalize (GObject *object)
{
  CxHttp *self = CX_HTTP (object);

  g_clear_pointer (&self->user_agent, g_free);
  g_clear_pointer (&self->cookie_domain_override, g_free);

  G_OBJECT_CLASS (cx_http_parent_class)->finalize (object);
}

static void
cx_http_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxHttp *self = CX_HTTP (object);

  switch (prop_id)
    {
      case PROP_USER_AGENT:
        g_value_set_string (value, self->user_agent);
        break;

      case PROP_TIMEOUT:
        g_value_set_uint (value, self->timeout_ms);
        break;

      case PROP_MAX_RESPONSE_SIZE:
        g_value_set_uint64 (value, self->max_response_size);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_http_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxHttp *self = CX_HTTP (object);

  switch (prop_id)
    {
      case PROP_USER_AGENT:
        self->user_agent = g_value_dup_string (value);
        break;

      case PROP_TIMEOUT:
        cx_http_set_timeout (self, g_value_get_uint (value));
        break;

      case PROP_MAX_RESPONSE_SIZE:
        cx_http_set_max_response_size (self, (gsize) g_value_get_uint64 (value));
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_http_class_init (CxHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = cx_http_constructed;
  object_class->dispose = cx_http_dispose;
  object_class->finalize = cx_http_finalize;
  object_class->get_property = cx_http_get_property;
  object_class->set_property = cx_http_set_property;

  /**
   * CxHttp:user-agent:
   *
   * The User-Agent of every request; %NULL at construction means "cxdesk/VERSION".
   */
  properties[PROP_USER_AGENT] =
      g_param_spec_string ("user-agent", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS);

  /**
   * CxHttp:timeout:
   *
   * How long a request may take, in milliseconds, from sending it to the end of the reply.
   */
  properties[PROP_TIMEOUT] =
      g_param_spec_uint ("timeout", NULL, NULL, 1, G_MAXUINT, DEFAULT_TIMEOUT_MS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CxHttp:max-response-size:
   *
   * The largest reply body accepted, in bytes.
   */
  properties[PROP_MAX_RESPONSE_SIZE] = g_param_spec_uint64 (
      "max-response-size", NULL, NULL, 1, MAX_MAX_RESPONSE_SIZE, DEFAULT_MAX_RESPONSE_SIZE,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_http_init (CxHttp *self)
{
  self->timeout_ms = DEFAULT_TIMEOUT_MS;
  self->max_response_size = DEFAULT_MAX_RESPONSE_SIZE;
}
