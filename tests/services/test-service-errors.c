/* test-service-errors.c: how CxStatsService and CxCallbackService take a server that misbehaves,
 * against a SoupServer in this process that answers what each case needs: 4xx and 5xx replies
 * with and without an error document, bodies that are not JSON, JSON of the wrong shape, replies
 * over the service's size limit, a server that hangs up in the middle of a request, and one that
 * is gone. Each command must fail with the error its header promises, in words for people, and
 * publish its error event once; each service must work again when the server does.
 *
 * The well-behaved paths, and the real server's refusals, are tested against cxdesk-server in
 * test-stats-service.c and test-callback-service.c (suite integration).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-service-errors"

#include "config.h"

#include <string.h>

#include "cx-test-bus.h"
#include "cx-test-server.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "services/cx-callback-service.h"
#include "services/cx-http.h"
#include "services/cx-stats-service.h"

/* The paths the services ask for (their dataURL is the server's base URL, which ends in "/",
 * and these without their first "/") */
#define CALLBACK_PATH "/genesys/1/service/callback/customer-support"
#define STATS_PATH "/cx/1/ewt"

/* The server: every request gets the reply set last, or has its connection cut */

typedef struct
{
  SoupServer *soup;
  char *url; /* "http://127.0.0.1:PORT/" */
  guint status;
  char *content_type;
  GBytes *body;
  gboolean hang_up; /* cut the connection instead of answering */
  guint requests;
  char *last_path;
} Server;

static void
handler_cb (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  Server *server = user_data;

  server->requests++;
  g_free (server->last_path);
  server->last_path = g_strdup (path);

  if (server->hang_up)
    {
      g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);

      g_io_stream_close (stream, NULL, NULL);
      return;
    }

  soup_server_message_set_status (msg, server->status, NULL);
  if (server->body != NULL)
    {
      gsize size;
      gconstpointer data = g_bytes_get_data (server->body, &size);

      soup_server_message_set_response (msg, server->content_type, SOUP_MEMORY_COPY, data, size);
    }
}

static Server *
server_new (void)
{
  Server *server = g_new0 (Server, 1);

  server->soup = cx_test_soup_server_new (handler_cb, server, &server->url);
  return server;
}
/* The next replies: @status with @body (NULL: none) of @content_type. */
static void
server_reply (Server *server, guint status, const char *content_type, const char *body)
{
  server->hang_up = FALSE;
  server->status = status;
  g_free (server->content_type);
  server->content_type = g_strdup (content_type);
  g_clear_pointer (&server->body, g_bytes_unref);
  if (body != NULL)
    server->body = g_bytes_new (body, strlen (body));
}

static void
server_reply_json (Server *server, guint status, const char *json)
{
  server_reply (server, status, "application/json", json);
}

/* The next requests have their connection cut before any reply. */
static void
server_hang_up (Server *server)
{
  server->hang_up = TRUE;
}

/* The server goes away; its port is closed. */
static void
server_free (Server *server)
{
  if (server == NULL)
    return;
  soup_server_disconnect (server->soup);
  g_assert_finalize_object (server->soup);
  g_clear_pointer (&server->body, g_bytes_unref);
  g_free (server->content_type);
  g_free (server->last_path);
  g_free (server->url);
  g_free (server);
}

/* A window: a bus, the service on it, and what it published */

typedef struct
{
  CxHttp *http;
  CxBus *bus;
  GObject *service;
  CxTestRecorder *events;
} Window;

static Window *
window_new (void)
{
  Window *window = g_new0 (Window, 1);

  window->http = cx_http_new (NULL);
  window->bus = cx_bus_new ();
  window->events = cx_test_recorder_new (window->bus, NULL);
  return window;
}

static Window *
stats_window_new (Server *server)
{
  Window *window = window_new ();
  g_autoptr (JsonObject) config = json_object_new ();
  g_autofree char *data_url = g_strconcat (server->url, STATS_PATH + 1, NULL);
  g_autoptr (GError) error = NULL;

  json_object_set_string_member (config, "dataURL", data_url);
  /* The shortest the service takes. */
  json_object_set_int_member (config, "pollInterval", 1000);
  json_object_set_int_member (config, "ajaxTimeout", 10000);
  window->service = G_OBJECT (cx_stats_service_new (window->bus, window->http, config, &error));
  g_assert_no_error (error);
  g_assert_nonnull (window->service);
  return window;
}

static Window *
callback_window_new (const char *base_url)
{
  Window *window = window_new ();
  g_autoptr (JsonObject) config = json_object_new ();
  g_autofree char *data_url = g_strconcat (base_url, CALLBACK_PATH + 1, NULL);
  g_autoptr (GError) error = NULL;

  json_object_set_string_member (config, "dataURL", data_url);
  json_object_set_int_member (config, "ajaxTimeout", 10000);
  window->service = G_OBJECT (cx_callback_service_new (window->bus, window->http, config, &error));
  g_assert_no_error (error);
  g_assert_nonnull (window->service);
  return window;
}

static void
window_free (Window *window)
{
  g_assert_finalize_object (g_steal_pointer (&window->service));
  cx_test_recorder_free (window->events);
  g_assert_finalize_object (window->bus);
  cx_test_finalize_when_unwound (window->http);
  g_free (window);
}

/* The error event @event's data: {message, code}; the message mentions @needle. */
static void
assert_error_event (Window *window, const char *event, gint64 code, const char *needle)
{
  JsonObject *data = cx_test_recorder_last_object (window->events, event);

  g_assert_cmpint (cx_test_object_int (data, "code"), ==, code);
  if (strstr (cx_test_object_string (data, "message"), needle) == NULL)
    g_error ("%s: “%s” does not mention “%s”", event, cx_test_object_string (data, "message"),
             needle);
}

/* CallbackService */

#define SCHEDULE "CallbackService.schedule"
#define GET "CallbackService.get"
#define AVAILABILITY "CallbackService.availability"
#define NOW "{\"phoneNumber\":\"+15551234567\"}"
#define CALLBACK_JSON                                                                              \
  "{\"_id\":\"cb-1\",\"_service_name\":\"customer-support\",\"_callback_state\":\"QUEUED\","       \
  "\"_desired_time\":\"2030-01-01T10:00:00.000Z\",\"_customer_number\":\"+15551234567\"}"

/* The server's refusals: its code and message when it sends them, the status's meaning when it
 * does not, and GMS's office-closed said the way people say it. */
static void
test_callback_refusals (void)
{
  Server *server = server_new ();
  Window *window = callback_window_new (server->url);
  const char *message;

  server_reply_json (server, 404, "{\"code\":404,\"message\":\"No callback cb-9 here\"}");
  cx_test_bus_command_fails (window->bus, GET, "{\"id\":\"cb-9\"}", CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_NOT_FOUND, "No callback cb-9 here");
  g_assert_cmpstr (server->last_path, ==, CALLBACK_PATH "/cb-9");

  server_reply (server, 404, NULL, NULL);
  cx_test_bus_command_fails (window->bus, GET, "{\"id\":\"cb-9\"}", CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_NOT_FOUND, "no such callback");

  server_reply_json (server, 409, "{}");
  cx_test_bus_command_fails (window->bus, SCHEDULE, NOW, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_SLOT_FULL, "fully booked");
  assert_error_event (window, "CallbackService.scheduleError", 409, "fully booked");

  server_reply_json (server, 400, "{\"code\":7042,\"message\":\"office closed\"}");
  cx_test_bus_command_fails (window->bus, SCHEDULE, NOW, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_OFFICE_CLOSED, "We are closed at that time");
  assert_error_event (window, "CallbackService.scheduleError", 7042, "closed");

  /* A message that is not for people (a control character) is not shown to them. */
  server_reply_json (server, 400, "{\"code\":400,\"message\":\"bad\\u0007input\"}");
  cx_test_bus_command_fails (window->bus, SCHEDULE, NOW, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_INVALID, NULL);
  message = cx_test_object_string (
      cx_test_recorder_last_object (window->events, "CallbackService.scheduleError"), "message");
  g_assert_null (strchr (message, '\a'));

  g_assert_cmpuint (cx_test_recorder_count (window->events, "CallbackService.scheduleError"), ==,
                    3);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "CallbackService.scheduled"), ==, 0);

  window_free (window);
  server_free (server);
}

/* 5xx: the server failed, or says it cannot serve; either way the command fails at once. */
static void
test_callback_server_errors (void)
{
  Server *server = server_new ();
  Window *window = callback_window_new (server->url);

  server_reply (server, 500, "text/html", "<html><body>Internal Server Error</body></html>");
  cx_test_bus_command_fails (window->bus, AVAILABILITY, NULL, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_INTERNAL, NULL);
  assert_error_event (window, "CallbackService.availabilityError", 500, "");

  server_reply (server, 503, NULL, NULL);
  cx_test_bus_command_fails (window->bus, SCHEDULE, NOW, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_UNAVAILABLE, "not available");
  assert_error_event (window, "CallbackService.scheduleError", 503, "not available");

  /* A status that is neither success nor error. */
  server_reply_json (server, 304, NULL);
  cx_test_bus_command_fails (window->bus, GET, "{\"id\":\"cb-1\"}", CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_INTERNAL, "unexpected status 304");

  /* The server is well again. */
  server_reply_json (server, 200, CALLBACK_JSON);
  {
    g_autoptr (JsonNode) result = cx_test_bus_command_ok (window->bus, GET, "{\"id\":\"cb-1\"}");

    g_assert_cmpstr (cx_test_object_string (json_node_get_object (result), "state"), ==, "QUEUED");
  }

  window_free (window);
  server_free (server);
}

/* 200 with what is not a callback, not slots, or not JSON at all. */
static void
test_callback_malformed (void)
{
  static const struct
  {
    const char *command;
    const char *json;
    const char *content_type;
    const char *body;
    const char *needle;
  } cases[] = {
    { GET, "{\"id\":\"cb-1\"}", "application/json", "{\"_id\":\"cb-1\",", "not valid" },
    { GET, "{\"id\":\"cb-1\"}", "text/html", "<html>Welcome</html>", "not valid" },
    { GET, "{\"id\":\"cb-1\"}", "application/json", "", "not valid" },
    { GET, "{\"id\":\"cb-1\"}", "application/json", "[]", "not valid" },
    { GET, "{\"id\":\"cb-1\"}", "application/json", "{\"_id\":42}", "not valid" },
    /* Another callback than the one asked for. */
    { GET, "{\"id\":\"cb-2\"}", "application/json", CALLBACK_JSON, "another callback" },
    { AVAILABILITY, NULL, "application/json", "{\"slots\":\"soon\"}", "not valid" },
    { AVAILABILITY, NULL, "application/json", "{\"2030-01-01T10:00:00.000Z\":\"many\"}",
      "not valid" },
    { SCHEDULE, NOW, "application/json", "{\"_id\":\"\"}", "not valid" },
  };
  Server *server = server_new ();
  Window *window = callback_window_new (server->url);
  g_autofree char *huge = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      server_reply (server, 200, cases[i].content_type, cases[i].body);
      cx_test_bus_command_fails (window->bus, cases[i].command, cases[i].json, CX_CALLBACK_ERROR,
                                 CX_CALLBACK_ERROR_INTERNAL, cases[i].needle);
    }
  g_assert_cmpuint (server->requests, ==, G_N_ELEMENTS (cases));

  /* Over the service's limit: read no further than that. */
  huge = g_strnfill (CX_CALLBACK_MAX_REPLY_SIZE + 1, ' ');
  server_reply (server, 200, "application/json", huge);
  cx_test_bus_command_fails (window->bus, GET, "{\"id\":\"cb-1\"}", CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_INTERNAL, "larger than");

  window_free (window);
  server_free (server);
}

/* The server hangs up in the middle of a request, then is gone: unavailable, saying so. */
static void
test_callback_vanishes (void)
{
  Server *server = server_new ();
  g_autofree char *url = g_strdup (server->url);
  Window *window = callback_window_new (url);

  server_hang_up (server);
  cx_test_bus_command_fails (window->bus, SCHEDULE, NOW, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_UNAVAILABLE, "Could not reach the callback service");
  assert_error_event (window, "CallbackService.scheduleError", 503, "Could not reach");
  g_assert_cmpuint (server->requests, >=, 1);

  g_clear_pointer (&server, server_free);
  cx_test_bus_command_fails (window->bus, AVAILABILITY, NULL, CX_CALLBACK_ERROR,
                             CX_CALLBACK_ERROR_UNAVAILABLE, "Connection refused");
  assert_error_event (window, "CallbackService.availabilityError", 503, "Connection refused");
  g_assert_cmpuint (cx_test_recorder_count (window->events, "CallbackService.scheduleError"), ==,
                    1);

  window_free (window);
}

/* StatsService */

#define GET_STATS "StatsService.getStats"
#define SUPPORT "{\"vqName\":\"customer-support\"}"

/* getStats fails with the reason, and publishes nothing (its events are for polling). */
static void
test_stats_errors (void)
{
  static const struct
  {
    guint status;
    const char *content_type;
    const char *body;
    gboolean reply_invalid; /* CX_PROTOCOL_ERROR, else CX_HTTP_ERROR */
    int code;
    const char *needle;
  } cases[] = {
    { 404, "application/json", "{\"code\":404,\"message\":\"no such queue\"}", FALSE,
      CX_HTTP_ERROR_STATUS, "404" },
    { 500, "text/html", "<html>oops</html>", FALSE, CX_HTTP_ERROR_STATUS, "500" },
    { 503, NULL, NULL, FALSE, CX_HTTP_ERROR_STATUS, "503" },
    { 200, "application/json", "{\"ewt\":", TRUE, CX_PROTOCOL_ERROR_INVALID, NULL },
    { 200, "text/html", "<html>Welcome</html>", TRUE, CX_PROTOCOL_ERROR_INVALID, NULL },
    { 200, "application/json", "[]", TRUE, CX_PROTOCOL_ERROR_INVALID, "ewt" },
    { 200, "application/json", "{\"ewt\":[]}", TRUE, CX_PROTOCOL_ERROR_INVALID, "ewt" },
    { 200, "application/json", "{\"ewt\":{}}", TRUE, CX_PROTOCOL_ERROR_INVALID,
      "customer-support" },
    { 200, "application/json", "{\"ewt\":{\"customer-support\":\"soon\"}}", TRUE,
      CX_PROTOCOL_ERROR_INVALID, "customer-support" },
    { 200, "application/json", "{\"ewt\":{\"customer-support\":1.5}}", TRUE,
      CX_PROTOCOL_ERROR_INVALID, "customer-support" },
    { 200, "application/json", "{\"ewt\":{\"customer-support\":-2}}", TRUE,
      CX_PROTOCOL_ERROR_INVALID, "customer-support" },
    { 200, "application/json", "{\"ewt\":{\"customer-support\":99999999999999}}", TRUE,
      CX_PROTOCOL_ERROR_INVALID, "customer-support" },
  };
  Server *server = server_new ();
  Window *window = stats_window_new (server);
  g_autofree char *huge = NULL;
  g_autoptr (JsonNode) ok = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GQuark domain = cases[i].reply_invalid ? CX_PROTOCOL_ERROR : CX_HTTP_ERROR;

      server_reply (server, cases[i].status, cases[i].content_type, cases[i].body);
      cx_test_bus_command_fails (window->bus, GET_STATS, SUPPORT, domain, cases[i].code,
                                 cases[i].needle);
    }
  g_assert_cmpuint (server->requests, ==, G_N_ELEMENTS (cases));
  g_assert_cmpstr (server->last_path, ==, STATS_PATH);

  /* Over the service's limit (256 KiB): CxHttp stops reading there. */
  huge = g_strnfill (300 * 1024, ' ');
  server_reply (server, 200, "application/json", huge);
  cx_test_bus_command_fails (window->bus, GET_STATS, SUPPORT, CX_HTTP_ERROR,
                             CX_HTTP_ERROR_TOO_LARGE, "over the 262144-byte limit");

  /* Cut off */
  server_hang_up (server);
  cx_test_bus_command_fails (window->bus, GET_STATS, SUPPORT, CX_HTTP_ERROR, CX_HTTP_ERROR_NETWORK,
                             NULL);

  /* Well again */
  server_reply_json (server, 200, "{\"ewt\":{\"customer-support\":42}}");
  ok = cx_test_bus_command_ok (window->bus, GET_STATS, SUPPORT);
  g_assert_cmpint (
      cx_test_object_int (json_object_get_object_member (json_node_get_object (ok), "ewt"),
                          "customer-support"),
      ==, 42);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "StatsService.error"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "StatsService.updated"), ==, 0);

  window_free (window);
  server_free (server);
}

/* Waits until @more polls have reached @server and the one after them has begun: the last of
 * them has been answered. */
static void
wait_polls (Server *server, guint more)
{
  cx_test_wait_at_least (&server->requests, server->requests + more + 1);
}

/* Polling: a bad reply starts an outage, reported once whatever goes wrong next; a good one
 * ends it; a server that vanishes starts another. */
static void
test_stats_polling_outage (void)
{
  Server *server = server_new ();
  Window *window = stats_window_new (server);
  g_autoptr (JsonNode) started = NULL;
  JsonObject *error;
  JsonObject *updated;

  server_reply (server, 500, "text/plain", "down for maintenance");
  started = cx_test_bus_command_ok (window->bus, "StatsService.startPolling",
                                    "{\"queues\":[\"customer-support\"]}");
  error = cx_test_event_object (cx_test_recorder_wait (window->events, "StatsService.error", 1));
  g_assert_nonnull (strstr (cx_test_object_string (error, "message"), "500"));

  /* Other failures, the same outage. */
  server_reply_json (server, 200, "{\"ewt\":{\"sales\":3}}");
  wait_polls (server, 1);
  server_reply (server, 200, "text/html", "<html>");
  wait_polls (server, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "StatsService.error"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "StatsService.updated"), ==, 0);

  /* Back: the estimate is published, and the next outage is reported again. */
  server_reply_json (server, 200, "{\"ewt\":{\"customer-support\":0}}");
  updated =
      cx_test_event_object (cx_test_recorder_wait (window->events, "StatsService.updated", 1));
  g_assert_cmpint (
      cx_test_object_int (json_object_get_object_member (updated, "ewt"), "customer-support"), ==,
      0);

  server_hang_up (server);
  cx_test_recorder_wait (window->events, "StatsService.error", 2);

  window_free (window);
  server_free (server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/service-errors/callback/refusals", test_callback_refusals);
  g_test_add_func ("/service-errors/callback/server-errors", test_callback_server_errors);
  g_test_add_func ("/service-errors/callback/malformed", test_callback_malformed);
  g_test_add_func ("/service-errors/callback/vanishes", test_callback_vanishes);
  g_test_add_func ("/service-errors/stats/errors", test_stats_errors);
  g_test_add_func ("/service-errors/stats/polling-outage", test_stats_polling_outage);

  return g_test_run ();
}
