/* test-service-request.c: what every service shares (services/cx-service-request.h): the
 * backoff, a number from the settings, and CxServiceRequest against a SoupServer running in
 * the test (a refusal read from the 4xx reply's body; the service's and a caller's
 * cancellation).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-service-request"

#include "config.h"

#include <string.h>

#include "cx-test-server.h"
#include "services/cx-service-request.h"

#define REFUSAL "{\"code\":7042,\"message\":\"Office closed\"}"

typedef struct
{
  SoupServer *server;
  char *base; /* "http://127.0.0.1:PORT" */
  CxHttp *http;
  GCancellable *service_cancellable;
} Fixture;

static void
server_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  if (g_str_equal (path, "/refused"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_CONFLICT, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, REFUSAL,
                                        strlen (REFUSAL));
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, "{}", 2);
}

static void
fixture_setup (Fixture *f, gconstpointer user_data)
{
  g_autofree char *base_url = NULL;

  f->server = cx_test_soup_server_new (server_cb, f, &base_url);
  /* "http://127.0.0.1:PORT", the paths here start with "/". */
  f->base = g_strndup (base_url, strlen (base_url) - 1);
  f->http = cx_http_new (NULL);
  f->service_cancellable = g_cancellable_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer user_data)
{
  g_clear_object (&f->service_cancellable);
  g_assert_finalize_object (f->http);
  soup_server_disconnect (f->server);
  g_assert_finalize_object (f->server);
  g_free (f->base);
}

static void
test_backoff (void)
{
  guint delay = 0;
  guint expected[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000 };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      delay = cx_service_next_retry_ms (delay);
      g_assert_cmpuint (delay, ==, expected[i]);
    }
  g_assert_cmpuint (cx_service_next_retry_ms (CX_SERVICE_MAX_RETRY_MS), ==,
                    CX_SERVICE_MAX_RETRY_MS);
}

static void
test_config (void)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *config;
  guint value = 0;

  node = json_from_string ("{\"ajaxTimeout\": 10, \"days\": 7.9, \"big\": 99999999999,"
                           " \"text\": \"5\", \"none\": null}",
                           &error);
  g_assert_no_error (error);
  config = json_node_get_object (node);

  /* Clamped to the limits every service uses. */
  g_assert_true (cx_service_config_get_ajax_timeout (config, &value, &error));
  g_assert_cmpuint (value, ==, CX_SERVICE_MIN_AJAX_TIMEOUT_MS);
  g_assert_true (cx_service_config_get_ajax_timeout (NULL, &value, &error));
  g_assert_cmpuint (value, ==, CX_SERVICE_DEFAULT_AJAX_TIMEOUT_MS);

  g_assert_true (cx_service_config_get_uint (config, "days", 5, 1, 30, &value, &error));
  g_assert_cmpuint (value, ==, 7);
  g_assert_true (cx_service_config_get_uint (config, "big", 5, 1, 30, &value, &error));
  g_assert_cmpuint (value, ==, 30);
  g_assert_true (cx_service_config_get_uint (config, "none", 5, 1, 30, &value, &error));
  g_assert_cmpuint (value, ==, 5);
  g_assert_true (cx_service_config_get_uint (config, "absent", 4, 1, 30, &value, &error));
  g_assert_cmpuint (value, ==, 4);
  g_assert_no_error (error);

  g_assert_false (cx_service_config_get_uint (config, "text", 5, 1, 30, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "text"));
}

/* A refusal: CxHttp's status error carries the status and the body the service reads. */
static void
test_refusal (Fixture *f, gconstpointer user_data)
{
  g_autofree char *url = g_strconcat (f->base, "/refused", NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  CxServiceRequest request = { 0 };
  GBytes *refusal;

  g_assert_true (cx_service_request_init (&request, SOUP_METHOD_POST, url, f->service_cancellable,
                                          NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (
      soup_message_headers_get_one (soup_message_get_request_headers (request.msg), "Accept"), ==,
      "application/json");
  cx_service_request_send (&request, f->http, 0, 1024, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);

  body = cx_http_send_finish (f->http, result, &error);
  g_assert_null (body);
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_STATUS);
  g_assert_cmpuint (cx_http_error_get_status (error), ==, SOUP_STATUS_CONFLICT);
  refusal = cx_http_error_get_body (error);
  g_assert_nonnull (refusal);
  g_assert_cmpmem (g_bytes_get_data (refusal, NULL), g_bytes_get_size (refusal), REFUSAL,
                   strlen (REFUSAL));
  /* The explanation is in the message too, for people. */
  g_assert_nonnull (strstr (error->message, "Office closed"));
  g_assert_false (cx_service_request_service_gone (&request));

  cx_service_request_clear (&request);
  g_assert_null (request.msg);
  g_assert_null (request.cancellable);
}

/* The service's dispose cancels its requests; a caller's cancellable ends one request only. */
static void
test_cancellation (Fixture *f, gconstpointer user_data)
{
  g_autofree char *url = g_strconcat (f->base, "/ok", NULL);
  g_autoptr (GCancellable) caller = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  CxServiceRequest first = { 0 };
  CxServiceRequest second = { 0 };

  g_assert_true (
      cx_service_request_init (&first, SOUP_METHOD_GET, url, f->service_cancellable, NULL, &error));
  g_assert_true (cx_service_request_init (&second, SOUP_METHOD_GET, url, f->service_cancellable,
                                          NULL, &error));
  g_assert_no_error (error);
  cx_service_request_follow (&second, caller);

  g_cancellable_cancel (caller);
  g_assert_true (g_cancellable_is_cancelled (second.cancellable));
  g_assert_false (g_cancellable_is_cancelled (first.cancellable));
  g_assert_false (cx_service_request_service_gone (&second));

  /* The first one still runs to its end. */
  cx_service_request_send (&first, f->http, 0, 0, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  body = cx_http_send_finish (f->http, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "{}", 2);
  g_clear_object (&result);

  /* The service goes: every request it has is cancelled, and knows why. */
  g_cancellable_cancel (f->service_cancellable);
  g_assert_true (cx_service_request_service_gone (&first));
  cx_service_request_clear (&first);
  cx_service_request_clear (&second);

  /* One started after the service went ends at once, cancelled. */
  g_assert_true (
      cx_service_request_init (&first, SOUP_METHOD_GET, url, f->service_cancellable, NULL, &error));
  g_assert_true (g_cancellable_is_cancelled (first.cancellable));
  cx_service_request_send (&first, f->http, 0, 0, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  g_clear_pointer (&body, g_bytes_unref);
  body = cx_http_send_finish (f->http, result, &error);
  g_assert_null (body);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  cx_service_request_clear (&first);
}

static void
test_invalid_url (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  CxServiceRequest request = { 0 };

  g_assert_false (cx_service_request_init (&request, SOUP_METHOD_GET, "ftp://example.com/x",
                                           f->service_cancellable, NULL, &error));
  g_assert_error (error, CX_HTTP_ERROR, CX_HTTP_ERROR_INVALID_URI);
  g_assert_null (request.msg);
  cx_service_request_clear (&request);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-request/backoff", test_backoff);
  g_test_add_func ("/service-request/config", test_config);
  g_test_add ("/service-request/refusal", Fixture, NULL, fixture_setup, test_refusal,
              fixture_teardown);
  g_test_add ("/service-request/cancellation", Fixture, NULL, fixture_setup, test_cancellation,
              fixture_teardown);
  g_test_add ("/service-request/invalid-url", Fixture, NULL, fixture_setup, test_invalid_url,
              fixture_teardown);

  return g_test_run ();
}
