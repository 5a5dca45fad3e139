/* cx-test-bus.c: the event recorder and bus commands every bus-driven test shares. See
 * cx-test-bus.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-test-bus"

#include "config.h"

#include "cx-test-bus.h"

#include <string.h>

#include "cx-test-json.h"
#include "cx-test-server.h"

/* Events */

struct _CxTestRecorder
{
  CxBus *bus;
  char *publisher; /* NULL: every publisher */
  gulong id;
  GPtrArray *events; /* CxEvent */
};

static void
record_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxTestRecorder *self = user_data;

  if (self->publisher == NULL || g_strcmp0 (event->publisher, self->publisher) == 0)
    g_ptr_array_add (self->events, cx_event_ref (event));
}

CxTestRecorder *
cx_test_recorder_new (CxBus *bus, const char *publisher)
{
  CxTestRecorder *self = g_new0 (CxTestRecorder, 1);

  self->bus = g_object_ref (bus);
  self->publisher = g_strdup (publisher);
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_event_unref);
  self->id = cx_bus_subscribe (bus, NULL, record_cb, self, NULL);
  return self;
}

void
cx_test_recorder_free (CxTestRecorder *self)
{
  if (self == NULL)
    return;
  cx_bus_unsubscribe (self->bus, self->id);
  g_object_unref (self->bus);
  g_ptr_array_unref (self->events);
  g_free (self->publisher);
  g_free (self);
}

GPtrArray *
cx_test_recorder_get_events (CxTestRecorder *self)
{
  return self->events;
}

/* @event in full. */
static char *
full_name (CxTestRecorder *self, const char *event)
{
  if (self->publisher != NULL && strchr (event, '.') == NULL)
    return g_strconcat (self->publisher, ".", event, NULL);
  return g_strdup (event);
}

JsonObject *
cx_test_event_object (const CxEvent *event)
{
  g_assert_nonnull (event);
  g_assert_nonnull (event->data);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (event->data));
  return json_node_get_object (event->data);
}

/* @event is about @chat_id (NULL: any chat); its data must say which chat it is about. */
static gboolean
is_about (const CxEvent *event, const char *chat_id)
{
  JsonObject *object;
  JsonNode *member;

  if (chat_id == NULL)
    return TRUE;
  object = cx_test_event_object (event);
  member = json_object_get_member (object, "chatId");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING)
    g_error ("%s has no chatId", event->event);
  return g_strcmp0 (json_node_get_string (member), chat_id) == 0;
}

/* The @nth (from 1) @event about @chat_id, or NULL; *@count_out: how many there are. */
static CxEvent *
find (CxTestRecorder *self, const char *event, const char *chat_id, guint nth, guint *count_out)
{
  g_autofree char *full = full_name (self, event);
  CxEvent *found = NULL;
  guint count = 0;

  for (guint i = 0; i < self->events->len; i++)
    {
      CxEvent *candidate = g_ptr_array_index (self->events, i);

      if (g_str_equal (candidate->event, full) && is_about (candidate, chat_id) && ++count == nth)
        found = candidate;
    }
  if (count_out != NULL)
    *count_out = count;
  return found;
}

guint
cx_test_recorder_count (CxTestRecorder *self, const char *event)
{
  guint count;

  find (self, event, NULL, 0, &count);
  return count;
}

CxEvent *
cx_test_recorder_nth (CxTestRecorder *self, const char *event, guint nth)
{
  return find (self, event, NULL, nth, NULL);
}

CxEvent *
cx_test_recorder_last (CxTestRecorder *self, const char *event)
{
  return cx_test_recorder_nth (self, event, cx_test_recorder_count (self, event));
}

JsonObject *
cx_test_recorder_last_object (CxTestRecorder *self, const char *event)
{
  CxEvent *last = cx_test_recorder_last (self, event);

  if (last == NULL)
    g_error ("No %s event", event);
  return cx_test_event_object (last);
}

typedef struct
{
  CxTestRecorder *self;
  const char *event;
  const char *chat_id;
  guint count;
} Wait;

static gboolean
recorded (gpointer data)
{
  Wait *wait = data;
  guint count;

  find (wait->self, wait->event, wait->chat_id, 0, &count);
  return count >= wait->count;
}

CxEvent *
cx_test_recorder_wait (CxTestRecorder *self, const char *event, guint nth)
{
  Wait wait = { self, event, NULL, nth };

  cx_test_wait (recorded, &wait);
  return cx_test_recorder_nth (self, event, nth);
}

guint
cx_test_recorder_count_chat (CxTestRecorder *self, const char *event, const char *chat_id)
{
  guint count;

  find (self, event, chat_id, 0, &count);
  return count;
}

CxEvent *
cx_test_recorder_find_chat (CxTestRecorder *self, const char *event, const char *chat_id)
{
  return find (self, event, chat_id, 1, NULL);
}

CxEvent *
cx_test_recorder_wait_chat (CxTestRecorder *self, const char *event, const char *chat_id)
{
  Wait wait = { self, event, chat_id, 1 };

  cx_test_wait (recorded, &wait);
  return cx_test_recorder_find_chat (self, event, chat_id);
}

GPtrArray *
cx_test_recorder_messages (CxTestRecorder *self, const char *event, const char *also,
                           const char *chat_id)
{
  g_autofree char *full = full_name (self, event);
  g_autofree char *also_full = also != NULL ? full_name (self, also) : NULL;
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (guint i = 0; i < self->events->len; i++)
    {
      CxEvent *candidate = g_ptr_array_index (self->events, i);
      JsonArray *array;

      if ((!g_str_equal (candidate->event, full) && g_strcmp0 (candidate->event, also_full) != 0) ||
          !is_about (candidate, chat_id))
        continue;
      array = json_object_get_array_member (cx_test_event_object (candidate), "messages");
      g_assert_nonnull (array);
      g_assert_cmpuint (json_array_get_length (array), >, 0);
      for (guint j = 0; j < json_array_get_length (array); j++)
        g_ptr_array_add (messages, json_object_ref (json_array_get_object_element (array, j)));
    }
  return messages;
}

JsonObject *
cx_test_recorder_find_message (CxTestRecorder *self, const char *event, const char *also,
                               const char *chat_id, const char *type, const char *from_type,
                               const char *text)
{
  g_autoptr (GPtrArray) messages = cx_test_recorder_messages (self, event, also, chat_id);

  /* The events hold the entries: they outlive this array. */
  return cx_test_messages_find (messages, type, from_type, text);
}

typedef struct
{
  CxTestRecorder *self;
  const char *event;
  const char *also;
  const char *chat_id;
  const char *type;
  const char *from_type;
  const char *text;
} MessageWait;

static gboolean
message_recorded (gpointer data)
{
  MessageWait *wait = data;

  return cx_test_recorder_find_message (wait->self, wait->event, wait->also, wait->chat_id,
                                        wait->type, wait->from_type, wait->text) != NULL;
}

JsonObject *
cx_test_recorder_wait_message (CxTestRecorder *self, const char *event, const char *also,
                               const char *chat_id, const char *type, const char *from_type,
                               const char *text)
{
  MessageWait wait = { self, event, also, chat_id, type, from_type, text };

  cx_test_wait (message_recorded, &wait);
  return cx_test_recorder_find_message (self, event, also, chat_id, type, from_type, text);
}

typedef struct
{
  CxTestRecorder *self;
  const char *event;
  const char *also;
  const char *chat_id;
  guint count;
} CaughtUpWait;

static gboolean
caught_up (gpointer data)
{
  CaughtUpWait *wait = data;
  g_autoptr (GPtrArray) messages =
      cx_test_recorder_messages (wait->self, wait->event, wait->also, wait->chat_id);

  return messages->len >= wait->count;
}

void
cx_test_recorder_assert_transcript (CxTestRecorder *self, const char *event, const char *also,
                                    const char *chat_id, CxTestCustomer *customer)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) expected = NULL;
  CaughtUpWait wait = { self, event, also, chat_id, 0 };

  cx_test_customer_poll (customer);
  wait.count = customer->transcript->len;
  cx_test_wait (caught_up, &wait);

  messages = cx_test_recorder_messages (self, event, also, chat_id);
  cx_test_assert_contiguous (messages, 1);
  got = cx_test_transcript_summaries (messages);
  expected = cx_test_transcript_summaries (customer->transcript);
  g_assert_cmpuint (got->len, >=, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (expected, i));
}

/* Commands */

static JsonNode *
parse (const char *json)
{
  return json != NULL ? cx_test_json_parse (json) : NULL;
}

void
cx_test_bus_command_start (CxBus *bus, CxPlugin *commander, const char *name, const char *json,
                           GAsyncResult **slot)
{
  g_autoptr (JsonNode) data = parse (json);

  *slot = NULL;
  cx_bus_command_async (bus, commander, name, data, CX_TEST_COMMAND_TIMEOUT_MS, NULL,
                        cx_test_store_result_cb, slot);
}

JsonNode *
cx_test_bus_command_finish (CxBus *bus, GAsyncResult **slot, GError **error)
{
  JsonNode *result;

  cx_test_wait (cx_test_pointer_is_set, slot);
  result = cx_bus_command_finish (bus, *slot, error);
  g_clear_object (slot);
  return result;
}

JsonNode *
cx_test_bus_command (CxBus *bus, CxPlugin *commander, const char *name, JsonNode *data,
                     guint timeout_ms, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  cx_bus_command_async (bus, commander, name, data, timeout_ms, NULL, cx_test_store_result_cb,
                        &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  return cx_bus_command_finish (bus, result, error);
}

JsonNode *
cx_test_bus_command_json (CxBus *bus, const char *name, const char *json, GError **error)
{
  g_autoptr (JsonNode) data = parse (json);

  return cx_test_bus_command (bus, NULL, name, data, CX_TEST_COMMAND_TIMEOUT_MS, error);
}

JsonNode *
cx_test_bus_command_ok (CxBus *bus, const char *name, const char *json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *result = cx_test_bus_command_json (bus, name, json, &error);

  if (error != NULL)
    g_error ("%s %s failed: %s", name, json != NULL ? json : "", error->message);
  return result;
}

void
cx_test_bus_command_fails (CxBus *bus, const char *name, const char *json, GQuark domain, int code,
                           const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = cx_test_bus_command_json (bus, name, json, &error);

  g_assert_null (result);
  if (error == NULL)
    g_error ("%s %s: expected an error, got success", name, json != NULL ? json : "");
  if (domain != 0 && !g_error_matches (error, domain, code))
    g_error ("%s %s: expected %s %d, got %s %d: %s", name, json != NULL ? json : "",
             g_quark_to_string (domain), code, g_quark_to_string (error->domain), error->code,
             error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("%s: “%s” does not mention “%s”", name, error->message, needle);
}
