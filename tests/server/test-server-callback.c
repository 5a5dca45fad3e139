/* test-server-callback.c: the GMS Callback API v1 and the agent's callback calls against the
 * real cxdesk-server: create (ASAP and at a slot), availability, full slots, reschedule, cancel,
 * queries, office hours (7042).
 *
 * The "open" configuration has office hours 00:00-23:59 UTC every day, so an ASAP callback
 * fails if this runs during the last minute of a UTC day. Slot tests use tomorrow's slots,
 * which are always open and in the future.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-server-callback"

#include "config.h"

#include <string.h>

#include "cx-test-server.h"

#define SLOT_CAPACITY 2

typedef CxTestFixture Fixture;

static const CxTestConfigOptions closed_now = { .office_closed_now = TRUE };

static char *
callback_url (Fixture *f, const char *rest)
{
  return cx_test_server_url (f->server, "/genesys/1/service/callback/customer-support%s",
                             rest != NULL ? rest : "");
}

/* Creates with a form; desired NULL is ASAP. */
static CxTestReply *
create_form (Fixture *f, const char *number, GDateTime *desired)
{
  g_autofree char *url = callback_url (f, NULL);
  g_autofree char *time = desired != NULL ? cx_test_iso8601 (desired) : NULL;

  if (time != NULL)
    return cx_test_post_form (f->session, url, "_customer_number", number, "_desired_time", time,
                              "subject", "Billing question", "orderId", "42", NULL);
  return cx_test_post_form (f->session, url, "_customer_number", number, "subject",
                            "Billing question", "orderId", "42", NULL);
}

static GDateTime *
parse_time (const char *text)
{
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  GDateTime *time = g_date_time_new_from_iso8601 (text, utc);

  if (time == NULL)
    g_error ("not an ISO-8601 time: “%s”", text);
  return time;
}

static void
assert_time (JsonObject *callback, const char *member, GDateTime *expected)
{
  g_autoptr (GDateTime) actual = parse_time (cx_test_object_string (callback, member));

  if (!g_date_time_equal (actual, expected))
    {
      g_autofree char *want = cx_test_iso8601 (expected);

      g_error ("%s is %s, expected %s", member, cx_test_object_string (callback, member), want);
    }
}

/* Each created callback's secret, by id (issue 9): what the customer keeps. */
static GHashTable *secrets;

static const char *
secret_of (const char *id)
{
  return secrets != NULL ? g_hash_table_lookup (secrets, id) : NULL;
}

/* @method @url with @secret in the callback secret header (NULL: none) and @json_body. */
static CxTestReply *
request_with_secret (Fixture *f, const char *method, const char *url, const char *secret,
                     const char *json_body)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);

  if (secret != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Cx-Callback-Secret",
                                  secret);
  if (json_body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (json_body, strlen (json_body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  return cx_test_send (f->session, msg);
}

/* Checks a created callback and returns its id. */
static char *
assert_callback (CxTestReply *reply, const char *number)
{
  JsonObject *callback;
  g_autoptr (GDateTime) desired = NULL;

  if (reply->status != 200)
    g_error ("expected 200 with a callback, got %u “%s”", reply->status,
             cx_test_reply_text (reply));
  callback = cx_test_reply_object (reply);
  g_assert_cmpstr (cx_test_object_string (callback, "_service_name"), ==, "customer-support");
  g_assert_cmpstr (cx_test_object_string (callback, "_customer_number"), ==, number);
  cx_test_object_string (callback, "_callback_state");
  g_assert_true (json_object_has_member (callback, "_expiration_time"));
  desired = parse_time (cx_test_object_string (callback, "_desired_time"));
  /* The secret: long enough not to be guessed, in the creating reply only. */
  g_assert_cmpuint (strlen (cx_test_object_string (callback, "_secret")), >=, 32);
  if (secrets == NULL)
    secrets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (secrets, cx_test_object_loose_string (callback, "_id"),
                        g_strdup (cx_test_object_string (callback, "_secret")));
  return cx_test_object_loose_string (callback, "_id");
}

static CxTestReply *
get_callback (Fixture *f, const char *id)
{
  g_autofree char *rest = g_strdup_printf ("/%s", id);
  g_autofree char *url = callback_url (f, rest);

  return request_with_secret (f, "GET", url, secret_of (id), NULL);
}

/* Free capacity of the slot starting at @slot from the availability call, -1 if it is not
 * listed. */
static gint64
availability (Fixture *f, GDateTime *slot)
{
  g_autoptr (GDateTime) day =
      g_date_time_new_utc (g_date_time_get_year (slot), g_date_time_get_month (slot),
                           g_date_time_get_day_of_month (slot), 0, 0, 0);
  g_autofree char *start = cx_test_iso8601 (day);
  g_autofree char *escaped = g_uri_escape_string (start, NULL, FALSE);
  g_autofree char *rest = g_strdup_printf ("/availability?start=%s&number-of-days=1", escaped);
  g_autofree char *url = callback_url (f, rest);
  g_autoptr (CxTestReply) reply = cx_test_get (f->session, url);
  JsonObject *slots;
  g_autoptr (GList) names = NULL;
  gint64 free_capacity = -1;

  g_assert_cmpuint (reply->status, ==, 200);
  slots = cx_test_reply_object (reply);
  names = json_object_get_members (slots);
  g_assert_nonnull (names); /* a whole open day has open slots */
  for (GList *l = names; l != NULL; l = l->next)
    {
      g_autoptr (GDateTime) start_time = parse_time (l->data);
      gint64 value = cx_test_object_int (slots, l->data);

      g_assert_cmpint (value, >=, 0);
      g_assert_cmpint (value, <=, SLOT_CAPACITY);
      if (g_date_time_equal (start_time, slot))
        free_capacity = value;
    }
  return free_capacity;
}

static gint64
availability_or_zero (Fixture *f, GDateTime *slot)
{
  gint64 value = availability (f, slot);

  return value < 0 ? 0 : value;
}

static void
test_create_asap (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestReply) reply = create_form (f, "+15551234", NULL);
  g_autoptr (CxTestReply) got = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) desired = NULL;
  g_autofree char *id = assert_callback (reply, "+15551234");
  g_autofree char *got_id = NULL;
  JsonObject *callback = cx_test_reply_object (reply);

  g_assert_cmpstr (cx_test_object_string (callback, "subject"), ==, "Billing question");
  g_assert_cmpstr (cx_test_object_string (callback, "orderId"), ==, "42");
  /* ASAP: the desired time is now, give or take a slot. */
  desired = parse_time (cx_test_object_string (callback, "_desired_time"));
  g_assert_cmpint (ABS (g_date_time_difference (desired, now)), <, G_TIME_SPAN_HOUR);

  got = get_callback (f, id);
  g_assert_cmpuint (got->status, ==, 200);
  callback = cx_test_reply_object (got);
  got_id = cx_test_object_loose_string (callback, "_id");
  g_assert_cmpstr (got_id, ==, id);
  g_assert_cmpstr (cx_test_object_string (callback, "_customer_number"), ==, "+15551234");
  g_assert_cmpstr (cx_test_object_string (callback, "subject"), ==, "Billing question");
}

static void
test_create_at_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) noon = cx_test_tomorrow_at (12, 0);
  g_autoptr (GDateTime) half_past = cx_test_tomorrow_at (12, 30);
  g_autoptr (CxTestReply) reply = create_form (f, "+15550001", noon);
  g_autofree char *id = assert_callback (reply, "+15550001");
  g_autoptr (CxTestReply) json_reply = NULL;
  g_autofree char *json_id = NULL;
  g_autofree char *url = callback_url (f, NULL);
  g_autofree char *time = cx_test_iso8601 (half_past);
  g_autofree char *body = g_strdup_printf (
      "{\"_customer_number\":\"+15550002\",\"_desired_time\":\"%s\",\"subject\":\"JSON\"}", time);
  g_autoptr (CxTestReply) got = NULL;

  assert_time (cx_test_reply_object (reply), "_desired_time", noon);

  /* The same, with a JSON body. */
  json_reply = cx_test_json (f->session, "POST", url, body);
  json_id = assert_callback (json_reply, "+15550002");
  assert_time (cx_test_reply_object (json_reply), "_desired_time", half_past);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (json_reply), "subject"), ==,
                   "JSON");
  g_assert_cmpstr (json_id, !=, id);

  got = get_callback (f, id);
  g_assert_cmpuint (got->status, ==, 200);
  assert_time (cx_test_reply_object (got), "_desired_time", noon);
}

/* Availability counts down as a slot fills; a full slot shows 0 or disappears and refuses a
 * further booking with 409; neighbouring slots are untouched. */
static void
test_availability_and_full_slot (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (14, 0);
  g_autoptr (GDateTime) next = cx_test_tomorrow_at (14, 30);
  g_autoptr (CxTestReply) reply = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  g_assert_cmpint (availability (f, slot), ==, SLOT_CAPACITY);
  g_assert_cmpint (availability (f, next), ==, SLOT_CAPACITY);

  reply = create_form (f, "+15550011", slot);
  first = assert_callback (reply, "+15550011");
  g_assert_cmpint (availability (f, slot), ==, SLOT_CAPACITY - 1);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = create_form (f, "+15550012", slot);
  second = assert_callback (reply, "+15550012");
  g_assert_cmpint (availability_or_zero (f, slot), ==, 0);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = create_form (f, "+15550013", slot);
  if (reply->status != 409)
    g_error ("a booking in a full slot: expected 409, got %u “%s”", reply->status,
             cx_test_reply_text (reply));
  cx_test_reply_object (reply);

  g_assert_cmpint (availability (f, next), ==, SLOT_CAPACITY);
}

static CxTestReply *
reschedule (Fixture *f, const char *id, GDateTime *time)
{
  g_autofree char *rest = g_strdup_printf ("/%s", id);
  g_autofree char *url = callback_url (f, rest);
  g_autofree char *iso = cx_test_iso8601 (time);
  g_autofree char *body = g_strdup_printf ("{\"_new_desired_time\":\"%s\"}", iso);

  return request_with_secret (f, "PUT", url, secret_of (id), body);
}

static void
test_reschedule (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) before = cx_test_tomorrow_at (15, 0);
  g_autoptr (GDateTime) after = cx_test_tomorrow_at (16, 0);
  g_autoptr (GDateTime) full = cx_test_tomorrow_at (16, 30);
  g_autoptr (CxTestReply) reply = create_form (f, "+15550021", before);
  g_autofree char *id = assert_callback (reply, "+15550021");

  for (int i = 0; i < SLOT_CAPACITY; i++)
    {
      g_autoptr (CxTestReply) filler = create_form (f, "+15550029", full);
      g_autofree char *filler_id = assert_callback (filler, "+15550029");
    }
  g_assert_cmpint (availability (f, before), ==, SLOT_CAPACITY - 1);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = reschedule (f, id, after);
  if (reply->status != 200)
    g_error ("reschedule: expected 200, got %u “%s”", reply->status, cx_test_reply_text (reply));

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = get_callback (f, id);
  g_assert_cmpuint (reply->status, ==, 200);
  assert_time (cx_test_reply_object (reply), "_desired_time", after);
  g_assert_cmpint (availability (f, before), ==, SLOT_CAPACITY);
  g_assert_cmpint (availability (f, after), ==, SLOT_CAPACITY - 1);

  /* Into a full slot: 409, and nothing moves. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = reschedule (f, id, full);
  g_assert_cmpuint (reply->status, ==, 409);
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = get_callback (f, id);
  assert_time (cx_test_reply_object (reply), "_desired_time", after);
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (10, 0);
  g_autoptr (CxTestReply) reply = create_form (f, "+15550031", slot);
  g_autofree char *id = assert_callback (reply, "+15550031");
  g_autofree char *rest = g_strdup_printf ("/%s", id);
  g_autofree char *url = callback_url (f, rest);

  g_assert_cmpint (availability (f, slot), ==, SLOT_CAPACITY - 1);
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = request_with_secret (f, "DELETE", url, secret_of (id), NULL);
  g_assert_no_error (reply->error);
  if (reply->status != 200 && reply->status != 204)
    g_error ("cancel: expected 200 or 204, got %u “%s”", reply->status, cx_test_reply_text (reply));

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = get_callback (f, id);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "_callback_state"), ==,
                   "CANCELLED");
  /* A cancelled callback no longer holds its slot. */
  g_assert_cmpint (availability (f, slot), ==, SLOT_CAPACITY);
}

static gboolean
array_has_id (JsonArray *array, const char *id)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *other =
          cx_test_object_loose_string (json_array_get_object_element (array, i), "_id");

      if (g_str_equal (other, id))
        return TRUE;
    }
  return FALSE;
}

/* GET on the service (a listing or a query), as @agent (NULL: nobody). */
static CxTestReply *
query_as (Fixture *f, CxTestAgent *agent, const char *rest)
{
  g_autofree char *url = callback_url (f, rest);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);

  if (agent != NULL)
    {
      g_autofree char *token = cx_test_agent_cookie (agent);
      g_autofree char *cookie = g_strdup_printf ("cxdesk_agent=%s", token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Cookie", cookie);
    }
  return cx_test_send (f->session, msg);
}

static void
test_query (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (11, 0);
  g_autoptr (GDateTime) other_slot = cx_test_tomorrow_at (11, 30);
  g_autoptr (CxTestReply) one = create_form (f, "+15551234", slot);
  g_autoptr (CxTestReply) two = create_form (f, "+15551234", other_slot);
  g_autoptr (CxTestReply) other = create_form (f, "+15559999", slot);
  g_autofree char *one_id = assert_callback (one, "+15551234");
  g_autofree char *two_id = assert_callback (two, "+15551234");
  g_autofree char *other_id = assert_callback (other, "+15559999");
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestReply) reply = query_as (f, ada, "?_customer_number=%2B15551234");
  JsonArray *found;

  g_assert_cmpuint (reply->status, ==, 200);
  found = cx_test_reply_array (reply);
  g_assert_cmpuint (json_array_get_length (found), ==, 2);
  g_assert_true (array_has_id (found, one_id));
  g_assert_true (array_has_id (found, two_id));
  g_assert_false (array_has_id (found, other_id));
  for (guint i = 0; i < json_array_get_length (found); i++)
    g_assert_cmpstr (
        cx_test_object_string (json_array_get_object_element (found, i), "_customer_number"), ==,
        "+15551234");
}

static void
test_unknown_id (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestReply) got = get_callback (f, "no-such-callback");
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (9, 0);
  g_autoptr (CxTestReply) moved = reschedule (f, "no-such-callback", slot);
  g_autofree char *url = callback_url (f, "/no-such-callback");
  g_autoptr (CxTestReply) cancelled = cx_test_request (f->session, "DELETE", url, NULL, NULL);

  g_assert_cmpuint (got->status, ==, 404);
  g_assert_cmpuint (moved->status, ==, 404);
  g_assert_cmpuint (cancelled->status, ==, 404);
}

static void
assert_office_closed (CxTestReply *reply)
{
  JsonObject *error;

  if (reply->status != 400)
    g_error ("outside office hours: expected 400, got %u “%s”", reply->status,
             cx_test_reply_text (reply));
  error = cx_test_reply_object (reply);
  g_assert_cmpint (cx_test_object_int (error, "code"), ==, 7042);
  cx_test_object_string (error, "message");
}

/* Office hours are one day that is neither today nor tomorrow: an hour from now and tomorrow
 * noon are both closed. */
static void
test_office_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) in_an_hour = g_date_time_add_hours (now, 1);
  g_autoptr (GDateTime) noon = cx_test_tomorrow_at (12, 0);
  g_autoptr (CxTestReply) soon = create_form (f, "+15550041", in_an_hour);
  g_autoptr (CxTestReply) tomorrow = create_form (f, "+15550042", noon);
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestReply) query = NULL;

  assert_office_closed (soon);
  assert_office_closed (tomorrow);

  /* Nothing was stored. */
  ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  query = query_as (f, ada, "?_customer_number=%2B15550041");
  g_assert_cmpuint (query->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (cx_test_reply_array (query)), ==, 0);
}

/* The agent side: the list (only services the agent serves), callbacksChanged, complete,
 * reschedule. */
static void
test_agent_callbacks (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestAgent) bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (13, 0);
  g_autoptr (GDateTime) later = cx_test_tomorrow_at (17, 0);
  g_autoptr (CxTestReply) created = NULL;
  g_autoptr (CxTestReply) created_too = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (JsonObject) changed = NULL;
  g_autoptr (JsonObject) listed = NULL;
  g_autoptr (JsonObject) not_for_bob = NULL;
  g_autofree char *id = NULL;
  g_autofree char *other_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *iso = NULL;
  JsonObject *callback;

  cx_test_agent_connect_events (ada);
  created = create_form (f, "+15550051", slot);
  id = assert_callback (created, "+15550051");
  changed = cx_test_socket_wait (ada->events, "callbacksChanged", NULL);

  listed = cx_test_agent_find_callback (ada, id);
  g_assert_nonnull (listed);
  g_assert_cmpstr (cx_test_object_string (listed, "_customer_number"), ==, "+15550051");
  /* Bob serves sales only, which takes no callbacks. */
  not_for_bob = cx_test_agent_find_callback (bob, id);
  g_assert_null (not_for_bob);

  path = g_strdup_printf ("/cx/1/agent/callbacks/%s/complete", id);
  reply = cx_test_agent_call (ada, "POST", path, NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  callback = cx_test_reply_object (reply);
  g_assert_cmpstr (cx_test_object_string (callback, "_callback_state"), ==, "COMPLETED");
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = get_callback (f, id);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "_callback_state"), ==,
                   "COMPLETED");

  created_too = create_form (f, "+15550052", slot);
  other_id = assert_callback (created_too, "+15550052");
  g_free (path);
  path = g_strdup_printf ("/cx/1/agent/callbacks/%s/reschedule", other_id);
  iso = cx_test_iso8601 (later);
  body = g_strdup_printf ("{\"desiredTime\":\"%s\"}", iso);
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_agent_call (ada, "POST", path, body);
  g_assert_cmpuint (reply->status, ==, 200);
  assert_time (cx_test_reply_object (reply), "_desired_time", later);
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = get_callback (f, other_id);
  assert_time (cx_test_reply_object (reply), "_desired_time", later);
}

/* Issue 9, item 9: a callback is its customer's. Without its secret, or with another's, reading,
 * rescheduling and cancelling it answer exactly what an unknown id does, and change nothing. */
static void
test_private (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (10, 0);
  g_autoptr (GDateTime) later = cx_test_tomorrow_at (10, 30);
  g_autoptr (CxTestReply) mine = create_form (f, "+15550061", slot);
  g_autoptr (CxTestReply) theirs = create_form (f, "+15550062", slot);
  g_autofree char *id = assert_callback (mine, "+15550061");
  g_autofree char *other_id = assert_callback (theirs, "+15550062");
  g_autofree char *rest = g_strdup_printf ("/%s", id);
  g_autofree char *url = callback_url (f, rest);
  g_autofree char *unknown_url = callback_url (f, "/aaaaaaaaaaaaaaaaaaaaaaaa");
  g_autofree char *iso = cx_test_iso8601 (later);
  g_autofree char *body = g_strdup_printf ("{\"_new_desired_time\":\"%s\"}", iso);
  const char *wrong[] = { NULL, "", "not-the-secret", secret_of (other_id) };
  g_autoptr (CxTestReply) got = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr (CxTestReply) get = request_with_secret (f, "GET", url, wrong[i], NULL);
      g_autoptr (CxTestReply) put = request_with_secret (f, "PUT", url, wrong[i], body);
      g_autoptr (CxTestReply) del = request_with_secret (f, "DELETE", url, wrong[i], NULL);
      g_autoptr (CxTestReply) unknown = request_with_secret (f, "GET", unknown_url, wrong[i], NULL);
      JsonObject *error;

      g_assert_cmpuint (get->status, ==, 404);
      g_assert_cmpuint (put->status, ==, 404);
      g_assert_cmpuint (del->status, ==, 404);
      g_assert_cmpuint (unknown->status, ==, 404);
      error = cx_test_reply_object (get);
      g_assert_cmpint (cx_test_object_int (error, "code"), ==, 404);
      g_assert_cmpint (cx_test_object_int (cx_test_reply_object (unknown), "code"), ==, 404);
      g_assert_false (json_object_has_member (error, "_customer_number"));
    }

  /* Untouched, and the right secret still works. */
  got = get_callback (f, id);
  g_assert_cmpuint (got->status, ==, 200);
  assert_time (cx_test_reply_object (got), "_desired_time", slot);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (got), "_callback_state"), ==,
                   "SCHEDULED");
  g_assert_false (json_object_has_member (cx_test_reply_object (got), "_secret"));
  g_assert_cmpint (availability (f, slot), ==, 0);
}

/* Issue 9, item 9: listing a service's callbacks (with their phone numbers) and querying them
 * by property are for agents who serve the service. */
static void
test_listing_is_for_agents (Fixture *f, gconstpointer data)
{
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (11, 0);
  g_autoptr (CxTestReply) created = create_form (f, "+15550071", slot);
  g_autofree char *id = assert_callback (created, "+15550071");
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestAgent) bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  const char *queries[] = { "", "?_customer_number=%2B15550071", "?subject=Billing%20question" };

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autoptr (CxTestReply) nobody = query_as (f, NULL, queries[i]);
      g_autoptr (CxTestReply) not_serving = query_as (f, bob, queries[i]);
      g_autoptr (CxTestReply) serving = query_as (f, ada, queries[i]);

      g_assert_cmpuint (nobody->status, ==, 403);
      g_assert_cmpint (cx_test_object_int (cx_test_reply_object (nobody), "code"), ==, 403);
      g_assert_null (strstr (cx_test_reply_text (nobody), "+15550071"));
      g_assert_cmpuint (not_serving->status, ==, 403);
      g_assert_cmpuint (serving->status, ==, 200);
      g_assert_true (array_has_id (cx_test_reply_array (serving), id));
    }
}

static void
test_open_access (Fixture *f, gconstpointer data)
{
  g_autofree char *base = cx_test_config_new (NULL);
  g_autoptr (JsonNode) root = json_from_string (base, NULL);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *config = NULL;
  Fixture open = { 0 };
  g_autoptr (GDateTime) slot = cx_test_tomorrow_at (11, 0);
  g_autoptr (CxTestReply) created = NULL;
  g_autoptr (CxTestReply) listed = NULL;
  g_autoptr (CxTestReply) got = NULL;
  g_autofree char *id = NULL;
  g_autofree char *rest = NULL;
  g_autofree char *url = NULL;

  json_object_set_boolean_member (
      json_object_get_object_member (json_node_get_object (root), "callback"), "openAccess", TRUE);
  json_generator_set_root (generator, root);
  config = json_generator_to_data (generator, NULL);
  open.server = cx_test_server_new (config);
  open.session = f->session;

  created = create_form (&open, "+15550081", slot);
  id = assert_callback (created, "+15550081");
  listed = query_as (&open, NULL, "?_customer_number=%2B15550081");
  g_assert_cmpuint (listed->status, ==, 200);
  g_assert_true (array_has_id (cx_test_reply_array (listed), id));
  rest = g_strdup_printf ("/%s", id);
  url = callback_url (&open, rest);
  got = request_with_secret (&open, "GET", url, NULL, NULL);
  g_assert_cmpuint (got->status, ==, 200);

  cx_test_assert_healthy (open.server);
  cx_test_server_stop (open.server);
  cx_test_server_free (open.server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/callback/create-asap", NULL, NULL, test_create_asap);
  cx_test_add ("/server/callback/create-at-slot", NULL, NULL, test_create_at_slot);
  cx_test_add ("/server/callback/availability-and-full-slot", NULL, NULL,
               test_availability_and_full_slot);
  cx_test_add ("/server/callback/reschedule", NULL, NULL, test_reschedule);
  cx_test_add ("/server/callback/cancel", NULL, NULL, test_cancel);
  cx_test_add ("/server/callback/query", NULL, NULL, test_query);
  cx_test_add ("/server/callback/unknown-id", NULL, NULL, test_unknown_id);
  cx_test_add ("/server/callback/office-closed", &closed_now, NULL, test_office_closed);
  cx_test_add ("/server/callback/agent", NULL, NULL, test_agent_callbacks);
  /* Access rules (issue 9) */
  cx_test_add ("/server/callback/private", NULL, NULL, test_private);
  cx_test_add ("/server/callback/listing-is-for-agents", NULL, NULL, test_listing_is_for_agents);
  cx_test_add ("/server/callback/open-access", NULL, NULL, test_open_access);

  return g_test_run ();
}
