/* test-http.c: CxHttp against a SoupServer running in the test: JSON requests, errors,
 * timeouts, size caps, WebSockets and the shared cookie jar.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-http"

#include "config.h"

#include <string.h>

#include "cx-test-server.h"
#include "services/cx-http.h"

/* A small reply-size cap for the oversized-reply tests. */
#define SMALL_LIMIT 1024

typedef struct
{
  SoupServer *server;
  char *base; /* "http://127.0.0.1:PORT" */
  CxHttp *http;
  GPtrArray *held;           /* SoupServerMessage: requests left unanswered until teardown */
  GPtrArray *ws_connections; /* SoupWebsocketConnection: server side */
  guint slow_requests;       /* how many requests reached /slow */
} Fixture;

static char *
url (Fixture *f, const char *path)
{
  return g_strconcat (f->base, path, NULL);
}

/* Sends a GET of @uri asking for JSON; the message goes to @msg. */
static void
start_get_json (CxHttp *http, const char *uri, GCancellable *cancellable, SoupMessage **msg,
                GAsyncResult **result)
{
  g_autoptr (GError) error = NULL;

  *msg = cx_http_message_new (SOUP_METHOD_GET, uri, &error);
  g_assert_no_error (error);
  cx_http_send_async (http, *msg, 0, 0, cancellable, cx_test_store_result_cb, result);
}

/* The JSON reply of @msg (or NULL and error), and its status (0: none). */
static JsonNode *
finish_json (CxHttp *http, SoupMessage *msg, GAsyncResult *result, guint *status, GError **error)
{
  if (status != NULL)
    *status = soup_message_get_status (msg);

  return cx_http_send_json_finish (http, result, error);
}

/* Runs a GET and returns the JSON reply (or NULL and error). */
static JsonNode *
get_json (Fixture *f, const char *path, guint *status, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *uri = url (f, path);

  start_get_json (f->http, uri, NULL, &msg, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);

  return finish_json (f->http, msg, result, status, error);
}

static JsonObject *
node_get_object (JsonNode *node)
{
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));

  return json_node_get_object (node);
}

/* The server */

static void
reply_json (SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json, strlen (json));
}

static void
reply_node (SoupServerMessage *msg, JsonNode *node)
{
  g_autofree char *json = json_to_string (node, FALSE);

  reply_json (msg, SOUP_STATUS_OK, json);
}

static char *
request_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
server_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, "/json"))
    {
      reply_json (msg, SOUP_STATUS_OK, "{\"hello\":\"world\",\"n\":42}");
    }
  else if (g_str_equal (path, "/form") && g_str_equal (method, SOUP_METHOD_POST))
    {
      /* Echoes the decoded fields, and the request's content type. */
      g_autofree char *body = request_body (msg);
      g_autoptr (GHashTable) form = soup_form_decode (body);
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;
      GHashTableIter iter;
      gpointer key, value;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "content-type");
      json_builder_add_string_value (builder,
                                     soup_message_headers_get_content_type (request_headers, NULL));
      json_builder_set_member_name (builder, "fields");
      json_builder_begin_object (builder);
      g_hash_table_iter_init (&iter, form);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, value);
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);

      node = json_builder_get_root (builder);
      reply_node (msg, node);
    }
  else if (g_str_equal (path, "/echo-json") && g_str_equal (method, SOUP_METHOD_POST))
    {
      /* Wraps the posted document with the request's content type and Accept. */
      g_autofree char *body = request_body (msg);
      g_autofree char *json =
          g_strdup_printf ("{\"content-type\":\"%s\",\"accept\":\"%s\",\"body\":%s}",
                           soup_message_headers_get_content_type (request_headers, NULL),
                           soup_message_headers_get_one (request_headers, "Accept"), body);

      reply_json (msg, SOUP_STATUS_OK, json);
    }
  else if (g_str_equal (path, "/missing"))
    {
      reply_json (msg, SOUP_STATUS_NOT_FOUND,
                  "{\"statusCode\":2,\"errors\":[{\"code\":102,\"advice\":\"Chat not found\"}]}");
    }
  else if (g_str_equal (path, "/failing"))
    {
      reply_json (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "{\"message\":\"Database is down\"}");
    }
  else if (g_str_equal (path, "/slow"))
    {
      /* Never answers: the request stays open until teardown. */
      f->slow_requests++;
      g_ptr_array_add (f->held, g_object_ref (msg));
      soup_server_message_pause (msg);
    }
  else if (g_str_equal (path, "/big-length"))
    {
      g_autofree char *body = g_strnfill (4 * SMALL_LIMIT, 'x');

      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, body, strlen (body));
    }
  else if (g_str_equal (path, "/big-chunked"))
    {
      /* Chunked, no Content-Length, and the body never ends: only counting while reading can
       * stop this one. */
      SoupMessageBody *body = soup_server_message_get_response_body (msg);
      g_autofree char *chunk = g_strnfill (SMALL_LIMIT, 'y');

      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_encoding (response_headers, SOUP_ENCODING_CHUNKED);
      soup_message_headers_set_content_type (response_headers, "text/plain", NULL);
      for (int i = 0; i < 4; i++)
        soup_message_body_append (body, SOUP_MEMORY_COPY, chunk, strlen (chunk));
      g_ptr_array_add (f->held, g_object_ref (msg));
    }
  else if (g_str_equal (path, "/malformed"))
    {
      reply_json (msg, SOUP_STATUS_OK, "{\"chatId\": ");
    }
  else if (g_str_equal (path, "/html"))
    {
      const char *html = "<html><body>Service unavailable</body></html>";

      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, html, strlen (html));
    }
  else if (g_str_equal (path, "/empty"))
    {
      reply_json (msg, SOUP_STATUS_OK, "");
    }
  else if (g_str_equal (path, "/set-cookie"))
    {
      soup_message_headers_append (response_headers, "Set-Cookie", "served=yes; Path=/");
      reply_json (msg, SOUP_STATUS_OK, "{}");
    }
  else if (g_str_equal (path, "/headers"))
    {
      /* Echoes what the client sent: its cookies and User-Agent. */
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;
      const char *cookie = soup_message_headers_get_one (request_headers, "Cookie");
      const char *user_agent = soup_message_headers_get_one (request_headers, "User-Agent");

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "cookie");
      json_builder_add_string_value (builder, cookie != NULL ? cookie : "");
      json_builder_set_member_name (builder, "user-agent");
      json_builder_add_string_value (builder, user_agent != NULL ? user_agent : "");
      json_builder_end_object (builder);

      node = json_builder_get_root (builder);
      reply_node (msg, node);
    }
  else
    {
      reply_json (msg, SOUP_STATUS_NOT_FOUND, "{}");
    }
}

static void
server_ws_message_cb (SoupWebsocketConnection *connection, SoupWebsocketDataType type,
                      GBytes *message, gpointer user_data)
{
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    {
      g_autofree char *text =
          g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));

      soup_websocket_connection_send_text (connection, text);
    }
}

static void
server_ws_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *connection, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->ws_connections, g_object_ref (connection));
  g_signal_connect (connection, "message", G_CALLBACK (server_ws_message_cb), NULL);
}

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;

  f->held = g_ptr_array_new_with_free_func (g_object_unref);
  f->ws_connections = g_ptr_array_new_with_free_func (g_object_unref);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_cb, f, NULL);
  soup_server_add_websocket_handler (f->server, "/ws", NULL, NULL, server_ws_cb, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  f->base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  f->http = cx_http_new (NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  if (f->http != NULL)
    g_assert_finalize_object (f->http);

  for (guint i = 0; i < f->ws_connections->len; i++)
    {
      SoupWebsocketConnection *connection = g_ptr_array_index (f->ws_connections, i);

      g_signal_handlers_disconnect_by_func (connection, server_ws_message_cb, NULL);
    }
  g_clear_pointer (&f->ws_connections, g_ptr_array_unref);

  soup_server_disconnect (f->server);
  g_clear_pointer (&f->held, g_ptr_array_unref);
  g_assert_finalize_object (f->server);
  g_free (f->base);
}

/* Requests */

static void
test_get_json (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *object;
  guint status = 0;

  node = get_json (f, "/json", &status, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);

  object = node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "hello"), ==, "world");
  g_assert_cmpint (json_object_get_int_member (object, "n"), ==, 42);
}

static void
test_post_form (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GHashTable) form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *uri = url (f, "/form");
  g_autoptr (SoupMessage) msg = NULL;
  JsonObject *object;
  JsonObject *fields;
  guint status = 0;

  g_hash_table_insert (form, g_strdup ("nickname"), g_strdup ("Ann & Bob"));
  g_hash_table_insert (form, g_strdup ("subject"), g_strdup ("Où est ma commande ? 100% = sûr"));
  g_hash_table_insert (form, g_strdup ("userData[key]"), g_strdup ("a=b;c"));

  msg = cx_http_message_new (SOUP_METHOD_POST, uri, &error);
  g_assert_no_error (error);
  cx_http_message_set_form (msg, form);
  cx_http_send_async (f->http, msg, 0, 0, NULL, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (f->http, msg, result, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);

  object = node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "content-type"), ==,
                   "application/x-www-form-urlencoded");
  fields = json_object_get_object_member (object, "fields");
  g_assert_cmpuint (json_object_get_size (fields), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (fields, "nickname"), ==, "Ann & Bob");
  g_assert_cmpstr (json_object_get_string_member (fields, "subject"), ==,
                   "Où est ma commande ? 100% = sûr");
  g_assert_cmpstr (json_object_get_string_member (fields, "userData[key]"), ==, "a=b;c");
}

static void
test_post_json (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *uri = url (f, "/echo-json");
  g_autoptr (SoupMessage) msg = NULL;
  JsonObject *object;
  JsonObject *echoed;

  body = json_from_string ("{\"text\":\"héllo \\\"there\\\"\",\"list\":[1,2,3]}", &error);
  g_assert_no_error (error);

  msg = cx_http_message_new (SOUP_METHOD_POST, uri, &error);
  g_assert_no_error (error);
  cx_http_message_set_json (msg, body);
  cx_http_send_async (f->http, msg, 0, 0, NULL, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (f->http, msg, result, NULL, &error);
  g_assert_no_error (error);

  object = node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "content-type"), ==, "application/json");
  g_assert_cmpstr (json_object_get_string_member (object, "accept"), ==, "application/json");
  echoed = json_object_get_object_member (object, "body");
  g_assert_nonnull (echoed);
  g_assert_cmpstr (json_object_get_string_member (echoed, "text"), ==, "héllo \"there\"");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (echoed, "list")), ==, 3);
}

static void
test_send_bytes (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *uri = url (f, "/html");

  msg = soup_message_new (SOUP_METHOD_GET, uri);
  cx_http_send_async (f->http, msg, 0, 0, NULL, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  body = cx_http_send_finish (f->http, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   "<html><body>Service unavailable</body></html>",
                   strlen ("<html><body>Service unavailable</body></html>"));
}

static void
test_status_error (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) copy = NULL;
  GBytes *body;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *uri = url (f, "/missing");
  guint status = 0;

  node = get_json (f, "/missing", &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (status, ==, SOUP_STATUS_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "404 Not Found"));
  g_assert_nonnull (strstr (error->message, uri));
  g_assert_nonnull (strstr (error->message, "Chat not found"));
  /* The error carries the reply, for a service that reads the refusal itself. */
  g_assert_cmpuint (cx_http_error_get_status (error), ==, SOUP_STATUS_NOT_FOUND);
  body = cx_http_error_get_body (error);
  g_assert_nonnull (body);
  g_assert_nonnull (
      g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "Chat not found"));
  copy = g_error_copy (error);
  g_assert_cmpuint (cx_http_error_get_status (copy), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_true (cx_http_error_get_body (copy) == body);
  g_clear_error (&error);

  /* The other common shape: a top-level "message". */
  node = get_json (f, "/failing", &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (status, ==, SOUP_STATUS_INTERNAL_SERVER_ERROR);
  g_assert_nonnull (strstr (error->message, "Database is down"));
}

static void
test_timeout (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  guint status = 0;

  cx_http_set_timeout (f->http, 200);

  node = get_json (f, "/slow", &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (f->slow_requests, ==, 1);
  g_assert_cmpuint (status, ==, 0);
  g_clear_error (&error);

  /* The timeout covers the body too: this one starts and never ends. */
  node = get_json (f, "/big-chunked", &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
}

static void
test_send_timeout (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *uri = url (f, "/slow");

  /* A per-request timeout wins over the default, and the caller's cancellable, not cancelled,
   * does not turn a timeout into a cancellation. */
  msg = soup_message_new (SOUP_METHOD_GET, uri);
  cx_http_send_async (f->http, msg, 150, 0, cancellable, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  body = cx_http_send_finish (f->http, result, &error);
  g_assert_null (body);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
}

static gboolean
slow_request_arrived (gpointer data)
{
  const Fixture *f = data;

  return f->slow_requests > 0;
}

static void
test_cancel (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *uri = url (f, "/slow");

  start_get_json (f->http, uri, cancellable, &msg, &result);
  cx_test_wait (slow_request_arrived, f);
  g_assert_null (result);

  g_cancellable_cancel (cancellable);
  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (f->http, msg, result, NULL, &error);
  g_assert_null (node);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cancel_before (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *uri = url (f, "/json");

  g_cancellable_cancel (cancellable);
  start_get_json (f->http, uri, cancellable, &msg, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (f->http, msg, result, NULL, &error);
  g_assert_null (node);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_too_large (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  cx_http_set_max_response_size (f->http, SMALL_LIMIT);

  /* Refused on its Content-Length alone. */
  node = get_json (f, "/big-length", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TOO_LARGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "4096 bytes"));
  g_assert_nonnull (strstr (error->message, "1024-byte limit"));
  g_clear_error (&error);

  /* Counted while reading: the server never ends this body, so only the count can stop it. */
  node = get_json (f, "/big-chunked", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_TOO_LARGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "1024-byte limit"));
  g_clear_error (&error);

  /* At the limit exactly is fine. */
  cx_http_set_max_response_size (f->http, 4 * SMALL_LIMIT);
  node = get_json (f, "/big-length", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON);
  g_test_message ("%s", error->message);
}

static void
test_not_json (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  guint status = 0;

  node = get_json (f, "/malformed", &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);
  g_assert_nonnull (strstr (error->message, "is not JSON"));
  g_clear_error (&error);

  node = get_json (f, "/html", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "text/html"));
  g_clear_error (&error);

  node = get_json (f, "/empty", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NOT_JSON);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "empty"));
}

static void
test_network_error (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  guint status = 1;

  /* Nothing listens on port 1. */
  start_get_json (f->http, "http://127.0.0.1:1/x", NULL, &msg, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (f->http, msg, result, &status, &error);
  g_assert_null (node);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (status, ==, 0);
  g_assert_true (g_str_has_prefix (error->message, "Could not reach http://127.0.0.1:1/x: "));
}

static void
test_invalid_uri (Fixture *f, gconstpointer user_data)
{
  const char *const bad[] = { "not a uri", "ftp://example.com/file", "/relative/path", "http://",
                              "file:///etc/passwd" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SoupMessage) msg = NULL;

      /* Refused before anything is sent. */
      msg = cx_http_message_new (SOUP_METHOD_GET, bad[i], &error);
      g_assert_null (msg);
      g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI);
      g_test_message ("%s", error->message);
    }
}

static void
test_unref_in_flight (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *uri = url (f, "/json");
  g_autoptr (SoupMessage) msg = NULL;
  CxHttp *http = g_steal_pointer (&f->http);
  GObject *weak = G_OBJECT (http);

  /* The owner lets go while the request runs: the request keeps the client alive. */
  g_object_add_weak_pointer (weak, (gpointer *) &weak);
  start_get_json (http, uri, NULL, &msg, &result);
  g_object_unref (http);
  g_assert_nonnull (weak);

  cx_test_wait (cx_test_pointer_is_set, &result);
  node = finish_json (http, msg, result, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);

  g_clear_object (&result);
  g_assert_null (weak);
}

static void
test_properties (Fixture *f, gconstpointer user_data)
{
  g_autoptr (CxHttp) custom = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  guint timeout = 0;
  guint64 size = 0;

  g_assert_cmpuint (cx_http_get_timeout (f->http), ==, 15000);
  g_assert_cmpuint (cx_http_get_max_response_size (f->http), ==, 8 * 1024 * 1024);
  g_assert_cmpstr (cx_http_get_user_agent (f->http), ==, "cxdesk/" PACKAGE_VERSION);
  g_assert_true (SOUP_IS_SESSION (cx_http_get_session (f->http)));
  g_assert_true (SOUP_IS_COOKIE_JAR (cx_http_get_cookie_jar (f->http)));
  g_assert_cmpint (soup_session_get_max_conns_per_host (cx_http_get_session (f->http)), ==, 6);
  g_assert_cmpint (soup_cookie_jar_get_accept_policy (cx_http_get_cookie_jar (f->http)), ==,
                   SOUP_COOKIE_JAR_ACCEPT_ALWAYS);
  g_assert_true (soup_session_has_feature (cx_http_get_session (f->http), SOUP_TYPE_COOKIE_JAR));

  g_object_set (f->http, "timeout", 2500, "max-response-size", (guint64) 4096, NULL);
  g_object_get (f->http, "timeout", &timeout, "max-response-size", &size, NULL);
  g_assert_cmpuint (timeout, ==, 2500);
  g_assert_cmpuint (size, ==, 4096);

  /* The User-Agent reaches the server. */
  node = get_json (f, "/headers", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (node_get_object (node), "user-agent"), ==,
                   "cxdesk/" PACKAGE_VERSION);

  custom = cx_http_new ("probe/1.0");
  g_assert_cmpstr (cx_http_get_user_agent (custom), ==, "probe/1.0");
  g_assert_finalize_object (g_steal_pointer (&custom));
}

/* WebSockets */

static void
client_ws_message_cb (SoupWebsocketConnection *connection, SoupWebsocketDataType type,
                      GBytes *message, gpointer user_data)
{
  char **slot = user_data;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  *slot = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
}

static void
client_ws_closed_cb (SoupWebsocketConnection *connection, gpointer user_data)
{
  gboolean *closed = user_data;

  *closed = TRUE;
}

static void
test_websocket (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupWebsocketConnection) connection = NULL;
  g_autofree char *ws_uri = NULL;
  g_autofree char *echoed = NULL;
  gboolean closed = FALSE;

  ws_uri = g_strdup_printf ("ws://%s/ws", f->base + strlen ("http://"));
  cx_http_websocket_connect_async (f->http, ws_uri, NULL, NULL, NULL, cx_test_store_result_cb,
                                   &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  connection = cx_http_websocket_connect_finish (f->http, result, &error);
  g_assert_no_error (error);
  g_assert_true (SOUP_IS_WEBSOCKET_CONNECTION (connection));
  g_assert_cmpint (soup_websocket_connection_get_state (connection), ==, SOUP_WEBSOCKET_STATE_OPEN);

  g_signal_connect (connection, "message", G_CALLBACK (client_ws_message_cb), &echoed);
  g_signal_connect (connection, "closed", G_CALLBACK (client_ws_closed_cb), &closed);
  soup_websocket_connection_send_text (connection, "{\"type\":\"ping\",\"text\":\"héllo\"}");
  cx_test_wait (cx_test_pointer_is_set, &echoed);
  g_assert_cmpstr (echoed, ==, "{\"type\":\"ping\",\"text\":\"héllo\"}");

  soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  cx_test_wait (cx_test_flag_is_set, &closed);
  g_assert_true (closed);
  g_signal_handlers_disconnect_by_data (connection, &echoed);
  g_signal_handlers_disconnect_by_data (connection, &closed);
}

static void
test_websocket_errors (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupWebsocketConnection) connection = NULL;
  g_autofree char *not_ws = NULL;

  /* An http:// address is not a WebSocket address. */
  cx_http_websocket_connect_async (f->http, f->base, NULL, NULL, NULL, cx_test_store_result_cb,
                                   &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  connection = cx_http_websocket_connect_finish (f->http, result, &error);
  g_assert_null (connection);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_clear_object (&result);

  /* A path with no WebSocket behind it answers with an HTTP status. */
  not_ws = g_strdup_printf ("ws://%s/missing", f->base + strlen ("http://"));
  cx_http_websocket_connect_async (f->http, not_ws, NULL, NULL, NULL, cx_test_store_result_cb,
                                   &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  connection = cx_http_websocket_connect_finish (f->http, result, &error);
  g_assert_null (connection);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Nothing listens on port 1. */
  cx_http_websocket_connect_async (f->http, "ws://127.0.0.1:1/ws", NULL, NULL, NULL,
                                   cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  connection = cx_http_websocket_connect_finish (f->http, result, &error);
  g_assert_null (connection);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK);
  g_test_message ("%s", error->message);
}

/* Cookies */

static guint
count_cookies (CxHttp *http, const char *name)
{
  GSList *cookies = soup_cookie_jar_all_cookies (cx_http_get_cookie_jar (http));
  guint count = 0;

  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      if (g_str_equal (soup_cookie_get_name (l->data), name))
        count++;
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return count;
}

static SoupCookie *
find_cookie (CxHttp *http, const char *name)
{
  GSList *cookies = soup_cookie_jar_all_cookies (cx_http_get_cookie_jar (http));
  SoupCookie *found = NULL;

  for (GSList *l = cookies; l != NULL; l = l->next)
    {
      if (found == NULL && g_str_equal (soup_cookie_get_name (l->data), name))
        found = soup_cookie_copy (l->data);
    }

  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return found;
}

/* Stands for a window or a service: it holds the application's CxHttp and nothing else. */
typedef struct
{
  CxHttp *http;
  const char *site;
} Consumer;

static void
test_cookie_shared (Fixture *f, gconstpointer user_data)
{
  Consumer window1 = { g_object_ref (f->http), "https://support.example.com/" };
  Consumer window2 = { g_object_ref (f->http), "https://support.example.com/help" };
  g_autoptr (GError) error = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *seen_back = NULL;

  g_assert_true (cx_http_set_site_cookie (window1.http, window1.site,
                                          "_genesys.widgets.webchat.session", "chat-1", &error));
  g_assert_no_error (error);

  seen = cx_http_get_site_cookie (window2.http, window2.site, "_genesys.widgets.webchat.session");
  g_assert_cmpstr (seen, ==, "chat-1");

  g_assert_true (cx_http_set_site_cookie (window2.http, window2.site,
                                          "_genesys.widgets.webchat.open", "true", &error));
  seen_back = cx_http_get_site_cookie (window1.http, window1.site, "_genesys.widgets.webchat.open");
  g_assert_cmpstr (seen_back, ==, "true");

  g_object_unref (window1.http);
  g_object_unref (window2.http);
}

static void
test_cookie_domains (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *shop = NULL;
  g_autofree char *apex = NULL;
  g_autofree char *other = NULL;
  g_autofree char *evil = NULL;

  domain = cx_http_get_cookie_domain (f->http, "https://www.example.com/x", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (domain, ==, ".example.com");

  g_assert_true (
      cx_http_set_site_cookie (f->http, "https://www.example.com/", "chat", "42", &error));
  g_assert_no_error (error);

  shop = cx_http_get_site_cookie (f->http, "https://shop.example.com/a", "chat");
  g_assert_cmpstr (shop, ==, "42");
  apex = cx_http_get_site_cookie (f->http, "http://example.com/", "chat");
  g_assert_cmpstr (apex, ==, "42");

  other = cx_http_get_site_cookie (f->http, "https://www.example.org/", "chat");
  g_assert_null (other);
  evil = cx_http_get_site_cookie (f->http, "https://example.com.evil.net/", "chat");
  g_assert_null (evil);
}

static void
test_cookie_host_only (Fixture *f, gconstpointer user_data)
{
  const struct
  {
    const char *site;
    const char *domain;
    const char *same_host; /* another address on the same host: sees the cookie */
    const char *other_host;
  } cases[] = {
    { "http://localhost:8080/", "localhost", "http://localhost:9090/page", "http://example.com/" },
    { "http://127.0.0.1/", "127.0.0.1", "http://127.0.0.1:8080/", "http://127.0.0.2/" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SoupCookie) cookie = NULL;
      g_autofree char *domain = NULL;
      g_autofree char *same = NULL;
      g_autofree char *other = NULL;

      domain = cx_http_get_cookie_domain (f->http, cases[i].site, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (domain, ==, cases[i].domain);

      g_assert_true (cx_http_set_site_cookie (f->http, cases[i].site, "local", "1", &error));
      g_assert_no_error (error);
      cookie = find_cookie (f->http, "local");
      g_assert_nonnull (cookie);
      g_assert_cmpstr (soup_cookie_get_domain (cookie), ==, cases[i].domain);

      same = cx_http_get_site_cookie (f->http, cases[i].same_host, "local");
      g_assert_cmpstr (same, ==, "1");
      other = cx_http_get_site_cookie (f->http, cases[i].other_host, "local");
      g_assert_null (other);

      cx_http_delete_site_cookie (f->http, cases[i].site, "local");
      g_assert_cmpuint (count_cookies (f->http, "local"), ==, 0);
    }
}

static void
test_cookie_value (Fixture *f, gconstpointer user_data)
{
  const char *value = "{\"secureKey\":\"a; b, c\",\"alias\":\"x y\",\"quote\":\"\\\"q\\\"\","
                      "\"name\":\"Zoë – 日本\",\"pct\":\"100%25 %\"}";
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupCookie) cookie = NULL;
  g_autofree char *read_back = NULL;
  const char *raw;

  g_assert_true (cx_http_set_site_cookie (f->http, "https://www.example.com/",
                                          "_genesys.widgets.webchat.keys", value, &error));
  g_assert_no_error (error);

  /* What goes over the wire is a valid cookie value. */
  cookie = find_cookie (f->http, "_genesys.widgets.webchat.keys");
  g_assert_nonnull (cookie);
  raw = soup_cookie_get_value (cookie);
  for (const char *p = raw; *p != '\0'; p++)
    {
      g_assert_true (g_ascii_isgraph (*p));
      g_assert_null (strchr (";,\"\\", *p));
    }

  read_back = cx_http_get_site_cookie (f->http, "https://www.example.com/",
                                       "_genesys.widgets.webchat.keys");
  g_assert_cmpstr (read_back, ==, value);
}

static void
test_cookie_delete_and_replace (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupCookie) cookie = NULL;
  g_autofree char *value = NULL;
  g_autofree char *gone = NULL;

  g_assert_true (
      cx_http_set_site_cookie (f->http, "https://www.example.com/", "index", "1", &error));
  g_assert_true (
      cx_http_set_site_cookie (f->http, "https://shop.example.com/", "index", "2", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_cookies (f->http, "index"), ==, 1);

  value = cx_http_get_site_cookie (f->http, "https://www.example.com/", "index");
  g_assert_cmpstr (value, ==, "2");

  /* A session cookie: no expiry, it dies with the process. */
  cookie = find_cookie (f->http, "index");
  g_assert_nonnull (cookie);
  g_assert_null (soup_cookie_get_expires (cookie));
  g_assert_cmpstr (soup_cookie_get_path (cookie), ==, "/");

  cx_http_delete_site_cookie (f->http, "https://www.example.com/", "index");
  gone = cx_http_get_site_cookie (f->http, "https://www.example.com/", "index");
  g_assert_null (gone);
  g_assert_cmpuint (count_cookies (f->http, "index"), ==, 0);

  /* Deleting what is not there is fine. */
  cx_http_delete_site_cookie (f->http, "https://www.example.com/", "index");
}

static void
test_cookie_invalid_site (Fixture *f, gconstpointer user_data)
{
  const char *const bad[] = { "not a url", "ftp://example.com/", "file:///tmp/x", "/relative" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *value = NULL;
      g_autofree char *domain = NULL;

      g_assert_false (cx_http_set_site_cookie (f->http, bad[i], "name", "value", &error));
      g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI);
      g_test_message ("%s", error->message);
      g_clear_error (&error);

      domain = cx_http_get_cookie_domain (f->http, bad[i], &error);
      g_assert_null (domain);
      g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI);
      g_test_message ("%s", error->message);

      value = cx_http_get_site_cookie (f->http, bad[i], "name");
      g_assert_null (value);
      cx_http_delete_site_cookie (f->http, bad[i], "name");
    }
}

static void
test_cookie_http (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) first = NULL;
  g_autoptr (JsonNode) second = NULL;
  g_autofree char *site = url (f, "/");
  g_autofree char *served = NULL;
  const char *cookie;

  /* A cookie the server sets goes back with the next request... */
  first = get_json (f, "/set-cookie", NULL, &error);
  g_assert_no_error (error);

  /* ...together with one the app set for the site. */
  g_assert_true (cx_http_set_site_cookie (f->http, site, "app", "{\"a\":1}", &error));
  g_assert_no_error (error);

  second = get_json (f, "/headers", NULL, &error);
  g_assert_no_error (error);
  cookie = json_object_get_string_member (node_get_object (second), "cookie");
  g_assert_nonnull (strstr (cookie, "served=yes"));
  g_assert_nonnull (strstr (cookie, "app=%7B%22a%22%3A1%7D"));

  /* And the site can read the server's cookie. */
  served = cx_http_get_site_cookie (f->http, site, "served");
  g_assert_cmpstr (served, ==, "yes");
}

static void
test_cookie_domain_override (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *matching = NULL;
  g_autofree char *unrelated = NULL;
  g_autofree char *public_suffix = NULL;
  g_autofree char *cleared = NULL;
  g_autofree char *sibling = NULL;
  g_autofree char *outside = NULL;

  cx_http_set_cookie_domain_override (f->http, ".support.example.com");

  matching = cx_http_get_cookie_domain (f->http, "https://chat.support.example.com/", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (matching, ==, ".support.example.com");

  /* A browser would refuse a cookie for an unrelated domain: fall back to the computed one. */
  unrelated = cx_http_get_cookie_domain (f->http, "https://www.other.org/", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (unrelated, ==, ".other.org");

  g_assert_true (
      cx_http_set_site_cookie (f->http, "https://chat.support.example.com/", "o", "v", &error));
  sibling = cx_http_get_site_cookie (f->http, "https://kb.support.example.com/", "o");
  g_assert_cmpstr (sibling, ==, "v");
  outside = cx_http_get_site_cookie (f->http, "https://www.example.com/", "o");
  g_assert_null (outside);

  /* A public suffix is no cookie domain either. */
  cx_http_set_cookie_domain_override (f->http, "com");
  public_suffix = cx_http_get_cookie_domain (f->http, "https://www.example.com/", &error);
  g_assert_cmpstr (public_suffix, ==, ".example.com");

  cx_http_set_cookie_domain_override (f->http, NULL);
  cleared = cx_http_get_cookie_domain (f->http, "https://chat.support.example.com/", &error);
  g_assert_cmpstr (cleared, ==, ".example.com");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/http/get-json", test_get_json);
  ADD ("/http/post-form", test_post_form);
  ADD ("/http/post-json", test_post_json);
  ADD ("/http/send-bytes", test_send_bytes);
  ADD ("/http/error/status", test_status_error);
  ADD ("/http/error/timeout", test_timeout);
  ADD ("/http/error/send-timeout", test_send_timeout);
  ADD ("/http/error/cancel", test_cancel);
  ADD ("/http/error/cancel-before", test_cancel_before);
  ADD ("/http/error/too-large", test_too_large);
  ADD ("/http/error/not-json", test_not_json);
  ADD ("/http/error/network", test_network_error);
  ADD ("/http/error/invalid-uri", test_invalid_uri);
  ADD ("/http/unref-in-flight", test_unref_in_flight);
  ADD ("/http/properties", test_properties);
  ADD ("/http/websocket/echo", test_websocket);
  ADD ("/http/websocket/errors", test_websocket_errors);
  ADD ("/http/cookies/shared", test_cookie_shared);
  ADD ("/http/cookies/domains", test_cookie_domains);
  ADD ("/http/cookies/host-only", test_cookie_host_only);
  ADD ("/http/cookies/value", test_cookie_value);
  ADD ("/http/cookies/delete-and-replace", test_cookie_delete_and_replace);
  ADD ("/http/cookies/invalid-site", test_cookie_invalid_site);
  ADD ("/http/cookies/http", test_cookie_http);
  ADD ("/http/cookies/domain-override", test_cookie_domain_override);

#undef ADD

  return g_test_run ();
}
