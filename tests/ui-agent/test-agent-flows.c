/* test-agent-flows.c: the agent workspace's end-to-end flows, real windows against the real
 * cxdesk-server: invitations declined or left to time out going to the other agent, signing out
 * everywhere from a second window (and the state and its reason followed by every window),
 * transfers to a queue and to an agent, messages and typing both ways, a server restart
 * mid-conversation, text from customers shown literally, a conversation popped out into its own
 * window and kept in sync, canned responses, the unread count and the quick switcher, the
 * callbacks page (call, complete), the desktop notification of an invitation with its Accept
 * action (a fake org.freedesktop.Notifications on the test's session bus), and signing in at
 * startup (--user).
 *
 * The application is built in this process (a per-test application id) and driven the way an
 * agent drives it: entry text set, window actions activated, and what the window shows read back
 * from its widgets. Widgets are found by their template id, in one helper (cx_test_agent_ui_child),
 * so that the layout may move without the flows changing. The second agent, bob, and the customers
 * are played over HTTP by tests/server/cx-test-server.c.
 *
 * Every wait iterates the main context until a condition holds (cx_test_wait): no sleeps, and
 * a generous hang guard that fails naming the condition; nothing measures time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-agent-flows"

#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-window.h"
#include "cx-test-agent-ui.h"
#include "cx-test-server.h"

/* ada serves both queues, bob only sales (cx_test_config_new). */
#define SUPPORT "customer-support"
#define SALES "sales"

typedef CxTestFixture Fixture;

/* The application and its windows */

static CxBus *
window_bus (CxAgentWindow *window)
{
  return cx_agent_window_get_bus (window);
}

static void
window_action (CxAgentWindow *window, const char *action, GVariant *parameter)
{
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (window), action, parameter));
}

static gboolean
state_ready (gpointer data)
{
  CxAgentWindow *window = data;

  return g_strcmp0 (cx_agent_service_get_state (cx_agent_window_get_service (window)), "ready") ==
         0;
}

/* ada signs in in @window and becomes ready. */
static void
sign_in_ready (CxAgentWindow *window)
{
  cx_test_agent_ui_wait_page (window, "sign-in");
  gtk_editable_set_text (GTK_EDITABLE (cx_test_agent_ui_child (window, "username_entry")), "ada");
  gtk_editable_set_text (GTK_EDITABLE (cx_test_agent_ui_child (window, "password_entry")),
                         CX_TEST_ADA_PASSWORD);
  window_action (window, "win.sign-in", NULL);
  cx_test_agent_ui_wait_page (window, "workspace");
  gtk_drop_down_set_selected (cx_test_agent_ui_child (window, "state_dropdown"), 0);
  cx_test_wait (state_ready, window);
}

static gboolean
invitation_shown (gpointer data)
{
  return gtk_revealer_get_reveal_child (cx_test_agent_ui_child (data, "invitation_revealer"));
}

static gboolean
invitation_gone (gpointer data)
{
  return !invitation_shown (data);
}

/* The window's conversation with @chat_id, or NULL. */
static CxAgentConversation *
find_conversation (CxAgentWindow *window, const char *chat_id)
{
  GListModel *model = cx_agent_service_get_conversations (cx_agent_window_get_service (window));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_agent_conversation_get_chat_id (conversation), chat_id) == 0)
        return conversation; /* the model keeps it */
    }
  return NULL;
}

typedef struct
{
  CxAgentWindow *window;
  const char *chat_id;
  CxAgentConversationStatus status;
} StatusWait;

static gboolean
conversation_has_status (gpointer data)
{
  StatusWait *wait = data;
  CxAgentConversation *conversation = find_conversation (wait->window, wait->chat_id);

  return conversation != NULL && cx_agent_conversation_get_status (conversation) == wait->status;
}

static void
wait_status (CxAgentWindow *window, const char *chat_id, CxAgentConversationStatus status)
{
  StatusWait wait = { window, chat_id, status };

  cx_test_wait (conversation_has_status, &wait);
}

typedef struct
{
  CxAgentWindow *window;
  const char *chat_id;
} SelectedWait;

static gboolean
chat_selected (gpointer data)
{
  SelectedWait *wait = data;
  CxAgentConversation *selected = cx_agent_window_get_selected (wait->window);

  return selected != NULL &&
         g_strcmp0 (cx_agent_conversation_get_chat_id (selected), wait->chat_id) == 0 &&
         cx_agent_conversation_get_status (selected) == CX_AGENT_CONVERSATION_ACTIVE;
}

/* A customer in @queue whom ada is offered and accepts in @window. */
static CxTestCustomer *
customer_accepted (Fixture *f, CxAgentWindow *window, const char *queue, const char *nickname)
{
  CxTestCustomer *customer = cx_test_customer_start (f->server, queue, nickname);
  SelectedWait wait = { window, customer->chat_id };

  cx_test_wait (invitation_shown, window);
  wait_status (window, customer->chat_id, CX_AGENT_CONVERSATION_INVITED);
  window_action (window, "win.accept", NULL);
  cx_test_wait (chat_selected, &wait);
  return customer;
}

/* How many GtkLabels under @widget say @text. */
static guint
count_labels (GtkWidget *widget, const char *text)
{
  guint n = GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    n += count_labels (c, text);
  return n;
}

typedef struct
{
  GtkWidget *root;
  const char *text;
} LabelWait;

static GtkLabel *
wait_transcript_label (CxAgentWindow *window, const char *text)
{
  return cx_test_agent_ui_wait_label (cx_test_agent_ui_child (window, "transcript_list"), text);
}

static gboolean
label_contains (gpointer data)
{
  LabelWait *wait = data;

  return strstr (gtk_label_get_text (GTK_LABEL (wait->root)), wait->text) != NULL;
}

/* Messages of @conversation of @type from @from with @text. */
static guint
conversation_count (CxAgentConversation *conversation, CxMessageType type, CxPartyType from,
                    const char *text)
{
  guint n = 0;

  for (guint i = 0; i < cx_agent_conversation_get_n_messages (conversation); i++)
    {
      CxMessage *message = cx_agent_conversation_get_message (conversation, i);

      if (message->type == type && message->from_type == from &&
          (text == NULL || g_strcmp0 (message->text, text) == 0))
        n++;
    }
  return n;
}

/* What the customer's transcript says, "Type/From: text" one per entry, typing left out. */
static char *
customer_summary (CxTestCustomer *customer)
{
  GString *summary = g_string_new (NULL);

  for (guint i = 0; i < customer->transcript->len; i++)
    {
      JsonObject *message = g_ptr_array_index (customer->transcript, i);
      g_autofree char *line = NULL;

      if (g_str_has_prefix (cx_test_object_string (message, "type"), "Typing"))
        continue;
      line = cx_test_message_summary (message);
      g_string_append_printf (summary, "%s\n", line);
    }
  return g_string_free (summary, FALSE);
}

/* A bus command, as a page script would run it */

static void
run_command (CxAgentWindow *window, const char *command, const char *json)
{
  g_autoptr (JsonNode) result = cx_test_bus_command_ok (window_bus (window), command, json);
}

/* bob, signed in over HTTP with his event socket, ready. */
static CxTestAgent *
bob_ready (Fixture *f)
{
  CxTestAgent *bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);

  cx_test_agent_connect_events (bob);
  cx_test_agent_set_state (bob, "ready");
  return bob;
}

/* Tests */

/* ada in the window and bob are ready for sales, ada the longer: a sales customer is offered to
 * ada first. Whether she declines it or lets it time out, it goes to bob, and her invitation
 * banner goes away. */
static void
test_invitation_rerouted (Fixture *f, gconstpointer data)
{
  gboolean decline = GPOINTER_TO_INT (data);
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (JsonObject) chat = NULL;
  const CxEvent *withdrawn;
  CxAgentWindow *a;
  CxTestRecorder *log;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  log = cx_test_recorder_new (window_bus (a), CX_AGENT_SERVICE_NAME);
  bob = bob_ready (f);

  customer = cx_test_customer_start (f->server, SALES, "Grace");
  cx_test_wait (invitation_shown, a);
  wait_status (a, customer->chat_id, CX_AGENT_CONVERSATION_INVITED);
  g_assert_nonnull (
      strstr (gtk_label_get_text (cx_test_agent_ui_child (a, "invitation_label")), "Grace"));
  g_assert_null (cx_test_socket_peek (bob->events, "invitation", customer->chat_id));

  if (decline)
    {
      cx_test_wait (cx_test_widget_is_mapped, cx_test_agent_ui_child (a, "decline_button"));
      g_assert_true (gtk_widget_activate (cx_test_agent_ui_child (a, "decline_button")));
    }
  /* else: nothing; the server's timer (2 s in this case's configuration) runs out. */

  cx_test_agent_wait_invitation (bob, customer->chat_id);
  cx_test_wait (invitation_gone, a);
  g_assert_null (find_conversation (a, customer->chat_id));
  if (!decline)
    {
      JsonObject *object;

      withdrawn = cx_test_recorder_wait_chat (log, "invitationWithdrawn", customer->chat_id);
      object = json_node_get_object (withdrawn->data);
      g_assert_cmpstr (json_object_get_string_member (object, "reason"), ==, "timeout");
    }

  /* bob takes it; the customer talks to him; ada's window never shows the chat. */
  chat = cx_test_agent_accept (bob, customer->chat_id);
  cx_test_agent_send (bob, customer->chat_id, "Bob here");
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "Bob here");
  g_assert_null (find_conversation (a, customer->chat_id));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                        gtk_list_view_get_model (cx_test_agent_ui_child (a, "conversation_list")))),
                    ==, 0);

  cx_test_recorder_free (log);
  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

typedef struct
{
  CxAgentWindow *window;
  guint position;
} DropDownWait;

static gboolean
dropdown_shows (gpointer data)
{
  DropDownWait *wait = data;

  return gtk_drop_down_get_selected (cx_test_agent_ui_child (wait->window, "state_dropdown")) ==
         wait->position;
}

/* Signed in in window A, a new window (app.new-window, Ctrl+N) opens signed in; the state and
 * its reason follow from either; signing out in it signs out A too, and a window opened then
 * asks to sign in. */
static void
test_sign_out_everywhere (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_auto (GStrv) accels = NULL;
  CxAgentWindow *a;
  CxAgentWindow *b;
  CxAgentWindow *c;
  DropDownWait state;

  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.new-window");
  g_assert_true (g_strv_contains ((const char *const *) accels, "<Control>n"));

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  b = cx_test_agent_ui_window_open_with_action (app);
  cx_test_agent_ui_wait_page (b, "workspace");
  g_assert_cmpstr (gtk_label_get_text (cx_test_agent_ui_child (b, "title_label")), ==,
                   "Ada Lovelace");
  cx_test_wait (state_ready, b);

  /* Not ready with a reason, from either window: both show it. */
  gtk_drop_down_set_selected (cx_test_agent_ui_child (a, "state_dropdown"), 2);
  state = (DropDownWait){ b, 2 };
  cx_test_wait (dropdown_shows, &state);
  g_assert_cmpstr (cx_agent_service_get_state (cx_agent_window_get_service (b)), ==, "not_ready");
  run_command (b, CX_AGENT_SERVICE_NAME ".setState",
               "{\"state\":\"not_ready\",\"reason\":\"lunch\"}");
  state = (DropDownWait){ a, 3 };
  cx_test_wait (dropdown_shows, &state);
  g_assert_cmpstr (gtk_string_object_get_string (gtk_drop_down_get_selected_item (
                       cx_test_agent_ui_child (a, "state_dropdown"))),
                   ==, "Not ready: lunch");
  gtk_drop_down_set_selected (cx_test_agent_ui_child (b, "state_dropdown"), 0);
  cx_test_wait (state_ready, a);
  state = (DropDownWait){ a, 0 };
  cx_test_wait (dropdown_shows, &state);

  window_action (b, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (b, "sign-in");
  cx_test_agent_ui_wait_page (a, "sign-in");
  g_assert_false (cx_agent_service_get_signed_in (cx_agent_window_get_service (a)));
  g_assert_cmpstr (gtk_label_get_text (cx_test_agent_ui_child (a, "title_label")), !=,
                   "Ada Lovelace");

  c = cx_test_agent_ui_window_open_with_action (app);
  g_assert_false (cx_agent_service_get_signed_in (cx_agent_window_get_service (c)));
  cx_test_agent_ui_wait_page (c, "sign-in");

  cx_test_agent_ui_app_free (app);
}

/* ada transfers one chat to the sales queue and another to bob by name: each leaves her list
 * (shown as transferred), bob is offered and takes it with its whole transcript, and the
 * customer's transcript runs on without a gap. */
static void
test_transfer (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (CxTestCustomer) grace = NULL;
  g_autoptr (CxTestCustomer) alan = NULL;
  CxAgentWindow *a;

  /* bob is ready first, so that a chat offered to sales goes to him, not back to ada. */
  bob = bob_ready (f);
  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);

  for (guint round = 0; round < 2; round++)
    {
      const char *nickname = round == 0 ? "Grace" : "Alan";
      g_autofree char *hello = g_strdup_printf ("Hello, I am %s", nickname);
      g_autofree char *answer = g_strdup_printf ("Hello %s, ada here", nickname);
      g_autofree char *after = g_strdup_printf ("Hello %s, bob here", nickname);
      g_autofree char *before_summary = NULL;
      g_autofree char *after_summary = NULL;
      g_autoptr (JsonObject) chat = NULL;
      CxTestCustomer *customer;
      JsonArray *messages;
      gboolean bob_has_hello = FALSE;
      gboolean bob_has_answer = FALSE;

      customer = customer_accepted (f, a, SUPPORT, nickname);
      if (round == 0)
        grace = customer;
      else
        alan = customer;

      cx_test_customer_send (customer, hello);
      wait_transcript_label (a, hello);
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer")),
                                answer, -1);
      window_action (a, "win.send", NULL);
      cx_test_customer_poll_until (customer, 1, "Message", "Agent", answer);
      before_summary = customer_summary (customer);

      if (round == 0)
        window_action (a, "win.transfer", g_variant_new_string (SALES));
      else
        {
          /* The transfer popover's agent entry, activated as Enter does. */
          gtk_editable_set_text (GTK_EDITABLE (cx_test_agent_ui_child (a, "transfer_agent_entry")),
                                 " bob ");
          g_signal_emit_by_name (cx_test_agent_ui_child (a, "transfer_agent_entry"), "activate");
          g_assert_cmpstr (gtk_editable_get_text (
                               GTK_EDITABLE (cx_test_agent_ui_child (a, "transfer_agent_entry"))),
                           ==, "");
        }

      /* It leaves ada's list: shown as transferred, nothing to write in. */
      wait_status (a, customer->chat_id, CX_AGENT_CONVERSATION_LEFT);
      g_assert_false (
          g_action_group_get_action_enabled (G_ACTION_GROUP (a), "win.send") &&
          cx_agent_window_get_selected (a) != NULL &&
          g_strcmp0 (cx_agent_conversation_get_chat_id (cx_agent_window_get_selected (a)),
                     customer->chat_id) == 0);

      /* bob is offered it and has the transcript. */
      cx_test_agent_wait_invitation (bob, customer->chat_id);
      chat = cx_test_agent_accept (bob, customer->chat_id);
      messages = json_object_get_array_member (chat, "messages");
      g_assert_nonnull (messages);
      for (guint i = 0; i < json_array_get_length (messages); i++)
        {
          const char *text = cx_test_message_text (json_array_get_object_element (messages, i));

          bob_has_hello |= g_strcmp0 (text, hello) == 0;
          bob_has_answer |= g_strcmp0 (text, answer) == 0;
        }
      g_assert_true (bob_has_hello);
      g_assert_true (bob_has_answer);

      /* The customer's transcript: what was there, then bob. */
      cx_test_agent_send (bob, customer->chat_id, after);
      cx_test_customer_poll_until (customer, 1, "Message", "Agent", after);
      after_summary = customer_summary (customer);
      g_assert_true (g_str_has_prefix (after_summary, before_summary));
      cx_test_assert_contiguous (customer->transcript, 1);
      g_assert_false (customer->ended);
      /* ada's copy of the transcript is whole and stops where she left. */
      g_assert_cmpuint (conversation_count (find_conversation (a, customer->chat_id),
                                            CX_MESSAGE_TEXT, CX_PARTY_CLIENT, hello),
                        ==, 1);
      g_assert_cmpuint (conversation_count (find_conversation (a, customer->chat_id),
                                            CX_MESSAGE_TEXT, CX_PARTY_AGENT, after),
                        ==, 0);
    }

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* The customer types (the preview shows), writes; ada types (the customer is told), writes; ada
 * ends the chat and the customer sees it end. */
static void
test_messages_typing_end (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  GtkTextBuffer *composer;
  GtkWindow *dialog = NULL;
  CxAgentWindow *a;
  LabelWait typing;
  JsonObject *started;
  gint64 from;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  customer = customer_accepted (f, a, SUPPORT, "Grace");
  composer = gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer"));

  /* The customer types: ada sees what, as it is typed. */
  reply = cx_test_customer_call (customer, "startTyping", "message", "Where is my ord", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  typing = (LabelWait){ cx_test_agent_ui_child (a, "typing_label"), "Where is my ord" };
  cx_test_wait (label_contains, &typing);
  g_assert_nonnull (
      strstr (gtk_label_get_text (cx_test_agent_ui_child (a, "typing_label")), "Grace"));

  cx_test_customer_send (customer, "Where is my order?");
  wait_transcript_label (a, "Where is my order?");

  /* ada types: the customer is told, with no text (agents' drafts stay theirs). */
  cx_test_customer_poll (customer);
  from = customer->next_position;
  gtk_text_buffer_set_text (composer, "It is on its w", -1);
  started = cx_test_customer_poll_until (customer, from, "TypingStarted", "Agent", NULL);
  g_assert_nonnull (started);

  /* ada sends: the customer has it once, typing over; ada's window shows it once. */
  gtk_text_buffer_set_text (composer, "It is on its way.", -1);
  window_action (a, "win.send", NULL);
  cx_test_customer_poll_until (customer, from, "Message", "Agent", "It is on its way.");
  cx_test_customer_poll_until (customer, from, "TypingStopped", "Agent", NULL);
  wait_transcript_label (a, "It is on its way.");
  g_assert_cmpuint (
      count_labels (cx_test_agent_ui_child (a, "transcript_list"), "It is on its way."), ==, 1);
  g_assert_cmpuint (conversation_count (cx_agent_window_get_selected (a), CX_MESSAGE_TEXT,
                                        CX_PARTY_AGENT, "It is on its way."),
                    ==, 1);
  g_assert_cmpint (gtk_text_buffer_get_char_count (composer), ==, 0);

  /* ada ends the chat from the window: the customer sees it end. */
  window_action (a, "win.end-chat", NULL);
  dialog = cx_test_wait_dialog (GTK_TYPE_DIALOG);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  cx_test_customer_poll_until_ended (customer);
  g_assert_true (customer->ended);
  wait_status (a, customer->chat_id, CX_AGENT_CONVERSATION_ENDED);
  g_assert_false (gtk_widget_get_sensitive (cx_test_agent_ui_child (a, "composer")));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (a), "win.send"));

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

static gboolean
service_disconnected (gpointer data)
{
  return !cx_agent_service_get_connected (cx_agent_window_get_service (data));
}

static gboolean
service_connected (gpointer data)
{
  return cx_agent_service_get_connected (cx_agent_window_get_service (data));
}

typedef struct
{
  CxAgentWindow *window;
  const char *text;
} SendWait;

/* The message left the composer one way or the other: sent, or told it was not. */
static gboolean
send_settled (gpointer data)
{
  SendWait *wait = data;
  CxAgentConversation *selected = cx_agent_window_get_selected (wait->window);

  return conversation_count (selected, CX_MESSAGE_TEXT, CX_PARTY_AGENT, wait->text) > 0 ||
         strstr (gtk_label_get_text (cx_test_agent_ui_child (wait->window, "typing_label")),
                 wait->text) != NULL ||
         g_str_has_prefix (
             gtk_label_get_text (cx_test_agent_ui_child (wait->window, "typing_label")),
             "Your message was not sent");
}

/* The server restarts mid-conversation behind a fixed address. The window notices, reconnects by
 * itself, keeps the conversation and its transcript, and gets what the customer wrote while it
 * was away; what ada wrote while the server was unreachable is neither lost nor doubled. */
static void
test_server_restart (Fixture *f, gconstpointer data)
{
  CxTestForwarder *forwarder = cx_test_forwarder_new (f->server);
  CxAgentApplication *app =
      cx_test_agent_ui_app_new ("Flows", cx_test_forwarder_get_url (forwarder));
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autofree char *before = NULL;
  GtkTextBuffer *composer;
  CxAgentConversation *conversation;
  CxAgentWindow *a;
  SendWait sent;
  CxTestRecorder *log;
  guint n_before;
  guint delivered;
  g_autofree char *draft = NULL;
  GtkTextIter start, end;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  customer = customer_accepted (f, a, SUPPORT, "Grace");
  composer = gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer"));
  cx_test_customer_send (customer, "First, before the restart");
  wait_transcript_label (a, "First, before the restart");
  gtk_text_buffer_set_text (composer, "Ada, before the restart", -1);
  window_action (a, "win.send", NULL);
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "Ada, before the restart");
  wait_transcript_label (a, "Ada, before the restart");
  conversation = g_object_ref (cx_agent_window_get_selected (a));
  n_before = cx_agent_conversation_get_n_messages (conversation);
  log = cx_test_recorder_new (window_bus (a), CX_AGENT_SERVICE_NAME);

  /* Down, and unreachable until let through: the window sees the connection go. */
  cx_test_forwarder_set_blocked (forwarder, TRUE);
  cx_test_server_restart (f->server);
  cx_test_wait (service_disconnected, a);
  cx_test_recorder_wait_chat (log, "connectionLost", NULL);

  /* While the window cannot reach it: the customer writes, and ada writes. */
  cx_test_customer_send (customer, "Second, while you were away");
  cx_test_customer_send (customer, "Third, still away");
  gtk_text_buffer_set_text (composer, "Ada, while unreachable", -1);
  window_action (a, "win.send", NULL);
  sent = (SendWait){ a, "Ada, while unreachable" };
  cx_test_wait (send_settled, &sent);

  /* Back: it reconnects by itself and catches up. */
  cx_test_forwarder_set_blocked (forwarder, FALSE);
  cx_test_wait (service_connected, a);
  cx_test_recorder_wait_chat (log, "connectionRestored", NULL);
  wait_transcript_label (a, "Second, while you were away");
  wait_transcript_label (a, "Third, still away");

  /* The same conversation, its transcript whole and in order, nothing doubled. */
  g_assert_true (cx_agent_window_get_selected (a) == conversation ||
                 g_strcmp0 (cx_agent_conversation_get_chat_id (cx_agent_window_get_selected (a)),
                            customer->chat_id) == 0);
  conversation = cx_agent_window_get_selected (a);
  g_assert_cmpint (cx_agent_conversation_get_status (conversation), ==,
                   CX_AGENT_CONVERSATION_ACTIVE);
  g_assert_cmpuint (cx_agent_conversation_get_n_messages (conversation), >, n_before);
  for (guint i = 0; i < cx_agent_conversation_get_n_messages (conversation); i++)
    g_assert_cmpuint (cx_agent_conversation_get_message (conversation, i)->index, ==,
                      cx_agent_conversation_get_message (conversation, 0)->index + i);
  g_assert_cmpuint (conversation_count (conversation, CX_MESSAGE_TEXT, CX_PARTY_CLIENT,
                                        "First, before the restart"),
                    ==, 1);
  g_assert_cmpuint (
      conversation_count (conversation, CX_MESSAGE_TEXT, CX_PARTY_AGENT, "Ada, before the restart"),
      ==, 1);
  g_assert_cmpuint (
      count_labels (cx_test_agent_ui_child (a, "transcript_list"), "First, before the restart"), ==,
      1);

  /* ada's message written while unreachable: delivered once, or still hers to send. */
  cx_test_customer_poll (customer);
  delivered = 0;
  for (guint i = 0; i < customer->transcript->len; i++)
    delivered += g_strcmp0 (cx_test_message_text (g_ptr_array_index (customer->transcript, i)),
                            "Ada, while unreachable") == 0;
  gtk_text_buffer_get_bounds (composer, &start, &end);
  draft = gtk_text_buffer_get_text (composer, &start, &end, FALSE);
  g_test_message ("ada's message written while unreachable: delivered %u time(s); composer "
                  "holds “%s”; the window says “%s”",
                  delivered, draft,
                  gtk_label_get_text (cx_test_agent_ui_child (a, "typing_label")));
  g_assert_cmpuint (delivered, <=, 1);
  g_assert_true (delivered == 1 || strstr (draft, "Ada, while unreachable") != NULL);

  /* The conversation goes on. */
  gtk_text_buffer_set_text (composer, "Ada, after the restart", -1);
  window_action (a, "win.send", NULL);
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "Ada, after the restart");
  cx_test_customer_send (customer, "Fourth, after");
  wait_transcript_label (a, "Fourth, after");
  cx_test_assert_contiguous (customer->transcript, 1);

  cx_test_recorder_free (log);
  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
  cx_test_forwarder_free (forwarder);
}

/* Markup, tabs and line breaks from a customer show as they were written (the
 * server refuses other control characters). */
static void
test_literal_text (Fixture *f, gconstpointer data)
{
  static const char *const texts[] = {
    "<b>bold?</b> &amp; <span foreground=\"red\">red?</span> &lt;",
    "tab\there, [31mred[0m, line\nbreak",
    "<i>unclosed & stray > <",
  };
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  /* The server refuses control characters in a nickname; markup it takes as it is. */
  const char *nickname = "<b>Grace</b> &amp; <i>";
  CxAgentWindow *a;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  customer = cx_test_customer_start (f->server, SUPPORT, nickname);
  cx_test_wait (invitation_shown, a);
  g_assert_false (gtk_label_get_use_markup (cx_test_agent_ui_child (a, "invitation_label")));
  g_assert_nonnull (strstr (gtk_label_get_text (cx_test_agent_ui_child (a, "invitation_label")),
                            "<b>Grace</b> &amp;"));
  window_action (a, "win.accept", NULL);
  wait_status (a, customer->chat_id, CX_AGENT_CONVERSATION_ACTIVE);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      JsonObject *stored = NULL;
      const char *server_text;
      g_autofree char *sent_escaped = g_strescape (texts[i], NULL);
      g_autofree char *kept_escaped = NULL;
      GtkLabel *label;

      cx_test_customer_send (customer, texts[i]);
      /* What the server kept is what the customer wrote, or its own cleaning of it: the window
       * must show exactly that, not a rendering of it. */
      cx_test_customer_poll (customer);
      for (guint j = 0; j < customer->transcript->len; j++)
        {
          JsonObject *message = g_ptr_array_index (customer->transcript, j);

          if (g_strcmp0 (cx_test_object_string (message, "type"), "Message") == 0 &&
              g_strcmp0 (cx_test_message_from_type (message), "Client") == 0)
            stored = message;
        }
      g_assert_nonnull (stored);
      server_text = cx_test_message_text (stored);
      kept_escaped = g_strescape (server_text, NULL);
      g_test_message ("sent “%s”, the server kept “%s”", sent_escaped, kept_escaped);
      label = wait_transcript_label (a, server_text);
      g_assert_false (gtk_label_get_use_markup (label));
      g_assert_cmpstr (gtk_label_get_text (label), ==, server_text);
      g_assert_cmpstr (gtk_label_get_label (label), ==, server_text);
    }

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* The window a pop-out of @chat_id is, or NULL. */
static CxAgentWindow *
find_pop_out (CxAgentApplication *app, const char *chat_id)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (CX_IS_AGENT_WINDOW (l->data) &&
        g_strcmp0 (cx_agent_window_get_chat_id (l->data), chat_id) == 0)
      return l->data;
  return NULL;
}

typedef struct
{
  GtkWindow *window;
  const char *prefix;
} TitleWait;

static gboolean
title_has_prefix (gpointer data)
{
  TitleWait *wait = data;
  const char *title = gtk_window_get_title (wait->window);

  return title != NULL && g_str_has_prefix (title, wait->prefix);
}

static void
wait_title (gpointer window, const char *prefix)
{
  TitleWait wait = { window, prefix };

  cx_test_wait (title_has_prefix, &wait);
}

/* A conversation opened in its own window: both windows show what either side writes and the
 * customer's typing; either window's composer reaches the customer; closing the pop-out leaves
 * the chat going, and opening it again presents the one window there is. */
static void
test_pop_out (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  CxAgentWindow *a;
  CxAgentWindow *p;
  SelectedWait selected;
  LabelWait typing;
  gpointer weak;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  customer = customer_accepted (f, a, SUPPORT, "Grace");
  cx_test_customer_send (customer, "Before the pop-out");
  wait_transcript_label (a, "Before the pop-out");

  window_action (a, "win.open-in-window", NULL);
  p = find_pop_out (app, customer->chat_id);
  g_assert_nonnull (p);
  cx_test_wait (cx_test_widget_is_mapped, p);
  selected = (SelectedWait){ p, customer->chat_id };
  cx_test_wait (chat_selected, &selected);
  /* Its own window: no list, no invitations, no callbacks; the agent's state is there too. */
  g_assert_false (gtk_widget_get_visible (cx_test_agent_ui_child (p, "sidebar_stack")));
  g_assert_false (gtk_widget_get_visible (cx_test_agent_ui_child (p, "page_switcher")));
  g_assert_true (gtk_widget_get_visible (cx_test_agent_ui_child (p, "state_dropdown")));
  wait_title (p, "Grace");
  wait_transcript_label (p, "Before the pop-out");

  /* The customer writes and types: both windows show it. */
  cx_test_customer_send (customer, "Seen in both windows?");
  wait_transcript_label (a, "Seen in both windows?");
  wait_transcript_label (p, "Seen in both windows?");
  reply = cx_test_customer_call (customer, "startTyping", "message", "Still typ", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  typing = (LabelWait){ cx_test_agent_ui_child (a, "typing_label"), "Still typ" };
  cx_test_wait (label_contains, &typing);
  typing = (LabelWait){ cx_test_agent_ui_child (p, "typing_label"), "Still typ" };
  cx_test_wait (label_contains, &typing);

  /* ada writes in the pop-out: the customer has it once, the workspace shows it. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (cx_test_agent_ui_child (p, "composer")),
                            "Written in the pop-out", -1);
  window_action (p, "win.send", NULL);
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "Written in the pop-out");
  wait_transcript_label (a, "Written in the pop-out");
  wait_transcript_label (p, "Written in the pop-out");
  g_assert_cmpuint (
      count_labels (cx_test_agent_ui_child (a, "transcript_list"), "Written in the pop-out"), ==,
      1);

  /* And in the workspace: the pop-out shows it. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer")),
                            "Written in the workspace", -1);
  window_action (a, "win.send", NULL);
  wait_transcript_label (p, "Written in the workspace");

  /* Opening it again presents the same window. */
  window_action (a, "win.open-in-window", NULL);
  g_assert_true (find_pop_out (app, customer->chat_id) == p);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 2);

  /* Closing the pop-out ends nothing. */
  weak = p;
  g_object_add_weak_pointer (G_OBJECT (p), &weak);
  gtk_window_destroy (GTK_WINDOW (p));
  cx_test_wait (cx_test_pointer_is_null, &weak);
  cx_test_customer_send (customer, "Still there?");
  wait_transcript_label (a, "Still there?");
  cx_test_customer_poll (customer);
  g_assert_false (customer->ended);
  g_assert_cmpint (cx_agent_conversation_get_status (find_conversation (a, customer->chat_id)), ==,
                   CX_AGENT_CONVERSATION_ACTIVE);

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* The popover child of @parent, or NULL. */
static GtkPopover *
find_popover (GtkWidget *parent)
{
  for (GtkWidget *c = gtk_widget_get_first_child (parent); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_POPOVER (c))
      return GTK_POPOVER (c);
  return NULL;
}

static gboolean
composer_says (gpointer data)
{
  LabelWait *wait = data;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (wait->root));
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  return g_strcmp0 (text, wait->text) == 0;
}

/* The composer's key handler, as a key press reaches it. */
static gboolean
composer_key (CxAgentWindow *window, guint keyval)
{
  GtkWidget *composer = cx_test_agent_ui_child (window, "composer");
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (composer);
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        {
          g_signal_emit_by_name (controller, "key-pressed", keyval, 0, (GdkModifierType) 0,
                                 &handled);
          return handled;
        }
    }
  g_assert_not_reached ();
}

typedef struct
{
  CxAgentWindow *window;
  const char *text;
} RowsWait;

/* A visible label of the conversation list says @text. */
static gboolean
row_label_shown (gpointer data)
{
  RowsWait *wait = data;
  GtkLabel *label = cx_test_agent_ui_find_label (
      cx_test_agent_ui_child (wait->window, "conversation_list"), wait->text);

  return label != NULL && gtk_widget_get_visible (GTK_WIDGET (label));
}

static gboolean
popover_visible (gpointer data)
{
  return gtk_widget_get_visible (GTK_WIDGET (data));
}

/* Canned responses from the menu and by typing "/"; the unread count in the title and on the
 * row; the quick switcher (Ctrl+K) going to the conversation that has them. */
static void
test_canned_switcher_unread (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) grace = NULL;
  g_autoptr (CxTestCustomer) alan = NULL;
  GtkTextBuffer *composer;
  GtkTextIter end;
  GtkPopover *canned;
  GtkPopover *switcher;
  GtkEditable *query;
  GMenuModel *menu;
  CxAgentWindow *a;
  SelectedWait selected;
  LabelWait says;
  RowsWait badge;

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  grace = customer_accepted (f, a, SUPPORT, "Grace");
  alan = customer_accepted (f, a, SUPPORT, "Alan");
  composer = gtk_text_view_get_buffer (cx_test_agent_ui_child (a, "composer"));

  /* The menu lists the server's responses; one goes in at the cursor. */
  menu = gtk_menu_button_get_menu_model (cx_test_agent_ui_child (a, "canned_button"));
  g_assert_nonnull (menu);
  g_assert_cmpint (g_menu_model_get_n_items (menu), ==, 2);
  g_assert_true (gtk_widget_get_sensitive (cx_test_agent_ui_child (a, "canned_button")));
  gtk_text_buffer_set_text (composer, "Hi Alan. ", -1);
  window_action (a, "win.insert-canned", g_variant_new_string ("Hello! How can I help?"));
  says = (LabelWait){ cx_test_agent_ui_child (a, "composer"), "Hi Alan. Hello! How can I help?" };
  g_assert_true (composer_says (&says));
  gtk_text_buffer_set_text (composer, "", -1);

  /* "/" opens the popover, filtered by what follows; Down and Enter choose; the "/good" goes. */
  canned = find_popover (cx_test_agent_ui_child (a, "composer_box"));
  g_assert_nonnull (canned);
  gtk_text_buffer_set_text (composer, "/", -1);
  cx_test_wait (popover_visible, canned);
  g_assert_nonnull (cx_test_agent_ui_find_label (GTK_WIDGET (canned), "Greeting"));
  g_assert_nonnull (cx_test_agent_ui_find_label (GTK_WIDGET (canned), "Goodbye"));
  gtk_text_buffer_set_text (composer, "/bye", -1);
  g_assert_null (cx_test_agent_ui_find_label (GTK_WIDGET (canned), "Greeting"));
  g_assert_nonnull (cx_test_agent_ui_find_label (GTK_WIDGET (canned), "Goodbye"));
  g_assert_true (composer_key (a, GDK_KEY_Return));
  says = (LabelWait){ cx_test_agent_ui_child (a, "composer"),
                      "Thanks for contacting us <3 & goodbye." };
  g_assert_true (composer_says (&says));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (canned)));
  window_action (a, "win.send", NULL);
  cx_test_customer_poll_until (alan, 1, "Message", "Agent",
                               "Thanks for contacting us <3 & goodbye.");

  /* Escape closes it for this "/"; a new "/" opens it again. */
  gtk_text_buffer_set_text (composer, "/gre", -1);
  cx_test_wait (popover_visible, canned);
  g_assert_true (composer_key (a, GDK_KEY_Escape));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (canned)));
  /* Typing on, as keys do: inserted at the end. */
  gtk_text_buffer_get_end_iter (composer, &end);
  gtk_text_buffer_insert (composer, &end, "et", -1);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (canned)));
  gtk_text_buffer_set_text (composer, "", -1);
  gtk_text_buffer_set_text (composer, "/", -1);
  cx_test_wait (popover_visible, canned);
  gtk_text_buffer_set_text (composer, "", -1);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (canned)));

  /* Alan is selected; Grace writes twice: the title and her row count them. */
  g_assert_cmpstr (cx_agent_conversation_get_chat_id (cx_agent_window_get_selected (a)), ==,
                   alan->chat_id);
  wait_title (a, "CX Desk Agent");
  cx_test_customer_send (grace, "One");
  cx_test_customer_send (grace, "Two");
  wait_title (a, "(2) ");
  badge = (RowsWait){ a, "2" };
  cx_test_wait (row_label_shown, &badge);

  /* Ctrl+K: the switcher, filtered to Grace; Enter goes to her, and her messages are read. */
  window_action (a, "win.switch-conversation", NULL);
  switcher = gtk_menu_button_get_popover (cx_test_agent_ui_child (a, "switch_button"));
  cx_test_wait (popover_visible, switcher);
  query = GTK_EDITABLE (gtk_widget_get_first_child (gtk_popover_get_child (switcher)));
  g_assert_true (GTK_IS_SEARCH_ENTRY (query));
  gtk_editable_set_text (query, "grac");
  g_assert_nonnull (cx_test_agent_ui_find_label (GTK_WIDGET (switcher), "Grace"));
  g_assert_null (cx_test_agent_ui_find_label (GTK_WIDGET (switcher), "Alan"));
  g_signal_emit_by_name (query, "activate");
  selected = (SelectedWait){ a, grace->chat_id };
  cx_test_wait (chat_selected, &selected);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (switcher)));
  wait_title (a, "CX Desk Agent");
  wait_transcript_label (a, "Two");

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* Callbacks */

/* id -> the secret its creation returned, which reading it needs (API.md "Access rules"). */
static GHashTable *callback_secrets;

static char *
create_callback (Fixture *f, const char *number, GDateTime *desired)
{
  g_autofree char *url = cx_test_server_url (f->server, "/genesys/1/service/callback/%s", SUPPORT);
  g_autofree char *time = desired != NULL ? cx_test_iso8601 (desired) : NULL;
  g_autoptr (CxTestReply) reply = NULL;
  JsonObject *callback;

  if (time != NULL)
    reply = cx_test_post_form (f->session, url, "_customer_number", number, "_desired_time", time,
                               "firstname", "Grace", "subject", "Billing", NULL);
  else
    reply = cx_test_post_form (f->session, url, "_customer_number", number, "firstname", "Alan",
                               "subject", "Delivery", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  callback = cx_test_reply_object (reply);
  if (callback_secrets == NULL)
    callback_secrets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (callback_secrets, g_strdup (cx_test_object_string (callback, "_id")),
                        g_strdup (cx_test_object_string (callback, "_secret")));
  return g_strdup (cx_test_object_string (callback, "_id"));
}

static char *
callback_state (Fixture *f, const char *id)
{
  g_autofree char *url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/%s/%s", SUPPORT, id);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (CxTestReply) reply = NULL;

  g_assert_nonnull (callback_secrets);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Cx-Callback-Secret",
                                g_hash_table_lookup (callback_secrets, id));
  reply = cx_test_send (f->session, msg);
  g_assert_cmpuint (reply->status, ==, 200);
  return g_strdup (cx_test_object_string (cx_test_reply_object (reply), "_callback_state"));
}

/* The GtkListBoxRow under @widget that holds a label saying @text. */
static GtkWidget *
find_row_with_label (GtkWidget *widget, const char *text)
{
  GtkLabel *label = cx_test_agent_ui_find_label (widget, text);
  GtkWidget *row = label != NULL ? GTK_WIDGET (label) : NULL;

  while (row != NULL && !GTK_IS_LIST_BOX_ROW (row))
    row = gtk_widget_get_parent (row);
  return row;
}

/* A widget under @widget with the name @name, or NULL. */
static GtkWidget *
find_named (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget *root;
  const char *number;
  const char *heading;
} SectionWait;

/* The row of @number is in the list that follows the heading saying @heading. */
static gboolean
row_in_section (gpointer data)
{
  SectionWait *wait = data;
  GtkWidget *row = find_row_with_label (wait->root, wait->number);
  GtkWidget *list = row != NULL ? gtk_widget_get_parent (row) : NULL;
  GtkWidget *heading = list != NULL ? gtk_widget_get_prev_sibling (list) : NULL;

  return heading != NULL && GTK_IS_LABEL (heading) &&
         g_str_has_prefix (gtk_label_get_text (GTK_LABEL (heading)), wait->heading);
}

static void
wait_section (GtkWidget *root, const char *number, const char *heading)
{
  SectionWait wait = { root, number, heading };

  cx_test_wait (row_in_section, &wait);
}

static gboolean
file_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static char *tel_handler_output; /* the file the test's tel: handler writes the URI to */

/* The callbacks page: one due now, one tomorrow, in their sections; Call opens the tel: URI with
 * the desktop's handler; Complete moves it to Done and the server has it completed. */
static void
test_callbacks (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (GDateTime) tomorrow = cx_test_tomorrow_at (10, 30);
  g_autofree char *due_id = NULL;
  g_autofree char *later_id = NULL;
  g_autofree char *state = NULL;
  g_autofree char *called = NULL;
  GtkWidget *page;
  GtkWidget *row;
  CxAgentWindow *a;

  due_id = create_callback (f, "+15551230001", NULL);
  later_id = create_callback (f, "+15551230002", tomorrow);

  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  window_action (a, "win.show-callbacks", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (cx_test_agent_ui_child (a, "pages")), ==,
                   "callbacks");
  page = GTK_WIDGET (cx_test_agent_ui_child (a, "callbacks_box"));
  wait_section (page, "+15551230001", "Due now");
  wait_section (page, "+15551230002", "Scheduled");
  g_assert_nonnull (cx_test_agent_ui_find_label (page, "Alan — Delivery"));
  g_assert_nonnull (cx_test_agent_ui_find_label (page, "Grace — Billing"));
  g_assert_true (gtk_stack_page_get_needs_attention (cx_test_agent_ui_child (a, "callbacks_page")));
  g_assert_cmpstr (gtk_stack_page_get_title (cx_test_agent_ui_child (a, "callbacks_page")), ==,
                   "Callbacks (1)");

  /* Call: the desktop's handler for tel: gets the number. */
  row = find_row_with_label (page, "+15551230001");
  g_assert_true (gtk_widget_activate (find_named (row, "call-button")));
  cx_test_wait (file_exists, tel_handler_output);
  g_assert_true (g_file_get_contents (tel_handler_output, &called, NULL, NULL));
  g_strstrip (called);
  g_assert_cmpstr (called, ==, "tel:+15551230001");

  /* Complete: it goes to Done, here and on the server. */
  g_assert_true (gtk_widget_activate (find_named (row, "complete-button")));
  wait_section (page, "+15551230001", "Done");
  state = callback_state (f, due_id);
  g_assert_cmpstr (state, ==, "COMPLETED");
  g_assert_false (
      gtk_stack_page_get_needs_attention (cx_test_agent_ui_child (a, "callbacks_page")));
  g_assert_cmpstr (gtk_stack_page_get_title (cx_test_agent_ui_child (a, "callbacks_page")), ==,
                   "Callbacks");
  g_assert_false (gtk_widget_get_visible (find_named (row, "complete-button")));
  wait_section (page, "+15551230002", "Scheduled");

  /* Alt+1 goes back to the conversations. */
  window_action (a, "win.show-conversations", NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (cx_test_agent_ui_child (a, "pages")), ==,
                   "conversations");

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* Notifications: a fake org.freedesktop.Notifications on the session bus */

typedef struct
{
  GDBusConnection *connection;
  guint object_id;
  guint name_id;
  gboolean name_acquired;
  guint32 next_id;
  GPtrArray *notified; /* GVariant (susssasa{sv}i), the Notify parameters */
  GArray *closed;      /* guint32 */
} Notifications;

static const char notifications_xml[] =
    "<node><interface name='org.freedesktop.Notifications'>"
    "<method name='Notify'><arg type='s' direction='in'/><arg type='u' direction='in'/>"
    "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='s' direction='in'/>"
    "<arg type='as' direction='in'/><arg type='a{sv}' direction='in'/>"
    "<arg type='i' direction='in'/><arg type='u' direction='out'/></method>"
    "<method name='CloseNotification'><arg type='u' direction='in'/></method>"
    "<method name='GetCapabilities'><arg type='as' direction='out'/></method>"
    "<method name='GetServerInformation'><arg type='s' direction='out'/>"
    "<arg type='s' direction='out'/><arg type='s' direction='out'/><arg type='s' direction='out'/>"
    "</method>"
    "<signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
    "<signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
    "</interface></node>";

static void
notifications_method_cb (GDBusConnection *connection, const char *sender, const char *path,
                         const char *interface, const char *method, GVariant *parameters,
                         GDBusMethodInvocation *invocation, gpointer user_data)
{
  Notifications *n = user_data;

  if (g_str_equal (method, "Notify"))
    {
      g_ptr_array_add (n->notified, g_variant_ref (parameters));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", ++n->next_id));
    }
  else if (g_str_equal (method, "CloseNotification"))
    {
      guint32 id;

      g_variant_get (parameters, "(u)", &id);
      g_array_append_val (n->closed, id);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method, "GetCapabilities"))
    {
      const char *const caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else
    g_dbus_method_invocation_return_value (
        invocation, g_variant_new ("(ssss)", "test", "cxdesk", "1.0", "1.2"));
}

static void
notifications_name_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
  ((Notifications *) user_data)->name_acquired = TRUE;
}

static gboolean
notifications_ready (gpointer data)
{
  return ((Notifications *) data)->name_acquired;
}

static void
notifications_start (Notifications *n)
{
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL, { 0 } };
  g_autoptr (GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (address);
  memset (n, 0, sizeof *n);
  n->notified = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  n->closed = g_array_new (FALSE, FALSE, sizeof (guint32));
  /* A connection of its own, as a real notification server is another process. */
  n->connection =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  n->object_id = g_dbus_connection_register_object (n->connection, "/org/freedesktop/Notifications",
                                                    info->interfaces[0], &vtable, n, NULL, &error);
  g_assert_no_error (error);
  n->name_id = g_bus_own_name_on_connection (n->connection, "org.freedesktop.Notifications",
                                             G_BUS_NAME_OWNER_FLAGS_NONE, notifications_name_cb,
                                             NULL, n, NULL);
  cx_test_wait (notifications_ready, n);
}

static void
notifications_stop (Notifications *n)
{
  g_bus_unown_name (n->name_id);
  g_dbus_connection_unregister_object (n->connection, n->object_id);
  g_dbus_connection_close_sync (n->connection, NULL, NULL);
  g_clear_object (&n->connection);
  g_clear_pointer (&n->notified, g_ptr_array_unref);
  g_clear_pointer (&n->closed, g_array_unref);
}

static gboolean
notified_once (gpointer data)
{
  return ((Notifications *) data)->notified->len >= 1;
}

static gboolean
notified_twice (gpointer data)
{
  return ((Notifications *) data)->notified->len >= 2;
}

typedef struct
{
  CxAgentApplication *app;
  const char *chat_id;
} NotifiedWait;

static gboolean
not_notified (gpointer data)
{
  NotifiedWait *wait = data;

  return !cx_agent_application_get_invitation_notified (wait->app, wait->chat_id);
}

static gboolean
closed_once (gpointer data)
{
  return ((Notifications *) data)->closed->len >= 1;
}

static gboolean
no_window_active (gpointer data)
{
  CxAgentApplication *app = data;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (gtk_window_is_active (l->data))
      return FALSE;
  return TRUE;
}

static gboolean
window_active (gpointer data)
{
  return gtk_window_is_active (data);
}

/* While another app has the focus, an invitation is a desktop notification with the customer's
 * name and queue and Accept and Decline buttons; Accept in it takes the chat and shows it. One
 * accepted in the window instead has its notification withdrawn. */
static void
test_notification (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestCustomer) second = NULL;
  g_autofree char *accept = NULL;
  g_autofree char *decline = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  g_autofree char **actions = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *other;
  CxAgentWindow *a;
  SelectedWait selected;
  Notifications n;
  guint32 id;

  notifications_start (&n);
  a = cx_test_agent_ui_window_open (app);
  sign_in_ready (a);
  cx_test_wait (window_active, a);

  /* Another app's window takes the focus. */
  other = gtk_window_new ();
  gtk_window_set_title (GTK_WINDOW (other), "Another app");
  gtk_window_present (GTK_WINDOW (other));
  cx_test_wait (no_window_active, app);

  customer = cx_test_customer_start (f->server, SUPPORT, "Grace");
  cx_test_wait (notified_once, &n);
  g_variant_get (g_ptr_array_index (n.notified, 0), "(&su&s&s&s^a&s@a{sv}i)", NULL, NULL, NULL,
                 &summary, &body, &actions, NULL, NULL);
  summary = g_strdup (summary);
  body = g_strdup (body);
  g_assert_cmpstr (summary, ==, "New chat");
  g_assert_nonnull (strstr (body, "Grace"));
  g_assert_nonnull (strstr (body, SUPPORT));
  accept = g_action_print_detailed_name ("app.accept-invitation",
                                         g_variant_new_string (customer->chat_id));
  decline = g_action_print_detailed_name ("app.decline-invitation",
                                          g_variant_new_string (customer->chat_id));
  g_assert_true (g_strv_contains ((const char *const *) actions, accept));
  g_assert_true (g_strv_contains ((const char *const *) actions, decline));
  g_assert_true (cx_agent_application_get_invitation_notified (app, customer->chat_id));

  /* Accept in the notification: the chat is taken and shown (the server closes the
   * notification itself once an action is invoked). */
  id = n.next_id;
  g_dbus_connection_emit_signal (n.connection, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", id, accept), &error);
  g_assert_no_error (error);
  selected = (SelectedWait){ a, customer->chat_id };
  cx_test_wait (chat_selected, &selected);
  cx_test_wait (not_notified, &(NotifiedWait){ app, customer->chat_id });
  cx_test_customer_poll_until (customer, 1, "ParticipantJoined", "Agent", NULL);
  g_assert_cmpuint (n.closed->len, ==, 0);

  /* Another invitation while the other app has the focus again, accepted in the window's
   * banner instead: the app withdraws its notification. */
  gtk_window_present (GTK_WINDOW (other));
  cx_test_wait (no_window_active, app);
  second = cx_test_customer_start (f->server, SUPPORT, "Alan");
  cx_test_wait (notified_twice, &n);
  g_assert_true (cx_agent_application_get_invitation_notified (app, second->chat_id));
  wait_status (a, second->chat_id, CX_AGENT_CONVERSATION_INVITED);
  window_action (a, "win.accept", NULL);
  selected = (SelectedWait){ a, second->chat_id };
  cx_test_wait (chat_selected, &selected);
  cx_test_wait (closed_once, &n);
  g_assert_cmpuint (g_array_index (n.closed, guint32, 0), ==, n.next_id);
  g_assert_false (cx_agent_application_get_invitation_notified (app, second->chat_id));

  gtk_window_destroy (GTK_WINDOW (other));
  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_app_free (app);
  notifications_stop (&n);
}

/* `cxdesk-agent --user ada` with CXDESK_AGENT_PASSWORD: the first window signs in by itself. */
static void
test_sign_in_at_startup (Fixture *f, gconstpointer data)
{
  CxAgentApplication *app = cx_test_agent_ui_app_new ("Flows", cx_test_server_get_url (f->server));
  CxAgentWindow *a;
  CxAgentWindow *b;

  cx_agent_application_set_sign_in (app, "ada", CX_TEST_ADA_PASSWORD);
  g_application_activate (G_APPLICATION (app));
  a = CX_AGENT_WINDOW (gtk_application_get_windows (GTK_APPLICATION (app))->data);
  cx_test_agent_ui_wait_page (a, "workspace");
  g_assert_cmpstr (gtk_label_get_text (cx_test_agent_ui_child (a, "title_label")), ==,
                   "Ada Lovelace");
  g_assert_cmpstr (
      gtk_editable_get_text (GTK_EDITABLE (cx_test_agent_ui_child (a, "password_entry"))), ==, "");

  /* Once: a second window comes signed in through the cookie jar, not the password. */
  b = cx_test_agent_ui_window_open_with_action (app);
  cx_test_agent_ui_wait_page (b, "workspace");

  window_action (a, "win.sign-out", NULL);
  cx_test_agent_ui_wait_page (a, "sign-in");
  cx_test_agent_ui_wait_page (b, "sign-in");
  cx_test_agent_ui_app_free (app);
}

/* The desktop's handler of tel: URIs, in a data directory of this process's own: a script that
 * writes the URI it is given to a file. Before GTK starts: GLib reads XDG_DATA_DIRS once. */
static char *
tel_handler_install (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cx-agent-flows-XXXXXX", &error);
  g_autofree char *applications = NULL;
  g_autofree char *script = NULL;
  g_autofree char *script_text = NULL;
  g_autofree char *desktop = NULL;
  g_autofree char *desktop_text = NULL;
  g_autofree char *dirs = NULL;
  g_autofree char *path = NULL;
  const char *old_dirs = g_getenv ("XDG_DATA_DIRS");
  static const char mime_list[] = "[Default Applications]\n"
                                  "x-scheme-handler/tel=cx-test-tel.desktop\n";
  static const char mime_cache[] = "[MIME Cache]\nx-scheme-handler/tel=cx-test-tel.desktop;\n";

  g_assert_no_error (error);
  applications = g_build_filename (dir, "applications", NULL);
  g_assert_cmpint (g_mkdir (applications, 0700), ==, 0);
  tel_handler_output = g_build_filename (dir, "called", NULL);
  script = g_build_filename (dir, "tel-handler", NULL);
  script_text =
      g_strdup_printf ("#!/bin/sh\nprintf '%%s\\n' \"$1\" > '%s.part' && mv '%s.part' '%s'\n",
                       tel_handler_output, tel_handler_output, tel_handler_output);
  g_assert_true (g_file_set_contents (script, script_text, -1, &error));
  g_assert_cmpint (g_chmod (script, 0700), ==, 0);
  desktop = g_build_filename (applications, "cx-test-tel.desktop", NULL);
  desktop_text = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Test dialer\n"
                                  "Exec=%s %%u\nMimeType=x-scheme-handler/tel;\nNoDisplay=true\n",
                                  script);
  g_assert_true (g_file_set_contents (desktop, desktop_text, -1, &error));
  path = g_build_filename (applications, "mimeapps.list", NULL);
  g_assert_true (g_file_set_contents (path, mime_list, -1, &error));
  g_free (path);
  path = g_build_filename (applications, "mimeinfo.cache", NULL);
  g_assert_true (g_file_set_contents (path, mime_cache, -1, &error));

  dirs = g_strconcat (
      dir, ":", old_dirs != NULL && *old_dirs != '\0' ? old_dirs : "/usr/local/share:/usr/share",
      NULL);
  g_setenv ("XDG_DATA_DIRS", dirs, TRUE);
  return g_steal_pointer (&dir);
}

static void
tel_handler_remove (char *dir)
{
  static const char *const files[] = { "applications/cx-test-tel.desktop",
                                       "applications/mimeapps.list",
                                       "applications/mimeinfo.cache",
                                       "applications",
                                       "tel-handler",
                                       "called",
                                       NULL };

  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);

      g_remove (path);
    }
  g_remove (dir);
  g_free (dir);
  g_clear_pointer (&tel_handler_output, g_free);
}

int
main (int argc, char *argv[])
{
  static const CxTestConfigOptions short_invitations = { .invitation_timeout_seconds = 2 };
  char *handler_dir;
  int status;

  g_test_init (&argc, &argv, NULL);
  handler_dir = tel_handler_install ();

  /* A real display is part of the test: without one this fails, it does not skip. */
  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-agent-flows needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/agent-flows/invitation/declined", NULL, GINT_TO_POINTER (TRUE),
               test_invitation_rerouted);
  cx_test_add ("/agent-flows/invitation/timed-out", &short_invitations, GINT_TO_POINTER (FALSE),
               test_invitation_rerouted);
  cx_test_add ("/agent-flows/sign-out-everywhere", NULL, NULL, test_sign_out_everywhere);
  cx_test_add ("/agent-flows/transfer", NULL, NULL, test_transfer);
  cx_test_add ("/agent-flows/messages-typing-end", NULL, NULL, test_messages_typing_end);
  cx_test_add ("/agent-flows/server-restart", NULL, NULL, test_server_restart);
  cx_test_add ("/agent-flows/literal-text", NULL, NULL, test_literal_text);
  cx_test_add ("/agent-flows/pop-out", NULL, NULL, test_pop_out);
  cx_test_add ("/agent-flows/canned-switcher-unread", NULL, NULL, test_canned_switcher_unread);
  cx_test_add ("/agent-flows/callbacks", NULL, NULL, test_callbacks);
  cx_test_add ("/agent-flows/notification", NULL, NULL, test_notification);
  cx_test_add ("/agent-flows/sign-in-at-startup", NULL, NULL, test_sign_in_at_startup);

  status = g_test_run ();
  tel_handler_remove (handler_dir);
  return status;
}
