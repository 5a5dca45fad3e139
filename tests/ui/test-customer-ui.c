/* test-customer-ui.c: the customer application's real windows against the real cxdesk-server.
 *
 * The application is built in this process (a per-test application id, so runs never meet),
 * its windows are driven the way a customer drives them: actions activated, entry and composer
 * text set, buttons activated; what they show is read back from the real widgets. An agent is
 * played over HTTP by tests/server/cx-test-server.c.
 *
 * Every wait iterates the main context until a condition holds: no sleeps, no wall-clock
 * deadlines (meson's timeout catches a hang). The one timer, in the restoreTimeout case, wakes
 * the loop when the chat's last activity has become older than restoreTimeout: the condition
 * itself is read from the site's cookie.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-customer-ui"

#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <unistd.h>

#include "bus/cx-bus-log-entry.h"
#include "customer/cx-console.h"
#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"
#include "customer/cx-desk-window.h"
#include "cx-test-server.h"
#include "cx-test-ui.h"
#include "services/cx-webchat-service.h"
#include "services/cx-chat-message.h"
#include "widgets/cx-chat-row.h"
#include "widgets/cx-toaster.h"
#include "widgets/cx-webchat.h"

#define SERVICE "customer-support"
#define SITE "https://www.example.com/"
#define AGENT_NAME "Ada Lovelace"
#define DEFAULT_WIDTH 1100

typedef CxTestFixture Fixture;

/* The application */

static JsonObject *
test_config (Fixture *f, guint restore_timeout_ms)
{
  JsonObject *config = json_object_new ();
  JsonObject *webchat = json_object_new ();
  g_autofree char *data_url =
      g_strconcat (cx_test_server_get_url (f->server), "genesys/2/chat/" SERVICE, NULL);

  json_object_set_string_member (webchat, "dataURL", data_url);
  json_object_set_string_member (webchat, "transport", "auto");
  json_object_set_int_member (webchat, "pollRate", 1000);
  /* Generous: a sanitizer build must not look like a dead server. */
  json_object_set_int_member (webchat, "ajaxTimeout", 10000);
  if (restore_timeout_ms > 0)
    json_object_set_int_member (webchat, "restoreTimeout", restore_timeout_ms);
  json_object_set_object_member (config, "webchat", webchat);
  return config;
}

static void
app_configure (CxDeskApplication *app, Fixture *f, guint restore_timeout_ms)
{
  g_autoptr (JsonObject) override = test_config (f, restore_timeout_ms);
  g_autoptr (JsonObject) config =
      cx_desk_config_merge (cx_desk_application_get_config (app), override);

  cx_desk_application_set_config (app, config);
}

/* A new application instance, as after starting the program (an empty cookie jar). */
static CxDeskApplication *
app_new (Fixture *f, guint restore_timeout_ms, GApplicationFlags flags)
{
  g_autofree char *id = cx_test_ui_unique_app_id ("Test");
  g_autoptr (GError) error = NULL;
  CxDeskApplication *app = cx_desk_application_new (id, flags);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));
  g_assert_nonnull (cx_desk_application_get_http (app));
  app_configure (app, f, restore_timeout_ms);
  cx_test_ui_app_set_baseline (app);
  return app;
}

static gboolean
uses_push (gpointer data)
{
  CxWebChatService *service = cx_desk_window_get_service (CX_DESK_WINDOW (data));

  return service != NULL && cx_webchat_service_get_uses_push (service);
}

static gboolean
server_offline (gpointer data)
{
  return cx_webchat_get_server_offline (cx_desk_window_get_webchat (data));
}

static CxDeskWindow *
window_open (CxDeskApplication *app, const char *site)
{
  g_autoptr (GError) error = NULL;
  CxDeskWindow *window = cx_desk_application_open_site (app, site, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (window);
  g_assert_null (cx_desk_window_get_chat_error (window));
  cx_test_wait (cx_test_widget_is_mapped, window);
  return window;
}

static CxWebChat *
chat_of (CxDeskWindow *window)
{
  return cx_desk_window_get_webchat (window);
}

/* Widgets, found by their template ids */

static GtkWidget *
panel_widget (CxDeskWindow *window, const char *id)
{
  GtkWidget *widget = cx_test_ui_find_by_id (GTK_WIDGET (chat_of (window)), id);

  if (widget == NULL)
    g_error ("The chat panel has no widget “%s”", id);
  return widget;
}

/* The panel's state */

typedef struct
{
  CxDeskWindow *window;
  CxWebChatPhase phase;
} PhaseWait;

static gboolean
phase_reached (gpointer data)
{
  PhaseWait *wait = data;

  return cx_webchat_get_phase (chat_of (wait->window)) == wait->phase;
}

static void
wait_phase (CxDeskWindow *window, CxWebChatPhase phase)
{
  PhaseWait wait = { window, phase };

  cx_test_wait (phase_reached, &wait);
}

static void
fill_form (CxDeskWindow *window, const char *first, const char *last, const char *email)
{
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "first_name_entry")), first);
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "last_name_entry")), last);
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "email_entry")), email);
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "subject_entry")), "My order");
}

/* Enter in an entry (what its text emits when Enter is pressed in it). */
static void
activate_entry (GtkWidget *entry)
{
  g_signal_emit_by_name (entry, "activate");
}

static void
open_panel (CxDeskWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-chat", NULL));
  cx_test_wait (cx_test_ui_panel_is_open, window);
}

/* Starts a chat as the customer does: the window's chat button, the form, Start Chat. */
static char *
ui_start_chat (CxDeskWindow *window)
{
  open_panel (window);
  fill_form (window, "Grace", "Hopper", "grace@example.com");
  g_assert_true (gtk_widget_activate (panel_widget (window, "start_button")));
  wait_phase (window, CX_WEBCHAT_PHASE_CHAT);
  g_assert_nonnull (cx_webchat_get_chat_id (chat_of (window)));
  return g_strdup (cx_webchat_get_chat_id (chat_of (window)));
}

static void
ui_send (CxDeskWindow *window, const char *text)
{
  GtkTextView *composer = GTK_TEXT_VIEW (panel_widget (window, "composer"));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (composer), text, -1);
  g_assert_true (gtk_widget_activate (panel_widget (window, "send_button")));
}

/* The transcript as shown */

static CxChatMessage *
find_message (CxDeskWindow *window, CxChatMessageKind kind, const char *text)
{
  GListModel *messages = cx_webchat_get_messages (chat_of (window));

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr (CxChatMessage) message = g_list_model_get_item (messages, i);

      if (cx_chat_message_get_kind (message) == kind &&
          g_strcmp0 (cx_chat_message_get_text (message), text) == 0)
        return message; /* the model holds it */
    }
  return NULL;
}

static guint
count_messages (CxDeskWindow *window, const char *text)
{
  GListModel *messages = cx_webchat_get_messages (chat_of (window));
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr (CxChatMessage) message = g_list_model_get_item (messages, i);

      if (g_strcmp0 (cx_chat_message_get_text (message), text) == 0)
        count++;
    }
  return count;
}

typedef struct
{
  CxDeskWindow *window;
  CxChatMessageKind kind;
  const char *text;
  int status; /* -1: any */
} MessageWait;

static gboolean
message_shown (gpointer data)
{
  MessageWait *wait = data;
  CxChatMessage *message = find_message (wait->window, wait->kind, wait->text);

  return message != NULL &&
         (wait->status < 0 || cx_chat_message_get_status (message) == (guint) wait->status);
}

static CxChatMessage *
wait_message (CxDeskWindow *window, CxChatMessageKind kind, const char *text, int status)
{
  MessageWait wait = { window, kind, text, status };

  cx_test_wait (message_shown, &wait);
  return find_message (window, kind, text);
}

/* "kind: text" for every row, in order. */
static GPtrArray *
transcript_summary (CxDeskWindow *window)
{
  GListModel *messages = cx_webchat_get_messages (chat_of (window));
  GPtrArray *summary = g_ptr_array_new_with_free_func (g_free);
  GEnumClass *kinds = g_type_class_ref (CX_TYPE_CHAT_MESSAGE_KIND);

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr (CxChatMessage) message = g_list_model_get_item (messages, i);

      g_ptr_array_add (
          summary,
          g_strdup_printf ("%s: %s",
                           g_enum_get_value (kinds, cx_chat_message_get_kind (message))->value_nick,
                           cx_chat_message_get_text (message)));
    }
  g_type_class_unref (kinds);
  return summary;
}

static void
assert_same_transcript (CxDeskWindow *a, CxDeskWindow *b)
{
  g_autoptr (GPtrArray) first = transcript_summary (a);
  g_autoptr (GPtrArray) second = transcript_summary (b);

  g_assert_cmpuint (first->len, ==, second->len);
  for (guint i = 0; i < first->len; i++)
    g_assert_cmpstr (g_ptr_array_index (first, i), ==, g_ptr_array_index (second, i));
}

typedef struct
{
  CxDeskWindow *window;
  CxChatMessage *message;
} RowWait;

static gboolean
row_allocated (gpointer data)
{
  RowWait *wait = data;
  CxChatRow *row =
      cx_test_ui_find_row (panel_widget (wait->window, "transcript_view"), wait->message);

  return row != NULL && gtk_widget_get_mapped (GTK_WIDGET (row)) &&
         gtk_widget_get_width (GTK_WIDGET (row)) > 0;
}

/* The row that shows @message, once it is on screen. */
static CxChatRow *
wait_row (CxDeskWindow *window, CxChatMessage *message)
{
  RowWait wait = { window, message };

  cx_test_wait (row_allocated, &wait);
  return cx_test_ui_find_row (panel_widget (window, "transcript_view"), message);
}

typedef struct
{
  CxDeskWindow *window;
  const char *text;
} TypingWait;

static gboolean
typing_shown (gpointer data)
{
  TypingWait *wait = data;
  GtkWidget *label = panel_widget (wait->window, "typing_label");

  return g_strcmp0 (cx_webchat_get_typing_text (chat_of (wait->window)), wait->text) == 0 &&
         gtk_widget_get_visible (label) == (wait->text != NULL) &&
         (wait->text == NULL ||
          g_strcmp0 (gtk_label_get_text (GTK_LABEL (label)), wait->text) == 0);
}

static void
wait_typing (CxDeskWindow *window, const char *text)
{
  TypingWait wait = { window, text };

  cx_test_wait (typing_shown, &wait);
}

/* Agents and the server */

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

/* How many chats the server routed: the agent (ready, capacity 3) is invited to each, once.
 * The barrier (a state change the agent's own socket reports back) makes sure every invitation
 * sent before it has arrived. */
static guint
server_chat_count (CxTestAgent *agent)
{
  g_autoptr (GHashTable) chats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  cx_test_agent_barrier (agent);
  for (guint i = 0; i < agent->events->all_frames->len; i++)
    {
      JsonObject *frame = g_ptr_array_index (agent->events->all_frames, i);

      if (g_strcmp0 (cx_test_object_string (frame, "type"), "invitation") == 0)
        g_hash_table_add (chats, cx_test_object_loose_string (frame, "chatId"));
    }
  /* The barrier made the agent not ready: ready again for the next chat. */
  cx_test_agent_set_state (agent, "ready");
  return g_hash_table_size (chats);
}

/* Bus commands, as a page script ("App") makes them */

static JsonNode *
bus_command (CxDeskWindow *window, const char *name, const char *json, GError **error)
{
  return cx_test_bus_command_json (cx_desk_window_get_bus (window), name, json, error);
}

/* Tests */

/* The pre-chat form checks its fields beside them, and starts nothing until they are right. */
static void
test_form_validation (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *window = window_open (app, SITE);
  GtkWidget *first_error;
  GtkWidget *email_error;
  GtkWidget *email_entry;
  g_autofree char *chat_id = NULL;

  /* Closed at first: the window's chat button opens the panel on the form. */
  g_assert_false (cx_webchat_get_open (chat_of (window)));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (chat_of (window))));
  open_panel (window);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (chat_of (window))));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_FORM);

  first_error = panel_widget (window, "first_name_error");
  email_error = panel_widget (window, "email_error");
  email_entry = panel_widget (window, "email_entry");

  /* Empty: an error under each required field, nothing sent. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chat_of (window)), "webchat.start", NULL));
  g_assert_true (gtk_widget_get_visible (first_error));
  g_assert_true (gtk_widget_get_visible (panel_widget (window, "last_name_error")));
  g_assert_true (gtk_widget_get_visible (email_error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (first_error)), ==, "Enter your first name");
  g_assert_true (gtk_widget_has_css_class (panel_widget (window, "first_name_entry"), "error"));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_FORM);

  /* Typing in a field clears its error. */
  gtk_editable_set_text (GTK_EDITABLE (panel_widget (window, "first_name_entry")), "Grace");
  g_assert_false (gtk_widget_get_visible (first_error));

  /* A bad address is named as such. */
  fill_form (window, "Grace", "Hopper", "grace@");
  activate_entry (email_entry);
  g_assert_true (gtk_widget_get_visible (email_error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (email_error)), ==,
                   "Enter an email address like name@example.com");
  g_assert_false (gtk_widget_get_visible (first_error));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_FORM);
  g_assert_cmpuint (server_chat_count (agent), ==, 0);

  /* Corrected, Enter in the field starts the chat. */
  gtk_editable_set_text (GTK_EDITABLE (email_entry), "grace@example.com");
  activate_entry (email_entry);
  wait_phase (window, CX_WEBCHAT_PHASE_CHAT);
  chat_id = g_strdup (cx_webchat_get_chat_id (chat_of (window)));
  cx_test_agent_wait_invitation (agent, chat_id);
  g_assert_cmpuint (server_chat_count (agent), ==, 1);

  cx_test_ui_app_free (app);
}

/* (1) A chat started in window A is restored in window B opened later on the same site, with
 * its whole transcript. */
static void
test_restore_in_new_window (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);
  CxChatMessage *sent;

  agent_accept (agent, chat_id);
  wait_message (a, CX_CHAT_MESSAGE_EVENT, AGENT_NAME " joined the chat", -1);
  ui_send (a, "Hello from window A");
  /* The service's row: sent, with its index. */
  sent = wait_message (a, CX_CHAT_MESSAGE_OWN, "Hello from window A", CX_CHAT_MESSAGE_STATUS_SENT);
  g_assert_cmpuint (cx_chat_message_get_index (sent), >, 0);
  cx_test_agent_wait_message (agent, chat_id, "Message", "Hello from window A");
  cx_test_agent_send (agent, chat_id, "Hello Grace, how can I help?");
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "Hello Grace, how can I help?", -1);
  /* The server's copy of it came too: still one row. */
  g_assert_cmpuint (count_messages (a, "Hello from window A"), ==, 1);

  b = window_open (app, "https://www.example.com/orders/42");
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  g_assert_cmpstr (cx_webchat_get_chat_id (chat_of (b)), ==, chat_id);
  /* The panel opens by itself, on the chat. */
  g_assert_true (cx_webchat_get_open (chat_of (b)));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (panel_widget (b, "stack"))), ==,
                   "chat");
  g_assert_nonnull (find_message (b, CX_CHAT_MESSAGE_OWN, "Hello from window A"));
  g_assert_nonnull (find_message (b, CX_CHAT_MESSAGE_AGENT, "Hello Grace, how can I help?"));
  assert_same_transcript (a, b);
  /* Restored, not started: the server still has one chat. */
  g_assert_cmpuint (server_chat_count (agent), ==, 1);

  cx_test_ui_app_free (app);
}

/* (2) What either window sends shows in both, once; the agent's typing shows in both. */
static void
test_both_windows (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);
  g_autofree char *typing = NULL;

  agent_accept (agent, chat_id);
  b = window_open (app, SITE);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  g_assert_cmpstr (cx_webchat_get_chat_id (chat_of (b)), ==, chat_id);

  ui_send (b, "Sent from B");
  wait_message (b, CX_CHAT_MESSAGE_OWN, "Sent from B", CX_CHAT_MESSAGE_STATUS_SENT);
  wait_message (a, CX_CHAT_MESSAGE_OWN, "Sent from B", CX_CHAT_MESSAGE_STATUS_SENT);
  cx_test_agent_wait_message (agent, chat_id, "Message", "Sent from B");

  ui_send (a, "Sent from A");
  wait_message (a, CX_CHAT_MESSAGE_OWN, "Sent from A", CX_CHAT_MESSAGE_STATUS_SENT);
  wait_message (b, CX_CHAT_MESSAGE_OWN, "Sent from A", CX_CHAT_MESSAGE_STATUS_SENT);
  cx_test_agent_wait_message (agent, chat_id, "Message", "Sent from A");

  /* The sender's own row and the server's copy are one row. */
  g_assert_cmpuint (count_messages (a, "Sent from A"), ==, 1);
  g_assert_cmpuint (count_messages (b, "Sent from A"), ==, 1);
  g_assert_cmpuint (count_messages (a, "Sent from B"), ==, 1);
  g_assert_cmpuint (count_messages (b, "Sent from B"), ==, 1);

  typing = g_strdup_printf ("%s is typing…", AGENT_NAME);
  agent_typing (agent, chat_id, TRUE);
  wait_typing (a, typing);
  wait_typing (b, typing);
  cx_test_agent_send (agent, chat_id, "Here you go");
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "Here you go", -1);
  wait_message (b, CX_CHAT_MESSAGE_AGENT, "Here you go", -1);
  /* A message ends the typing that led to it. */
  wait_typing (a, NULL);
  wait_typing (b, NULL);
  assert_same_transcript (a, b);

  cx_test_ui_app_free (app);
}

/* (3) Closing window A does not end the chat: B carries on. */
static void
test_close_window_keeps_chat (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);

  agent_accept (agent, chat_id);
  b = window_open (app, SITE);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);

  cx_test_ui_window_close (a);

  cx_test_agent_send (agent, chat_id, "Are you still there?");
  wait_message (b, CX_CHAT_MESSAGE_AGENT, "Are you still there?", -1);
  ui_send (b, "Yes, in the other window");
  wait_message (b, CX_CHAT_MESSAGE_OWN, "Yes, in the other window", CX_CHAT_MESSAGE_STATUS_SENT);
  cx_test_agent_wait_message (agent, chat_id, "Message", "Yes, in the other window");
  g_assert_null (cx_test_frames_find_message (agent->events, chat_id, "ParticipantLeft", NULL));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (b)), ==, CX_WEBCHAT_PHASE_CHAT);

  cx_test_ui_app_free (app);
}

/* (4) Quitting and starting again: a new application instance has an empty cookie jar and
 * restores nothing, while the chat is still open on the server. */
static void
test_new_instance_does_not_restore (Fixture *f, gconstpointer data)
{
  CxDeskApplication *first = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (first, SITE);
  g_autofree char *chat_id = ui_start_chat (a);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  CxDeskApplication *second;
  CxDeskWindow *b;

  agent_accept (agent, chat_id);
  cx_test_ui_app_free (first);

  second = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  b = window_open (second, SITE);
  /* The service's answer settles it: there is nothing to restore. */
  result = bus_command (b, "WebChatService.restore", NULL, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_null (result);
  g_assert_false (cx_webchat_get_open (chat_of (b)));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (b)), ==, CX_WEBCHAT_PHASE_FORM);
  g_assert_cmpuint (g_list_model_get_n_items (cx_webchat_get_messages (chat_of (b))), ==, 0);

  cx_test_ui_app_free (second);
}

/* (5) A window on a subdomain restores the chat; one on another domain does not. */
static void
test_subdomain (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *www = window_open (app, "https://www.example.com/");
  g_autofree char *chat_id = ui_start_chat (www);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  CxDeskWindow *shop;
  CxDeskWindow *other;

  agent_accept (agent, chat_id);
  ui_send (www, "Started on www");
  wait_message (www, CX_CHAT_MESSAGE_OWN, "Started on www", CX_CHAT_MESSAGE_STATUS_SENT);

  shop = window_open (app, "https://shop.example.com/cart");
  wait_phase (shop, CX_WEBCHAT_PHASE_CHAT);
  g_assert_cmpstr (cx_webchat_get_chat_id (chat_of (shop)), ==, chat_id);
  g_assert_nonnull (find_message (shop, CX_CHAT_MESSAGE_OWN, "Started on www"));

  other = window_open (app, "https://www.example.org/");
  result = bus_command (other, "WebChatService.restore", NULL, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_false (cx_webchat_get_open (chat_of (other)));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (other)), ==, CX_WEBCHAT_PHASE_FORM);
  g_assert_null (cx_webchat_get_chat_id (chat_of (other)));

  cx_test_ui_app_free (app);
}

/* (6) Start Chat activated twice (Enter twice, a double click) starts one chat. */
static void
test_double_start (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *window = window_open (app, SITE);
  GtkWidget *entry;
  GtkWidget *button;

  open_panel (window);
  fill_form (window, "Grace", "Hopper", "grace@example.com");
  entry = panel_widget (window, "subject_entry");
  button = panel_widget (window, "start_button");

  /* Enter twice in a field, then two clicks, all before the server answers. */
  activate_entry (entry);
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_STARTING);
  g_assert_false (gtk_widget_is_sensitive (button));
  g_assert_false (gtk_editable_get_editable (GTK_EDITABLE (entry)));
  activate_entry (entry);
  gtk_widget_activate (button);
  gtk_widget_activate (button);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chat_of (window)), "webchat.start", NULL));

  wait_phase (window, CX_WEBCHAT_PHASE_CHAT);
  cx_test_agent_wait_invitation (agent, cx_webchat_get_chat_id (chat_of (window)));
  g_assert_cmpuint (server_chat_count (agent), ==, 1);

  cx_test_ui_app_free (app);
}

/* (6) Two windows pressing Start at the same moment get one chat between them. */
static void
test_two_windows_start (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b = window_open (app, SITE);

  open_panel (a);
  open_panel (b);
  fill_form (a, "Grace", "Hopper", "grace@example.com");
  fill_form (b, "Grace", "Hopper", "grace@example.com");
  /* In the same main-loop iteration: neither window has heard from the server. */
  gtk_widget_activate_action (GTK_WIDGET (chat_of (a)), "webchat.start", NULL);
  gtk_widget_activate_action (GTK_WIDGET (chat_of (b)), "webchat.start", NULL);
  g_assert_cmpint (cx_webchat_get_phase (chat_of (a)), ==, CX_WEBCHAT_PHASE_STARTING);
  g_assert_cmpint (cx_webchat_get_phase (chat_of (b)), ==, CX_WEBCHAT_PHASE_STARTING);

  wait_phase (a, CX_WEBCHAT_PHASE_CHAT);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  g_assert_cmpstr (cx_webchat_get_chat_id (chat_of (a)), ==, cx_webchat_get_chat_id (chat_of (b)));
  cx_test_agent_wait_invitation (agent, cx_webchat_get_chat_id (chat_of (a)));
  g_assert_cmpuint (server_chat_count (agent), ==, 1);

  cx_test_ui_app_free (app);
}

/* (7) A window opened once restoreTimeout has passed since the chat's last activity does not
 * restore it, says so, and offers a new chat. */
static void
test_restore_timeout (Fixture *f, gconstpointer data)
{
  const guint restore_timeout_ms = 1000;
  CxDeskApplication *app = app_new (f, restore_timeout_ms, G_APPLICATION_NON_UNIQUE);
  CxDeskWindow *a = window_open (app, SITE);
  g_autofree char *chat_id = ui_start_chat (a);
  g_autofree char *ping = NULL;
  g_autofree char *new_chat_id = NULL;
  GtkWidget *notice;
  gint64 last_activity;
  gint64 wait_ms;
  CxDeskWindow *b;

  cx_test_ui_window_close (a);

  /* The last activity, as every window sees it: the site's "ping" cookie. Wake up when it is
   * older than restoreTimeout. */
  ping = cx_http_get_site_cookie (cx_desk_application_get_http (app), SITE,
                                  CX_WEBCHAT_COOKIE_PREFIX "ping");
  g_assert_nonnull (ping);
  g_assert_true (g_ascii_string_to_signed (ping, 10, 0, G_MAXINT64, &last_activity, NULL));
  wait_ms = last_activity + restore_timeout_ms + 1 - g_get_real_time () / 1000;
  cx_test_pause ((guint) MAX (wait_ms, 0));
  g_assert_cmpint (g_get_real_time () / 1000 - last_activity, >, restore_timeout_ms);

  b = window_open (app, SITE);
  notice = panel_widget (b, "notice_label");
  cx_test_wait (cx_test_widget_is_visible, notice);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (notice)), ==,
                   "Your previous chat has expired. You can start a new one.");
  g_assert_true (cx_webchat_get_open (chat_of (b)));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (b)), ==, CX_WEBCHAT_PHASE_FORM);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (panel_widget (b, "stack"))), ==,
                   "form");

  /* And the new chat is a new one. */
  fill_form (b, "Grace", "Hopper", "grace@example.com");
  g_assert_true (gtk_widget_activate (panel_widget (b, "start_button")));
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  new_chat_id = g_strdup (cx_webchat_get_chat_id (chat_of (b)));
  g_assert_cmpstr (new_chat_id, !=, chat_id);
  g_assert_false (gtk_widget_get_visible (notice));

  cx_test_ui_app_free (app);
}

static GtkWindow *
find_dialog (GtkWindow *parent)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (GTK_IS_MESSAGE_DIALOG (window) && gtk_window_get_transient_for (window) == parent)
        return window;
    }
  return NULL;
}

static gboolean
dialog_shown (gpointer data)
{
  GtkWindow *dialog = find_dialog (data);

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

/* (8) Ending the chat in one window ends it in all, after the customer confirms. */
static void
test_end_chat (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);
  GtkWindow *dialog;

  agent_accept (agent, chat_id);
  b = window_open (app, SITE);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  /* Both on the push socket, whose "chatEnded" comes apart from the entries that ended it. */
  cx_test_wait (uses_push, a);
  cx_test_wait (uses_push, b);

  /* End Chat asks first; Cancel (what Escape does) changes nothing. */
  g_assert_true (gtk_widget_get_visible (panel_widget (a, "end_button")));
  g_assert_true (gtk_widget_activate (panel_widget (a, "end_button")));
  cx_test_wait (dialog_shown, a);
  dialog = find_dialog (GTK_WINDOW (a));
  g_assert_true (gtk_window_get_modal (dialog));
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_assert_null (find_dialog (GTK_WINDOW (a)));
  g_assert_cmpint (cx_webchat_get_phase (chat_of (a)), ==, CX_WEBCHAT_PHASE_CHAT);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (chat_of (a)), "webchat.end-chat", NULL));
  cx_test_wait (dialog_shown, a);
  gtk_dialog_response (GTK_DIALOG (find_dialog (GTK_WINDOW (a))), GTK_RESPONSE_ACCEPT);

  wait_phase (a, CX_WEBCHAT_PHASE_ENDED);
  wait_phase (b, CX_WEBCHAT_PHASE_ENDED);
  g_assert_true (gtk_widget_get_visible (panel_widget (a, "ended_box")));
  g_assert_true (gtk_widget_get_visible (panel_widget (b, "ended_box")));
  g_assert_false (gtk_widget_get_visible (panel_widget (b, "composer_box")));
  cx_test_agent_wait_message (agent, chat_id, "ParticipantLeft", NULL);
  /* Both windows say who left, once the chat has ended there. */
  g_assert_nonnull (find_message (a, CX_CHAT_MESSAGE_EVENT, "You left the chat"));
  g_assert_nonnull (find_message (b, CX_CHAT_MESSAGE_EVENT, "You left the chat"));

  /* Start a New Chat goes back to the form. */
  g_assert_true (gtk_widget_activate (panel_widget (b, "new_chat_button")));
  wait_phase (b, CX_WEBCHAT_PHASE_FORM);
  g_assert_cmpuint (g_list_model_get_n_items (cx_webchat_get_messages (chat_of (b))), ==, 0);

  cx_test_ui_app_free (app);
}

/* Text from the network is never markup: an agent's tags, entities and control characters,
 * and the customer's own, show exactly as they were written. */
static void
test_markup_is_text (Fixture *f, gconstpointer data)
{
  static const char agent_text[] =
      "<b>x</b> &amp; <span foreground=\"red\">y</span>\ttab\r\nline two \xc2\x85 \xc2\x9b "
      "\xe2\x80\xae \xe2\x80\x8b %s %n _mnemonic";
  static const char own_text[] = "<i>mine</i> &lt; &#60; <a href=\"x\">link</a>";
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *window = window_open (app, SITE);
  g_autofree char *chat_id = ui_start_chat (window);
  CxChatMessage *message;
  GtkLabel *label;

  agent_accept (agent, chat_id);
  cx_test_agent_send (agent, chat_id, agent_text);
  message = wait_message (window, CX_CHAT_MESSAGE_AGENT, agent_text, -1);
  label = cx_chat_row_get_text_label (wait_row (window, message));
  g_assert_false (gtk_label_get_use_markup (label));
  g_assert_false (gtk_label_get_use_underline (label));
  g_assert_cmpstr (gtk_label_get_text (label), ==, agent_text);
  g_assert_cmpstr (gtk_label_get_label (label), ==, agent_text);

  ui_send (window, own_text);
  message = wait_message (window, CX_CHAT_MESSAGE_OWN, own_text, CX_CHAT_MESSAGE_STATUS_SENT);
  label = cx_chat_row_get_text_label (wait_row (window, message));
  g_assert_cmpstr (gtk_label_get_text (label), ==, own_text);
  cx_test_agent_wait_message (agent, chat_id, "Message", own_text);

  cx_test_ui_app_free (app);
}

/* A very long message wraps inside the panel: the window does not grow. */
static void
test_long_message_wraps (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *window = window_open (app, SITE);
  g_autofree char *chat_id = ui_start_chat (window);
  g_autoptr (GString) words = g_string_new (NULL);
  g_autofree char *unbroken = g_strnfill (3000, 'W');
  GtkWidget *panel = panel_widget (window, "panel");
  CxChatMessage *message;
  GtkLabel *label;

  /* Just under the server's 4096 characters. */
  for (guint i = 0; i < 250; i++)
    g_string_append (words, "wrapping words ");
  g_strstrip (words->str);

  agent_accept (agent, chat_id);
  cx_test_agent_send (agent, chat_id, words->str);
  cx_test_agent_send (agent, chat_id, unbroken);

  message = wait_message (window, CX_CHAT_MESSAGE_AGENT, unbroken, -1);
  label = cx_chat_row_get_text_label (wait_row (window, message));
  g_assert_true (gtk_label_get_wrap (label));
  g_assert_cmpint (gtk_label_get_wrap_mode (label), ==, PANGO_WRAP_WORD_CHAR);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (label)), <=, gtk_widget_get_width (panel));
  /* 3000 characters in a 360-pixel panel: many lines. */
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (label)), >,
                   10 * gtk_widget_get_height (panel_widget (window, "typing_label")) / 2);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, DEFAULT_WIDTH);
  g_assert_cmpint (gtk_widget_get_width (panel), <, DEFAULT_WIDTH / 2);

  message = find_message (window, CX_CHAT_MESSAGE_AGENT, words->str);
  g_assert_nonnull (message);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, DEFAULT_WIDTH);

  cx_test_ui_app_free (app);
}

/* A message the server refuses is marked, and Retry sends it again. */
static void
test_send_failure_and_retry (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  CxDeskWindow *window = window_open (app, SITE);
  g_autofree char *chat_id = ui_start_chat (window);
  /* Over the server's 4096 characters. */
  g_autofree char *too_long = g_strnfill (5000, 'z');
  CxChatMessage *message;
  CxChatRow *row;
  GtkWidget *retry;

  ui_send (window, too_long);
  message = wait_message (window, CX_CHAT_MESSAGE_OWN, too_long, CX_CHAT_MESSAGE_STATUS_FAILED);
  g_assert_nonnull (cx_chat_message_get_error (message));
  row = wait_row (window, message);
  retry = cx_test_ui_find_by_id (GTK_WIDGET (row), "retry_button");
  g_assert_nonnull (retry);
  g_assert_true (gtk_widget_get_visible (retry));

  /* The button names the action and this message; activated, it sends it again. */
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (retry)), ==, "webchat.retry");
  g_assert_cmpuint (
      g_variant_get_uint32 (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (retry))), ==,
      cx_chat_message_get_serial (message));
  g_assert_true (gtk_widget_activate_action_variant (
      retry, "webchat.retry", gtk_actionable_get_action_target_value (GTK_ACTIONABLE (retry))));
  g_assert_cmpint (cx_chat_message_get_status (message), ==, CX_CHAT_MESSAGE_STATUS_SENDING);
  wait_message (window, CX_CHAT_MESSAGE_OWN, too_long, CX_CHAT_MESSAGE_STATUS_FAILED);
  g_assert_cmpuint (count_messages (window, too_long), ==, 1);

  /* The chat goes on. */
  ui_send (window, "A shorter one");
  wait_message (window, CX_CHAT_MESSAGE_OWN, "A shorter one", CX_CHAT_MESSAGE_STATUS_SENT);

  cx_test_ui_app_free (app);
}

/* The WebChat plugin's commands and events: open, "already opened", minimize with an unread
 * badge, close. */
static void
test_webchat_commands (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *window = window_open (app, SITE);
  CxTestRecorder *log = cx_test_recorder_new (cx_desk_window_get_bus (window), CX_WEBCHAT_NAME);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  GtkWidget *badge;
  GtkWidget *minimized_button;

  result = bus_command (window, "WebChat.open",
                        "{\"form\":{\"firstname\":\"Ada\",\"lastname\":\"Byron\","
                        "\"email\":\"ada@example.com\",\"subject\":\"Engines\"},"
                        "\"autoSubmit\":true}",
                        &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.opened"), ==, 1);
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.submitted"), ==, 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (panel_widget (window, "subject_entry"))),
                   ==, "Engines");
  wait_phase (window, CX_WEBCHAT_PHASE_CHAT);
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.started"), ==, 1);

  result = bus_command (window, "WebChat.open", NULL, &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_assert_cmpstr (error->message, ==, "already opened");
  g_clear_error (&error);

  agent_accept (agent, cx_webchat_get_chat_id (chat_of (window)));
  result = bus_command (window, "WebChat.minimize", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_true (cx_webchat_get_minimized (chat_of (window)));
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.minimized"), ==, 1);
  minimized_button = panel_widget (window, "minimized_button");
  badge = panel_widget (window, "badge_label");
  g_assert_true (gtk_widget_get_visible (minimized_button));
  g_assert_false (gtk_widget_get_visible (panel_widget (window, "panel")));
  g_assert_false (gtk_widget_get_visible (badge));

  cx_test_agent_send (agent, cx_webchat_get_chat_id (chat_of (window)), "One");
  cx_test_agent_send (agent, cx_webchat_get_chat_id (chat_of (window)), "Two");
  wait_message (window, CX_CHAT_MESSAGE_AGENT, "Two", -1);
  g_assert_cmpuint (cx_webchat_get_unread_count (chat_of (window)), ==, 2);
  g_assert_true (gtk_widget_get_visible (badge));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (badge)), ==, "2");

  /* The window's chat button brings it back, read. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-chat", NULL));
  cx_test_wait (cx_test_widget_is_visible, panel_widget (window, "panel"));
  g_assert_false (cx_webchat_get_minimized (chat_of (window)));
  g_assert_cmpuint (cx_webchat_get_unread_count (chat_of (window)), ==, 0);
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.unminimized"), ==, 1);

  /* close hides the panel; the chat goes on, and open shows it again. */
  result = bus_command (window, "WebChat.close", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (chat_of (window))));
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.closed"), ==, 1);
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_CHAT);
  open_panel (window);
  g_assert_cmpint (cx_webchat_get_phase (chat_of (window)), ==, CX_WEBCHAT_PHASE_CHAT);

  result = bus_command (window, "WebChat.endChat", NULL, &error);
  g_assert_no_error (error);
  wait_phase (window, CX_WEBCHAT_PHASE_ENDED);
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.ended"), ==, 1);

  cx_test_recorder_free (log);
  cx_test_ui_app_free (app);
}

/* While the chat server is gone the panel says it is reconnecting, and what the customer sends
 * waits ("sending"), it is not lost or failed. */
static void
test_reconnecting_banner (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  CxDeskWindow *window = window_open (app, SITE);
  g_autofree char *chat_id = ui_start_chat (window);
  GtkWidget *revealer = panel_widget (window, "banner_revealer");
  CxChatMessage *message;

  cx_test_wait (cx_test_ui_push_settled, window);
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (revealer)));

  cx_test_server_kill9 (f->server);
  cx_test_wait (server_offline, window);
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (revealer)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (panel_widget (window, "banner_label"))), ==,
                   "Connection lost. Reconnecting…");

  ui_send (window, "Are you there?");
  message = wait_message (window, CX_CHAT_MESSAGE_OWN, "Are you there?", -1);
  g_assert_cmpint (cx_chat_message_get_status (message), ==, CX_CHAT_MESSAGE_STATUS_SENDING);

  /* The harness needs its server back (on another port: this window stays offline). */
  cx_test_server_restart (f->server);
  cx_test_ui_app_free (app);
}

/* Ctrl+N (app.new-window) opens another window on the active window's site. */
/* Seed 1, the panel's half: a window opened later shows the panel as the others left it,
 * minimized with its unread count, or open. */
static void
test_panel_state_restored (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  CxDeskWindow *c;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *chat_id = ui_start_chat (a);

  agent_accept (agent, chat_id);
  wait_message (a, CX_CHAT_MESSAGE_EVENT, AGENT_NAME " joined the chat", -1);
  result = bus_command (a, "WebChat.minimize", "{\"minimized\":true}", &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  cx_test_agent_send (agent, chat_id, "Are you still there?");
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "Are you still there?", -1);
  g_assert_cmpuint (cx_webchat_get_unread_count (chat_of (a)), ==, 1);

  b = window_open (app, SITE);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  g_assert_true (cx_webchat_get_open (chat_of (b)));
  g_assert_true (cx_webchat_get_minimized (chat_of (b)));
  g_assert_cmpuint (cx_webchat_get_unread_count (chat_of (b)), ==, 1);
  g_assert_nonnull (find_message (b, CX_CHAT_MESSAGE_AGENT, "Are you still there?"));

  /* Back open in A: the next window shows it open. */
  result = bus_command (a, "WebChat.minimize", "{\"minimized\":false}", &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  c = window_open (app, SITE);
  wait_phase (c, CX_WEBCHAT_PHASE_CHAT);
  g_assert_true (cx_webchat_get_open (chat_of (c)));
  g_assert_false (cx_webchat_get_minimized (chat_of (c)));
  g_assert_cmpuint (cx_webchat_get_unread_count (chat_of (c)), ==, 0);

  cx_test_ui_app_free (app);
}

static gboolean
notice_starts_with (gpointer data)
{
  gpointer *pair = data;
  GListModel *messages = cx_webchat_get_messages (chat_of (pair[0]));

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr (CxChatMessage) message = g_list_model_get_item (messages, i);

      if (cx_chat_message_get_kind (message) == CX_CHAT_MESSAGE_SYSTEM &&
          g_str_has_prefix (cx_chat_message_get_text (message), pair[1]))
        return TRUE;
    }
  return FALSE;
}

/* Files, the saved transcript, injectMessage and the chat button: what the panel does besides
 * messages, each through the real server. */
static void
test_files_and_transcript (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  CxTestRecorder *log = NULL;
  CxTestRecorder *b_log = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cx-ui-files-XXXXXX", &error);
  g_autofree char *small = g_build_filename (dir, "receipt.txt", NULL);
  g_autofree char *large = g_build_filename (dir, "scan.pdf", NULL);
  g_autofree char *saved = g_build_filename (dir, "transcript.txt", NULL);
  g_autofree char *big = g_strnfill (CX_TEST_MAX_FILE_SIZE + 1, 'x');
  g_autofree char *chat_id = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GFile) small_file = NULL;
  g_autoptr (GFile) large_file = NULL;
  g_autoptr (GFile) saved_file = NULL;
  gpointer refused[] = { NULL, (gpointer) "The file was not sent: " };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (small, "Paid: 42 EUR\n", -1, NULL));
  g_assert_true (g_file_set_contents (large, big, -1, NULL));
  small_file = g_file_new_for_path (small);
  large_file = g_file_new_for_path (large);
  saved_file = g_file_new_for_path (saved);
  log = cx_test_recorder_new (cx_desk_window_get_bus (a), CX_WEBCHAT_NAME);

  chat_id = ui_start_chat (a);
  agent_accept (agent, chat_id);
  cx_test_agent_send (agent, chat_id, "<b>Bold</b> & <i>not</i> markup");
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "<b>Bold</b> & <i>not</i> markup", -1);
  /* One event a row, each row once. */
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.messageAdded"), ==,
                    g_list_model_get_n_items (cx_webchat_get_messages (chat_of (a))));
  b = window_open (app, SITE);
  wait_phase (b, CX_WEBCHAT_PHASE_CHAT);
  /* B restored the transcript whole; what comes now is one event a row there too. */
  b_log = cx_test_recorder_new (cx_desk_window_get_bus (b), CX_WEBCHAT_NAME);
  cx_test_agent_send (agent, chat_id, "One more thing");
  wait_message (b, CX_CHAT_MESSAGE_AGENT, "One more thing", -1);
  g_assert_cmpuint (cx_test_recorder_count (b_log, "WebChat.messageAdded"), ==, 1);
  cx_test_recorder_free (b_log);

  /* A file: in both windows, and at the agent's. */
  g_assert_true (gtk_widget_is_sensitive (panel_widget (a, "attach_button")));
  cx_webchat_send_file (chat_of (a), small_file);
  cx_test_recorder_wait (log, "WebChat.fileSent", 1);
  wait_message (a, CX_CHAT_MESSAGE_EVENT, "You sent a file: receipt.txt", -1);
  wait_message (b, CX_CHAT_MESSAGE_EVENT, "You sent a file: receipt.txt", -1);
  cx_test_agent_wait_message (agent, chat_id, "FileUploaded", "receipt.txt");

  /* Over the server's limit: refused before it is sent, said in this window. */
  refused[0] = a;
  cx_webchat_send_file (chat_of (a), large_file);
  cx_test_wait (notice_starts_with, refused);
  refused[0] = b;
  g_assert_false (notice_starts_with (refused));

  /* The transcript, as text: the agent's markup is text there too. */
  g_assert_true (gtk_widget_get_visible (panel_widget (a, "save_button")));
  cx_webchat_save_transcript (chat_of (a), saved_file);
  cx_test_recorder_wait (log, "WebChat.transcriptSaved", 1);
  g_assert_true (g_file_get_contents (saved, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, AGENT_NAME ": <b>Bold</b> & <i>not</i> markup"));
  g_assert_nonnull (strstr (contents, "You sent a file: receipt.txt"));
  g_assert_true (g_utf8_validate (contents, -1, NULL));

  /* injectMessage: this window only; text only. */
  result =
      bus_command (a, "WebChat.injectMessage",
                   "{\"type\":\"text\",\"name\":\"Shop\",\"text\":\"Order <42> shipped\"}", &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_nonnull (find_message (a, CX_CHAT_MESSAGE_SYSTEM, "Order <42> shipped"));
  g_assert_null (find_message (b, CX_CHAT_MESSAGE_SYSTEM, "Order <42> shipped"));
  result =
      bus_command (a, "WebChat.injectMessage", "{\"type\":\"html\",\"text\":\"<b>x</b>\"}", &error);
  g_assert_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED);
  g_clear_error (&error);
  g_assert_null (find_message (a, CX_CHAT_MESSAGE_SYSTEM, "<b>x</b>"));

  /* The page's chat button. */
  result = bus_command (a, "WebChat.hideChatButton", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_false (cx_webchat_get_chat_button_visible (chat_of (a)));
  g_assert_false (gtk_widget_get_visible (cx_test_ui_find_by_id (GTK_WIDGET (a), "chat_button")));
  g_assert_cmpuint (cx_test_recorder_count (log, "WebChat.chatButtonHidden"), ==, 1);
  result = bus_command (a, "WebChat.showChatButton", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_true (cx_webchat_get_chat_button_visible (chat_of (a)));
  g_assert_true (gtk_widget_get_visible (cx_test_ui_find_by_id (GTK_WIDGET (a), "chat_button")));

  cx_test_recorder_free (log);
  g_unlink (small);
  g_unlink (large);
  g_unlink (saved);
  g_rmdir (dir);
  cx_test_ui_app_free (app);
}

typedef struct
{
  GSubprocess *process;
  char *out;
  char *err;
  gboolean done;
} Capture;

static void
capture_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Capture *capture = user_data;

  g_assert_true (g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &capture->out,
                                                       &capture->err, NULL));
  capture->done = TRUE;
}

/* `cxdesk --gapplication-app-id APP_ID ARGS…`, its output read: the running instance answers
 * it from this loop. */
static int
run_cxdesk_capture (const char *app_id, const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Capture capture = { NULL };
  int status;

  g_assert_nonnull (g_getenv ("CXDESK"));
  g_ptr_array_add (argv, (gpointer) g_getenv ("CXDESK"));
  g_ptr_array_add (argv, (gpointer) "--gapplication-app-id");
  g_ptr_array_add (argv, (gpointer) app_id);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  capture.process =
      g_subprocess_newv ((const char *const *) argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (capture.process, NULL, NULL, capture_done_cb, &capture);
  /* This loop is the running instance: it answers the command line while it waits. */
  cx_test_wait (cx_test_flag_is_set, &capture.done);
  g_assert_true (g_subprocess_get_if_exited (capture.process));
  status = g_subprocess_get_exit_status (capture.process);
  g_clear_object (&capture.process);
  *out = capture.out;
  *err = capture.err;
  return status;
}

/* The D-Bus method, called over the session bus as another program would. */
static GVariant *
dbus_command (CxDeskApplication *app, const char *name, const char *data, GError **error)
{
  GDBusConnection *connection = g_application_get_dbus_connection (G_APPLICATION (app));
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GDBusConnection) other = NULL;
  g_autofree char *address = NULL;

  /* A connection of its own: a client is not the application. */
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_assert_nonnull (address);
  other =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, NULL);
  g_assert_nonnull (other);
  g_dbus_connection_call (other, g_dbus_connection_get_unique_name (connection),
                          g_application_get_dbus_object_path (G_APPLICATION (app)),
                          "io.github.cxdesk.CxDesk.Bus", "Command",
                          g_variant_new ("(ss)", name, data), G_VARIANT_TYPE ("(s)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, cx_test_store_result_cb, &result);
  cx_test_wait (cx_test_pointer_is_set, &result);
  return g_dbus_connection_call_finish (other, result, error);
}

/* `cxdesk --command NAME --data JSON` runs a bus command in the running instance's active window
 * and prints its result or its rejection; the D-Bus method does the same. */
static void
test_remote_command (Fixture *f, gconstpointer data)
{
  g_autofree char *app_id = cx_test_ui_unique_app_id ("Test");
  CxDeskApplication *app = cx_desk_application_new (app_id, G_APPLICATION_DEFAULT_FLAGS);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *const open_args[] = {
    "--command", "WebChat.open", "--data",
    "{\"form\":{\"firstname\":\"Ada\",\"lastname\":\"Byron\",\"email\":\"ada@example.com\"}}", NULL
  };
  const char *const again_args[] = { "--command", "WebChat.open", NULL };
  const char *const unknown_args[] = { "--command", "Nobody.here", NULL };
  const char *const bad_data_args[] = { "--command", "WebChat.open", "--data", "{\"form\":", NULL };
  const char *const lone_data_args[] = { "--data", "{}", NULL };
  const char *result = NULL;
  CxDeskWindow *window;
  char *out = NULL;
  char *err = NULL;
  int status;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  app_configure (app, f, 0);
  cx_test_ui_app_set_baseline (app);
  window = window_open (app, SITE);

  status = run_cxdesk_capture (app_id, open_args, &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "null\n");
  g_assert_true (cx_webchat_get_open (chat_of (window)));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (panel_widget (window, "first_name_entry"))),
                   ==, "Ada");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_cxdesk_capture (app_id, again_args, &out, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (err, ==, "Rejected: already opened\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_cxdesk_capture (app_id, unknown_args, &out, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (err, "Rejected: "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Not JSON: refused before anything runs. */
  status = run_cxdesk_capture (app_id, bad_data_args, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_true (g_str_has_prefix (err, "The data is not JSON"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = run_cxdesk_capture (app_id, lone_data_args, &out, &err);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 1);

  /* D-Bus: a result, a rejection, and data that is not JSON. */
  reply = dbus_command (app, "WebChat.close", "", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &result);
  g_assert_cmpstr (result, ==, "null");
  g_assert_false (cx_webchat_get_open (chat_of (window)));
  g_clear_pointer (&reply, g_variant_unref);
  reply = dbus_command (app, "WebChat.minimize", "{}", &error);
  g_assert_null (reply);
  g_assert_true (g_dbus_error_is_remote_error (error));
  {
    g_autofree char *remote = g_dbus_error_get_remote_error (error);

    g_assert_cmpstr (remote, ==, "io.github.cxdesk.CxDesk.Bus.Error.Rejected");
  }
  g_clear_error (&error);
  reply = dbus_command (app, "WebChat.open", "[1,", &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_false (cx_webchat_get_open (chat_of (window)));

  /* Nested past any page's needs: refused, and the application lives on. */
  {
    g_autofree char *deep = g_strnfill (100000, '[');

    reply = dbus_command (app, "WebChat.open", deep, &error);
    g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
    g_clear_error (&error);
  }

  /* Reading a local file is for the application itself, not for other programs. */
  reply = dbus_command (app, "WebChatService.sendFile", "{\"path\":\"/etc/passwd\"}", &error);
  g_assert_null (reply);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_clear_error (&error);
  {
    const char *const send_file_args[] = { "--command", "WebChatService.sendFile", "--data",
                                           "{\"path\":\"/etc/passwd\"}", NULL };

    status = run_cxdesk_capture (app_id, send_file_args, &out, &err);
    g_assert_cmpint (status, ==, 1);
    g_assert_true (g_str_has_prefix (err, "Rejected: "));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  reply = dbus_command (app, "WebChat.open", "", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  g_assert_true (cx_webchat_get_open (chat_of (window)));

  cx_test_ui_app_free (app);
}

static gboolean
console_shown (gpointer data)
{
  return cx_console_find (GTK_WINDOW (data), cx_desk_window_get_bus (CX_DESK_WINDOW (data))) !=
         NULL;
}

static gboolean
console_gone (gpointer data)
{
  return !console_shown (data);
}

typedef struct
{
  CxConsole *console;
  const char *name;
} ConsoleWait;

static gboolean
console_has (gpointer data)
{
  ConsoleWait *wait = data;
  GListModel *entries = cx_console_get_entries (wait->console);

  for (guint i = 0; i < g_list_model_get_n_items (entries); i++)
    {
      g_autoptr (CxBusLogEntry) entry = g_list_model_get_item (entries, i);

      if (g_strcmp0 (cx_bus_log_entry_get_name (entry), wait->name) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The Console (Ctrl+Shift+D, app.console) shows the window's bus traffic: what came before it
 * opened, and what comes while it is open. */
static void
test_console (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  CxDeskWindow *window = window_open (app, SITE);
  ConsoleWait wait = { NULL, "WebChat.opened" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) result = NULL;
  CxBus *bus = cx_desk_window_get_bus (window);
  CxConsole *console;
  GListModel *log;
  guint n_opened = 0;
  guint n_closed = 0;

  result = bus_command (window, "WebChat.open", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);

  g_action_group_activate_action (G_ACTION_GROUP (app), "console", NULL);
  cx_test_wait (console_shown, window);
  console = cx_console_find (GTK_WINDOW (window), cx_desk_window_get_bus (window));
  g_assert_true (cx_console_get_bus (console) == cx_desk_window_get_bus (window));
  wait.console = console;
  /* From the ring buffer. */
  g_assert_true (console_has (&wait));
  /* Opened from the application, the Console says so on the bus: its plugin loads for it. */
  wait.name = "Console.opened";
  g_assert_true (console_has (&wait));

  /* Live. */
  wait.name = "WebChat.closed";
  g_assert_false (console_has (&wait));
  result = bus_command (window, "WebChat.close", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  cx_test_wait (console_has, &wait);

  /* Paused, nothing comes in; cleared, nothing is left. */
  cx_console_set_paused (console, TRUE);
  wait.name = "WebChat.opened";
  cx_console_clear (console);
  g_assert_cmpuint (g_list_model_get_n_items (cx_console_get_entries (console)), ==, 0);
  result = bus_command (window, "WebChat.open", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  g_assert_false (console_has (&wait));
  cx_console_set_paused (console, FALSE);

  /* The Console plugin is on the bus too: Console.close closes it. */
  result = bus_command (window, "Console.close", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, json_node_unref);
  cx_test_wait (console_gone, window);

  /* Closed by the customer, it says so too. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "console", NULL);
  cx_test_wait (console_shown, window);
  gtk_window_close (GTK_WINDOW (cx_console_find (GTK_WINDOW (window), bus)));
  cx_test_wait (console_gone, window);

  log = cx_bus_get_log (bus);
  for (guint i = 0; i < g_list_model_get_n_items (log); i++)
    {
      g_autoptr (CxBusLogEntry) entry = g_list_model_get_item (log, i);
      const char *name = cx_bus_log_entry_get_name (entry);

      if (cx_bus_log_entry_get_kind (entry) != CX_BUS_LOG_EVENT)
        continue;
      if (g_strcmp0 (name, "Console.opened") == 0)
        n_opened++;
      else if (g_strcmp0 (name, "Console.closed") == 0)
        n_closed++;
    }
  g_assert_cmpuint (n_opened, ==, 2);
  g_assert_cmpuint (n_closed, ==, 2);

  cx_test_ui_app_free (app);
}

typedef struct
{
  GtkListView *view;
  GtkAdjustment *adjustment;
  guint n_items;
} ViewGrowth;

/* Scrolls up to the top, as the customer does, until rows came in above. */
static gboolean
view_grew (gpointer data)
{
  ViewGrowth *growth = data;
  double lower = gtk_adjustment_get_lower (growth->adjustment);

  if (g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (growth->view))) >
      growth->n_items)
    return TRUE;
  if (gtk_adjustment_get_value (growth->adjustment) > lower)
    gtk_adjustment_set_value (growth->adjustment, lower);
  return FALSE;
}

/* A long transcript, restored, opens on its end with its newest rows only (the service read
 * the newest page); scrolling up to the top brings the earlier rows in, page after page, until
 * the first: then B shows what A shows. */
static void
test_long_transcript_scrolls (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);
  GListModel *messages;
  ViewGrowth growth = { NULL, NULL, 0 };
  guint total;

  agent_accept (agent, chat_id);
  for (guint i = 1; i <= 160; i++)
    {
      g_autofree char *text = g_strdup_printf ("Line %u of the answer", i);

      cx_test_agent_send (agent, chat_id, text);
    }
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "Line 160 of the answer", -1);

  total = g_list_model_get_n_items (cx_webchat_get_messages (chat_of (a)));
  g_assert_cmpuint (total, >, 160);

  b = window_open (app, SITE);
  wait_message (b, CX_CHAT_MESSAGE_AGENT, "Line 160 of the answer", -1);
  messages = cx_webchat_get_messages (chat_of (b));
  g_assert_cmpuint (g_list_model_get_n_items (messages), <, total);
  g_assert_null (find_message (b, CX_CHAT_MESSAGE_AGENT, "Line 1 of the answer"));
  wait_row (b, find_message (b, CX_CHAT_MESSAGE_AGENT, "Line 160 of the answer"));

  growth.view = GTK_LIST_VIEW (panel_widget (b, "transcript_view"));
  growth.adjustment = gtk_scrolled_window_get_vadjustment (
      GTK_SCROLLED_WINDOW (panel_widget (b, "transcript_scroller")));
  while ((growth.n_items = g_list_model_get_n_items (
              G_LIST_MODEL (gtk_list_view_get_model (growth.view)))) < total)
    cx_test_wait (view_grew, &growth);
  g_assert_cmpuint (growth.n_items, ==, total);
  g_assert_cmpuint (g_list_model_get_n_items (messages), ==, total);
  for (guint i = 0; i < total; i++)
    {
      g_autoptr (CxChatMessage) mine = g_list_model_get_item (messages, i);
      g_autoptr (CxChatMessage) theirs =
          g_list_model_get_item (cx_webchat_get_messages (chat_of (a)), i);

      g_assert_cmpstr (cx_chat_message_get_text (mine), ==, cx_chat_message_get_text (theirs));
      g_assert_cmpuint (cx_chat_message_get_index (mine), ==, cx_chat_message_get_index (theirs));
    }

  cx_test_ui_app_free (app);
}

/* Saving a restored long transcript saves all of it, in order, although the window read only
 * its newest page: the older rows are read first, and the view keeps showing what it showed. */
static void
test_long_transcript_saved (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (CxTestAgent) agent = ready_agent (f);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cx-ui-save-XXXXXX", &error);
  g_autofree char *saved = g_build_filename (dir, "transcript.txt", NULL);
  g_autoptr (GFile) saved_file = g_file_new_for_path (saved);
  g_autofree char *contents = NULL;
  CxDeskWindow *a = window_open (app, SITE);
  CxDeskWindow *b;
  g_autofree char *chat_id = ui_start_chat (a);
  CxTestRecorder *log;
  GListModel *shown;
  const char *at;
  guint n_shown;
  guint total;

  g_assert_no_error (error);
  agent_accept (agent, chat_id);
  for (guint i = 1; i <= 260; i++)
    {
      g_autofree char *text = g_strdup_printf ("Line %u of the answer", i);

      cx_test_agent_send (agent, chat_id, text);
    }
  wait_message (a, CX_CHAT_MESSAGE_AGENT, "Line 260 of the answer", -1);
  total = g_list_model_get_n_items (cx_webchat_get_messages (chat_of (a)));

  b = window_open (app, SITE);
  wait_message (b, CX_CHAT_MESSAGE_AGENT, "Line 260 of the answer", -1);
  g_assert_null (find_message (b, CX_CHAT_MESSAGE_AGENT, "Line 1 of the answer"));
  shown =
      G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (panel_widget (b, "transcript_view"))));
  n_shown = g_list_model_get_n_items (shown);

  log = cx_test_recorder_new (cx_desk_window_get_bus (b), CX_WEBCHAT_NAME);
  cx_webchat_save_transcript (chat_of (b), saved_file);
  cx_test_recorder_wait (log, "WebChat.transcriptSaved", 1);
  g_assert_true (g_file_get_contents (saved, &contents, NULL, NULL));
  g_assert_false (g_str_has_prefix (contents, "This transcript is incomplete"));
  at = contents;
  for (guint i = 1; i <= 260; i++)
    {
      g_autofree char *line = g_strdup_printf (AGENT_NAME ": Line %u of the answer\n", i);
      const char *found = strstr (at, line);

      g_assert_nonnull (found);
      at = found + strlen (line);
    }

  /* The rows are the service's now; the view shows what it showed until scrolled up. */
  g_assert_cmpuint (g_list_model_get_n_items (cx_webchat_get_messages (chat_of (b))), ==, total);
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, n_shown);

  cx_test_recorder_free (log);
  g_unlink (saved);
  g_rmdir (dir);
  cx_test_ui_app_free (app);
}

static gboolean
has_toast (gpointer data)
{
  return cx_toaster_get_n_toasts (cx_desk_window_get_toaster (CX_DESK_WINDOW (data))) > 0;
}

/* main.page: a deployer's own page, a GtkBuilder file found beside the configuration, shows
 * instead of the built-in one; one that cannot be used leaves the built-in page and says why in
 * an error toast. The chat works on either. */
static void
test_deployer_page (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cx-ui-page-XXXXXX", &error);
  g_autofree char *config_path = g_build_filename (dir, "widgets.json", NULL);
  g_autofree char *page_path = g_build_filename (dir, "shop.ui", NULL);
  g_autofree char *bad_path = g_build_filename (dir, "bad.ui", NULL);
  g_autoptr (GFile) config_file = NULL;
  g_autoptr (JsonObject) loaded = NULL;
  g_autoptr (JsonObject) merged = NULL;
  g_autoptr (JsonObject) bad = NULL;
  CxDeskWindow *window;
  JsonObject *main_section;
  GtkWidget *label;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (
      page_path,
      "<?xml version='1.0' encoding='UTF-8'?><interface>"
      "<object class='GtkBox' id='page'><property name='orientation'>vertical</property>"
      "<child><object class='GtkLabel' id='shop_label'>"
      "<property name='label'>Welcome to Example Shop</property></object></child>"
      "<child><object class='GtkPasswordEntry' id='shop_password'/></child>"
      "</object></interface>",
      -1, NULL));
  g_assert_true (
      g_file_set_contents (bad_path, "<interface><object class='GtkBox' id='other'/>", -1, NULL));
  /* Relative to the configuration's folder. */
  g_assert_true (g_file_set_contents (config_path, "{\"main\":{\"page\":\"shop.ui\"}}", -1, NULL));
  config_file = g_file_new_for_path (config_path);
  loaded = cx_desk_config_load_file (config_file, &error);
  g_assert_no_error (error);
  main_section = cx_desk_config_get_section (loaded, "main");
  g_assert_cmpstr (json_object_get_string_member (main_section, "page"), ==, page_path);

  merged = cx_desk_config_merge (cx_desk_application_get_config (app), loaded);
  cx_desk_application_set_config (app, merged);
  window = window_open (app, SITE);
  label = cx_test_ui_find_by_id (GTK_WIDGET (window), "shop_label");
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (label)), ==, "Welcome to Example Shop");
  g_assert_null (cx_test_ui_find_by_id (GTK_WIDGET (window), "profile_status"));
  g_assert_cmpuint (cx_toaster_get_n_toasts (cx_desk_window_get_toaster (window)), ==, 0);
  open_panel (window);
  g_assert_true (cx_webchat_get_open (chat_of (window)));

  /* No "page" in it: the built-in page, and a toast. */
  bad = json_object_new ();
  {
    JsonObject *bad_main = json_object_new ();

    json_object_set_string_member (bad_main, "page", bad_path);
    json_object_set_object_member (bad, "main", bad_main);
  }
  g_clear_pointer (&merged, json_object_unref);
  merged = cx_desk_config_merge (cx_desk_application_get_config (app), bad);
  cx_desk_application_set_config (app, merged);
  window = window_open (app, SITE);
  g_assert_nonnull (cx_test_ui_find_by_id (GTK_WIDGET (window), "profile_status"));
  cx_test_wait (has_toast, window);

  g_unlink (config_path);
  g_unlink (page_path);
  g_unlink (bad_path);
  g_rmdir (dir);
  cx_test_ui_app_free (app);
}

static void
test_new_window_action (Fixture *f, gconstpointer data)
{
  CxDeskApplication *app = app_new (f, 0, G_APPLICATION_NON_UNIQUE);
  CxDeskWindow *window = window_open (app, "https://shop.example.com/basket");
  GtkWindow *active;
  GList *windows;

  g_assert_true (gtk_application_get_active_window (GTK_APPLICATION (app)) == GTK_WINDOW (window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "new-window", NULL);
  windows = gtk_application_get_windows (GTK_APPLICATION (app));
  g_assert_cmpuint (g_list_length (windows), ==, 2);
  active = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_true (active != GTK_WINDOW (window));
  g_assert_cmpstr (cx_desk_window_get_site_url (CX_DESK_WINDOW (active)), ==,
                   "https://shop.example.com/basket");
  g_assert_true (cx_desk_window_get_bus (CX_DESK_WINDOW (active)) !=
                 cx_desk_window_get_bus (window));

  cx_test_ui_app_free (app);
}

/* Runs the real `cxdesk` with @args while this process is the running instance. */
static int
run_cxdesk (const char *app_id, const char *const *args)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  return run_cxdesk_capture (app_id, args, &out, &err);
}

/* `cxdesk --site URL` while an instance runs opens a new window on that site in it. */
static void
test_command_line_remote (Fixture *f, gconstpointer data)
{
  g_autofree char *app_id = cx_test_ui_unique_app_id ("Test");
  CxDeskApplication *app = cx_desk_application_new (app_id, G_APPLICATION_DEFAULT_FLAGS);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) bad_config = NULL;
  g_autoptr (GFileIOStream) stream = NULL;
  const char *const good[] = { "--site", "https://shop.example.com/", NULL };
  const char *const positional[] = { "https://www.example.net/help", NULL };
  const char *const bad_site[] = { "--site", "ftp://nowhere", NULL };
  const char *bad_args[] = { "--config", NULL, NULL };
  CxDeskWindow *window;
  GList *windows;
  int status;

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (app)));
  app_configure (app, f, 0);
  cx_test_ui_app_set_baseline (app);
  window_open (app, SITE);

  status = run_cxdesk (app_id, good);
  g_assert_cmpint (status, ==, 0);
  windows = gtk_application_get_windows (GTK_APPLICATION (app));
  g_assert_cmpuint (g_list_length (windows), ==, 2);
  window = CX_DESK_WINDOW (windows->data);
  g_assert_cmpstr (cx_desk_window_get_site_url (window), ==, "https://shop.example.com/");
  /* In this instance: the same cookie jar, a bus of its own. */
  g_assert_null (cx_desk_window_get_chat_error (window));

  status = run_cxdesk (app_id, positional);
  g_assert_cmpint (status, ==, 0);
  windows = gtk_application_get_windows (GTK_APPLICATION (app));
  g_assert_cmpuint (g_list_length (windows), ==, 3);
  g_assert_cmpstr (cx_desk_window_get_site_url (CX_DESK_WINDOW (windows->data)), ==,
                   "https://www.example.net/help");

  /* Refused, and nothing opens. */
  status = run_cxdesk (app_id, bad_site);
  g_assert_cmpint (status, ==, 1);
  bad_config = g_file_new_tmp ("cxdesk-config-XXXXXX.json", &stream, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_replace_contents (bad_config, "{\"webchat\": [", 13, NULL, FALSE,
                                          G_FILE_CREATE_NONE, NULL, NULL, &error));
  g_assert_no_error (error);
  bad_args[1] = g_file_peek_path (bad_config);
  status = run_cxdesk (app_id, bad_args);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpuint (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))), ==, 3);
  g_file_delete (bad_config, NULL, NULL);

  cx_test_ui_app_free (app);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* A real display is part of the test: without one this fails, it does not skip. */
  if (!gtk_init_check ())
    {
      g_printerr ("Bail out! test-customer-ui needs a display (run it under xvfb-run)\n");
      return 1;
    }

  cx_test_add ("/customer-ui/form/validation", NULL, NULL, test_form_validation);
  cx_test_add ("/customer-ui/windows/restore-in-new-window", NULL, NULL,
               test_restore_in_new_window);
  cx_test_add ("/customer-ui/windows/both-windows", NULL, NULL, test_both_windows);
  cx_test_add ("/customer-ui/windows/close-keeps-chat", NULL, NULL, test_close_window_keeps_chat);
  cx_test_add ("/customer-ui/windows/new-instance-does-not-restore", NULL, NULL,
               test_new_instance_does_not_restore);
  cx_test_add ("/customer-ui/windows/subdomain", NULL, NULL, test_subdomain);
  cx_test_add ("/customer-ui/start/double-activation", NULL, NULL, test_double_start);
  cx_test_add ("/customer-ui/start/two-windows", NULL, NULL, test_two_windows_start);
  cx_test_add ("/customer-ui/windows/restore-timeout", NULL, NULL, test_restore_timeout);
  cx_test_add ("/customer-ui/windows/end-chat", NULL, NULL, test_end_chat);
  cx_test_add ("/customer-ui/bad-input/markup", NULL, NULL, test_markup_is_text);
  cx_test_add ("/customer-ui/bad-input/long-message", NULL, NULL, test_long_message_wraps);
  cx_test_add ("/customer-ui/send/failure-and-retry", NULL, NULL, test_send_failure_and_retry);
  cx_test_add ("/customer-ui/webchat/commands", NULL, NULL, test_webchat_commands);
  cx_test_add ("/customer-ui/webchat/reconnecting", NULL, NULL, test_reconnecting_banner);
  cx_test_add ("/customer-ui/app/new-window", NULL, NULL, test_new_window_action);
  cx_test_add ("/customer-ui/windows/panel-state", NULL, NULL, test_panel_state_restored);
  cx_test_add ("/customer-ui/app/deployer-page", NULL, NULL, test_deployer_page);
  cx_test_add ("/customer-ui/windows/long-transcript", NULL, NULL, test_long_transcript_scrolls);
  cx_test_add ("/customer-ui/windows/long-transcript-saved", NULL, NULL,
               test_long_transcript_saved);
  cx_test_add ("/customer-ui/app/remote-command", NULL, NULL, test_remote_command);
  cx_test_add ("/customer-ui/app/console", NULL, NULL, test_console);
  cx_test_add ("/customer-ui/webchat/files-and-transcript", NULL, NULL, test_files_and_transcript);
  cx_test_add ("/customer-ui/app/command-line", NULL, NULL, test_command_line_remote);

  return g_test_run ();
}
