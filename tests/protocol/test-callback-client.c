/* test-callback-client.c: the client side of the GMS Callback API v1 wire format: reading a
 * callback, an availability reply and an error reply off the network, with good and hostile
 * input, and round trips through the builders the server uses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "cx-test-json.h"
#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"

#define MARKUP "<b>x</b> & <i>"
/* cx-protocol-private.h's CX_ID_MAX_BYTES: ids are at most this many bytes. */
#define ID_MAX_BYTES 256

/* Helpers */

static JsonNode *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = cx_json_parse (text, strlen (text), G_MAXSIZE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* A node whose string member holds @bytes as they are: JSON text cannot carry invalid UTF-8
 * past cx_json_parse, but a tree built in memory can. */
static JsonNode *
object_with_string (const char *member, const char *bytes)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "_id", "cb-1");
  json_object_set_string_member (object, member, bytes);
  json_node_take_object (node, object);
  return node;
}

/* Callbacks */

static void
test_object_round_trip (void)
{
  g_autoptr (JsonNode) properties = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (CxCallbackInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *object;

  properties = parse ("{\"subject\":\"" MARKUP "\",\"lines\":\"a\\nb\",\"n\":3,\"ok\":true,"
                      "\"ratio\":0.5,\"empty\":\"\"}");
  node = cx_callback_build_object ("cb-1", "customer-support", "SCHEDULED",
                                   G_GINT64_CONSTANT (1795617000000),
                                   G_GINT64_CONSTANT (1795703400000), "+15551234567", properties);

  g_assert_true (cx_callback_parse_object (node, &info, &error));
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->id, ==, "cb-1");
  g_assert_cmpstr (info->service, ==, "customer-support");
  g_assert_cmpstr (info->state, ==, "SCHEDULED");
  g_assert_cmpint (info->desired_time, ==, G_GINT64_CONSTANT (1795617000000));
  g_assert_cmpint (info->expiration_time, ==, G_GINT64_CONSTANT (1795703400000));
  g_assert_cmpstr (info->customer_number, ==, "+15551234567");
  g_assert_true (json_node_equal (info->properties, properties));
  object = json_node_get_object (info->properties);
  g_assert_cmpstr (json_object_get_string_member (object, "subject"), ==, MARKUP);
}

static void
test_object_minimal (void)
{
  g_autoptr (JsonNode) node = parse ("{\"_id\":\"x\",\"_desired_time\":null,\"gone\":null,"
                                     "\"_desired_time_local\":\"2026-11-25T15:30:00+01:00\"}");
  g_autoptr (CxCallbackInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_callback_parse_object (node, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info->id, ==, "x");
  g_assert_null (info->service);
  g_assert_null (info->state);
  g_assert_null (info->customer_number);
  g_assert_cmpint (info->desired_time, ==, -1);
  g_assert_cmpint (info->expiration_time, ==, -1);
  /* A null property is skipped; a property that looks like a time stays a string. */
  g_assert_cmpuint (json_object_get_size (json_node_get_object (info->properties)), ==, 1);
  g_clear_pointer (&info, cx_callback_info_free);
  g_clear_pointer (&node, json_node_unref);

  /* Times in any zone are read as instants; numbers are normalized. */
  node = parse ("{\"_id\":\"y\",\"_desired_time\":\"2026-11-25T15:30:00+01:00\","
                "\"_customer_number\":\"+1 (555) 123-4567\"}");
  g_assert_true (cx_callback_parse_object (node, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpint (info->desired_time, ==, G_GINT64_CONSTANT (1795617000000));
  g_assert_cmpstr (info->customer_number, ==, "+15551234567");
}

/* Issue 9, item 9: the secret of a new callback is read, checked, and never a property. */
static void
test_object_secret (void)
{
  g_autoptr (JsonNode) node = parse ("{\"_id\":\"cb-1\",\"_secret\":\"0123abcdef-_XYZ\",\"n\":1}");
  g_autoptr (CxCallbackInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  const char *bad[] = {
    "{\"_id\":\"cb-1\",\"_secret\":\"\"}",
    "{\"_id\":\"cb-1\",\"_secret\":\"a b\"}",
    "{\"_id\":\"cb-1\",\"_secret\":\"a\\r\\nX-Evil: 1\"}",
    "{\"_id\":\"cb-1\",\"_secret\":7}",
  };

  g_assert_true (cx_callback_parse_object (node, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info->secret, ==, "0123abcdef-_XYZ");
  g_assert_false (json_object_has_member (json_node_get_object (info->properties), "_secret"));
  g_clear_pointer (&info, cx_callback_info_free);
  g_clear_pointer (&node, json_node_unref);

  node = parse ("{\"_id\":\"cb-1\"}");
  g_assert_true (cx_callback_parse_object (node, &info, &error));
  g_assert_null (info->secret);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) bad_node = parse (bad[i]);
      g_autoptr (CxCallbackInfo) bad_info = NULL;
      g_autoptr (GError) bad_error = NULL;

      g_assert_false (cx_callback_parse_object (bad_node, &bad_info, &bad_error));
      g_assert_nonnull (bad_error);
    }
  g_assert_false (cx_callback_secret_validate (NULL));
  g_assert_true (cx_callback_secret_validate ("abc"));
}

static void
test_object_bad (void)
{
  static const struct
  {
    const char *json;
    const char *needle;
  } cases[] = {
    { "[]", "callback" },
    { "\"cb-1\"", "callback" },
    { "{}", "_id" },
    { "{\"_id\":null}", "_id" },
    { "{\"_id\":7}", "_id" },
    { "{\"_id\":\"\"}", "_id" },
    { "{\"_id\":\"a\\nb\"}", "_id" },
    { "{\"_id\":\"x\",\"_service_name\":[\"s\"]}", "_service_name" },
    { "{\"_id\":\"x\",\"_service_name\":\"a\\u0007b\"}", "_service_name" },
    { "{\"_id\":\"x\",\"_callback_state\":\"queued\"}", "_callback_state" },
    { "{\"_id\":\"x\",\"_callback_state\":\"\"}", "_callback_state" },
    { "{\"_id\":\"x\",\"_callback_state\":true}", "_callback_state" },
    { "{\"_id\":\"x\",\"_desired_time\":\"tomorrow\"}", "_desired_time" },
    { "{\"_id\":\"x\",\"_desired_time\":\"2026-11-25T14:30:00\"}", "_desired_time" },
    { "{\"_id\":\"x\",\"_desired_time\":1795617000000}", "_desired_time" },
    { "{\"_id\":\"x\",\"_expiration_time\":\"1969-12-31T23:59:59Z\"}", "_expiration_time" },
    { "{\"_id\":\"x\",\"_customer_number\":\"call me\"}", "_customer_number" },
    { "{\"_id\":\"x\",\"_customer_number\":\"12\"}", "_customer_number" },
    { "{\"_id\":\"x\",\"_customer_number\":15551234}", "_customer_number" },
    { "{\"_id\":\"x\",\"nested\":{\"a\":\"b\"}}", "nested" },
    { "{\"_id\":\"x\",\"list\":[1]}", "list" },
    { "{\"_id\":\"x\",\"bad\\tname\":\"v\"}", "property name" },
    { "{\"_id\":\"x\",\"\":\"v\"}", "property name" },
    { "{\"_id\":\"x\",\"note\":\"a\\u0001b\"}", "note" },
  };
  g_autofree char *long_id = cx_test_repeat ("a", ID_MAX_BYTES + 1);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) node = parse (cases[i].json);
      g_autoptr (CxCallbackInfo) info = NULL;
      g_autoptr (GError) error = NULL;

      if (cx_callback_parse_object (node, &info, &error))
        g_error ("%s was accepted", cases[i].json);
      g_assert_null (info);
      cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, cases[i].needle);
    }

  /* No node at all (an empty body). */
  {
    g_autoptr (CxCallbackInfo) info = NULL;
    g_autoptr (GError) error = NULL;

    g_assert_false (cx_callback_parse_object (NULL, &info, &error));
    cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, "callback");
  }

  /* Lengths: ids, property names and values. */
  {
    g_autofree char *long_name = cx_test_repeat ("n", 65);
    g_autofree char *long_value = cx_test_repeat ("é", 1025);
    g_autofree char *ok_value = cx_test_repeat ("é", 1024);
    const char *members[][2] = {
      { "_id", long_id },
      { long_name, "v" },
      { "note", long_value },
    };

    for (guint i = 0; i < G_N_ELEMENTS (members); i++)
      {
        g_autoptr (JsonNode) node = object_with_string (members[i][0], members[i][1]);
        g_autoptr (CxCallbackInfo) info = NULL;
        g_autoptr (GError) error = NULL;

        g_assert_false (cx_callback_parse_object (node, &info, &error));
        cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, NULL);
      }

    {
      g_autoptr (JsonNode) node = object_with_string ("note", ok_value);
      g_autoptr (CxCallbackInfo) info = NULL;
      g_autoptr (GError) error = NULL;

      g_assert_true (cx_callback_parse_object (node, &info, &error));
      g_assert_no_error (error);
    }
  }

  /* Invalid UTF-8 in a tree built in memory. */
  {
    const char *members[] = {
      "_id", "_service_name", "_callback_state", "_customer_number", "_desired_time", "note"
    };

    for (guint i = 0; i < G_N_ELEMENTS (members); i++)
      {
        g_autoptr (JsonNode) node = object_with_string (members[i], "ab\xff\xfe");
        g_autoptr (CxCallbackInfo) info = NULL;
        g_autoptr (GError) error = NULL;

        g_assert_false (cx_callback_parse_object (node, &info, &error));
        cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, members[i]);
      }
  }

  /* At most 64 properties, besides the server's own members. */
  {
    JsonObject *object = json_object_new ();
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    g_autoptr (CxCallbackInfo) info = NULL;
    g_autoptr (GError) error = NULL;

    json_object_set_string_member (object, "_id", "cb-1");
    json_object_set_string_member (object, "_callback_state", "QUEUED");
    for (guint i = 0; i < 64; i++)
      {
        g_autofree char *name = g_strdup_printf ("p%u", i);

        json_object_set_int_member (object, name, i);
      }
    json_node_take_object (node, object);
    g_assert_true (cx_callback_parse_object (node, &info, &error));
    g_assert_no_error (error);
    g_clear_pointer (&info, cx_callback_info_free);

    json_object_set_int_member (object, "p64", 64);
    g_assert_false (cx_callback_parse_object (node, &info, &error));
    cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE, "64");
    g_assert_null (info);
  }
}

/* Availability */

static void
test_availability_good (void)
{
  CxCallbackSlot built[] = {
    { G_GINT64_CONSTANT (1795599000000), 0 },
    { G_GINT64_CONSTANT (1795597200000), 2 },
    { G_GINT64_CONSTANT (1795600800000), 1000 },
  };
  g_autoptr (JsonNode) node = cx_callback_build_availability (built, G_N_ELEMENTS (built));
  g_autoptr (GArray) slots = NULL;
  g_autoptr (GError) error = NULL;
  CxCallbackSlot *slot;

  g_assert_true (cx_callback_parse_availability (node, &slots, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (slots->len, ==, 3);
  /* In time order, whatever the order of the reply. */
  slot = &g_array_index (slots, CxCallbackSlot, 0);
  g_assert_cmpint (slot->start, ==, G_GINT64_CONSTANT (1795597200000));
  g_assert_cmpuint (slot->capacity, ==, 2);
  slot = &g_array_index (slots, CxCallbackSlot, 1);
  g_assert_cmpint (slot->start, ==, G_GINT64_CONSTANT (1795599000000));
  g_assert_cmpuint (slot->capacity, ==, 0);
  slot = &g_array_index (slots, CxCallbackSlot, 2);
  g_assert_cmpint (slot->start, ==, G_GINT64_CONSTANT (1795600800000));
  g_assert_cmpuint (slot->capacity, ==, 1000);
  g_clear_pointer (&slots, g_array_unref);
  g_clear_pointer (&node, json_node_unref);

  /* No open slot at all. */
  node = parse ("{}");
  g_assert_true (cx_callback_parse_availability (node, &slots, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (slots->len, ==, 0);
  g_clear_pointer (&slots, g_array_unref);
  g_clear_pointer (&node, json_node_unref);

  /* Another zone is the same instant. */
  node = parse ("{\"2026-11-25T10:00:00+01:00\":1}");
  g_assert_true (cx_callback_parse_availability (node, &slots, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_array_index (slots, CxCallbackSlot, 0).start, ==,
                   G_GINT64_CONSTANT (1795597200000));
}

static void
test_availability_bad (void)
{
  static const struct
  {
    const char *json;
    const char *needle;
  } cases[] = {
    { "[]", "availability" },
    { "null", "availability" },
    { "{\"tomorrow\":1}", "time slot" },
    { "{\"2026-11-25T09:00:00\":1}", "time slot" },
    { "{\"2026-11-25T09:00:00Z\":-1}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":1.5}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":\"2\"}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":null}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":true}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":{}}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":4294967296}", "capacity" },
    { "{\"2026-11-25T09:00:00Z\":1,\"2026-11-25T10:00:00+01:00\":2}", "twice" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) node = parse (cases[i].json);
      g_autoptr (GArray) slots = NULL;
      g_autoptr (GError) error = NULL;

      if (cx_callback_parse_availability (node, &slots, &error))
        g_error ("%s was accepted", cases[i].json);
      g_assert_null (slots);
      cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, cases[i].needle);
    }

  /* An invalid UTF-8 slot name, and too many slots. */
  {
    JsonObject *object = json_object_new ();
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    g_autoptr (GArray) slots = NULL;
    g_autoptr (GError) error = NULL;

    json_object_set_int_member (object, "2026-11-25T09:00:00Z\xff", 1);
    json_node_take_object (node, object);
    g_assert_false (cx_callback_parse_availability (node, &slots, &error));
    cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, "time slot");
  }
  {
    JsonObject *object = json_object_new ();
    g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
    g_autoptr (GArray) slots = NULL;
    g_autoptr (GError) error = NULL;

    for (guint i = 0; i <= CX_CALLBACK_MAX_SLOTS; i++)
      {
        g_autofree char *start =
            cx_iso8601_format (G_GINT64_CONSTANT (1795597200000) + (gint64) i * 5 * 60 * 1000);

        json_object_set_int_member (object, start, 1);
      }
    json_node_take_object (node, object);
    g_assert_false (cx_callback_parse_availability (node, &slots, &error));
    cx_test_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE, NULL);
    g_assert_null (slots);
  }
}

/* Errors */

static void
test_error_round_trip (void)
{
  static const int codes[] = {
    CX_CALLBACK_ERROR_INVALID,   CX_CALLBACK_ERROR_NOT_FOUND,   CX_CALLBACK_ERROR_SLOT_FULL,
    CX_CALLBACK_ERROR_INTERNAL,  CX_CALLBACK_ERROR_UNAVAILABLE, CX_CALLBACK_ERROR_OFFICE_CLOSED,
    CX_CALLBACK_ERROR_FORBIDDEN,
  };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr (GError) sent = g_error_new (CX_CALLBACK_ERROR, codes[i], "Because " MARKUP);
      g_autoptr (JsonNode) node = cx_callback_error_to_json (sent);
      g_autoptr (GError) error = NULL;

      g_assert_false (
          cx_callback_parse_error (node, cx_callback_error_to_http_status (sent), &error));
      g_assert_error (error, CX_CALLBACK_ERROR, codes[i]);
      g_assert_cmpstr (error->message, ==, "Because " MARKUP);
    }
}

static void
test_error_fallbacks (void)
{
  static const struct
  {
    const char *json; /* NULL: no JSON body */
    guint status;
    int code;
    const char *message; /* NULL: a generic message, checked for mentioning @needle */
    const char *needle;
  } cases[] = {
    { "{\"code\":7042,\"message\":\"Closed\"}", 400, CX_CALLBACK_ERROR_OFFICE_CLOSED, "Closed" },
    /* The body's code wins over the status when this library knows it. */
    { "{\"code\":7042}", 500, CX_CALLBACK_ERROR_OFFICE_CLOSED, NULL, "closed" },
    { NULL, 409, CX_CALLBACK_ERROR_SLOT_FULL, NULL, "booked" },
    { NULL, 404, CX_CALLBACK_ERROR_NOT_FOUND, NULL, "callback" },
    { NULL, 400, CX_CALLBACK_ERROR_INVALID, NULL, "400" },
    { NULL, 413, CX_CALLBACK_ERROR_INVALID, NULL, "413" },
    { NULL, 429, CX_CALLBACK_ERROR_UNAVAILABLE, NULL, "not available" },
    { NULL, 503, CX_CALLBACK_ERROR_UNAVAILABLE, NULL, "not available" },
    { NULL, 502, CX_CALLBACK_ERROR_INTERNAL, NULL, "502" },
    { NULL, 0, CX_CALLBACK_ERROR_INTERNAL, NULL, "0" },
    /* Codes of other GMS versions, and malformed ones, follow the status. */
    { "{\"code\":7040,\"message\":\"Other\"}", 400, CX_CALLBACK_ERROR_INVALID, "Other" },
    { "{\"code\":\"7042\",\"message\":\"Text code\"}", 409, CX_CALLBACK_ERROR_SLOT_FULL,
      "Text code" },
    { "{\"code\":7042.0,\"message\":\"Float\"}", 404, CX_CALLBACK_ERROR_NOT_FOUND, "Float" },
    { "{\"code\":-7042}", 400, CX_CALLBACK_ERROR_INVALID, NULL, "400" },
    { "{\"code\":99999999999}", 400, CX_CALLBACK_ERROR_INVALID, NULL, "400" },
    /* Messages that are not one line of text are not shown. */
    { "{\"code\":409,\"message\":\"a\\nb\"}", 409, CX_CALLBACK_ERROR_SLOT_FULL, NULL, "booked" },
    { "{\"code\":409,\"message\":\"\"}", 409, CX_CALLBACK_ERROR_SLOT_FULL, NULL, "booked" },
    { "{\"code\":409,\"message\":[\"x\"]}", 409, CX_CALLBACK_ERROR_SLOT_FULL, NULL, "booked" },
    { "[{\"code\":7042}]", 400, CX_CALLBACK_ERROR_INVALID, NULL, "400" },
    { "\"Closed\"", 400, CX_CALLBACK_ERROR_INVALID, NULL, "400" },
    /* Another API's error shape. */
    { "{\"statusCode\":2,\"errors\":[{\"code\":7042}]}", 400, CX_CALLBACK_ERROR_INVALID, NULL,
      "400" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) node = cases[i].json != NULL ? parse (cases[i].json) : NULL;
      g_autoptr (GError) error = NULL;

      g_assert_false (cx_callback_parse_error (node, cases[i].status, &error));
      if (error == NULL || error->domain != CX_CALLBACK_ERROR || error->code != cases[i].code)
        g_error ("%s (HTTP %u): expected code %d, got %s", cases[i].json ? cases[i].json : "-",
                 cases[i].status, cases[i].code, error ? error->message : "no error");
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      else
        cx_test_assert_error (error, CX_CALLBACK_ERROR, cases[i].code, cases[i].needle);
    }

  /* Too long, or not UTF-8. */
  {
    g_autofree char *long_message = cx_test_repeat ("x", 1025);
    const char *messages[] = { long_message, "Clos\xff"
                                             "ed" };

    for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
      {
        JsonObject *object = json_object_new ();
        g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
        g_autoptr (GError) error = NULL;

        json_object_set_int_member (object, "code", 7042);
        json_object_set_string_member (object, "message", messages[i]);
        json_node_take_object (node, object);
        g_assert_false (cx_callback_parse_error (node, 400, &error));
        cx_test_assert_error (error, CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_OFFICE_CLOSED, "closed");
      }
  }

  /* A caller that does not want the error. */
  g_assert_false (cx_callback_parse_error (NULL, 500, NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/callback-client/object/round-trip", test_object_round_trip);
  g_test_add_func ("/callback-client/object/minimal", test_object_minimal);
  g_test_add_func ("/callback-client/object/bad", test_object_bad);
  g_test_add_func ("/callback-client/object/secret", test_object_secret);
  g_test_add_func ("/callback-client/availability/good", test_availability_good);
  g_test_add_func ("/callback-client/availability/bad", test_availability_bad);
  g_test_add_func ("/callback-client/error/round-trip", test_error_round_trip);
  g_test_add_func ("/callback-client/error/fallbacks", test_error_fallbacks);

  return g_test_run ();
}
