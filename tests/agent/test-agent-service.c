/* test-agent-service.c: CxAgentService against the real cxdesk-server, driven through its bus as
 * the agent workspace will drive it: two windows of one app sharing the sign-in, a conversation
 * with a customer (the harness's GMS client), declining and transferring to another agent (a
 * second app, its own CxHttp), callbacks, canned responses, signing out everywhere, a session the
 * server forgot, and the server killed and restarted mid-conversation.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-agent-service"

#include "config.h"

#include <string.h>

#include "bus/cx-bus.h"
#include "cx-test-bus.h"
#include "cx-test-server.h"
#include "protocol/cx-gms-callback.h"
#include "services/cx-agent-service.h"
#include "services/cx-http.h"

#define SESSION_COOKIE "cxdesk_agent"

typedef CxTestFixture Fixture;

/* Windows: a bus, the service on it, and everything the service published */

typedef struct
{
  CxBus *bus;
  CxAgentService *service;
  CxTestRecorder *events; /* what the service published */
} Window;

/* An app is a CxHttp with its one agent session: the first window of an app makes the session,
 * the others attach to it, and it goes with the last one. */
#define SERVICE_KEY "test-agent-service"

static Window *
window_new (CxHttp *http, const char *server_url)
{
  Window *window = g_new0 (Window, 1);
  CxAgentService *service = g_object_get_data (G_OBJECT (http), SERVICE_KEY);
  g_autoptr (GError) error = NULL;

  if (service == NULL)
    {
      service = cx_agent_service_new (http, server_url, &error);
      g_assert_no_error (error);
      g_assert_nonnull (service);
      /* Not a reference: the windows hold those. */
      g_object_set_data (G_OBJECT (http), SERVICE_KEY, service);
    }
  else
    g_object_ref (service);

  window->bus = cx_bus_new ();
  /* Before the service is attached, as the window's other plugins may. */
  window->events = cx_test_recorder_new (window->bus, CX_AGENT_SERVICE_NAME);
  window->service = service;
  g_assert_nonnull (cx_agent_service_attach (service, window->bus, &error));
  g_assert_no_error (error);
  return window;
}

static void
window_free (Window *window)
{
  CxAgentService *service = g_steal_pointer (&window->service);

  cx_agent_service_detach (service, window->bus);
  if (cx_agent_service_get_n_windows (service) == 0)
    {
      g_object_set_data (G_OBJECT (cx_agent_service_get_http (service)), SERVICE_KEY, NULL);
      g_assert_finalize_object (service);
    }
  else
    g_object_unref (service);
  cx_test_recorder_free (window->events);
  g_assert_finalize_object (window->bus);
  g_free (window);
}

/* What @window was told about one chat: "AgentService.@name" events. */

static CxEvent *
find_chat_event (Window *window, const char *name, const char *chat_id)
{
  return cx_test_recorder_find_chat (window->events, name, chat_id);
}

static JsonObject *
wait_chat_event (Window *window, const char *name, const char *chat_id)
{
  return cx_test_event_object (cx_test_recorder_wait_chat (window->events, name, chat_id));
}

static guint
count_chat_events (Window *window, const char *name, const char *chat_id)
{
  return cx_test_recorder_count_chat (window->events, name, chat_id);
}

/* Every transcript entry of @chat_id that messageReceived gave @window, in the order given; one
 * of them, and waiting for one. */
static GPtrArray *
delivered (Window *window, const char *chat_id)
{
  return cx_test_recorder_messages (window->events, "messageReceived", NULL, chat_id);
}

static JsonObject *
find_delivered (Window *window, const char *chat_id, const char *type, const char *from_type,
                const char *text)
{
  JsonObject *found = cx_test_recorder_find_message (window->events, "messageReceived", NULL,
                                                     chat_id, type, from_type, text);

  return found != NULL ? json_object_ref (found) : NULL;
}

static void
wait_delivered (Window *window, const char *chat_id, const char *type, const char *from_type,
                const char *text)
{
  cx_test_recorder_wait_message (window->events, "messageReceived", NULL, chat_id, type, from_type,
                                 text);
}

static guint
count_delivered_text (Window *window, const char *chat_id, const char *text)
{
  g_autoptr (GPtrArray) messages = delivered (window, chat_id);

  return cx_test_messages_count_text (messages, text);
}

/* Every entry the server has was given to @window exactly once, in index order, with the
 * server's text, untouched. */
static void
assert_transcript_matches_server (Window *window, CxTestCustomer *customer)
{
  cx_test_recorder_assert_transcript (window->events, "messageReceived", NULL, customer->chat_id,
                                      customer);
}

static CxAgentConversation *find_conversation (Window *window, const char *chat_id);

/* The session's model of the chat holds the server's transcript, in order, once. */
static void
assert_model_matches_server (Window *window, CxTestCustomer *customer)
{
  CxAgentConversation *conversation = find_conversation (window, customer->chat_id);
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) expected = NULL;

  g_assert_nonnull (conversation);
  cx_test_customer_poll (customer);
  for (guint i = 0; i < cx_agent_conversation_get_n_messages (conversation); i++)
    {
      g_autoptr (JsonNode) node =
          cx_message_to_json (cx_agent_conversation_get_message (conversation, i));

      g_ptr_array_add (messages, json_object_ref (json_node_get_object (node)));
    }
  cx_test_assert_contiguous (messages, 1);
  got = cx_test_transcript_summaries (messages);
  expected = cx_test_transcript_summaries (customer->transcript);
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (expected, i));
}

static gboolean
window_connected (gpointer data)
{
  Window *window = data;

  return cx_agent_service_get_connected (window->service);
}

static void
wait_connected (Window *window)
{
  cx_test_wait (window_connected, window);
}

static CxAgentConversation *
find_conversation (Window *window, const char *chat_id)
{
  GListModel *model = cx_agent_service_get_conversations (window->service);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_agent_conversation_get_chat_id (conversation), chat_id) == 0)
        return conversation; /* the model keeps it */
    }
  return NULL;
}

/* Commands, as the application ("App") makes them */

static JsonNode *
command_run (Window *window, const char *name, const char *json, GError **error)
{
  g_autofree char *full = g_strconcat (CX_AGENT_SERVICE_NAME ".", name, NULL);

  return cx_test_bus_command_json (window->bus, full, json, error);
}

/* Runs a command that must succeed; returns its result. */
static JsonNode *
command (Window *window, const char *name, const char *json)
{
  g_autofree char *full = g_strconcat (CX_AGENT_SERVICE_NAME ".", name, NULL);

  return cx_test_bus_command_ok (window->bus, full, json);
}

static void
command_ok (Window *window, const char *name, const char *json)
{
  g_autoptr (JsonNode) result = command (window, name, json);
}

static JsonObject *
result_object (JsonNode *result)
{
  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return json_node_get_object (result);
}

static char *
chat_json (const char *chat_id, const char *extra)
{
  return g_strdup_printf ("{\"chatId\":\"%s\"%s%s}", chat_id, extra != NULL ? "," : "",
                          extra != NULL ? extra : "");
}

static void
chat_command (Window *window, const char *name, const char *chat_id, const char *extra)
{
  g_autofree char *json = chat_json (chat_id, extra);

  command_ok (window, name, json);
}

static char *
json_string (const char *text)
{
  g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), text);

  return json_to_string (node, FALSE);
}

static gint64
agent_send (Window *window, const char *chat_id, const char *text)
{
  g_autofree char *quoted = json_string (text);
  g_autofree char *extra = g_strconcat ("\"text\":", quoted, NULL);
  g_autofree char *json = chat_json (chat_id, extra);
  g_autoptr (JsonNode) result = command (window, "send", json);

  return cx_test_object_int (result_object (result), "index");
}

static void
sign_in (Window *window, const char *username, const char *password)
{
  g_autofree char *json =
      g_strdup_printf ("{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
  g_autoptr (JsonNode) result = command (window, "signIn", json);

  g_assert_cmpstr (cx_test_object_string (result_object (result), "username"), ==, username);
}

static void
set_state (Window *window, const char *state)
{
  g_autofree char *json = g_strdup_printf ("{\"state\":\"%s\"}", state);
  g_autoptr (JsonNode) result = command (window, "setState", json);

  g_assert_cmpstr (cx_test_object_string (result_object (result), "state"), ==, state);
}

/* The @nth stateChanged of @window says @state. */
static void
assert_state_event (Window *window, guint nth, const char *state)
{
  JsonObject *object =
      cx_test_event_object (cx_test_recorder_wait (window->events, "stateChanged", nth));

  g_assert_cmpstr (cx_test_object_string (object, "state"), ==, state);
}

static void
customer_typing (CxTestCustomer *customer, const char *preview)
{
  g_autoptr (CxTestReply) reply =
      cx_test_customer_call (customer, "startTyping", "message", preview, NULL);

  g_assert_cmpuint (reply->status, ==, 200);
}

/* Tests */

/* Two windows of one app: sign in once, both are signed in; a whole conversation shows in
 * both. */
static void
test_two_windows (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  const char *text_in = "Hello <i>agent</i> & co \xe2\x9c\x93";
  const char *text_out = "Hi <b>Grace</b> & welcome";
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (JsonNode) restored = NULL;
  g_autoptr (JsonNode) signed_in = NULL;
  g_autoptr (JsonNode) chats = NULL;
  g_autoptr (JsonNode) transcript = NULL;
  g_autoptr (JsonNode) canned = NULL;
  g_autoptr (GPtrArray) transcript_messages = NULL;
  g_autoptr (GPtrArray) delivered_b = NULL;
  g_autoptr (JsonObject) joined = NULL;
  g_autofree char *json = NULL;
  CxAgentConversation *conversation;
  JsonObject *object;
  JsonArray *array;
  gboolean found;
  gint64 index;
  Window *a;
  Window *b;
  Window *c;

  /* Window A signs in with a password. */
  a = window_new (http, url);
  g_assert_false (cx_agent_service_get_signed_in (a->service));
  signed_in =
      command (a, "signIn", "{\"username\":\"ada\",\"password\":\"" CX_TEST_ADA_PASSWORD "\"}");
  object = result_object (signed_in);
  g_assert_cmpstr (cx_test_object_string (object, "username"), ==, "ada");
  g_assert_cmpstr (cx_test_object_string (object, "displayName"), ==, "Ada Lovelace");
  g_assert_cmpstr (cx_test_object_string (object, "state"), ==, "not_ready");
  g_assert_cmpint (cx_test_object_int (object, "capacity"), ==, 3);
  object = cx_test_event_object (cx_test_recorder_wait (a->events, "signedIn", 1));
  g_assert_cmpstr (cx_test_object_string (object, "username"), ==, "ada");
  g_assert_true (cx_agent_service_get_signed_in (a->service));
  g_assert_cmpstr (cx_agent_service_get_username (a->service), ==, "ada");

  /* Window B, on the same app, is signed in without a password. */
  b = window_new (http, url);
  restored = command (b, "restore", NULL);
  g_assert_cmpstr (cx_test_object_string (result_object (restored), "username"), ==, "ada");
  cx_test_recorder_wait (b->events, "signedIn", 1);
  g_assert_cmpuint (cx_test_recorder_count (b->events, "signedIn"), ==, 1);
  g_assert_cmpstr (cx_agent_service_get_state (b->service), ==, "not_ready");
  wait_connected (a);
  wait_connected (b);

  /* State: in both. */
  set_state (a, "ready");
  assert_state_event (a, 1, "ready");
  assert_state_event (b, 1, "ready");
  g_assert_cmpstr (cx_agent_service_get_state (b->service), ==, "ready");

  /* A customer: the invitation shows in both windows. */
  customer = cx_test_customer_start (f->server, "customer-support", "Grace <b>&amp;");
  object = wait_chat_event (a, "invitation", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "queue"), ==, "customer-support");
  g_assert_cmpstr (
      cx_test_object_string (json_object_get_object_member (object, "customer"), "nickname"), ==,
      "Grace <b>&amp;");
  g_assert_cmpstr (
      cx_test_object_string (json_object_get_object_member (object, "userData"), "source"), ==,
      "integration-test");
  g_assert_cmpint (cx_test_object_int (object, "expiresAt"), >,
                   cx_test_object_int (object, "waitingSince"));
  wait_chat_event (b, "invitation", customer->chat_id);
  conversation = find_conversation (b, customer->chat_id);
  g_assert_nonnull (conversation);
  g_assert_cmpint (cx_agent_conversation_get_status (conversation), ==,
                   CX_AGENT_CONVERSATION_INVITED);
  g_assert_cmpstr (cx_agent_conversation_get_nickname (conversation), ==, "Grace <b>&amp;");

  /* Accepted in A: both windows have the chat, with the agent's ParticipantJoined. */
  chat_command (a, "accept", customer->chat_id, NULL);
  wait_chat_event (a, "chatAccepted", customer->chat_id);
  wait_chat_event (b, "chatAccepted", customer->chat_id);
  wait_delivered (a, customer->chat_id, "ParticipantJoined", "Agent", NULL);
  wait_delivered (b, customer->chat_id, "ParticipantJoined", "Agent", NULL);
  joined = find_delivered (b, customer->chat_id, "ParticipantJoined", "Client", NULL);
  g_assert_nonnull (joined);
  g_assert_cmpint (cx_test_object_int (joined, "index"), ==, 1);
  g_assert_cmpint (cx_agent_conversation_get_status (conversation), ==,
                   CX_AGENT_CONVERSATION_ACTIVE);
  g_assert_cmpuint (count_chat_events (b, "invitation", customer->chat_id), ==, 1);

  /* The customer writes: both windows, text untouched. */
  cx_test_customer_send (customer, text_in);
  wait_delivered (a, customer->chat_id, "Message", "Client", text_in);
  wait_delivered (b, customer->chat_id, "Message", "Client", text_in);

  /* The agent writes: the customer's refresh has it. */
  index = agent_send (a, customer->chat_id, text_out);
  g_assert_cmpint (
      cx_test_object_int (cx_test_customer_poll_until (customer, 1, "Message", "Agent", text_out),
                          "index"),
      ==, index);
  wait_delivered (b, customer->chat_id, "Message", "Agent", text_out);

  /* The customer types, with a preview; a message ends it. */
  customer_typing (customer, "I am typ<");
  object = wait_chat_event (a, "customerTypingStarted", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "text"), ==, "I am typ<");
  object = wait_chat_event (b, "customerTypingStarted", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "text"), ==, "I am typ<");
  g_assert_true (cx_agent_conversation_get_customer_typing (conversation));
  g_assert_cmpstr (cx_agent_conversation_get_customer_typing_text (conversation), ==, "I am typ<");
  cx_test_customer_send (customer, "Done typing");
  wait_chat_event (a, "customerTypingStopped", customer->chat_id);
  wait_chat_event (b, "customerTypingStopped", customer->chat_id);
  g_assert_false (cx_agent_conversation_get_customer_typing (conversation));

  /* The agent types: one TypingStarted however often it is said, and a TypingStopped 5 s after
   * the last. */
  chat_command (a, "typing", customer->chat_id, "\"typing\":true");
  chat_command (a, "typing", customer->chat_id, "\"typing\":true");
  cx_test_customer_poll_until (customer, 1, "TypingStarted", "Agent", NULL);
  cx_test_customer_poll_until (customer, 1, "TypingStopped", "Agent", NULL);
  {
    JsonObject *started = cx_test_customer_find (customer, 1, "TypingStarted", "Agent", NULL);

    g_assert_null (cx_test_customer_find (customer, cx_test_object_int (started, "index") + 1,
                                          "TypingStarted", "Agent", NULL));
  }

  /* getChats and getTranscript from the other window. */
  chats = command (b, "getChats", NULL);
  array = json_object_get_array_member (result_object (chats), "chats");
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  g_assert_cmpstr (cx_test_object_string (json_array_get_object_element (array, 0), "chatId"), ==,
                   customer->chat_id);
  json = chat_json (customer->chat_id, "\"from\":1");
  transcript = command (b, "getTranscript", json);
  array = json_object_get_array_member (result_object (transcript), "messages");
  transcript_messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (transcript_messages,
                     json_object_ref (json_array_get_object_element (array, i)));
  cx_test_assert_contiguous (transcript_messages, 1);
  g_assert_cmpint (cx_test_object_int (result_object (transcript), "nextPosition"), ==,
                   transcript_messages->len + 1);

  /* Canned responses, untouched. */
  canned = command (a, "getCanned", NULL);
  array = json_object_get_array_member (result_object (canned), "responses");
  found = FALSE;
  for (guint i = 0; i < json_array_get_length (array); i++)
    found |= g_strcmp0 (cx_test_object_string (json_array_get_object_element (array, i), "text"),
                        "Thanks for contacting us <3 & goodbye.") == 0;
  g_assert_true (found);

  /* Both windows have had every entry once, in order. */
  assert_transcript_matches_server (a, customer);
  assert_transcript_matches_server (b, customer);
  delivered_b = delivered (b, customer->chat_id);
  g_assert_cmpuint (delivered_b->len, ==, customer->transcript->len);

  /* A window opened now is a view of the same session: it hears signedIn once, and has the open
   * chat with its whole transcript in the one model, without asking the server again. */
  c = window_new (http, url);
  g_assert_true (c->service == a->service);
  g_assert_cmpuint (cx_agent_service_get_n_windows (a->service), ==, 3);
  cx_test_recorder_wait (c->events, "signedIn", 1);
  wait_connected (c);
  g_assert_cmpint (cx_agent_conversation_get_status (find_conversation (c, customer->chat_id)), ==,
                   CX_AGENT_CONVERSATION_ACTIVE);
  assert_model_matches_server (c, customer);
  g_assert_null (find_chat_event (c, "invitation", customer->chat_id));
  window_free (c);
  g_assert_cmpuint (cx_agent_service_get_n_windows (a->service), ==, 2);
  g_assert_cmpuint (cx_test_recorder_count (a->events, "signedIn"), ==, 1);

  /* The agent ends it: both windows hear it, the customer too. */
  chat_command (a, "end", customer->chat_id, NULL);
  wait_chat_event (a, "chatEnded", customer->chat_id);
  wait_chat_event (b, "chatEnded", customer->chat_id);
  cx_test_customer_poll_until_ended (customer);
  g_assert_cmpint (cx_agent_conversation_get_status (conversation), ==,
                   CX_AGENT_CONVERSATION_ENDED);
  g_assert_cmpuint (count_chat_events (a, "chatEnded", customer->chat_id), ==, 1);
  g_assert_cmpuint (count_chat_events (b, "chatEnded", customer->chat_id), ==, 1);
  assert_transcript_matches_server (b, customer);

  /* An ended conversation is closed from one window: it leaves the list of every window. */
  chat_command (b, "dismiss", customer->chat_id, NULL);
  g_assert_null (find_conversation (b, customer->chat_id));
  g_assert_null (find_conversation (a, customer->chat_id));

  g_assert_cmpuint (cx_agent_service_get_malformed_frames (a->service), ==, 0);
  g_assert_cmpuint (cx_agent_service_get_malformed_frames (b->service), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (a->events, "error"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (b->events, "error"), ==, 0);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* A declined invitation goes to the other agent, who runs another app (its own CxHttp). */
static void
test_decline (Fixture *f, gconstpointer data)
{
  CxHttp *ada_http = cx_http_new (NULL);
  CxHttp *bob_http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  g_autoptr (CxTestCustomer) customer = NULL;
  JsonObject *object;
  Window *ada;
  Window *bob;

  ada = window_new (ada_http, url);
  bob = window_new (bob_http, url);
  sign_in (ada, "ada", CX_TEST_ADA_PASSWORD);
  sign_in (bob, "bob", CX_TEST_BOB_PASSWORD);
  wait_connected (ada);
  wait_connected (bob);
  set_state (ada, "ready");

  /* Bob is not ready: Ada is offered the chat. */
  customer = cx_test_customer_start (f->server, "sales", "Linus");
  wait_chat_event (ada, "invitation", customer->chat_id);
  set_state (bob, "ready");
  assert_state_event (bob, 1, "ready");

  chat_command (ada, "decline", customer->chat_id, NULL);
  object = wait_chat_event (ada, "invitationWithdrawn", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "reason"), ==, "declined");
  g_assert_null (find_conversation (ada, customer->chat_id));

  object = wait_chat_event (bob, "invitation", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "queue"), ==, "sales");
  chat_command (bob, "accept", customer->chat_id, NULL);
  wait_delivered (bob, customer->chat_id, "ParticipantJoined", "Agent", NULL);
  cx_test_customer_poll_until (customer, 1, "ParticipantJoined", "Agent", NULL);

  /* Declining again is refused clearly: it is no longer offered. */
  {
    g_autofree char *json = chat_json (customer->chat_id, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = command_run (ada, "accept", json, &error);

    g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED);
    g_assert_cmpstr (error->message, ==, "This chat is no longer offered to you");
    g_assert_null (result);
  }

  assert_transcript_matches_server (bob, customer);
  g_assert_cmpuint (cx_test_recorder_count (ada->events, "error"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (bob->events, "error"), ==, 0);

  window_free (ada);
  window_free (bob);
  cx_test_finalize_when_unwound (ada_http);
  cx_test_finalize_when_unwound (bob_http);
}

/* A transfer to a queue: the agent leaves the chat, another agent of that queue gets it, with
 * the whole transcript. */
static void
test_transfer (Fixture *f, gconstpointer data)
{
  CxHttp *ada_http = cx_http_new (NULL);
  CxHttp *bob_http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  g_autoptr (CxTestCustomer) customer = NULL;
  CxAgentConversation *conversation;
  JsonObject *object;
  Window *ada;
  Window *bob;

  ada = window_new (ada_http, url);
  bob = window_new (bob_http, url);
  sign_in (ada, "ada", CX_TEST_ADA_PASSWORD);
  sign_in (bob, "bob", CX_TEST_BOB_PASSWORD);
  wait_connected (ada);
  wait_connected (bob);
  set_state (ada, "ready");
  set_state (bob, "ready");

  /* Only Ada serves customer-support. */
  customer = cx_test_customer_start (f->server, "customer-support", "Grace");
  wait_chat_event (ada, "invitation", customer->chat_id);
  chat_command (ada, "accept", customer->chat_id, NULL);
  cx_test_customer_send (customer, "I need sales");
  wait_delivered (ada, customer->chat_id, "Message", "Client", "I need sales");

  /* Ada takes no new chats, and hands this one to sales: Bob. */
  set_state (ada, "not_ready");
  chat_command (ada, "transfer", customer->chat_id, "\"queue\":\"sales\"");
  wait_chat_event (ada, "chatLeft", customer->chat_id);
  wait_delivered (ada, customer->chat_id, "ParticipantLeft", "Agent", NULL);
  conversation = find_conversation (ada, customer->chat_id);
  g_assert_nonnull (conversation);
  g_assert_cmpint (cx_agent_conversation_get_status (conversation), ==, CX_AGENT_CONVERSATION_LEFT);
  g_assert_null (find_chat_event (ada, "chatEnded", customer->chat_id));

  object = wait_chat_event (bob, "invitation", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (object, "queue"), ==, "sales");
  chat_command (bob, "accept", customer->chat_id, NULL);
  wait_delivered (bob, customer->chat_id, "Message", "Client", "I need sales");
  cx_test_customer_send (customer, "Hello Bob");
  wait_delivered (bob, customer->chat_id, "Message", "Client", "Hello Bob");
  assert_transcript_matches_server (bob, customer);
  /* Ada hears nothing more of it. */
  g_assert_cmpuint (count_delivered_text (ada, customer->chat_id, "Hello Bob"), ==, 0);

  /* A transfer needs a target. */
  {
    g_autofree char *json = chat_json (customer->chat_id, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = command_run (bob, "transfer", json, &error);

    g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID);
    g_assert_null (result);
  }
  /* One the server refuses: its own words, not CxHttp's (the address, the status). */
  {
    g_autofree char *json = chat_json (customer->chat_id, "\"queue\":\"nowhere\"");
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = command_run (bob, "transfer", json, &error);

    g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_REFUSED);
    g_assert_cmpstr (error->message, ==, "There is no queue nowhere");
    g_assert_null (result);
  }

  window_free (ada);
  window_free (bob);
  cx_test_finalize_when_unwound (ada_http);
  cx_test_finalize_when_unwound (bob_http);
}

/* Callbacks: listed, rescheduled, completed; every change is announced. */
static void
test_callbacks (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autofree char *create_url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/customer-support");
  g_autoptr (GDateTime) ten = cx_test_tomorrow_at (10, 0);
  g_autoptr (GDateTime) eleven = cx_test_tomorrow_at (11, 0);
  g_autofree char *ten_text = cx_test_iso8601 (ten);
  g_autofree char *eleven_text = cx_test_iso8601 (eleven);
  g_autoptr (CxTestReply) created = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (JsonNode) rescheduled = NULL;
  g_autoptr (JsonNode) completed = NULL;
  g_autofree char *id = NULL;
  g_autofree char *json = NULL;
  gint64 desired = 0;
  JsonArray *array;
  gboolean found = FALSE;
  Window *window;

  window = window_new (http, cx_test_server_get_url (f->server));
  sign_in (window, "ada", CX_TEST_ADA_PASSWORD);
  wait_connected (window);

  created = cx_test_post_form (f->session, create_url, "_customer_number", "+15551234567",
                               "_desired_time", ten_text, "subject", "Call me <soon>", NULL);
  g_assert_cmpuint (created->status, ==, 200);
  id = g_strdup (cx_test_object_string (cx_test_reply_object (created), "_id"));
  cx_test_recorder_wait (window->events, "callbacksChanged", 1);

  list = command (window, "getCallbacks", NULL);
  array = json_object_get_array_member (result_object (list), "callbacks");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *callback = json_array_get_object_element (array, i);

      if (g_strcmp0 (cx_test_object_string (callback, "_id"), id) == 0)
        {
          found = TRUE;
          g_assert_cmpstr (cx_test_object_string (callback, "subject"), ==, "Call me <soon>");
        }
    }
  g_assert_true (found);

  json = g_strdup_printf ("{\"id\":\"%s\",\"desiredTime\":\"%s\"}", id, eleven_text);
  rescheduled = command (window, "rescheduleCallback", json);
  g_assert_true (cx_iso8601_parse (
      cx_test_object_string (result_object (rescheduled), "_desired_time"), &desired, NULL));
  g_assert_cmpint (desired, ==, g_date_time_to_unix (eleven) * 1000);
  cx_test_recorder_wait (window->events, "callbacksChanged", 2);

  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"id\":\"%s\"}", id);
  completed = command (window, "completeCallback", json);
  g_assert_cmpstr (cx_test_object_string (result_object (completed), "_callback_state"), ==,
                   "COMPLETED");
  cx_test_recorder_wait (window->events, "callbacksChanged", 3);

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* Signing out in one window signs out every window of the app; calls then fail clearly; and
 * signing in again brings the other windows back. */
static void
test_sign_out (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  Window *a;
  Window *b;
  Window *c;

  a = window_new (http, url);
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  b = window_new (http, url);
  cx_test_recorder_wait (b->events, "signedIn", 1);
  wait_connected (a);
  wait_connected (b);

  command_ok (a, "signOut", NULL);
  cx_test_recorder_wait (a->events, "signedOut", 1);
  cx_test_recorder_wait (b->events, "signedOut", 1);
  g_assert_false (cx_agent_service_get_signed_in (a->service));
  g_assert_false (cx_agent_service_get_signed_in (b->service));
  g_assert_cmpuint (cx_test_recorder_count (a->events, "signedOut"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (b->events, "signedOut"), ==, 1);

  /* A call after that fails with a clear error. */
  result = command_run (b, "getChats", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN);
  g_assert_cmpstr (error->message, ==, "You are not signed in");
  g_clear_error (&error);

  /* A new window is not signed in either. */
  c = window_new (http, url);
  result = command_run (c, "restore", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN);
  g_clear_error (&error);
  g_assert_cmpuint (cx_test_recorder_count (c->events, "signedIn"), ==, 0);

  /* A wrong password is not a session. */
  result = command_run (a, "signIn", "{\"username\":\"ada\",\"password\":\"nope\"}", &error);
  g_assert_null (result);
  g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS);
  g_clear_error (&error);

  /* Signing in again in one window: the others follow. */
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_recorder_wait (b->events, "signedIn", 2);
  cx_test_recorder_wait (c->events, "signedIn", 1);
  g_assert_cmpuint (cx_test_recorder_count (a->events, "signedOut"), ==, 1);

  window_free (a);
  window_free (b);
  window_free (c);
  cx_test_finalize_when_unwound (http);
}

/* Two apps signed in as the same agent have two sessions: signing out of one leaves the other
 * signed in (API.md: "every socket of that session gets signedOut"). */
static void
test_other_session (Fixture *f, gconstpointer data)
{
  CxHttp *first_http = cx_http_new (NULL);
  CxHttp *second_http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  g_autoptr (CxTestCustomer) customer = NULL;
  Window *first;
  Window *second;

  first = window_new (first_http, url);
  second = window_new (second_http, url);
  sign_in (first, "ada", CX_TEST_ADA_PASSWORD);
  sign_in (second, "ada", CX_TEST_ADA_PASSWORD);
  wait_connected (first);
  wait_connected (second);

  command_ok (first, "signOut", NULL);
  cx_test_recorder_wait (first->events, "signedOut", 1);

  /* The second app still works: it is offered, and takes, a new chat. */
  set_state (second, "ready");
  customer = cx_test_customer_start (f->server, "customer-support", "Grace");
  wait_chat_event (second, "invitation", customer->chat_id);
  g_assert_true (cx_agent_service_get_signed_in (second->service));
  g_assert_cmpuint (cx_test_recorder_count (second->events, "signedOut"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (second->events, "connectionLost"), ==, 0);
  chat_command (second, "accept", customer->chat_id, NULL);
  wait_delivered (second, customer->chat_id, "ParticipantJoined", "Agent", NULL);

  window_free (first);
  window_free (second);
  cx_test_finalize_when_unwound (first_http);
  cx_test_finalize_when_unwound (second_http);
}

/* The server forgets the session (here: the cookie no longer names one): the first 401 signs
 * out every window. */
static void
test_session_refused (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  const char *url = cx_test_server_get_url (f->server);
  SoupCookieJar *jar = cx_http_get_cookie_jar (http);
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  GSList *cookies;
  SoupCookie *bogus;
  Window *a;
  Window *b;

  a = window_new (http, url);
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  b = window_new (http, url);
  cx_test_recorder_wait (b->events, "signedIn", 1);
  wait_connected (a);
  wait_connected (b);

  bogus = soup_cookie_new (SESSION_COOKIE,
                           "00000000000000000000000000000000"
                           "00000000000000000000000000000000",
                           "127.0.0.1", "/cx/1", -1);
  soup_cookie_set_http_only (bogus, TRUE);
  soup_cookie_jar_add_cookie (jar, bogus);

  result = command_run (a, "getChats", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN);
  cx_test_recorder_wait (a->events, "signedOut", 1);
  cx_test_recorder_wait (b->events, "signedOut", 1);

  /* The cookie is gone from the app: no window restores a dead session. */
  uri = g_uri_parse (cx_test_server_get_url (f->server), G_URI_FLAGS_NONE, NULL);
  {
    g_autoptr (GUri) api = g_uri_parse_relative (uri, "cx/1/agent/me", G_URI_FLAGS_NONE, NULL);

    cookies = soup_cookie_jar_get_cookie_list (jar, api, TRUE);
    g_assert_null (cookies);
  }

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* The server is killed mid-conversation and comes back on the same database: the windows lose
 * and regain the connection, the session is still good, and what the customer wrote while the
 * socket was down is delivered once, in order. */
static void
test_server_restart (Fixture *f, gconstpointer data)
{
  static const char *const while_down[] = { "While down 1", "While down 2 <&>", "While down 3" };
  CxHttp *http = cx_http_new (NULL);
  CxTestForwarder *forwarder = cx_test_forwarder_new (f->server);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (JsonNode) chats = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  gint64 previous = 0;
  JsonArray *array;
  Window *a;
  Window *b;

  a = window_new (http, cx_test_forwarder_get_url (forwarder));
  sign_in (a, "ada", CX_TEST_ADA_PASSWORD);
  b = window_new (http, cx_test_forwarder_get_url (forwarder));
  cx_test_recorder_wait (b->events, "signedIn", 1);
  wait_connected (a);
  wait_connected (b);
  set_state (a, "ready");

  customer = cx_test_customer_start (f->server, "customer-support", "Grace");
  wait_chat_event (a, "invitation", customer->chat_id);
  chat_command (a, "accept", customer->chat_id, NULL);
  cx_test_customer_send (customer, "Before the crash");
  wait_delivered (a, customer->chat_id, "Message", "Client", "Before the crash");
  wait_delivered (b, customer->chat_id, "Message", "Client", "Before the crash");

  cx_test_server_kill9 (f->server);
  cx_test_recorder_wait (a->events, "connectionLost", 1);
  cx_test_recorder_wait (b->events, "connectionLost", 1);
  g_assert_false (cx_agent_service_get_connected (a->service));

  /* Back on another port; the windows cannot reach it until the forwarder lets them. */
  cx_test_forwarder_set_blocked (forwarder, TRUE);
  cx_test_server_restart (f->server);
  for (guint i = 0; i < G_N_ELEMENTS (while_down); i++)
    cx_test_customer_send (customer, while_down[i]);
  customer_typing (customer, "still here");
  g_assert_cmpuint (cx_test_recorder_count (a->events, "connectionRestored"), ==, 0);
  cx_test_forwarder_set_blocked (forwarder, FALSE);

  cx_test_recorder_wait (a->events, "connectionRestored", 1);
  cx_test_recorder_wait (b->events, "connectionRestored", 1);
  g_assert_true (cx_agent_service_get_signed_in (a->service));
  g_assert_true (cx_agent_service_get_signed_in (b->service));
  g_assert_cmpuint (cx_test_recorder_count (a->events, "signedOut"), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (a->events, "connectionLost"), ==, 1);

  /* Delivered once each, in order, by the time the connection is restored. */
  for (guint i = 0; i < G_N_ELEMENTS (while_down); i++)
    {
      g_autoptr (JsonObject) found_a =
          find_delivered (a, customer->chat_id, "Message", "Client", while_down[i]);
      g_autoptr (JsonObject) found_b =
          find_delivered (b, customer->chat_id, "Message", "Client", while_down[i]);

      g_assert_nonnull (found_a);
      g_assert_nonnull (found_b);
      g_assert_cmpuint (count_delivered_text (a, customer->chat_id, while_down[i]), ==, 1);
      g_assert_cmpuint (count_delivered_text (b, customer->chat_id, while_down[i]), ==, 1);
      g_assert_cmpint (cx_test_object_int (found_a, "index"), >, previous);
      previous = cx_test_object_int (found_a, "index");
    }
  wait_chat_event (a, "customerTypingStarted", customer->chat_id);
  messages = delivered (a, customer->chat_id);
  cx_test_assert_contiguous (messages, 1);

  /* The session cookie is still good, and the conversation goes on both ways. */
  chats = command (a, "getChats", NULL);
  array = json_object_get_array_member (result_object (chats), "chats");
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  cx_test_customer_send (customer, "After the restart");
  wait_delivered (a, customer->chat_id, "Message", "Client", "After the restart");
  wait_delivered (b, customer->chat_id, "Message", "Client", "After the restart");
  agent_send (b, customer->chat_id, "Welcome back");
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "Welcome back");
  assert_transcript_matches_server (a, customer);
  assert_transcript_matches_server (b, customer);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
  cx_test_forwarder_free (forwarder);
}

/* Bad command data is refused before anything is sent. */
static void
test_bad_commands (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *name;
    const char *json;
  } cases[] = {
    { "signIn", NULL },
    { "signIn", "{\"username\":\"ada\"}" },
    { "setState", "{\"state\":\"asleep\"}" },
    { "accept", "{}" },
    { "accept", "{\"chatId\":\"\"}" },
    { "send", "{\"chatId\":\"x\"}" },
    { "send", "{\"chatId\":\"x\",\"text\":\"\"}" },
    { "typing", "{\"chatId\":\"x\",\"typing\":\"yes\"}" },
    { "transfer", "{\"chatId\":\"x\",\"queue\":\"a\",\"agent\":\"b\"}" },
    { "getTranscript", "{\"chatId\":\"x\",\"from\":0}" },
    { "completeCallback", "{}" },
    { "rescheduleCallback", "{\"id\":\"x\"}" },
  };
  CxHttp *http = cx_http_new (NULL);
  Window *window = window_new (http, cx_test_server_get_url (f->server));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) result = command_run (window, cases[i].name, cases[i].json, &error);

      g_assert_null (result);
      g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_INVALID);
    }

  /* Not signed in: refused at once, without a request. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) result = command_run (window, "getCanned", NULL, &error);

    g_assert_null (result);
    g_assert_error (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN);
  }

  {
    g_autoptr (GError) error = NULL;
    CxAgentService *service = cx_agent_service_new (http, "ftp://example.com/", &error);

    g_assert_null (service);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/agent-service/two-windows", NULL, NULL, test_two_windows);
  cx_test_add ("/agent-service/decline", NULL, NULL, test_decline);
  cx_test_add ("/agent-service/transfer", NULL, NULL, test_transfer);
  cx_test_add ("/agent-service/callbacks", NULL, NULL, test_callbacks);
  cx_test_add ("/agent-service/sign-out", NULL, NULL, test_sign_out);
  cx_test_add ("/agent-service/other-session", NULL, NULL, test_other_session);
  cx_test_add ("/agent-service/session-refused", NULL, NULL, test_session_refused);
  cx_test_add ("/agent-service/server-restart", NULL, NULL, test_server_restart);
  cx_test_add ("/agent-service/bad-commands", NULL, NULL, test_bad_commands);

  return g_test_run ();
}
