/* cx-http-request.c: CxHttp's requests: a SoupMessage sent on the one session with a timeout
 * and a cap on the size of its reply, and WebSockets opened with a timeout. Every failure
 * becomes a CxHttpError whose message a person can read; a reply of 400 or more is a
 * CX_HTTP_ERROR_STATUS that carries the status and the body (cx_http_error_get_status(),
 * cx_http_error_get_body()), so that a service can read the server's refusal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-http"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>

#include "services/cx-http-private.h"

#define READ_CHUNK_SIZE (64 * 1024)
/* A server's explanation goes into an error message: keep it short. */
#define MAX_EXPLANATION_CHARS 300

/* Errors: a CX_HTTP_ERROR_STATUS carries the reply's status and body. */

typedef struct
{
  guint status;
  GBytes *body;
} CxHttpErrorPrivate;

static void
cx_http_error_private_init (CxHttpErrorPrivate *priv)
{
  priv->status = 0;
  priv->body = NULL;
}

static void
cx_http_error_private_copy (const CxHttpErrorPrivate *src, CxHttpErrorPrivate *dest)
{
  dest->status = src->status;
  dest->body = src->body != NULL ? g_bytes_ref (src->body) : NULL;
}

static void
cx_http_error_private_clear (CxHttpErrorPrivate *priv)
{
  g_clear_pointer (&priv->body, g_bytes_unref);
}

G_DEFINE_EXTENDED_ERROR (CxHttpError, cx_http_error)

/**
 * cx_http_error_get_status:
 * @error: (nullable): an error
 *
 * Returns: the HTTP status of a %CX_HTTP_ERROR_STATUS, 0 for any other error
 */
guint
cx_http_error_get_status (const GError *error)
{
  CxHttpErrorPrivate *priv = error != NULL ? cx_http_error_get_private (error) : NULL;

  return priv != NULL ? priv->status : 0;
}

/**
 * cx_http_error_get_body:
 * @error: (nullable): an error
 *
 * Returns: (transfer none) (nullable): the body of the reply of a %CX_HTTP_ERROR_STATUS (up to
 *   #CxHttp:max-response-size or the request's cap; %NULL if it was larger), %NULL for any
 *   other error
 */
GBytes *
cx_http_error_get_body (const GError *error)
{
  CxHttpErrorPrivate *priv = error != NULL ? cx_http_error_get_private (error) : NULL;

  return priv != NULL ? priv->body : NULL;
}

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
  GError *error;
  CxHttpErrorPrivate *priv;

  if (reason == NULL)
    reason = g_strdup (soup_status_get_phrase (status));

  if (explanation != NULL)
    error = g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS,
                         _ ("Server answered %u %s for %s: %s"), status, reason, uri, explanation);
  else
    error = g_error_new (CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS, _ ("Server answered %u %s for %s"),
                         status, reason, uri);

  priv = cx_http_error_get_private (error);
  priv->status = status;
  priv->body = body != NULL ? g_bytes_ref (body) : NULL;
  return error;
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

GUri *
_cx_http_parse_uri (const char *uri, gboolean websocket, GError **error)
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
 * @max_size: the cap on the size of the reply in bytes, 0 for #CxHttp:max-response-size (a
 *   larger cap is #CxHttp:max-response-size too)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the whole reply has been read, or the request failed
 * @user_data: data for @callback
 *
 * Sends @msg and reads its reply, up to @max_size bytes. This is the one way the services
 * send requests: build @msg with cx_http_message_new() and finish with cx_http_send_finish()
 * or cx_http_send_json_finish().
 */
void
cx_http_send_async (CxHttp *self, SoupMessage *msg, guint timeout_ms, gsize max_size,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
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
  /* Never more than the application allows. */
  data->max_size = max_size > 0 ? MIN (max_size, self->max_response_size) : self->max_response_size;
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
 *   400 or more is an error (%CX_HTTP_ERROR_STATUS) that carries the status and the body:
 *   cx_http_error_get_status(), cx_http_error_get_body().
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

/**
 * cx_http_send_json_finish:
 * @self: a #CxHttp
 * @result: the result passed to the callback of cx_http_send_async()
 * @error: return location for a #GError
 *
 * Finishes cx_http_send_async() for a request that expects a JSON document.
 *
 * Returns: (transfer full): the parsed reply, or %NULL with @error set: an HTTP status of 400
 *   or more is %CX_HTTP_ERROR_STATUS (with the status and the body), an empty reply or one that
 *   is not JSON is %CX_HTTP_ERROR_NOT_JSON.
 */
JsonNode *
cx_http_send_json_finish (CxHttp *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GBytes) body = NULL;
  SendData *data;

  g_return_val_if_fail (CX_IS_HTTP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == cx_http_send_async, NULL);

  body = g_task_propagate_pointer (G_TASK (result), error);
  if (body == NULL)
    return NULL;

  data = g_task_get_task_data (G_TASK (result));
  return parse_json_reply (data->msg, data->uri, body, error);
}

/* Messages */

/**
 * cx_http_message_new:
 * @method: an HTTP method, such as %SOUP_METHOD_GET
 * @uri: an http:// or https:// address
 * @error: return location for a #GError
 *
 * A request to send with cx_http_send_async(), that asks for JSON (Accept: application/json).
 *
 * Returns: (transfer full): the message, or %NULL with a %CX_HTTP_ERROR_INVALID_URI if @uri
 *   does not parse, has another scheme or no host
 */
SoupMessage *
cx_http_message_new (const char *method, const char *uri, GError **error)
{
  g_autoptr (GUri) parsed = NULL;
  SoupMessage *msg;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  parsed = _cx_http_parse_uri (uri, FALSE, error);
  if (parsed == NULL)
    return NULL;

  msg = soup_message_new_from_uri (method, parsed);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json");
  return msg;
}

/**
 * cx_http_message_set_form:
 * @msg: a message
 * @form: (nullable) (element-type utf8 utf8): the fields
 *
 * Makes @form the body of @msg, as application/x-www-form-urlencoded.
 */
void
cx_http_message_set_form (SoupMessage *msg, GHashTable *form)
{
  g_autoptr (GBytes) body = NULL;
  char *encoded;

  g_return_if_fail (SOUP_IS_MESSAGE (msg));

  encoded = form != NULL ? soup_form_encode_hash (form) : g_strdup ("");
  body = g_bytes_new_take (encoded, strlen (encoded));
  soup_message_set_request_body_from_bytes (msg, SOUP_FORM_MIME_TYPE_URLENCODED, body);
}

/**
 * cx_http_message_set_json:
 * @msg: a message
 * @node: the document
 *
 * Makes @node the body of @msg, as application/json.
 */
void
cx_http_message_set_json (SoupMessage *msg, JsonNode *node)
{
  g_autoptr (GBytes) body = NULL;
  char *text;

  g_return_if_fail (SOUP_IS_MESSAGE (msg));
  g_return_if_fail (node != NULL);

  text = json_to_string (node, FALSE);
  body = g_bytes_new_take (text, strlen (text));
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
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

  parsed = _cx_http_parse_uri (uri, TRUE, &error);
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
