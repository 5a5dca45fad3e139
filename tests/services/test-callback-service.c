/* test-callback-service.c: CxCallbackService against the real cxdesk-server, driven through its
 * bus as the callback panel will drive it: booking as soon as possible and at a free slot,
 * availability that counts the bookings, a full slot, an office that is closed, moving and
 * cancelling a callback, input refused before any request, a dead server, a silent one, and a
 * window closed while a request runs.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-callback-service"

#include "config.h"

#include <string.h>

#include "bus/cx-bus.h"
#include "cx-test-bus.h"
#include "cx-test-server.h"
#include "protocol/cx-gms-callback.h"
#include "services/cx-callback-service.h"
#include "services/cx-http.h"

#define SERVICE "customer-support"
#define PHONE "+1 (555) 123-4567"
#define PHONE_NORMALIZED "+15551234567"

typedef CxTestFixture Fixture;

/* A window: a bus, the service on it, what it published, and how many requests went out */

typedef struct
{
  CxHttp *http;
  CxBus *bus;
  CxCallbackService *service;
  CxTestRecorder *events; /* what the service published */
  guint requests;
  gulong queued_id;
} Window;

static JsonObject *
make_config (const char *base_url)
{
  JsonObject *config = json_object_new ();
  JsonObject *calendar = json_object_new ();
  g_autofree char *data_url = g_strconcat (base_url, "genesys/1/service/callback/" SERVICE, NULL);

  json_object_set_string_member (config, "dataURL", data_url);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (config, "ajaxTimeout", 10000);
  json_object_set_int_member (calendar, "numberOfDays", 2);
  json_object_set_object_member (config, "calendar", calendar);
  return config;
}

static Window *
window_new (JsonObject *config)
{
  Window *window = g_new0 (Window, 1);
  g_autoptr (GError) error = NULL;

  window->http = cx_http_new (NULL);
  window->bus = cx_bus_new ();
  window->events = cx_test_recorder_new (window->bus, CX_CALLBACK_SERVICE_NAME);
  window->queued_id =
      cx_test_count_requests (cx_http_get_session (window->http), &window->requests);
  window->service = cx_callback_service_new (window->bus, window->http, config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (window->service);
  return window;
}

static Window *
window_for_server (Fixture *f)
{
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server));

  return window_new (config);
}

static void
window_free (Window *window)
{
  if (window->service != NULL)
    g_assert_finalize_object (g_steal_pointer (&window->service));
  cx_test_recorder_free (window->events);
  g_assert_finalize_object (window->bus);
  g_signal_handler_disconnect (cx_http_get_session (window->http), window->queued_id);
  cx_test_finalize_when_unwound (window->http);
  g_free (window);
}

/* Commands, as the application ("App") makes them */

/* Runs a command that must succeed; returns its result, an object. */
static JsonObject *
command (Window *window, const char *name, const char *json)
{
  g_autofree char *full = g_strconcat (CX_CALLBACK_SERVICE_NAME ".", name, NULL);
  g_autoptr (JsonNode) result = cx_test_bus_command_ok (window->bus, full, json);

  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return json_object_ref (json_node_get_object (result));
}

/* Runs a command that must fail with @domain and @code, saying @needle (nullable). */
static void
command_fails (Window *window, const char *name, const char *json, GQuark domain, int code,
               const char *needle)
{
  g_autofree char *full = g_strconcat (CX_CALLBACK_SERVICE_NAME ".", name, NULL);

  cx_test_bus_command_fails (window->bus, full, json, domain, code, needle);
}

/* Slots */

static gint64
time_of (const char *iso)
{
  g_autoptr (GError) error = NULL;
  gint64 ms = -1;

  g_assert_nonnull (iso);
  g_assert_true (cx_iso8601_parse (iso, &ms, &error));
  g_assert_no_error (error);
  return ms;
}

static JsonArray *
slots_of (JsonObject *availability)
{
  JsonArray *slots = json_object_get_array_member (availability, "slots");

  g_assert_nonnull (slots);
  return slots;
}

/* The capacity of the slot at @time, -1 if it is not listed. */
static gint64
capacity_at (JsonObject *availability, const char *time)
{
  JsonArray *slots = slots_of (availability);

  for (guint i = 0; i < json_array_get_length (slots); i++)
    {
      JsonObject *slot = json_array_get_object_element (slots, i);

      if (g_str_equal (cx_test_object_string (slot, "time"), time))
        return cx_test_object_int (slot, "capacity");
    }
  return -1;
}

/* The start of the @nth (from 0) slot that begins in the future and has room. */
static char *
future_slot (JsonObject *availability, guint nth)
{
  JsonArray *slots = slots_of (availability);
  gint64 now = g_get_real_time () / 1000;
  gint64 previous = -1;

  for (guint i = 0; i < json_array_get_length (slots); i++)
    {
      JsonObject *slot = json_array_get_object_element (slots, i);
      const char *time = cx_test_object_string (slot, "time");
      gint64 ms = time_of (time);

      /* In time order. */
      g_assert_cmpint (ms, >, previous);
      previous = ms;
      if (ms > now + 60 * 1000 && cx_test_object_int (slot, "capacity") > 0 && nth-- == 0)
        return g_strdup (time);
    }
  g_error ("no free slot ahead");
  return NULL;
}

static char *
schedule_json (const char *desired_time)
{
  return g_strdup_printf ("{\"firstname\":\"Grace\",\"lastname\":\"Hopper\","
                          "\"phoneNumber\":\"" PHONE "\",\"desiredTime\":\"%s\","
                          "\"subject\":\"Billing <b>question</b>\","
                          "\"userData\":{\"order\":\"A-42\",\"vip\":true,\"items\":3}}",
                          desired_time);
}

/* The secret @window's app keeps for callback @id (issue 9), or NULL. */
static char *
kept_secret (Window *window, const char *id)
{
  g_autofree char *text = cx_http_get_site_cookie (
      window->http, cx_callback_service_get_data_url (window->service), CX_CALLBACK_COOKIE_SECRETS);
  g_autoptr (JsonNode) root = text != NULL ? json_from_string (text, NULL) : NULL;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return g_strdup (
      json_object_get_string_member_with_default (json_node_get_object (root), id, NULL));
}

/* The server's own account of a callback, asked with the secret @window's app keeps. */
static JsonObject *
server_callback (Fixture *f, Window *window, const char *id)
{
  g_autofree char *url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/" SERVICE "/%s", id);
  g_autofree char *secret = kept_secret (window, id);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (CxTestReply) reply = NULL;

  g_assert_nonnull (secret);
  soup_message_headers_replace (soup_message_get_request_headers (msg), CX_CALLBACK_SECRET_HEADER,
                                secret);
  reply = cx_test_send (f->session, msg);

  g_assert_cmpuint (reply->status, ==, 200);
  return json_object_ref (cx_test_reply_object (reply));
}

static void
assert_callback (JsonObject *callback, const char *state)
{
  JsonObject *properties = json_object_get_object_member (callback, "properties");

  g_assert_cmpuint (strlen (cx_test_object_string (callback, "id")), >, 0);
  g_assert_cmpstr (cx_test_object_string (callback, "serviceName"), ==, SERVICE);
  g_assert_cmpstr (cx_test_object_string (callback, "state"), ==, state);
  g_assert_cmpstr (cx_test_object_string (callback, "customerNumber"), ==, PHONE_NORMALIZED);
  time_of (cx_test_object_string (callback, "desiredTime"));
  time_of (cx_test_object_string (callback, "expirationTime"));
  g_assert_nonnull (properties);
  g_assert_cmpstr (cx_test_object_string (properties, "firstname"), ==, "Grace");
  g_assert_cmpstr (cx_test_object_string (properties, "lastname"), ==, "Hopper");
  g_assert_cmpstr (cx_test_object_string (properties, "subject"), ==, "Billing <b>question</b>");
  g_assert_cmpstr (cx_test_object_string (properties, "order"), ==, "A-42");
  g_assert_cmpstr (cx_test_object_string (properties, "vip"), ==, "true");
  g_assert_cmpstr (cx_test_object_string (properties, "items"), ==, "3");
}

/* Tests */

/* As soon as possible: QUEUED now, "scheduled" with the same callback, and the server has it. */
static void
test_schedule_now (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autofree char *json = schedule_json ("now");
  g_autofree char *get_json = NULL;
  g_autoptr (JsonObject) callback = NULL;
  g_autoptr (JsonObject) fetched = NULL;
  g_autoptr (JsonObject) stored = NULL;
  JsonObject *scheduled;
  const char *id;
  gint64 now = g_get_real_time () / 1000;

  callback = command (window, "schedule", json);
  assert_callback (callback, "QUEUED");
  id = cx_test_object_string (callback, "id");
  g_assert_cmpint (ABS (time_of (cx_test_object_string (callback, "desiredTime")) - now), <,
                   10 * 60 * 1000);

  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduled"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduleError"), ==, 0);
  scheduled = cx_test_recorder_last_object (window->events, "scheduled");
  g_assert_cmpstr (cx_test_object_string (scheduled, "id"), ==, id);

  /* The server's account, and get's, agree. */
  stored = server_callback (f, window, id);
  g_assert_cmpstr (cx_test_object_string (stored, "_customer_number"), ==, PHONE_NORMALIZED);
  g_assert_cmpstr (cx_test_object_string (stored, "_callback_state"), ==, "QUEUED");
  g_assert_cmpstr (cx_test_object_string (stored, "subject"), ==, "Billing <b>question</b>");
  get_json = g_strdup_printf ("{\"id\":\"%s\"}", id);
  fetched = command (window, "get", get_json);
  assert_callback (fetched, "QUEUED");
  g_assert_cmpstr (cx_test_object_string (fetched, "desiredTime"), ==,
                   cx_test_object_string (callback, "desiredTime"));

  /* An unknown id. */
  command_fails (window, "get", "{\"id\":\"no-such-callback\"}", CX_CALLBACK_ERROR,
                 CX_CALLBACK_ERROR_NOT_FOUND, NULL);

  window_free (window);
}

/* At a free slot from availability: SCHEDULED at that time, and the slot has one place less. */
static void
test_schedule_slot (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autoptr (JsonObject) before = NULL;
  g_autoptr (JsonObject) after = NULL;
  g_autoptr (JsonObject) few = NULL;
  g_autoptr (JsonObject) callback = NULL;
  g_autofree char *slot = NULL;
  g_autofree char *json = NULL;
  JsonObject *published;
  gint64 capacity;

  before = command (window, "availability", NULL);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "availableSlots"), ==, 1);
  published = cx_test_recorder_last_object (window->events, "availableSlots");
  g_assert_cmpuint (json_array_get_length (slots_of (published)), ==,
                    json_array_get_length (slots_of (before)));
  /* Two days (calendar.numberOfDays) of 30-minute slots, most of them. */
  g_assert_cmpuint (json_array_get_length (slots_of (before)), >, 48);

  slot = future_slot (before, 0);
  capacity = capacity_at (before, slot);
  g_assert_cmpint (capacity, ==, 2);

  json = schedule_json (slot);
  callback = command (window, "schedule", json);
  assert_callback (callback, "SCHEDULED");
  g_assert_cmpint (time_of (cx_test_object_string (callback, "desiredTime")), ==, time_of (slot));

  after = command (window, "availability", "{\"numberOfDays\":1}");
  g_assert_cmpint (capacity_at (after, slot), ==, capacity - 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "availableSlots"), ==, 2);

  /* maxTimeSlots and startDate are the server's to apply. */
  g_free (json);
  json = g_strdup_printf ("{\"startDate\":\"%s\",\"maxTimeSlots\":3}", slot);
  few = command (window, "availability", json);
  g_assert_cmpuint (json_array_get_length (slots_of (few)), ==, 3);
  g_assert_cmpstr (
      cx_test_object_string (json_array_get_object_element (slots_of (few), 0), "time"), ==, slot);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "availabilityError"), ==, 0);

  window_free (window);
}

/* slotCapacity 1: the second booking of a slot is refused, in people's words. */
static void
test_slot_full (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autoptr (JsonObject) before = NULL;
  g_autoptr (JsonObject) after = NULL;
  g_autoptr (JsonObject) first = NULL;
  g_autofree char *slot = NULL;
  g_autofree char *json = NULL;
  JsonObject *refusal;

  before = command (window, "availability", NULL);
  slot = future_slot (before, 0);
  g_assert_cmpint (capacity_at (before, slot), ==, 1);

  json = schedule_json (slot);
  first = command (window, "schedule", json);
  command_fails (window, "schedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_SLOT_FULL,
                 "fully booked");

  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduled"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduleError"), ==, 1);
  refusal = cx_test_recorder_last_object (window->events, "scheduleError");
  g_assert_cmpint (cx_test_object_int (refusal, "code"), ==, 409);
  g_assert_nonnull (strstr (cx_test_object_string (refusal, "message"), "fully booked"));

  after = command (window, "availability", NULL);
  g_assert_cmpint (capacity_at (after, slot), ==, 0);

  window_free (window);
}

/* The office is closed now: 7042, said the way people say it. */
static void
test_office_closed (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autofree char *json = schedule_json ("now");
  JsonObject *refusal;

  command_fails (window, "schedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_OFFICE_CLOSED,
                 NULL);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduleError"), ==, 1);
  refusal = cx_test_recorder_last_object (window->events, "scheduleError");
  g_assert_cmpint (cx_test_object_int (refusal, "code"), ==, 7042);
  g_assert_cmpstr (cx_test_object_string (refusal, "message"), ==, "We are closed at that time");
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduled"), ==, 0);
  g_assert_cmpuint (window->requests, ==, 1);

  window_free (window);
}

/* Moving a callback to another slot frees the first; cancelling closes it for good. */
static void
test_reschedule_cancel (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autoptr (JsonObject) availability = NULL;
  g_autoptr (JsonObject) moved_availability = NULL;
  g_autoptr (JsonObject) callback = NULL;
  g_autoptr (JsonObject) moved = NULL;
  g_autoptr (JsonObject) cancelled = NULL;
  g_autoptr (JsonObject) fetched = NULL;
  g_autoptr (JsonObject) stored = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *json = NULL;
  g_autofree char *id = NULL;
  JsonObject *event;

  availability = command (window, "availability", NULL);
  first = future_slot (availability, 0);
  second = future_slot (availability, 1);
  json = schedule_json (first);
  callback = command (window, "schedule", json);
  id = g_strdup (cx_test_object_string (callback, "id"));

  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\",\"desiredTime\":\"%s\"}", id, second);
  moved = command (window, "reschedule", json);
  assert_callback (moved, "SCHEDULED");
  g_assert_cmpstr (cx_test_object_string (moved, "id"), ==, id);
  g_assert_cmpint (time_of (cx_test_object_string (moved, "desiredTime")), ==, time_of (second));
  g_assert_cmpuint (cx_test_recorder_count (window->events, "rescheduled"), ==, 1);
  event = cx_test_recorder_last_object (window->events, "rescheduled");
  g_assert_cmpstr (cx_test_object_string (event, "desiredTime"), ==,
                   cx_test_object_string (moved, "desiredTime"));

  moved_availability = command (window, "availability", NULL);
  g_assert_cmpint (capacity_at (moved_availability, first), ==, capacity_at (availability, first));
  g_assert_cmpint (capacity_at (moved_availability, second), ==,
                   capacity_at (availability, second) - 1);

  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\"}", id);
  cancelled = command (window, "cancel", json);
  g_assert_cmpstr (cx_test_object_string (cancelled, "state"), ==, "CANCELLED");
  g_assert_cmpuint (cx_test_recorder_count (window->events, "cancelled"), ==, 1);
  g_assert_cmpstr (
      cx_test_object_string (cx_test_recorder_last_object (window->events, "cancelled"), "id"), ==,
      id);
  fetched = command (window, "get", json);
  g_assert_cmpstr (cx_test_object_string (fetched, "state"), ==, "CANCELLED");
  stored = server_callback (f, window, id);
  g_assert_cmpstr (cx_test_object_string (stored, "_callback_state"), ==, "CANCELLED");

  /* A cancelled callback cannot move, and an unknown one cannot be cancelled. */
  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\",\"desiredTime\":\"%s\"}", id, first);
  command_fails (window, "reschedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, NULL);
  command_fails (window, "cancel", "{\"id\":\"no-such-callback\"}", CX_CALLBACK_ERROR,
                 CX_CALLBACK_ERROR_NOT_FOUND, NULL);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "rescheduled"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "cancelled"), ==, 1);

  window_free (window);
}

/* Input the server would refuse is refused before any request, with scheduleError or
 * availabilityError for the commands that have one. */
static void
test_invalid_input (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *command;
    const char *json;
    const char *needle;
  } cases[] = {
    { "schedule", NULL, "object" },
    { "schedule", "[1]", "object" },
    { "schedule", "{\"firstname\":\"Grace\"}", "phoneNumber" },
    { "schedule", "{\"phoneNumber\":\"call me maybe\"}", "phone number" },
    { "schedule", "{\"phoneNumber\":\"12\"}", "phone number" },
    { "schedule", "{\"phoneNumber\":\"+1 555 123 4567 8901 2345 6789\"}", "phone number" },
    { "schedule", "{\"phoneNumber\":15551234567}", "phoneNumber" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"desiredTime\":\"tomorrow\"}",
      "desiredTime" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"desiredTime\":\"2030-01-01T10:00:00\"}",
      "desiredTime" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"userData\":{\"a\":{\"b\":1}}}", "userData" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"userData\":{\"_id\":\"x\"}}", "_id" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"userData\":[\"x\"]}", "userData" },
    { "schedule", "{\"phoneNumber\":\"+15551234567\",\"subject\":\"a\\u0001b\"}", "subject" },
    { "schedule",
      "{\"phoneNumber\":\"+15551234567\",\"userData\":{\"_call_direction\":\"SIDEWAYS\"}}",
      "_call_direction" },
    { "availability", "{\"numberOfDays\":0}", "numberOfDays" },
    { "availability", "{\"numberOfDays\":31}", "numberOfDays" },
    { "availability", "{\"numberOfDays\":\"2\"}", "numberOfDays" },
    { "availability", "{\"maxTimeSlots\":0}", "maxTimeSlots" },
    { "availability", "{\"startDate\":\"next week\"}", "startDate" },
    { "availability", "\"today\"", "object" },
    { "get", NULL, "object" },
    { "get", "{}", "id" },
    { "get", "{\"id\":\"\"}", "id" },
    { "get", "{\"id\":\"availability\"}", "id" },
    { "get", "{\"id\":\"..\"}", "id" },
    { "get", "{\"id\":\"a\\nb\"}", "id" },
    { "cancel", "{\"id\":42}", "id" },
    { "reschedule", "{\"id\":\"cb-1\"}", "desiredTime" },
    { "reschedule", "{\"id\":\"cb-1\",\"desiredTime\":\"now\"}", "desiredTime" },
  };
  Window *window = window_for_server (f);
  g_autofree char *long_subject = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GString) many = g_string_new ("{\"phoneNumber\":\"+15551234567\",\"userData\":{");
  g_autoptr (JsonObject) ok = NULL;
  guint schedule_errors = 0;
  guint availability_errors = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      command_fails (window, cases[i].command, cases[i].json, CX_CALLBACK_ERROR,
                     CX_CALLBACK_ERROR_INVALID, cases[i].needle);
      if (g_str_equal (cases[i].command, "schedule"))
        schedule_errors++;
      if (g_str_equal (cases[i].command, "availability"))
        availability_errors++;
      g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduleError"), ==,
                        schedule_errors);
      g_assert_cmpuint (cx_test_recorder_count (window->events, "availabilityError"), ==,
                        availability_errors);
    }

  /* The server's limits: 1024 characters a value, 64 properties. */
  long_subject = g_strnfill (1025, 'x');
  json = g_strdup_printf ("{\"phoneNumber\":\"+15551234567\",\"subject\":\"%s\"}", long_subject);
  command_fails (window, "schedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, "subject");
  for (guint i = 0; i < 65; i++)
    g_string_append_printf (many, "%s\"k%u\":\"v\"", i == 0 ? "" : ",", i);
  g_string_append (many, "}}");
  command_fails (window, "schedule", many->str, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INVALID, "64");
  g_assert_cmpint (
      cx_test_object_int (cx_test_recorder_last_object (window->events, "scheduleError"), "code"),
      ==, 400);

  /* Nothing went out. */
  g_assert_cmpuint (window->requests, ==, 0);

  /* And the counter counts: a good request is one. */
  ok = command (window, "schedule", "{\"phoneNumber\":\"+44 20 7946 0958\"}");
  g_assert_cmpstr (cx_test_object_string (ok, "customerNumber"), ==, "+442079460958");
  g_assert_cmpuint (window->requests, ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduled"), ==, 1);

  window_free (window);
}

/* The server dies: every command fails at once with a clear error, then works again. */
static void
test_server_killed (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  g_autofree char *json = schedule_json ("now");
  g_autoptr (JsonObject) callback = NULL;
  g_autoptr (JsonObject) again = NULL;
  JsonObject *refusal;

  callback = command (window, "schedule", json);
  cx_test_server_kill9 (f->server);

  command_fails (window, "schedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                 "Could not reach the callback service");
  refusal = cx_test_recorder_last_object (window->events, "scheduleError");
  g_assert_cmpint (cx_test_object_int (refusal, "code"), ==, 503);
  g_assert_nonnull (strstr (cx_test_object_string (refusal, "message"), "Connection refused"));

  command_fails (window, "availability", NULL, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                 "Could not reach");
  g_assert_cmpuint (cx_test_recorder_count (window->events, "availabilityError"), ==, 1);
  command_fails (window, "get", "{\"id\":\"whatever\"}", CX_CALLBACK_ERROR,
                 CX_CALLBACK_ERROR_UNAVAILABLE, "Could not reach");

  /* The server comes back on another port, with the same database: a new window finds the
   * callback booked before the crash. */
  cx_test_server_restart (f->server);
  {
    /* Another window of the same app (the same CxHttp, so the same cookies). */
    g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server));
    g_autoptr (GError) error = NULL;

    g_assert_finalize_object (g_steal_pointer (&window->service));
    window->service = cx_callback_service_new (window->bus, window->http, config, &error);
    g_assert_no_error (error);
  }
  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\"}", cx_test_object_string (callback, "id"));
  again = command (window, "get", json);
  g_assert_cmpstr (cx_test_object_string (again, "state"), ==, "QUEUED");

  window_free (window);
}

/* A server that accepts connections and never answers. */

typedef struct
{
  GSocketService *listener;
  GPtrArray *connections; /* GSocketConnection, held open */
  char *url;
} Silent;

static gboolean
silent_incoming_cb (GSocketService *listener, GSocketConnection *connection, GObject *source,
                    gpointer user_data)
{
  Silent *silent = user_data;

  g_ptr_array_add (silent->connections, g_object_ref (connection));
  return TRUE;
}

static Silent *
silent_new (void)
{
  Silent *silent = g_new0 (Silent, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  silent->connections = g_ptr_array_new_with_free_func (g_object_unref);
  silent->listener = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (silent->listener), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
                                 &error);
  g_assert_no_error (error);
  silent->url = g_strdup_printf (
      "http://127.0.0.1:%u/", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_signal_connect (silent->listener, "incoming", G_CALLBACK (silent_incoming_cb), silent);
  g_socket_service_start (silent->listener);
  return silent;
}

static gboolean
has_connection (gpointer data)
{
  return ((Silent *) data)->connections->len > 0;
}

static void
silent_free (Silent *silent)
{
  g_socket_service_stop (silent->listener);
  g_socket_listener_close (G_SOCKET_LISTENER (silent->listener));
  g_signal_handlers_disconnect_by_data (silent->listener, silent);
  /* Its cancelled accept holds it until the main loop has run it. */
  cx_test_wait (cx_test_has_one_ref, silent->listener);
  g_assert_finalize_object (silent->listener);
  for (guint i = 0; i < silent->connections->len; i++)
    g_io_stream_close (g_ptr_array_index (silent->connections, i), NULL, NULL);
  g_ptr_array_unref (silent->connections);
  g_free (silent->url);
  g_free (silent);
}

/* No answer within ajaxTimeout: the command fails, it does not hang. */
static void
test_timeout (Fixture *f, gconstpointer data)
{
  Silent *silent = silent_new ();
  g_autoptr (JsonObject) config = make_config (silent->url);
  g_autofree char *json = schedule_json ("now");
  Window *window;

  json_object_set_int_member (config, "ajaxTimeout", 500);
  window = window_new (config);
  command_fails (window, "schedule", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                 "did not answer within 500 ms");
  g_assert_cmpint (
      cx_test_object_int (cx_test_recorder_last_object (window->events, "scheduleError"), "code"),
      ==, 503);
  command_fails (window, "availability", NULL, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_UNAVAILABLE,
                 "did not answer");
  g_assert_cmpuint (cx_test_recorder_count (window->events, "availabilityError"), ==, 1);

  window_free (window);
  silent_free (silent);
}

/* The window closes while a request runs: its command is answered, nothing leaks. */
static void
test_dispose_in_flight (Fixture *f, gconstpointer data)
{
  Silent *silent = silent_new ();
  g_autoptr (JsonObject) config = make_config (silent->url);
  g_autofree char *json = schedule_json ("now");
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;
  Window *window = window_new (config);

  cx_test_bus_command_start (window->bus, NULL, CX_CALLBACK_SERVICE_NAME ".schedule", json, &slot);
  cx_test_wait (has_connection, silent);
  g_assert_null (slot);

  g_assert_finalize_object (g_steal_pointer (&window->service));
  result = cx_test_bus_command_finish (window->bus, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN);
  g_assert_null (result);
  g_assert_cmpuint (cx_test_recorder_count (window->events, "scheduleError"), ==, 0);

  window_free (window);
  silent_free (silent);
}

/* Issue 9, item 9: the app keeps each booking's secret in its session cookies, so another
 * window of the same app moves and cancels it; another app (another cookie jar) cannot even
 * read it, and nobody lists the service's callbacks without an agent session. */
static void
test_secret_shared_by_windows (Fixture *f, gconstpointer data)
{
  Window *window = window_for_server (f);
  Window *stranger = window_for_server (f);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server));
  g_autoptr (CxBus) other_bus = cx_bus_new ();
  g_autoptr (CxCallbackService) other = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) callback = NULL;
  g_autoptr (JsonObject) availability = NULL;
  g_autoptr (JsonObject) moved = NULL;
  g_autoptr (JsonObject) cancelled = NULL;
  g_autofree char *json = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *list_url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/" SERVICE);
  g_autoptr (CxTestReply) listed = NULL;
  const char *id;

  availability = command (window, "availability", NULL);
  first = future_slot (availability, 0);
  second = future_slot (availability, 1);
  json = schedule_json (first);
  callback = command (window, "schedule", json);
  id = cx_test_object_string (callback, "id");
  secret = kept_secret (window, id);
  g_assert_nonnull (secret);
  g_assert_cmpuint (strlen (secret), >=, 32);
  /* The page is told about the callback, not its secret. */
  g_assert_null (strstr (cx_test_object_string (callback, "id"), secret));

  /* The stranger: not found, like an unknown id, for get, reschedule and cancel. */
  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\"}", id);
  command_fails (stranger, "get", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_NOT_FOUND, NULL);
  command_fails (stranger, "cancel", json, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_NOT_FOUND, NULL);
  listed = cx_test_get (f->session, list_url);
  g_assert_cmpuint (listed->status, ==, 403);

  /* Another window of the same app: a bus of its own, the same CxHttp. */
  other = cx_callback_service_new (other_bus, window->http, config, &error);
  g_assert_no_error (error);
  g_free (json);
  json = g_strdup_printf ("{\"id\":\"%s\",\"desiredTime\":\"%s\"}", id, second);
  {
    Window other_window = { .http = window->http, .bus = other_bus, .service = other };

    moved = command (&other_window, "reschedule", json);
    g_assert_cmpint (time_of (cx_test_object_string (moved, "desiredTime")), ==, time_of (second));
    g_free (json);
    json = g_strdup_printf ("{\"id\":\"%s\"}", id);
    cancelled = command (&other_window, "cancel", json);
    g_assert_cmpstr (cx_test_object_string (cancelled, "state"), ==, "CANCELLED");
  }

  g_assert_finalize_object (g_steal_pointer (&other));
  window_free (stranger);
  window_free (window);
}

int
main (int argc, char *argv[])
{
  CxTestConfigOptions full = { .slot_capacity = 1 };
  CxTestConfigOptions closed = { .office_closed_now = TRUE };

  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/callback-service/schedule/now", NULL, NULL, test_schedule_now);
  cx_test_add ("/callback-service/schedule/slot", NULL, NULL, test_schedule_slot);
  cx_test_add ("/callback-service/schedule/slot-full", &full, NULL, test_slot_full);
  cx_test_add ("/callback-service/schedule/office-closed", &closed, NULL, test_office_closed);
  cx_test_add ("/callback-service/reschedule-cancel", NULL, NULL, test_reschedule_cancel);
  cx_test_add ("/callback-service/invalid-input", NULL, NULL, test_invalid_input);
  cx_test_add ("/callback-service/server-killed", NULL, NULL, test_server_killed);
  cx_test_add ("/callback-service/timeout", NULL, NULL, test_timeout);
  cx_test_add ("/callback-service/dispose-in-flight", NULL, NULL, test_dispose_in_flight);
  cx_test_add ("/callback-service/secret-shared-by-windows", NULL, NULL,
               test_secret_shared_by_windows);

  return g_test_run ();
}
