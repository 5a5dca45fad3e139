/* test-stats-service.c: CxStatsService against the real cxdesk-server, driven through its bus as
 * the ChannelSelector will drive it: getStats with and without an agent, polling that publishes
 * only changes, an outage that is reported once and ends when the server is back. Also the
 * ChannelSelector's availability rule, which needs no server (/stats-service/availability, run
 * on its own in the unit suite).
 *
 * The server restarts on another port: the service talks to it through a forwarder on a fixed
 * loopback port, as it would through a load balancer, so that its dataURL stays the same and a
 * dead server looks as it would in production (connections cut, new ones closed at once).
 * Making dataURL changeable would have tested a reconfiguration instead, which is not what an
 * outage is.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-stats-service"

#include "config.h"

#include <string.h>

#include "bus/cx-bus.h"
#include "cx-test-bus.h"
#include "cx-test-server.h"
#include "services/cx-http.h"
#include "services/cx-stats-service.h"

typedef CxTestFixture Fixture;

/* The availability rule */

static void
test_availability (void)
{
  static const struct
  {
    gint64 ewt;
    guint min;
    guint max;
    CxChannelAvailability expected;
    guint minutes;
  } cases[] = {
    /* The ChannelSelector's defaults, 300 s and 480 s. */
    { -1, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    { -5, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    { G_MININT64, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    { 0, 300, 480, CX_CHANNEL_AVAILABLE, 0 },
    { 1, 300, 480, CX_CHANNEL_AVAILABLE, 0 },
    { 300, 300, 480, CX_CHANNEL_AVAILABLE, 0 },
    { 301, 300, 480, CX_CHANNEL_BUSY, 6 },
    { 359, 300, 480, CX_CHANNEL_BUSY, 6 },
    { 360, 300, 480, CX_CHANNEL_BUSY, 6 },
    { 361, 300, 480, CX_CHANNEL_BUSY, 7 },
    { 480, 300, 480, CX_CHANNEL_BUSY, 8 },
    { 481, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    { 3600, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    { G_MAXINT64, 300, 480, CX_CHANNEL_UNAVAILABLE, 0 },
    /* Other thresholds: minutes round up, from the first second. */
    { 0, 0, 60, CX_CHANNEL_AVAILABLE, 0 },
    { 1, 0, 60, CX_CHANNEL_BUSY, 1 },
    { 60, 0, 60, CX_CHANNEL_BUSY, 1 },
    { 61, 0, 60, CX_CHANNEL_UNAVAILABLE, 0 },
    { G_MAXUINT, 0, G_MAXUINT, CX_CHANNEL_BUSY, (G_MAXUINT / 60) + 1 },
    /* An upper threshold at or below the lower one: never busy. */
    { 300, 300, 300, CX_CHANNEL_AVAILABLE, 0 },
    { 301, 300, 300, CX_CHANNEL_UNAVAILABLE, 0 },
    { 200, 300, 100, CX_CHANNEL_AVAILABLE, 0 },
    { 301, 300, 100, CX_CHANNEL_UNAVAILABLE, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint minutes = 12345;
      CxChannelAvailability got =
          cx_stats_availability (cases[i].ewt, cases[i].min, cases[i].max, &minutes);

      if (got != cases[i].expected || minutes != cases[i].minutes)
        g_error ("ewt %" G_GINT64_FORMAT " (%u, %u): expected %d / %u min, got %d / %u min",
                 cases[i].ewt, cases[i].min, cases[i].max, cases[i].expected, cases[i].minutes, got,
                 minutes);
      /* minutes_out is optional. */
      g_assert_cmpint (cx_stats_availability (cases[i].ewt, cases[i].min, cases[i].max, NULL), ==,
                       cases[i].expected);
    }

  g_assert_cmpint (cx_stats_availability (420, CX_STATS_THRESHOLD_MIN_DEFAULT,
                                          CX_STATS_THRESHOLD_MAX_DEFAULT, NULL),
                   ==, CX_CHANNEL_BUSY);
}

/* A window: a bus, the service on it, what it published, and the requests that went out */

typedef struct
{
  CxHttp *http;
  CxBus *bus;
  CxStatsService *service;
  CxTestRecorder *events; /* what the service published */
  guint requests;
  gulong queued_id;
} Window;

static Window *
window_new (const char *base_url)
{
  Window *window = g_new0 (Window, 1);
  g_autoptr (JsonObject) config = json_object_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *data_url = g_strconcat (base_url, "cx/1/ewt", NULL);

  json_object_set_string_member (config, "dataURL", data_url);
  /* The shortest the service takes: clamped up from 10. */
  json_object_set_int_member (config, "pollInterval", 10);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (config, "ajaxTimeout", 10000);

  window->http = cx_http_new (NULL);
  window->bus = cx_bus_new ();
  window->events = cx_test_recorder_new (window->bus, CX_STATS_SERVICE_NAME);
  window->queued_id =
      cx_test_count_requests (cx_http_get_session (window->http), &window->requests);
  window->service = cx_stats_service_new (window->bus, window->http, config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (window->service);
  g_assert_cmpuint (cx_stats_service_get_poll_interval (window->service), ==, 1000);
  return window;
}

static void
window_free (Window *window)
{
  g_assert_finalize_object (g_steal_pointer (&window->service));
  cx_test_recorder_free (window->events);
  g_assert_finalize_object (window->bus);
  g_signal_handler_disconnect (cx_http_get_session (window->http), window->queued_id);
  cx_test_finalize_when_unwound (window->http);
  g_free (window);
}

/* The data of the @nth (from 1) "StatsService.@name", which must be there; wait_event() waits
 * for it first. */
static JsonObject *
nth_event (Window *window, const char *name, guint nth)
{
  return cx_test_event_object (cx_test_recorder_nth (window->events, name, nth));
}

static JsonObject *
wait_event (Window *window, const char *name, guint nth)
{
  return cx_test_event_object (cx_test_recorder_wait (window->events, name, nth));
}

/* Waits until @more requests have gone out, and the last of them has been answered: the one
 * after it has started. */
static void
wait_polls (Window *window, guint more)
{
  cx_test_wait_at_least (&window->requests, window->requests + more + 1);
}

/* The estimate of @queue in an {ewt: {…}} object. */
static gint64
ewt_of (JsonObject *object, const char *queue)
{
  JsonObject *ewt = json_object_get_object_member (object, "ewt");

  g_assert_nonnull (ewt);
  return cx_test_object_int (ewt, queue);
}

typedef struct
{
  Window *window;
  const char *queue;
  gboolean (*predicate) (gint64 ewt);
} UpdateWait;

static gboolean
latest_update_matches (gpointer data)
{
  UpdateWait *wait = data;
  guint count = cx_test_recorder_count (wait->window->events, "updated");

  return count > 0 &&
         wait->predicate (ewt_of (nth_event (wait->window, "updated", count), wait->queue));
}

static void
wait_update (Window *window, const char *queue, gboolean (*predicate) (gint64 ewt))
{
  UpdateWait wait = { window, queue, predicate };

  cx_test_wait (latest_update_matches, &wait);
}

static gboolean
is_zero (gint64 ewt)
{
  return ewt == 0;
}

static gboolean
is_positive (gint64 ewt)
{
  return ewt > 0;
}

/* No two "updated" in a row say the same. */
static void
assert_updates_differ (Window *window)
{
  guint count = cx_test_recorder_count (window->events, "updated");

  for (guint i = 2; i <= count; i++)
    {
      g_autoptr (JsonNode) previous =
          json_node_init_object (json_node_alloc (), nth_event (window, "updated", i - 1));
      g_autoptr (JsonNode) current =
          json_node_init_object (json_node_alloc (), nth_event (window, "updated", i));

      g_assert_false (json_node_equal (previous, current));
    }
}

/* Commands, as the application ("App") makes them */

static JsonNode *
command (Window *window, const char *name, const char *json)
{
  g_autofree char *full = g_strconcat (CX_STATS_SERVICE_NAME ".", name, NULL);

  return cx_test_bus_command_ok (window->bus, full, json);
}

static void
command_fails (Window *window, const char *name, const char *json, GQuark domain, int code)
{
  g_autofree char *full = g_strconcat (CX_STATS_SERVICE_NAME ".", name, NULL);

  cx_test_bus_command_fails (window->bus, full, json, domain, code, NULL);
}

static JsonObject *
get_stats (Window *window, const char *json)
{
  g_autoptr (JsonNode) result = command (window, "getStats", json);

  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return json_object_ref (json_node_get_object (result));
}

/* Tests */

static void
test_get_stats (Fixture *f, gconstpointer data)
{
  Window *window = window_new (cx_test_server_get_url (f->server));
  g_autoptr (JsonObject) nobody = NULL;
  g_autoptr (JsonObject) away = NULL;
  g_autoptr (JsonObject) ready = NULL;
  g_autoptr (JsonObject) sales = NULL;
  g_autoptr (CxTestAgent) agent = NULL;
  guint requests;

  /* Nobody who serves the queue is signed in: unknown. */
  nobody = get_stats (window, "{\"group\":\"EWT\",\"vqName\":\"customer-support\"}");
  g_assert_cmpint (ewt_of (nobody, "customer-support"), ==, -1);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (nobody, "ewt")), ==, 1);

  /* Signed in, not ready: a wait. Ready with room: none. */
  agent = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_set_state (agent, "not_ready");
  away = get_stats (window, "{\"vqName\":[\"customer-support\"]}");
  g_assert_cmpint (ewt_of (away, "customer-support"), >, 0);
  cx_test_agent_set_state (agent, "ready");
  ready = get_stats (window, "{\"group\":\"EWT\",\"vqName\":[\"customer-support\",\"sales\","
                             "\"customer-support\"]}");
  g_assert_cmpint (ewt_of (ready, "customer-support"), >=, 0);
  g_assert_cmpint (ewt_of (ready, "customer-support"), ==, 0);
  g_assert_cmpint (ewt_of (ready, "sales"), ==, 0);
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (ready, "ewt")), ==, 2);

  /* Bad input is refused before any request; a queue the server does not have, by it. */
  requests = window->requests;
  command_fails (window, "getStats", NULL, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"group\":\"AGENTS\",\"vqName\":\"sales\"}", CX_BUS_ERROR,
                 CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"group\":\"EWT\"}", CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"vqName\":[]}", CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"vqName\":[\"sales\",7]}", CX_BUS_ERROR,
                 CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"vqName\":\"\"}", CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  command_fails (window, "getStats", "{\"vqName\":\"a\\nb\"}", CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  command_fails (window, "startPolling", "{\"queues\":{}}", CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_cmpuint (window->requests, ==, requests);
  command_fails (window, "getStats", "{\"vqName\":\"no-such-queue\"}", CX_HTTP_ERROR,
                 CX_HTTP_ERROR_STATUS);
  g_assert_cmpuint (window->requests, ==, requests + 1);

  /* Escaped as it should be. */
  sales = get_stats (window, "{\"vqName\":\"sales\"}");
  g_assert_cmpint (ewt_of (sales, "sales"), ==, 0);

  /* getStats alone publishes nothing. */
  g_assert_cmpuint (cx_test_recorder_count (window->events, "updated"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "error"), ==, 0);

  window_free (window);
}

static void
test_polling (Fixture *f, gconstpointer data)
{
  Window *window = window_new (cx_test_server_get_url (f->server));
  g_autoptr (CxTestAgent) agent = NULL;
  g_autoptr (JsonNode) started = NULL;
  g_autoptr (JsonNode) stopped = NULL;
  JsonObject *first;
  guint updates;

  started = command (window, "startPolling", "{\"queues\":[\"customer-support\"]}");
  g_assert_true (cx_stats_service_get_polling (window->service));
  first = wait_event (window, "updated", 1);
  g_assert_cmpint (ewt_of (first, "customer-support"), ==, -1);

  /* Polls that find nothing new publish nothing. */
  wait_polls (window, 2);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "updated"), ==, 1);

  /* The agent comes in and gets ready; then steps away. */
  agent = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_set_state (agent, "ready");
  wait_update (window, "customer-support", is_zero);
  cx_test_agent_set_state (agent, "not_ready");
  wait_update (window, "customer-support", is_positive);
  cx_test_agent_set_state (agent, "ready");
  wait_update (window, "customer-support", is_zero);
  updates = cx_test_recorder_count (window->events, "updated");
  g_assert_cmpuint (updates, >=, 4);
  wait_polls (window, 2);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "updated"), ==, updates);
  assert_updates_differ (window);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "error"), ==, 0);

  /* Polling something else starts afresh: its first poll publishes. */
  g_clear_pointer (&started, json_node_unref);
  started = command (window, "startPolling", "{\"queues\":[\"sales\",\"customer-support\"]}");
  first = wait_event (window, "updated", updates + 1);
  g_assert_cmpint (ewt_of (first, "sales"), ==, 0);
  g_assert_cmpint (ewt_of (first, "customer-support"), ==, 0);

  stopped = command (window, "stopPolling", NULL);
  g_assert_false (cx_stats_service_get_polling (window->service));

  window_free (window);
}

/* The server dies: "error" once, however many polls fail; it comes back: "updated" again. */
static void
test_outage (Fixture *f, gconstpointer data)
{
  CxTestForwarder *forwarder = cx_test_forwarder_new (f->server);
  Window *window = window_new (cx_test_forwarder_get_url (forwarder));
  g_autoptr (JsonNode) started = NULL;
  JsonObject *error;
  JsonObject *back;

  started = command (window, "startPolling", "{\"queues\":[\"customer-support\",\"sales\"]}");
  wait_event (window, "updated", 1);

  cx_test_server_kill9 (f->server);
  error = wait_event (window, "error", 1);
  g_assert_cmpuint (strlen (cx_test_object_string (error, "message")), >, 0);
  wait_polls (window, 3);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "error"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "updated"), ==, 1);

  /* Back on another port, behind the same address: the same estimates, said again. */
  cx_test_server_restart (f->server);
  back = wait_event (window, "updated", 2);
  g_assert_cmpint (ewt_of (back, "customer-support"), ==, -1);
  g_assert_cmpint (ewt_of (back, "sales"), ==, -1);
  wait_polls (window, 2);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "updated"), ==, 2);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "error"), ==, 1);

  /* A second outage is reported too. */
  cx_test_server_kill9 (f->server);
  wait_event (window, "error", 2);
  cx_test_server_restart (f->server);
  wait_event (window, "updated", 3);

  window_free (window);
  cx_test_forwarder_free (forwarder);
}

/* The window closes while a poll runs (or waits): nothing is left behind. */
static void
test_dispose_polling (Fixture *f, gconstpointer data)
{
  Window *window = window_new (cx_test_server_get_url (f->server));
  g_autoptr (JsonNode) started = NULL;

  started = command (window, "startPolling", "{\"queues\":[\"customer-support\"]}");
  cx_test_wait_at_least (&window->requests, 1);

  window_free (window);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/stats-service/availability", test_availability);
  cx_test_add ("/stats-service/get-stats", NULL, NULL, test_get_stats);
  cx_test_add ("/stats-service/polling", NULL, NULL, test_polling);
  cx_test_add ("/stats-service/outage", NULL, NULL, test_outage);
  cx_test_add ("/stats-service/dispose-polling", NULL, NULL, test_dispose_polling);

  return g_test_run ();
}
