/* test-webchat-service.c: CxWebChatService against the real cxdesk-server, driven through its
 * bus as the chat panel will drive it: a conversation over the push socket and over polling,
 * windows sharing one chat through the cookie jar, restore and its timeout, the start lock, the
 * server dying and coming back, and the private poll command.
 *
 * Every wait iterates the main context until a condition holds: no sleeps, no wall-clock
 * deadlines (meson's timeout catches a hang).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-webchat-service"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "bus/cx-bus.h"
#include "cx-test-bus.h"
#include "cx-test-server.h"
#include "protocol/cx-gms-chat.h"
#include "services/cx-chat-message.h"
#include "services/cx-http.h"
#include "services/cx-webchat-service.h"

#define SERVICE "customer-support"
#define SITE "http://www.example.com/"

typedef CxTestFixture Fixture;

/* Configuration */

static JsonObject *
make_config (const char *base_url, const char *transport)
{
  JsonObject *config = json_object_new ();
  g_autofree char *data_url = g_strconcat (base_url, "genesys/2/chat/" SERVICE, NULL);

  json_object_set_string_member (config, "dataURL", data_url);
  json_object_set_string_member (config, "transport", transport);
  json_object_set_int_member (config, "pollRate", 1000);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (config, "ajaxTimeout", 10000);
  return config;
}

/* Windows: a bus, the service on it, and everything the service published */

typedef struct
{
  CxBus *bus;
  CxWebChatService *service;
  CxTestRecorder *events; /* what the service published */
  gboolean push;          /* transport "auto" against cxdesk-server */
} Window;

static Window *
window_new (CxHttp *http, const char *site, JsonObject *config)
{
  Window *window = g_new0 (Window, 1);
  g_autoptr (GError) error = NULL;

  window->bus = cx_bus_new ();
  window->push =
      g_strcmp0 (json_object_get_string_member_with_default (config, "transport", "auto"),
                 "auto") == 0;
  /* Before the service exists, as a page script may. */
  window->events = cx_test_recorder_new (window->bus, CX_WEBCHAT_SERVICE_NAME);
  window->service = cx_webchat_service_new (window->bus, http, site, config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (window->service);
  return window;
}

static gboolean
push_is_open (gpointer data)
{
  Window *window = data;

  return cx_webchat_service_get_chat_id (window->service) == NULL ||
         cx_webchat_service_get_uses_push (window->service);
}

/* The window closes its service (the chat must go on). A push socket still opening is let
 * open first: cxdesk-server warns when a client hangs up in the middle of the WebSocket
 * upgrade, and with G_DEBUG=fatal-warnings (inherited from this test) it aborts on it. */
static void
window_close_service (Window *window)
{
  if (window->push)
    cx_test_wait (push_is_open, window);
  g_assert_finalize_object (g_steal_pointer (&window->service));
}

static void
window_free (Window *window)
{
  if (window->service != NULL)
    window_close_service (window);
  cx_test_recorder_free (window->events);
  g_assert_finalize_object (window->bus);
  g_free (window);
}

/* What @window was told: "WebChatService.@name" events, counted, and the @nth (from 1) waited
 * for. */

static guint
count_events (Window *window, const char *name)
{
  return cx_test_recorder_count (window->events, name);
}

static CxEvent *
wait_event (Window *window, const char *name, guint nth)
{
  return cx_test_recorder_wait (window->events, name, nth);
}

static JsonObject *
event_object (CxEvent *event)
{
  return cx_test_event_object (event);
}

/* Every transcript entry @window was given by messageReceived (and, with @with_restored, by
 * restored), in the order it was given; one of them, and waiting for one. */
static GPtrArray *
delivered (Window *window, gboolean with_restored)
{
  return cx_test_recorder_messages (window->events, "messageReceived",
                                    with_restored ? "restored" : NULL, NULL);
}

static JsonObject *
find_delivered (Window *window, const char *type, const char *from_type, const char *text)
{
  return cx_test_recorder_find_message (window->events, "messageReceived", "restored", NULL, type,
                                        from_type, text);
}

static void
wait_delivered (Window *window, const char *type, const char *from_type, const char *text)
{
  cx_test_recorder_wait_message (window->events, "messageReceived", "restored", NULL, type,
                                 from_type, text);
}

static guint
count_delivered_text (Window *window, const char *text)
{
  g_autoptr (GPtrArray) messages = delivered (window, TRUE);

  return cx_test_messages_count_text (messages, text);
}

/* Commands, as the application ("App") or another plugin makes them */

static void
command_start (Window *window, CxPlugin *commander, const char *name, const char *json,
               GAsyncResult **slot)
{
  g_autofree char *full = g_strconcat (CX_WEBCHAT_SERVICE_NAME ".", name, NULL);

  cx_test_bus_command_start (window->bus, commander, full, json, slot);
}

static JsonNode *
command_finish (Window *window, GAsyncResult **slot, GError **error)
{
  return cx_test_bus_command_finish (window->bus, slot, error);
}

/* Runs a command that must succeed; returns its result. */
static JsonNode *
command (Window *window, const char *name, const char *json)
{
  g_autofree char *full = g_strconcat (CX_WEBCHAT_SERVICE_NAME ".", name, NULL);

  return cx_test_bus_command_ok (window->bus, full, json);
}

static char *
result_string (JsonNode *result, const char *member)
{
  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return g_strdup (cx_test_object_string (json_node_get_object (result), member));
}

static gint64
result_int (JsonNode *result, const char *member)
{
  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return cx_test_object_int (json_node_get_object (result), member);
}

static char *
start_chat (Window *window)
{
  g_autoptr (JsonNode) result =
      command (window, "startChat",
               "{\"nickname\":\"Grace\",\"email\":\"grace@example.com\",\"subject\":\"Help\","
               "\"userData\":{\"order\":\"A-42\",\"vip\":true}}");

  return result_string (result, "chatId");
}

static gint64
send_message (Window *window, const char *text)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *json = NULL;

  json_object_set_string_member (object, "message", text);
  node = json_node_init_object (json_node_alloc (), object);
  json = json_to_string (node, FALSE);
  result = command (window, "sendMessage", json);
  return result_int (result, "index");
}

/* Agents and the server's view */

static CxTestAgent *
ready_agent (Fixture *f)
{
  return cx_test_agent_ready (f->server, "ada", CX_TEST_ADA_PASSWORD);
}

static void
agent_accept (CxTestAgent *agent, const char *chat_id)
{
  cx_test_agent_take (agent, chat_id);
}

static void
agent_typing (CxTestAgent *agent, const char *chat_id, gboolean typing)
{
  cx_test_agent_typing (agent, chat_id, typing);
}

/* A plain GMS client with the keys the service keeps in the site's cookies: the server's own
 * account of the transcript. */
/* A chat of @n_lines agent lines ("Line 1"…) in a window of SITE whose service is then closed:
 * the chat goes on, for the next window to restore. */
static Window *
long_chat (CxHttp *http, JsonObject *config, CxTestAgent *agent, guint n_lines, char **chat_id)
{
  Window *window = window_new (http, SITE, config);
  g_autofree char *last = g_strdup_printf ("Line %u", n_lines);

  *chat_id = start_chat (window);
  agent_accept (agent, *chat_id);
  for (guint i = 1; i <= n_lines; i++)
    {
      g_autofree char *text = g_strdup_printf ("Line %u", i);

      cx_test_agent_send (agent, *chat_id, text);
    }
  wait_delivered (window, "Message", "Agent", last);
  window_close_service (window);
  return window;
}

static CxTestCustomer *
customer_from_cookies (Fixture *f, CxHttp *http, const char *site)
{
  g_autofree char *chat_id =
      cx_http_get_site_cookie (http, site, CX_WEBCHAT_COOKIE_PREFIX "session");
  g_autofree char *keys = cx_http_get_site_cookie (http, site, CX_WEBCHAT_COOKIE_PREFIX "keys");
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  CxTestCustomer *customer;
  JsonObject *object;

  g_assert_nonnull (chat_id);
  g_assert_nonnull (keys);
  root = json_from_string (keys, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);

  customer = g_new0 (CxTestCustomer, 1);
  customer->server = f->server;
  customer->session = cx_test_session_new (FALSE);
  customer->service = g_strdup (SERVICE);
  customer->chat_id = g_strdup (chat_id);
  customer->user_id = g_strdup (cx_test_object_string (object, "userId"));
  customer->secure_key = g_strdup (cx_test_object_string (object, "secureKey"));
  customer->alias = g_strdup (cx_test_object_string (object, "alias"));
  customer->user_id_node = json_node_copy (json_object_get_member (object, "userId"));
  customer->alias_node = json_node_copy (json_object_get_member (object, "alias"));
  customer->next_position = 1;
  customer->transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  return customer;
}

/* Every entry the server has was given to @window exactly once, in index order, with the
 * server's text, untouched. */
static void
assert_transcript_matches_server (Window *window, CxTestCustomer *customer)
{
  cx_test_recorder_assert_transcript (window->events, "messageReceived", "restored", NULL,
                                      customer);
}

/* @entries (JsonObject, in order) are the server's whole transcript, each entry once. */
static void
assert_entries_match_server (GPtrArray *entries, CxTestCustomer *customer)
{
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) expected = NULL;

  cx_test_customer_poll (customer);
  cx_test_assert_contiguous (entries, 1);
  got = cx_test_transcript_summaries (entries);
  expected = cx_test_transcript_summaries (customer->transcript);
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (expected, i));
}

/* Tests */

static void
test_conversation (Fixture *f, gconstpointer data)
{
  const char *transport = data;
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), transport);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (JsonNode) session = NULL;
  g_autoptr (JsonNode) typing = NULL;
  g_autoptr (JsonNode) limits = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *started_id = NULL;
  GAsyncResult *burst[3] = { NULL, NULL, NULL };
  const char *burst_text[3] = { "one", "two", "three" };
  gint64 previous = 0;
  JsonObject *seen;
  Window *window;
  gint64 index;

  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  started_id =
      g_strdup (cx_test_object_string (event_object (wait_event (window, "started", 1)), "chatId"));
  g_assert_cmpstr (started_id, ==, chat_id);
  g_assert_cmpstr (cx_webchat_service_get_chat_id (window->service), ==, chat_id);

  agent_accept (agent, chat_id);
  seen = event_object (wait_event (window, "agentConnected", 1));
  g_assert_cmpstr (cx_test_object_string (seen, "nickname"), ==, "Ada Lovelace");
  g_assert_cmpint (cx_webchat_service_get_uses_push (window->service), ==,
                   g_str_equal (transport, "auto"));

  /* Customer to agent, text untouched. */
  index = send_message (window, "Hello <b>there</b> & 👋");
  seen = cx_test_agent_wait_message (agent, chat_id, "Message", "Hello <b>there</b> & 👋");
  g_assert_cmpint (cx_test_object_int (seen, "index"), ==, index);

  /* Agent to customer. */
  cx_test_agent_send (agent, chat_id, "Hi! <i>not markup</i>");
  wait_delivered (window, "Message", "Agent", "Hi! <i>not markup</i>");

  /* Agent typing, then a message ends it. */
  agent_typing (agent, chat_id, TRUE);
  wait_event (window, "agentTypingStarted", 1);
  cx_test_agent_send (agent, chat_id, "What is the order number?");
  wait_event (window, "agentTypingStopped", 1);

  /* Customer typing, with its preview. */
  typing = command (window, "sendTyping", "{\"message\":\"It is A-4\"}");
  cx_test_agent_wait_message (agent, chat_id, "TypingStarted", "It is A-4");

  /* A burst keeps its order, each acknowledged with its own index. */
  for (guint i = 0; i < G_N_ELEMENTS (burst); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"message\":\"%s\"}", burst_text[i]);

      command_start (window, NULL, "sendMessage", json, &burst[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (burst); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) result = command_finish (window, &burst[i], &error);

      g_assert_no_error (error);
      index = result_int (result, "index");
      g_assert_cmpint (index, >, previous);
      previous = index;
      seen = cx_test_agent_wait_message (agent, chat_id, "Message", burst_text[i]);
      g_assert_cmpint (cx_test_object_int (seen, "index"), ==, index);
    }

  /* messageReceived gave every entry exactly once, in order, as the server has it. */
  customer = customer_from_cookies (f, http, SITE);
  g_assert_cmpstr (customer->chat_id, ==, chat_id);
  assert_transcript_matches_server (window, customer);
  g_assert_cmpuint (count_events (window, "started"), ==, 1);
  g_assert_cmpuint (count_events (window, "agentConnected"), ==, 1);
  g_assert_cmpuint (count_events (window, "error"), ==, 0);

  /* The file limits are the server's. */
  limits = command (window, "getFileLimits", NULL);
  g_assert_cmpint (cx_test_object_loose_int (json_node_get_object (limits), "upload-max-file-size"),
                   ==, CX_TEST_MAX_FILE_SIZE);

  /* The session data never carries the secure key. */
  session = command (window, "getSessionData", NULL);
  g_assert_cmpstr (cx_test_object_string (json_node_get_object (session), "chatId"), ==, chat_id);
  g_assert_false (json_object_has_member (json_node_get_object (session), "secureKey"));

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

static char *
cookie (CxHttp *http, const char *site, const char *name)
{
  g_autofree char *full = g_strconcat (CX_WEBCHAT_COOKIE_PREFIX, name, NULL);

  return cx_http_get_site_cookie (http, site, full);
}

/* Two windows of one site share the chat: what one sends the other receives, and ending it in
 * one ends it in both. */
static void
test_two_windows (Fixture *f, gconstpointer data)
{
  const char *transport = data;
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), transport);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (JsonNode) ended = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *session = NULL;
  JsonObject *restored;
  Window *a;
  Window *b;

  a = window_new (http, SITE, config);
  chat_id = start_chat (a);
  agent_accept (agent, chat_id);
  send_message (a, "Sent from window A");
  cx_test_agent_send (agent, chat_id, "Answer from the agent");
  wait_delivered (a, "Message", "Agent", "Answer from the agent");

  /* A window opened later restores the chat with its whole transcript. */
  b = window_new (http, "http://www.example.com/account/orders?id=7", config);
  restored = event_object (wait_event (b, "restored", 1));
  g_assert_cmpstr (cx_test_object_string (restored, "chatId"), ==, chat_id);
  g_assert_nonnull (find_delivered (b, "Message", "Client", "Sent from window A"));
  g_assert_nonnull (find_delivered (b, "Message", "Agent", "Answer from the agent"));
  g_assert_cmpuint (count_events (b, "started"), ==, 0);
  g_assert_cmpstr (cx_webchat_service_get_chat_id (b->service), ==, chat_id);

  /* What B sends, A receives, and both receive the agent. */
  send_message (b, "Sent from window B");
  cx_test_agent_wait_message (agent, chat_id, "Message", "Sent from window B");
  wait_delivered (a, "Message", "Client", "Sent from window B");
  cx_test_agent_send (agent, chat_id, "Seen both");
  wait_delivered (a, "Message", "Agent", "Seen both");
  wait_delivered (b, "Message", "Agent", "Seen both");

  customer = customer_from_cookies (f, http, SITE);
  assert_transcript_matches_server (a, customer);
  assert_transcript_matches_server (b, customer);

  /* Ending it in B ends it in A; the cookies go. */
  ended = command (b, "endChat", NULL);
  wait_event (b, "ended", 1);
  wait_event (a, "ended", 1);
  g_assert_null (cx_webchat_service_get_chat_id (a->service));
  g_assert_null (cx_webchat_service_get_chat_id (b->service));
  session = cookie (http, SITE, "session");
  g_assert_null (session);
  cx_test_agent_wait_message (agent, chat_id, "ParticipantLeft", NULL);
  cx_test_customer_poll_until_ended (customer);
  g_assert_cmpuint (count_events (a, "ended"), ==, 1);
  g_assert_cmpuint (count_events (b, "ended"), ==, 1);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* Subdomains of the site restore the chat; another domain does not see it. */
static void
test_subdomain (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *foreign = NULL;
  JsonObject *restored;
  Window *www;
  Window *shop;
  Window *other;

  www = window_new (http, "https://www.example.com/", config);
  chat_id = start_chat (www);

  shop = window_new (http, "https://shop.example.com/cart", config);
  restored = event_object (wait_event (shop, "restored", 1));
  g_assert_cmpstr (cx_test_object_string (restored, "chatId"), ==, chat_id);

  other = window_new (http, "https://www.example.org/", config);
  foreign = cookie (http, "https://www.example.org/", "session");
  g_assert_null (foreign);
  command_start (other, NULL, "restore", NULL, &slot);
  result = command_finish (other, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_null (result);
  g_assert_null (cx_webchat_service_get_chat_id (other->service));
  g_assert_cmpuint (count_events (other, "restored"), ==, 0);
  g_assert_cmpuint (count_events (other, "restoreTimeout"), ==, 0);

  window_free (www);
  window_free (shop);
  window_free (other);
  cx_test_finalize_when_unwound (http);
}

/* A chat nobody pinged for restoreTimeout is not restored: restoreTimeout, and the cookies go. */
static void
test_restore_timeout (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autofree char *chat_id = NULL;
  g_autofree char *new_chat_id = NULL;
  g_autofree char *session = NULL;
  g_autofree char *keys = NULL;
  Window *a;
  Window *b;

  json_object_set_int_member (config, "restoreTimeout", 1000);
  a = window_new (http, SITE, config);
  chat_id = start_chat (a);
  window_close_service (a);

  /* Longer than restoreTimeout since the last ping, which came before the close. */
  cx_test_pause (1200);

  b = window_new (http, SITE, config);
  wait_event (b, "restoreTimeout", 1);
  g_assert_cmpuint (count_events (b, "restored"), ==, 0);
  g_assert_null (cx_webchat_service_get_chat_id (b->service));
  session = cookie (http, SITE, "session");
  keys = cookie (http, SITE, "keys");
  g_assert_null (session);
  g_assert_null (keys);

  /* And the window can start afresh. */
  new_chat_id = start_chat (b);
  g_assert_cmpstr (new_chat_id, !=, chat_id);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

static guint
count_frames (CxTestSocket *socket, const char *type)
{
  guint count = 0;

  for (guint i = 0; i < socket->all_frames->len; i++)
    if (g_strcmp0 (cx_test_object_string (g_ptr_array_index (socket->all_frames, i), "type"),
                   type) == 0)
      count++;
  return count;
}

/* Two windows that start a chat at the same moment get one chat. */
static void
test_start_race (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (GAsyncResult) slot_a = NULL;
  g_autoptr (GAsyncResult) slot_b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result_a = NULL;
  g_autoptr (JsonNode) result_b = NULL;
  g_autofree char *id_a = NULL;
  g_autofree char *id_b = NULL;
  const char *form = "{\"firstname\":\"Ada\",\"lastname\":\"Byron\"}";
  Window *a;
  Window *b;

  a = window_new (http, SITE, config);
  b = window_new (http, SITE, config);
  command_start (a, NULL, "startChat", form, &slot_a);
  command_start (b, NULL, "startChat", form, &slot_b);
  result_a = command_finish (a, &slot_a, &error);
  g_assert_no_error (error);
  result_b = command_finish (b, &slot_b, &error);
  g_assert_no_error (error);
  id_a = result_string (result_a, "chatId");
  id_b = result_string (result_b, "chatId");
  g_assert_cmpstr (id_a, ==, id_b);
  g_assert_cmpuint (count_events (a, "started") + count_events (b, "started"), ==, 1);
  g_assert_cmpuint (count_events (a, "restored") + count_events (b, "restored"), ==, 1);

  /* The server routed exactly one chat. */
  cx_test_agent_wait_invitation (agent, id_a);
  cx_test_agent_barrier (agent);
  g_assert_cmpuint (count_frames (agent->events, "invitation"), ==, 1);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

static void
count_start_posts_cb (SoupSession *session, SoupMessage *msg, gpointer user_data)
{
  guint *count = user_data;

  if (g_str_equal (soup_message_get_method (msg), SOUP_METHOD_POST) &&
      g_str_equal (g_uri_get_path (soup_message_get_uri (msg)), "/genesys/2/chat/" SERVICE))
    (*count)++;
}

/* Calling startChat twice in one window sends one start request. */
static void
test_double_start (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (GAsyncResult) first = NULL;
  g_autoptr (GAsyncResult) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result_first = NULL;
  g_autoptr (JsonNode) result_second = NULL;
  g_autoptr (JsonNode) result_third = NULL;
  g_autofree char *id_first = NULL;
  g_autofree char *id_second = NULL;
  g_autofree char *id_third = NULL;
  guint posts = 0;
  gulong handler;
  Window *window;

  handler = g_signal_connect (cx_http_get_session (http), "request-queued",
                              G_CALLBACK (count_start_posts_cb), &posts);
  window = window_new (http, SITE, config);
  command_start (window, NULL, "startChat", "{\"nickname\":\"Grace\"}", &first);
  command_start (window, NULL, "startChat", "{\"nickname\":\"Grace\"}", &second);
  result_first = command_finish (window, &first, &error);
  g_assert_no_error (error);
  result_second = command_finish (window, &second, &error);
  g_assert_no_error (error);
  id_first = result_string (result_first, "chatId");
  id_second = result_string (result_second, "chatId");
  g_assert_cmpstr (id_first, ==, id_second);

  /* Once started, another call answers with the chat at hand. */
  result_third = command (window, "startChat", "{\"nickname\":\"Grace\"}");
  id_third = result_string (result_third, "chatId");
  g_assert_cmpstr (id_third, ==, id_first);
  g_assert_cmpuint (posts, ==, 1);
  g_assert_cmpuint (count_events (window, "started"), ==, 1);

  g_signal_handler_disconnect (cx_http_get_session (http), handler);
  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* Closing the only window leaves the chat running; the next window restores it. */
static void
test_dispose_keeps_chat (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autofree char *chat_id = NULL;
  Window *a;
  Window *b;

  a = window_new (http, SITE, config);
  chat_id = start_chat (a);
  agent_accept (agent, chat_id);
  send_message (a, "Closing this window now");
  customer = customer_from_cookies (f, http, SITE);
  window_close_service (a);

  /* The agent can still write: the chat did not end. */
  cx_test_agent_send (agent, chat_id, "Still there?");
  cx_test_customer_poll (customer);
  g_assert_false (customer->ended);
  g_assert_null (cx_test_customer_find (customer, 1, "ParticipantLeft", "Client", NULL));

  b = window_new (http, SITE, config);
  wait_event (b, "restored", 1);
  g_assert_nonnull (find_delivered (b, "Message", "Agent", "Still there?"));
  assert_transcript_matches_server (b, customer);
  g_assert_cmpuint (count_events (a, "ended"), ==, 0);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* poll is the service's own: anyone else is refused. */
static void
test_private_poll (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "poll");
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *chat_id = NULL;
  CxPlugin *intruder;
  Window *window;

  window = window_new (http, SITE, config);
  chat_id = start_chat (window);

  command_start (window, NULL, "poll", NULL, &slot);
  result = command_finish (window, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);
  g_assert_cmpstr (error->message, ==, "Access Denied to private command");
  g_assert_null (result);
  g_clear_error (&error);

  intruder = cx_bus_register_plugin (window->bus, "Intruder", &error);
  g_assert_no_error (error);
  command_start (window, intruder, "poll", NULL, &slot);
  result = command_finish (window, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED);
  g_assert_null (result);
  g_clear_error (&error);

  /* The service itself may. */
  command_start (window, cx_webchat_service_get_plugin (window->service), "poll", NULL, &slot);
  result = command_finish (window, &slot, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* A forwarder on a fixed loopback port in front of the server, as a load balancer would be:
 * dataURL stays valid when the server restarts on another port, and a dead server looks to the
 * service exactly as it would (connections cut, new ones closed at once). It can also swallow
 * the reply to the next "send" request, so that the server stores a message without the client
 * hearing of it. */

typedef struct
{
  GSocketService *listener;
  CxTestServer *server;
  char *url; /* http://127.0.0.1:PORT/ */
  gboolean swallow_next_send;
  guint swallowed;
  guint links;
} Proxy;

typedef struct
{
  Proxy *proxy;
  GSocketConnection *client;
  GSocketConnection *backend;
  GCancellable *cancellable;
  gboolean swallow_reply;
  guint pending; /* operations under way; the link goes with the last */
  guint8 up[16384];
  guint8 down[16384];
} Link;

static void
link_unref (Link *link)
{
  if (--link->pending > 0)
    return;

  link->proxy->links--;
  g_clear_object (&link->client);
  g_clear_object (&link->backend);
  g_clear_object (&link->cancellable);
  g_free (link);
}

/* Either side is done: so is the other. */
static void
link_close (Link *link)
{
  g_cancellable_cancel (link->cancellable);
  if (link->client != NULL)
    g_io_stream_close (G_IO_STREAM (link->client), NULL, NULL);
  if (link->backend != NULL)
    g_io_stream_close (G_IO_STREAM (link->backend), NULL, NULL);
}

static void pump_up (Link *link);
static void pump_down (Link *link);

static void
wrote_up_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    link_close (link);
  else
    pump_up (link);
  link_unref (link);
}

static void
read_up_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;
  gssize size = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  GOutputStream *backend;

  if (size <= 0)
    {
      link_close (link);
      link_unref (link);
      return;
    }

  /* libsoup does not pipeline: a request starts a read. */
  if (link->proxy->swallow_next_send && size > 5 && memcmp (link->up, "POST ", 5) == 0)
    {
      g_autofree char *head = g_strndup ((const char *) link->up, size);
      char *line_end = strstr (head, "\r\n");

      if (line_end != NULL)
        *line_end = '\0';
      if (g_str_has_suffix (head, "/send HTTP/1.1"))
        {
          link->proxy->swallow_next_send = FALSE;
          link->swallow_reply = TRUE;
        }
    }

  backend = g_io_stream_get_output_stream (G_IO_STREAM (link->backend));
  g_output_stream_write_all_async (backend, link->up, size, G_PRIORITY_DEFAULT, link->cancellable,
                                   wrote_up_cb, link);
}

static void
pump_up (Link *link)
{
  GInputStream *client = g_io_stream_get_input_stream (G_IO_STREAM (link->client));

  link->pending++;
  g_input_stream_read_async (client, link->up, sizeof link->up, G_PRIORITY_DEFAULT,
                             link->cancellable, read_up_cb, link);
}

static void
wrote_down_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    link_close (link);
  else
    pump_down (link);
  link_unref (link);
}

static void
read_down_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;
  gssize size = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  GOutputStream *client;

  if (size <= 0)
    {
      link_close (link);
      link_unref (link);
      return;
    }

  if (link->swallow_reply)
    {
      /* The server has answered; the client waits until its own timeout. */
      link->proxy->swallowed++;
      pump_down (link);
      link_unref (link);
      return;
    }

  client = g_io_stream_get_output_stream (G_IO_STREAM (link->client));
  g_output_stream_write_all_async (client, link->down, size, G_PRIORITY_DEFAULT, link->cancellable,
                                   wrote_down_cb, link);
}

static void
pump_down (Link *link)
{
  GInputStream *backend = g_io_stream_get_input_stream (G_IO_STREAM (link->backend));

  link->pending++;
  g_input_stream_read_async (backend, link->down, sizeof link->down, G_PRIORITY_DEFAULT,
                             link->cancellable, read_down_cb, link);
}

static void
backend_connected_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Link *link = user_data;

  link->backend = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, NULL);
  if (link->backend == NULL)
    {
      /* The server is down: hang up, as a balancer with no backend does. */
      link_close (link);
      link_unref (link);
      return;
    }

  pump_up (link);
  pump_down (link);
  link_unref (link);
}

static gboolean
proxy_incoming_cb (GSocketService *listener, GSocketConnection *connection, GObject *source,
                   gpointer user_data)
{
  Proxy *proxy = user_data;
  g_autoptr (GSocketClient) connector = g_socket_client_new ();
  g_autoptr (GUri) uri = NULL;
  Link *link = g_new0 (Link, 1);

  link->proxy = proxy;
  link->client = g_object_ref (connection);
  link->cancellable = g_cancellable_new ();
  link->pending = 1;
  proxy->links++;

  /* The server's current address: it moves when the server restarts. */
  uri = g_uri_parse (cx_test_server_get_url (proxy->server), G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull (uri);
  g_socket_client_connect_to_host_async (connector, "127.0.0.1", g_uri_get_port (uri),
                                         link->cancellable, backend_connected_cb, link);
  return TRUE;
}

static Proxy *
proxy_new (CxTestServer *server)
{
  Proxy *proxy = g_new0 (Proxy, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  proxy->server = server;
  proxy->listener = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (proxy->listener), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  proxy->url = g_strdup_printf ("http://127.0.0.1:%u/",
                                g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  g_signal_connect (proxy->listener, "incoming", G_CALLBACK (proxy_incoming_cb), proxy);
  g_socket_service_start (proxy->listener);
  return proxy;
}

static gboolean
proxy_idle (gpointer data)
{
  return ((Proxy *) data)->links == 0;
}

static void
proxy_free (Proxy *proxy)
{
  g_socket_service_stop (proxy->listener);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->listener));
  g_signal_handlers_disconnect_by_data (proxy->listener, proxy);
  /* Its cancelled accept holds it until the main loop has run it. */
  cx_test_wait (cx_test_has_one_ref, proxy->listener);
  g_assert_finalize_object (proxy->listener);
  /* Every connection was closed by its client by now: wait for the links to unwind. */
  cx_test_wait (proxy_idle, proxy);
  g_free (proxy->url);
  g_free (proxy);
}

static gboolean
result_is_pending (GAsyncResult *const *slot)
{
  return *slot == NULL;
}

/* The server dies mid-chat: offline; messages sent meanwhile wait, in order; the server comes
 * back on the same database: each is sent once, in order, then back online. */
static void
test_server_restart (Fixture *f, gconstpointer data)
{
  const char *transport = data;
  CxHttp *http = cx_http_new (NULL);
  Proxy *proxy = proxy_new (f->server);
  g_autoptr (JsonObject) config = make_config (proxy->url, transport);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (GAsyncResult) first = NULL;
  g_autoptr (GAsyncResult) second = NULL;
  g_autoptr (JsonNode) result_first = NULL;
  g_autoptr (JsonNode) result_second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chat_id = NULL;
  JsonObject *stored_first;
  JsonObject *stored_second;
  Window *window;

  json_object_set_int_member (config, "pollExceptionLimit", 2);
  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  agent_accept (agent, chat_id);
  send_message (window, "Before the crash");
  wait_delivered (window, "Message", "Client", "Before the crash");
  customer = customer_from_cookies (f, http, SITE);

  cx_test_server_kill9 (f->server);
  wait_event (window, "chatServerWentOffline", 1);

  command_start (window, NULL, "sendMessage", "{\"message\":\"Queued first\"}", &first);
  command_start (window, NULL, "sendMessage", "{\"message\":\"Queued second\"}", &second);
  /* Nothing can take them while the server is down. */
  g_assert_true (result_is_pending (&first));
  g_assert_true (result_is_pending (&second));

  cx_test_server_restart (f->server);
  result_first = command_finish (window, &first, &error);
  g_assert_no_error (error);
  result_second = command_finish (window, &second, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result_int (result_first, "index"), <, result_int (result_second, "index"));
  wait_event (window, "chatServerBackOnline", 1);
  g_assert_cmpuint (count_events (window, "chatServerWentOffline"), ==, 1);
  g_assert_cmpuint (count_events (window, "chatServerBackOnline"), ==, 1);

  /* The server has each exactly once, in order, at the indices the commands gave. */
  cx_test_customer_poll (customer);
  stored_first = cx_test_customer_find (customer, 1, "Message", "Client", "Queued first");
  stored_second = cx_test_customer_find (customer, 1, "Message", "Client", "Queued second");
  g_assert_nonnull (stored_first);
  g_assert_nonnull (stored_second);
  g_assert_cmpint (cx_test_object_int (stored_first, "index"), ==,
                   result_int (result_first, "index"));
  g_assert_cmpint (cx_test_object_int (stored_second, "index"), ==,
                   result_int (result_second, "index"));
  g_assert_null (cx_test_customer_find (customer, cx_test_object_int (stored_first, "index") + 1,
                                        "Message", "Client", "Queued first"));
  g_assert_null (cx_test_customer_find (customer, cx_test_object_int (stored_second, "index") + 1,
                                        "Message", "Client", "Queued second"));

  /* And the window saw the whole transcript once, in order; the chat goes on. */
  assert_transcript_matches_server (window, customer);
  g_assert_cmpuint (count_delivered_text (window, "Queued first"), ==, 1);
  g_assert_cmpuint (count_delivered_text (window, "Queued second"), ==, 1);
  send_message (window, "After the restart");
  wait_delivered (window, "Message", "Client", "After the restart");

  window_free (window);
  cx_test_finalize_when_unwound (http);
  proxy_free (proxy);
}

/* getTranscript while the server is down: the entries held, "complete": false and why; once
 * the server is back, all of them. */
static void
test_get_transcript_server_gone (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  Proxy *proxy = proxy_new (f->server);
  g_autoptr (JsonObject) config = make_config (proxy->url, "poll");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (JsonNode) transcript = NULL;
  g_autoptr (JsonNode) again = NULL;
  g_autofree char *chat_id = NULL;
  JsonObject *object;
  JsonArray *array;
  guint held;
  Window *a;
  Window *b;

  a = long_chat (http, config, agent, 150, &chat_id);

  b = window_new (http, SITE, config);
  object = event_object (wait_event (b, "restored", 1));
  g_assert_true (json_object_get_boolean_member (object, "more"));
  held = json_array_get_length (json_object_get_array_member (object, "messages"));

  cx_test_server_kill9 (f->server);
  transcript = command (b, "getTranscript", NULL);
  object = json_node_get_object (transcript);
  g_assert_false (json_object_get_boolean_member (object, "complete"));
  g_assert_nonnull (cx_test_object_string (object, "error"));
  array = json_object_get_array_member (object, "messages");
  g_assert_cmpuint (json_array_get_length (array), ==, held);
  g_assert_cmpstr (cx_test_message_text (json_array_get_object_element (array, held - 1)), ==,
                   "Line 150");

  cx_test_server_restart (f->server);
  again = command (b, "getTranscript", NULL);
  object = json_node_get_object (again);
  g_assert_true (json_object_get_boolean_member (object, "complete"));
  array = json_object_get_array_member (object, "messages");
  g_assert_cmpuint (json_array_get_length (array), >, 150);
  {
    g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

    for (guint i = 0; i < json_array_get_length (array); i++)
      g_ptr_array_add (all, json_object_ref (json_array_get_object_element (array, i)));
    cx_test_assert_contiguous (all, 1);
  }

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
  proxy_free (proxy);
}

/* The server stores a message but its reply is lost: the message is not sent again. */
static void
test_uncertain_send (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  Proxy *proxy = proxy_new (f->server);
  g_autoptr (JsonObject) config = make_config (proxy->url, "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autofree char *chat_id = NULL;
  JsonObject *stored;
  Window *window;
  gint64 index;

  json_object_set_int_member (config, "ajaxTimeout", 1500);
  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  agent_accept (agent, chat_id);
  send_message (window, "Did this arrive?");

  /* The same text again, and this time the reply never comes back. */
  proxy->swallow_next_send = TRUE;
  index = send_message (window, "Did this arrive?");
  g_assert_cmpuint (proxy->swallowed, >, 0);

  customer = customer_from_cookies (f, http, SITE);
  cx_test_customer_poll (customer);
  stored = cx_test_customer_find (customer, 1, "Message", "Client", "Did this arrive?");
  g_assert_nonnull (stored);
  stored = cx_test_customer_find (customer, cx_test_object_int (stored, "index") + 1, "Message",
                                  "Client", "Did this arrive?");
  g_assert_nonnull (stored);
  g_assert_cmpint (cx_test_object_int (stored, "index"), ==, index);
  g_assert_null (
      cx_test_customer_find (customer, index + 1, "Message", "Client", "Did this arrive?"));

  send_message (window, "And this?");
  assert_transcript_matches_server (window, customer);
  g_assert_cmpuint (count_delivered_text (window, "Did this arrive?"), ==, 2);
  /* Two rows for the two messages, each sent with its index: the uncertain one was not sent
   * twice, nor shown twice. */
  {
    GListModel *model = cx_webchat_service_get_messages (window->service);
    guint rows = 0;

    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      {
        g_autoptr (CxChatMessage) row = g_list_model_get_item (model, i);

        if (g_strcmp0 (cx_chat_message_get_text (row), "Did this arrive?") != 0)
          continue;
        rows++;
        g_assert_cmpint (cx_chat_message_get_status (row), ==, CX_CHAT_MESSAGE_STATUS_SENT);
        g_assert_cmpuint (cx_chat_message_get_index (row), >, 0);
        if (rows == 2)
          g_assert_cmpuint (cx_chat_message_get_index (row), ==, index);
      }
    g_assert_cmpuint (rows, ==, 2);
  }
  g_assert_cmpuint (count_events (window, "chatServerWentOffline"), ==, 0);

  window_free (window);
  cx_test_finalize_when_unwound (http);
  proxy_free (proxy);
}

/* Ending the chat while the push socket is open: the socket's "chatEnded" must not cut off the
 * disconnect's reply, which brings the customer's own ParticipantLeft ("You left the chat"). */
static void
test_end_with_push (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (JsonNode) ended = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autofree char *chat_id = NULL;
  JsonObject *last;
  Window *window;

  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  agent_accept (agent, chat_id);
  wait_event (window, "agentConnected", 1);
  cx_test_wait (push_is_open, window);
  g_assert_true (cx_webchat_service_get_uses_push (window->service));

  ended = command (window, "endChat", NULL);
  wait_event (window, "ended", 1);
  g_assert_nonnull (find_delivered (window, "ParticipantLeft", "Client", NULL));
  /* It is the last entry, and it came before "ended". */
  messages = delivered (window, TRUE);
  last = g_ptr_array_index (messages, messages->len - 1);
  g_assert_cmpstr (cx_test_object_string (last, "type"), ==, "ParticipantLeft");
  g_assert_cmpstr (cx_test_message_from_type (last), ==, "Client");
  g_assert_cmpuint (count_events (window, "ended"), ==, 1);
  g_assert_cmpuint (count_events (window, "error"), ==, 0);

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* The agent ends the chat: the push socket says so, and the entries that came with the end are
 * read before "ended" (a last refresh). */
static void
test_agent_ends_with_push (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestReply) reply = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *path = NULL;
  Window *window;

  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  agent_accept (agent, chat_id);
  wait_event (window, "agentConnected", 1);
  cx_test_wait (push_is_open, window);

  path = g_strdup_printf ("/cx/1/agent/chats/%s/end", chat_id);
  reply = cx_test_agent_call (agent, "POST", path, "{}");
  g_assert_cmpuint (reply->status, <, 300);
  wait_event (window, "ended", 1);
  g_assert_nonnull (find_delivered (window, "ParticipantLeft", "Agent", NULL));
  g_assert_cmpuint (count_events (window, "agentDisconnected"), ==, 1);

  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* A window with no chat joins one that another window of the site starts, at once, without
 * being asked to. */
static void
test_pick_up_chat (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autofree char *chat_id = NULL;
  JsonObject *restored;
  Window *a;
  Window *b;
  Window *other;

  a = window_new (http, SITE, config);
  b = window_new (http, "http://shop.example.com/", config);
  other = window_new (http, "http://www.example.org/", config);
  g_assert_null (cx_webchat_service_get_chat_id (b->service));

  chat_id = start_chat (a);
  restored = event_object (wait_event (b, "restored", 1));
  g_assert_cmpstr (cx_test_object_string (restored, "chatId"), ==, chat_id);
  g_assert_cmpstr (cx_webchat_service_get_chat_id (b->service), ==, chat_id);
  g_assert_cmpuint (count_events (b, "started"), ==, 0);

  agent_accept (agent, chat_id);
  cx_test_agent_send (agent, chat_id, "Both of you");
  wait_delivered (a, "Message", "Agent", "Both of you");
  wait_delivered (b, "Message", "Agent", "Both of you");
  /* Another domain never sees it. */
  g_assert_null (cx_webchat_service_get_chat_id (other->service));
  g_assert_cmpuint (count_events (other, "restored"), ==, 0);

  window_free (a);
  window_free (b);
  window_free (other);
  cx_test_finalize_when_unwound (http);
}

static void
assert_human (const char *text)
{
  g_assert_nonnull (text);
  g_assert_null (strstr (text, "http"));
  g_assert_null (strstr (text, "127.0.0.1"));
  g_assert_null (strstr (text, "genesys"));
  g_assert_null (strstr (text, "/chat/"));
}

/* Errors on the bus are for customers: no addresses, no HTTP statuses. */
static void
test_error_texts (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (JsonObject) dead_config = make_config ("http://127.0.0.1:1/", "auto");
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *too_long = g_strnfill (5000, 'z');
  g_autofree char *json = NULL;
  Window *dead;
  Window *window;

  /* Nobody listens there. */
  dead = window_new (http, "http://www.example.net/", dead_config);
  command_start (dead, NULL, "startChat", "{\"nickname\":\"Grace\"}", &slot);
  result = command_finish (dead, &slot, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  assert_human (error->message);
  g_assert_cmpstr (error->message, ==, "The chat server cannot be reached");
  assert_human (cx_test_object_string (event_object (wait_event (dead, "error", 1)), "message"));
  g_clear_error (&error);

  /* The server refuses: over its 4096 characters. */
  window = window_new (http, SITE, config);
  g_free (start_chat (window));
  json = g_strdup_printf ("{\"message\":\"%s\"}", too_long);
  command_start (window, NULL, "sendMessage", json, &slot);
  result = command_finish (window, &slot, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  assert_human (error->message);
  g_assert_true (g_str_has_prefix (error->message, "The message was not sent: "));
  g_clear_error (&error);

  window_free (dead);
  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* sendFile: the file reaches the server and the agent as a FileUploaded entry; one over the
 * server's limits, or of a type it does not take, is refused before it is read, and nothing
 * reaches the server. */
static GAsyncResult *
send_file_start (Window *window, const char *path)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autofree char *json = NULL;
  GAsyncResult *slot = NULL;

  if (path != NULL)
    json_object_set_string_member (object, "path", path);
  node = json_node_init_object (json_node_alloc (), object);
  json = json_to_string (node, FALSE);
  command_start (window, NULL, "sendFile", json, &slot);
  cx_test_wait (cx_test_pointer_is_set, &slot);
  return slot;
}

static char *
send_file_refused (Window *window, const char *path)
{
  g_autoptr (GAsyncResult) slot = send_file_start (window, path);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = cx_bus_command_finish (window->bus, slot, &error);

  g_assert_null (result);
  g_assert_nonnull (error);
  assert_human (error->message);
  return g_strdup (error->message);
}

static void
test_send_file (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cx-send-file-XXXXXX", &error);
  g_autofree char *small = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *large = g_build_filename (dir, "large.txt", NULL);
  g_autofree char *wrong_type = g_build_filename (dir, "tool.exe", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.txt", NULL);
  g_autofree char *big = g_strnfill (CX_TEST_MAX_FILE_SIZE + 1, 'x');
  g_autofree char *chat_id = NULL;
  g_autofree char *message = NULL;
  JsonObject *entry;
  Window *window;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (small, "Order A-42\n", -1, NULL));
  g_assert_true (g_file_set_contents (large, big, -1, NULL));
  g_assert_true (g_file_set_contents (wrong_type, "MZ", -1, NULL));

  window = window_new (http, SITE, config);
  chat_id = start_chat (window);
  agent_accept (agent, chat_id);

  slot = send_file_start (window, small);
  result = cx_bus_command_finish (window->bus, slot, &error);
  g_clear_object (&slot); /* it holds the bus */
  g_assert_no_error (error);
  g_assert_nonnull (cx_test_object_string (json_node_get_object (result), "file-id"));
  g_assert_cmpstr (cx_test_object_string (json_node_get_object (result), "file-name"), ==,
                   "notes.txt");
  g_assert_cmpint (result_int (result, "file-size"), ==, strlen ("Order A-42\n"));
  wait_delivered (window, "FileUploaded", "Client", "notes.txt");
  entry = cx_test_agent_wait_message (agent, chat_id, "FileUploaded", "notes.txt");
  g_assert_nonnull (entry);

  /* Refused here, with the server's own limits: nothing is sent. */
  message = send_file_refused (window, large);
  g_assert_true (g_str_has_prefix (message, "The file was not sent: "));
  g_clear_pointer (&message, g_free);
  message = send_file_refused (window, wrong_type);
  g_assert_true (g_str_has_prefix (message, "The file was not sent: "));
  g_clear_pointer (&message, g_free);
  message = send_file_refused (window, missing);
  g_clear_pointer (&message, g_free);
  message = send_file_refused (window, dir);
  g_clear_pointer (&message, g_free);
  message = send_file_refused (window, NULL);
  g_clear_pointer (&message, g_free);

  /* One file in the chat, on both sides, after a message that went through since. */
  send_message (window, "Did the file arrive?");
  cx_test_agent_wait_message (agent, chat_id, "Message", "Did the file arrive?");
  {
    g_autoptr (GPtrArray) messages = delivered (window, TRUE);
    guint files = 0;

    for (guint i = 0; i < messages->len; i++)
      if (g_strcmp0 (cx_test_object_string (g_ptr_array_index (messages, i), "type"),
                     "FileUploaded") == 0)
        files++;
    g_assert_cmpuint (files, ==, 1);
  }

  g_unlink (small);
  g_unlink (large);
  g_unlink (wrong_type);
  g_rmdir (dir);
  window_free (window);
  cx_test_finalize_when_unwound (http);
}

/* The panel's state is kept in the site's cookies for the chat, and a window that restores the
 * chat is told it; the cookies go with the chat. */
static void
test_panel_state (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "auto");
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (JsonNode) saved = NULL;
  g_autoptr (JsonNode) ended = NULL;
  g_autofree char *open = NULL;
  g_autofree char *unread = NULL;
  g_autofree char *after = NULL;
  JsonObject *panel;
  Window *a;
  Window *b;

  a = window_new (http, SITE, config);
  /* No chat: nothing to keep. */
  command_start (a, NULL, "savePanelState", "{\"state\":\"open\",\"unreadMessages\":0}", &slot);
  result = command_finish (a, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);

  g_free (start_chat (a));
  command_start (a, NULL, "savePanelState", "{\"state\":\"sideways\"}", &slot);
  result = command_finish (a, &slot, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);

  saved = command (a, "savePanelState", "{\"state\":\"minimized\",\"unreadMessages\":3}");
  open = cookie (http, SITE, "open");
  unread = cookie (http, SITE, "unreadMessages");
  g_assert_cmpstr (open, ==, "minimized");
  g_assert_cmpstr (unread, ==, "3");

  b = window_new (http, SITE, config);
  panel = json_object_get_object_member (event_object (wait_event (b, "restored", 1)), "panel");
  g_assert_nonnull (panel);
  g_assert_cmpstr (cx_test_object_string (panel, "state"), ==, "minimized");
  g_assert_cmpint (cx_test_object_int (panel, "unreadMessages"), ==, 3);

  ended = command (a, "endChat", NULL);
  wait_event (b, "ended", 1);
  after = cookie (http, SITE, "open");
  g_assert_null (after);

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* The transcript model: the customer's message is a row from the moment sendMessage is called
 * ("sending"), the same row becomes "sent" with the index the command resolves with (the
 * server's copy is no second row); a message the server refuses stays, "failed", with why. */
static guint
count_rows (Window *window, const char *text, CxChatMessage **last)
{
  GListModel *model = cx_webchat_service_get_messages (window->service);
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_chat_message_get_text (row), text) == 0)
        {
          count++;
          if (last != NULL)
            g_set_object (last, row);
        }
    }
  return count;
}

static void
test_model_echo (Fixture *f, gconstpointer data)
{
  const char *transport = data;
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), transport);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxChatMessage) row = NULL;
  g_autoptr (CxChatMessage) failed = NULL;
  g_autoptr (GAsyncResult) slot = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *too_long = g_strnfill (5000, 'x');
  g_autofree char *json = g_strdup_printf ("{\"message\":\"%s\"}", too_long);
  gint64 index;
  Window *a;

  a = window_new (http, SITE, config);
  chat_id = start_chat (a);
  agent_accept (agent, chat_id);

  command_start (a, NULL, "sendMessage", "{\"message\":\"Echo me\"}", &slot);
  g_assert_cmpuint (count_rows (a, "Echo me", &row), ==, 1);
  g_assert_cmpint (cx_chat_message_get_kind (row), ==, CX_CHAT_MESSAGE_OWN);
  g_assert_cmpint (cx_chat_message_get_status (row), ==, CX_CHAT_MESSAGE_STATUS_SENDING);
  g_assert_cmpuint (cx_chat_message_get_index (row), ==, 0);
  result = command_finish (a, &slot, &error);
  g_assert_no_error (error);
  index = result_int (result, "index");
  g_assert_cmpint (index, >, 0);
  g_assert_cmpint (cx_chat_message_get_status (row), ==, CX_CHAT_MESSAGE_STATUS_SENT);
  g_assert_cmpuint (cx_chat_message_get_index (row), ==, index);

  /* The transcript has it too (messageReceived): still one row. */
  wait_delivered (a, "Message", "Client", "Echo me");
  cx_test_agent_send (agent, chat_id, "After the echo");
  wait_delivered (a, "Message", "Agent", "After the echo");
  g_assert_cmpuint (count_rows (a, "Echo me", NULL), ==, 1);
  g_assert_cmpuint (count_rows (a, "After the echo", NULL), ==, 1);

  /* Refused by the server: the row says so. */
  command_start (a, NULL, "sendMessage", json, &slot);
  g_clear_pointer (&result, json_node_unref);
  result = command_finish (a, &slot, &error);
  g_assert_null (result);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_cmpuint (count_rows (a, too_long, &failed), ==, 1);
  g_assert_cmpint (cx_chat_message_get_status (failed), ==, CX_CHAT_MESSAGE_STATUS_FAILED);
  g_assert_nonnull (cx_chat_message_get_error (failed));
  g_assert_cmpuint (cx_chat_message_get_index (failed), ==, 0);

  window_free (a);
  cx_test_finalize_when_unwound (http);
}

/* Restoring a long chat: "restored" has the newest page only, ending with the newest entry;
 * loadEarlier brings the pages before it, down to the first entry, and together they are the
 * server's transcript, each entry once. */
static void
test_restore_newest_first (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "poll");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *chat_id = NULL;
  JsonObject *restored;
  JsonArray *array;
  gboolean more = TRUE;
  guint pages = 0;
  Window *a;
  Window *b;

  a = long_chat (http, config, agent, 230, &chat_id);

  b = window_new (http, SITE, config);
  restored = event_object (wait_event (b, "restored", 1));
  array = json_object_get_array_member (restored, "messages");
  g_assert_nonnull (array);
  g_assert_cmpuint (json_array_get_length (array), >, 0);
  g_assert_cmpuint (json_array_get_length (array), <=, 100);
  g_assert_cmpstr (cx_test_message_text (
                       json_array_get_object_element (array, json_array_get_length (array) - 1)),
                   ==, "Line 230");
  g_assert_null (find_delivered (b, "Message", "Agent", "Line 1"));

  /* The pages before it, as the panel asks for them when scrolled to its top. */
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (all, json_object_ref (json_array_get_object_element (array, i)));
  while (more)
    {
      g_autoptr (JsonNode) page = command (b, "loadEarlier", NULL);
      JsonArray *older = json_object_get_array_member (json_node_get_object (page), "messages");

      more = json_object_get_boolean_member (json_node_get_object (page), "more");
      g_assert_nonnull (older);
      g_assert_true (json_array_get_length (older) > 0 || !more);
      for (guint i = json_array_get_length (older); i > 0; i--)
        g_ptr_array_insert (all, 0, json_object_ref (json_array_get_object_element (older, i - 1)));
      g_assert_cmpuint (++pages, <, 10);
    }
  g_assert_cmpuint (pages, >=, 2);

  customer = customer_from_cookies (f, http, SITE);
  assert_entries_match_server (all, customer);

  /* Nothing older is left: asked again, nothing. */
  {
    g_autoptr (JsonNode) page = command (b, "loadEarlier", NULL);

    g_assert_false (json_object_get_boolean_member (json_node_get_object (page), "more"));
    g_assert_cmpuint (json_array_get_length (
                          json_object_get_array_member (json_node_get_object (page), "messages")),
                      ==, 0);
  }

  window_free (a);
  window_free (b);
  cx_test_finalize_when_unwound (http);
}

/* getTranscript on a restored long chat: every entry, in order, although only the newest page
 * was read (the older pages are read first, over several requests); a loadEarlier made while it
 * reads is answered too. Once the chat has ended (its keys gone), a window that never read the
 * older pages answers with what it holds, "complete": false, and why. */
static void
test_restore_get_transcript (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (JsonObject) config = make_config (cx_test_server_get_url (f->server), "poll");
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr (JsonNode) transcript = NULL;
  g_autoptr (JsonNode) earlier = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chat_id = NULL;
  g_autofree char *path = NULL;
  GAsyncResult *slot = NULL;
  JsonObject *object;
  JsonArray *array;
  guint held;
  Window *a;
  Window *b;
  Window *c;

  a = long_chat (http, config, agent, 1150, &chat_id);

  b = window_new (http, SITE, config);
  object = event_object (wait_event (b, "restored", 1));
  g_assert_true (json_object_get_boolean_member (object, "more"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "messages")), <=,
                    100);
  g_assert_null (find_delivered (b, "Message", "Agent", "Line 1"));

  command_start (b, NULL, "getTranscript", NULL, &slot);
  earlier = command (b, "loadEarlier", NULL);
  g_assert_cmpuint (json_array_get_length (
                        json_object_get_array_member (json_node_get_object (earlier), "messages")),
                    >, 0);
  transcript = command_finish (b, &slot, &error);
  g_assert_no_error (error);
  object = json_node_get_object (transcript);
  g_assert_true (json_object_get_boolean_member (object, "complete"));
  g_assert_false (json_object_has_member (object, "error"));
  array = json_object_get_array_member (object, "messages");
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_ptr_array_add (all, json_object_ref (json_array_get_object_element (array, i)));

  customer = customer_from_cookies (f, http, SITE);
  assert_entries_match_server (all, customer);
  /* The rows came with them, above, each once. */
  g_assert_cmpuint (count_rows (b, "Line 1", NULL), ==, 1);
  g_assert_cmpuint (count_rows (b, "Line 1150", NULL), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (cx_webchat_service_get_messages (b->service)), >=,
                    1150);
  g_assert_false (json_object_get_boolean_member (
      json_node_get_object (command (b, "loadEarlier", NULL)), "more"));

  /* Another window restores the newest page; then the chat ends. */
  c = window_new (http, SITE, config);
  object = event_object (wait_event (c, "restored", 1));
  held = json_array_get_length (json_object_get_array_member (object, "messages"));
  path = g_strdup_printf ("/cx/1/agent/chats/%s/end", chat_id);
  reply = cx_test_agent_call (agent, "POST", path, "{}");
  g_assert_cmpuint (reply->status, <, 300);
  wait_event (c, "ended", 1);
  g_clear_pointer (&transcript, json_node_unref);
  transcript = command (c, "getTranscript", NULL);
  object = json_node_get_object (transcript);
  g_assert_false (json_object_get_boolean_member (object, "complete"));
  g_assert_nonnull (cx_test_object_string (object, "error"));
  array = json_object_get_array_member (object, "messages");
  g_assert_cmpuint (json_array_get_length (array), >=, held);
  g_assert_cmpuint (json_array_get_length (array), <, customer->transcript->len);

  window_free (a);
  window_free (b);
  window_free (c);
  cx_test_finalize_when_unwound (http);
}

/* A plain GMS server: it knows nothing of "limit" and sends the whole transcript from the
 * position asked. A SoupServer here plays one for a chat the cookies name. */

#define PLAIN_CHAT "plain-chat-1"
#define PLAIN_ENTRIES 150

typedef struct
{
  GPtrArray *transcript; /* CxMessage */
  guint refreshes;
  gboolean saw_limit;
} PlainGms;

static void
plain_gms_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  PlainGms *plain = user_data;
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GPtrArray) messages = g_ptr_array_new ();
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *body = NULL;
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (request_body);
  const char *position;
  guint from = 1;

  if (!g_str_has_suffix (path, "/" PLAIN_CHAT "/refresh"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  form = soup_form_decode (body);
  g_clear_pointer (&body, g_free);
  plain->refreshes++;
  plain->saw_limit |= g_hash_table_contains (form, "limit");
  position = g_hash_table_lookup (form, "transcriptPosition");
  if (position != NULL)
    from = MAX (1, (guint) g_ascii_strtoull (position, NULL, 10));
  for (guint i = from; i <= plain->transcript->len; i++)
    g_ptr_array_add (messages, g_ptr_array_index (plain->transcript, i - 1));

  reply = cx_gms_build_reply (PLAIN_CHAT, "user-1", NULL, "alias-1", FALSE,
                              plain->transcript->len + 1, messages);
  body = json_to_string (reply, FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
test_restore_plain_gms (Fixture *f, gconstpointer data)
{
  CxHttp *http = cx_http_new (NULL);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) config = NULL;
  g_autofree char *base = NULL;
  g_autofree char *ping = NULL;
  PlainGms plain = { 0 };
  GSList *uris;
  JsonObject *restored;
  JsonArray *array;
  Window *b;

  plain.transcript = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  for (guint i = 1; i <= PLAIN_ENTRIES; i++)
    {
      g_autofree char *text = g_strdup_printf ("Plain %u", i);
      CxMessage *message =
          cx_message_new (CX_MESSAGE_TEXT, CX_PARTY_AGENT, "Ann", "agent-1", text, 0, NULL);

      message->index = i;
      g_ptr_array_add (plain.transcript, message);
    }

  soup_server_add_handler (server, NULL, plain_gms_cb, &plain, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  base = g_strdup_printf ("http://127.0.0.1:%d/", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  config = make_config (base, "poll");

  /* The cookies a window that started the chat would have left. */
  ping = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  g_assert_true (cx_http_set_site_cookie (
      http, SITE, CX_WEBCHAT_COOKIE_PREFIX "keys",
      "{\"secureKey\":\"key-1\",\"alias\":\"alias-1\",\"userId\":\"user-1\"}", NULL));
  g_assert_true (cx_http_set_site_cookie (http, SITE, CX_WEBCHAT_COOKIE_PREFIX "ping", ping, NULL));
  g_assert_true (
      cx_http_set_site_cookie (http, SITE, CX_WEBCHAT_COOKIE_PREFIX "session", PLAIN_CHAT, NULL));

  /* It asked for a page; the server sent everything, and everything is shown. */
  b = window_new (http, SITE, config);
  restored = event_object (wait_event (b, "restored", 1));
  g_assert_true (plain.saw_limit);
  array = json_object_get_array_member (restored, "messages");
  g_assert_cmpuint (json_array_get_length (array), ==, PLAIN_ENTRIES);
  {
    g_autoptr (GPtrArray) messages = delivered (b, TRUE);

    cx_test_assert_contiguous (messages, 1);
  }

  /* Nothing is older, and nothing more is asked of the server for it. */
  {
    guint refreshes = plain.refreshes;
    g_autoptr (JsonNode) page = command (b, "loadEarlier", NULL);

    g_assert_false (json_object_get_boolean_member (json_node_get_object (page), "more"));
    g_assert_cmpuint (json_array_get_length (
                          json_object_get_array_member (json_node_get_object (page), "messages")),
                      ==, 0);
    g_assert_cmpuint (plain.refreshes, <=, refreshes + 1); /* a poll may have run meanwhile */
  }

  window_free (b);
  soup_server_disconnect (server);
  g_ptr_array_unref (plain.transcript);
  cx_test_finalize_when_unwound (http);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/webchat-service/conversation/push", NULL, "auto", test_conversation);
  cx_test_add ("/webchat-service/conversation/poll", NULL, "poll", test_conversation);
  cx_test_add ("/webchat-service/windows/push", NULL, "auto", test_two_windows);
  cx_test_add ("/webchat-service/windows/poll", NULL, "poll", test_two_windows);
  cx_test_add ("/webchat-service/windows/subdomain", NULL, NULL, test_subdomain);
  cx_test_add ("/webchat-service/windows/restore-timeout", NULL, NULL, test_restore_timeout);
  cx_test_add ("/webchat-service/windows/start-race", NULL, NULL, test_start_race);
  cx_test_add ("/webchat-service/windows/double-start", NULL, NULL, test_double_start);
  cx_test_add ("/webchat-service/windows/close-keeps-chat", NULL, NULL, test_dispose_keeps_chat);
  cx_test_add ("/webchat-service/private-poll", NULL, NULL, test_private_poll);
  cx_test_add ("/webchat-service/server-restart/push", NULL, "auto", test_server_restart);
  cx_test_add ("/webchat-service/server-restart/poll", NULL, "poll", test_server_restart);
  cx_test_add ("/webchat-service/uncertain-send", NULL, NULL, test_uncertain_send);
  cx_test_add ("/webchat-service/restore/get-transcript", NULL, NULL, test_restore_get_transcript);
  cx_test_add ("/webchat-service/restore/get-transcript-server-gone", NULL, NULL,
               test_get_transcript_server_gone);
  cx_test_add ("/webchat-service/end/customer-with-push", NULL, NULL, test_end_with_push);
  cx_test_add ("/webchat-service/end/agent-with-push", NULL, NULL, test_agent_ends_with_push);
  cx_test_add ("/webchat-service/windows/pick-up", NULL, NULL, test_pick_up_chat);
  cx_test_add ("/webchat-service/errors/human", NULL, NULL, test_error_texts);
  cx_test_add ("/webchat-service/windows/panel-state", NULL, NULL, test_panel_state);
  cx_test_add ("/webchat-service/files/send", NULL, NULL, test_send_file);
  cx_test_add ("/webchat-service/model/echo/push", NULL, "auto", test_model_echo);
  cx_test_add ("/webchat-service/model/echo/poll", NULL, "poll", test_model_echo);
  cx_test_add ("/webchat-service/restore/newest-first", NULL, NULL, test_restore_newest_first);
  cx_test_add ("/webchat-service/restore/plain-gms", NULL, NULL, test_restore_plain_gms);

  return g_test_run ();
}
