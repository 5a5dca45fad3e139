/* cx-agent-window.c: one agent workspace window.
 *
 * The window is a view of the application's one CxAgentService (one session, one event
 * socket, one table of chats for every window): it has a CxBus of its own, on which the service
 * puts its "AgentService" plugin, so the window's plugins and the Console command the session
 * as a page script would. It shows the sign-in page while the session is signed out and the
 * workspace while it is signed in, and follows the service's properties: a sign-in, a sign-out
 * or a state change made in another window shows here too. Everything the window asks of the
 * service goes through bus commands, as a page script's CXBus.command would. Text from the
 * network is set with gtk_label_set_text: never markup.
 *
 * A workspace window lists the agent's conversations (unread counts per row, their total in
 * the window title), offers invitations in a banner with a countdown to their expiry (and a
 * desktop notification, through the application, while no window is active), and has a
 * second page with the callbacks. A pop-out window (cx_agent_window_new_for_chat) is the same
 * window restricted to one chat: no list, no banner. Either way the conversations are the
 * session's CxAgentConversations, so the same chat in two windows is one object, and closing a
 * window never ends a chat.
 *
 * The class is split by concern over cx-agent-window-private.h (as gnome-text-editor's
 * editor-window*.c): this file has the class, its template, the bus and the service's
 * properties followed, the invitation banner and the selection; cx-agent-window-actions.c its
 * win.* actions (sign-in, state, accept, send, end, transfer, pop-out, the quick switcher, the
 * canned responses and the composer's keys); cx-agent-window-rows.c the list rows (sidebar
 * and transcript). The callbacks page is its own widget (cx-agent-callbacks.c), as are the
 * canned-responses popover (cx-agent-canned.c) and the quick switcher (cx-agent-switcher.c).
 *
 * Keyboard: Ctrl+K the quick switcher, Ctrl+Shift+O the selected conversation in a new window,
 * Ctrl+Shift+A / Ctrl+Shift+D accept / decline the invitation, Alt+1 / Alt+2 the pages, "/" at
 * the start of the composer the canned responses (Up, Down, Enter or Tab, Escape; Alt+C their
 * menu), Alt+T transfer (to a queue, or an agent by user name), Alt+E end, Enter or Alt+S send;
 * Ctrl+N a new window (the application's). A message the server did not take goes back into
 * the composer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-window"

#include "config.h"

#include "agent/cx-agent-window-private.h"

G_DEFINE_FINAL_TYPE (CxAgentWindow, cx_agent_window, GTK_TYPE_APPLICATION_WINDOW)

const AgentStateRow _cx_agent_window_states[N_STATES] = {
  { "ready", NULL },        { "not_ready", NULL },      { "not_ready", "break" },
  { "not_ready", "lunch" }, { "not_ready", "meeting" }, { "not_ready", "training" },
  { "offline", NULL },
};

#define WAIT_REFRESH_SECONDS 20

static void show_conversation (CxAgentWindow *self, CxAgentConversation *conversation);
static void update_invitation (CxAgentWindow *self);
/* Commands */

typedef struct
{
  CxAgentWindow *self; /* a reference */
  CommandDone done;
} CommandData;

static void
command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommandData *data = user_data;
  CxAgentWindow *self = data->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  /* A closed window drops its replies. */
  if (self->service != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (data->done != NULL)
        data->done (self, reply, error);
      else if (error != NULL)
        g_debug ("Command failed: %s", error->message);
    }
  g_object_unref (self);
  g_free (data);
}

/* Takes @data. */
void
_cx_agent_window_run_command (CxAgentWindow *self, const char *name, JsonNode *data,
                              CommandDone done)
{
  g_autoptr (JsonNode) owned = data;
  g_autofree char *full = g_strconcat (COMMAND_PREFIX, name, NULL);
  CommandData *command = g_new0 (CommandData, 1);

  command->self = g_object_ref (self);
  command->done = done;
  cx_bus_command_async (self->bus, NULL, full, data, 0, self->cancellable, command_cb, command);
}

/* {"chatId": …} plus one more string or boolean member. */
JsonNode *
_cx_agent_window_chat_data (const char *chat_id, const char *member, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "chatId");
  json_builder_add_string_value (builder, chat_id);
  if (member != NULL)
    {
      json_builder_set_member_name (builder, member);
      json_builder_add_string_value (builder, value);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* Reading JSON from events: every field is checked. */
const char *
_cx_agent_window_object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Conversations */

CxAgentApplication *
_cx_agent_window_get_application (CxAgentWindow *self)
{
  return CX_AGENT_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gboolean
invitation_expired (CxAgentConversation *conversation)
{
  gint64 expires_at = cx_agent_conversation_get_expires_at (conversation);

  return expires_at > 0 && expires_at <= now_ms ();
}

/* The first invitation that has not expired. One that has is no longer offered: the server
 * withdraws it in a moment, and its notification goes now. */
static CxAgentConversation *
find_invitation (CxAgentWindow *self)
{
  GListModel *model = cx_agent_service_get_conversations (self->service);
  CxAgentConversation *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (cx_agent_conversation_get_status (conversation) != CX_AGENT_CONVERSATION_INVITED)
        continue;
      if (invitation_expired (conversation))
        cx_agent_application_withdraw_invitation (_cx_agent_window_get_application (self),
                                                  cx_agent_conversation_get_chat_id (conversation));
      else if (found == NULL)
        found = conversation; /* the model keeps it */
    }
  return found;
}

const char *
_cx_agent_window_conversation_name (CxAgentConversation *conversation)
{
  const char *nickname = cx_agent_conversation_get_nickname (conversation);

  return nickname != NULL && *nickname != '\0' ? nickname : _ ("Customer");
}

guint
_cx_agent_window_conversation_unread (CxAgentWindow *self, CxAgentConversation *conversation)
{
  guint n = cx_agent_conversation_get_n_messages (conversation);
  guint seen;
  guint unread = 0;

  if (conversation == self->selected)
    g_hash_table_insert (self->seen, g_strdup (cx_agent_conversation_get_chat_id (conversation)),
                         GUINT_TO_POINTER (n));
  seen = GPOINTER_TO_UINT (
      g_hash_table_lookup (self->seen, cx_agent_conversation_get_chat_id (conversation)));
  for (guint i = seen; i < n; i++)
    {
      CxMessage *message = cx_agent_conversation_get_message (conversation, i);

      if (message != NULL && message->type == CX_MESSAGE_TEXT &&
          message->from_type == CX_PARTY_CLIENT)
        unread++;
    }
  return unread;
}

static gboolean
conversation_filter_func (gpointer item, gpointer user_data)
{
  CxAgentWindow *self = user_data;

  return cx_agent_conversation_get_status (item) != CX_AGENT_CONVERSATION_INVITED &&
         (self->chat_id == NULL ||
          g_strcmp0 (cx_agent_conversation_get_chat_id (item), self->chat_id) == 0);
}

/* The title: the unread total first, "(3) CX Desk Agent"; a pop-out names its customer. */
void
_cx_agent_window_update_title (CxAgentWindow *self)
{
  GListModel *model = self->selection != NULL ? G_LIST_MODEL (self->selection) : NULL;
  g_autofree char *base = NULL;
  g_autofree char *title = NULL;
  guint unread = 0;

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      unread += _cx_agent_window_conversation_unread (self, conversation);
    }

  if (self->chat_id != NULL && self->selected != NULL)
    /* Translators: a pop-out window's title: the customer's name */
    base = g_strdup_printf (_ ("%s — CX Desk Agent"),
                            _cx_agent_window_conversation_name (self->selected));
  else
    base = g_strdup (_ ("CX Desk Agent"));
  /* Translators: a window title with the number of unread messages before it */
  title = unread > 0 ? g_strdup_printf (_ ("(%u) %s"), unread, base) : g_steal_pointer (&base);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* Follows every conversation's messages for the title's count; connecting again is a no-op. */
static void
conversations_changed_cb (GListModel *model, guint position, guint removed, guint added,
                          CxAgentWindow *self)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      g_signal_handlers_disconnect_by_func (conversation, _cx_agent_window_update_title, self);
      g_signal_connect_object (conversation, "notify::n-messages",
                               G_CALLBACK (_cx_agent_window_update_title), self, G_CONNECT_SWAPPED);
    }
  gtk_stack_set_visible_child_name (
      self->sidebar_stack,
      self->selection != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0
          ? "list"
          : "empty");
  _cx_agent_window_update_title (self);
}

/* How long the customer has waited for an answer: since their last message when no agent
 * message follows it, else -1 (seconds). */
gint64
_cx_agent_window_customer_wait (CxAgentConversation *conversation)
{
  for (guint i = cx_agent_conversation_get_n_messages (conversation); i > 0; i--)
    {
      CxMessage *message = cx_agent_conversation_get_message (conversation, i - 1);

      if (message == NULL || message->type != CX_MESSAGE_TEXT)
        continue;
      if (message->from_type != CX_PARTY_CLIENT)
        return -1;
      return MAX (0, (now_ms () - message->utc_time) / 1000);
    }
  return -1;
}

/* "now", "4 min", "2 h" */
char *
_cx_agent_window_format_wait (gint64 seconds)
{
  if (seconds < 60)
    return g_strdup (C_ ("waiting time", "now"));
  if (seconds < 3600)
    return g_strdup_printf (C_ ("waiting time", "%d min"), (int) (seconds / 60));
  return g_strdup_printf (C_ ("waiting time", "%d h"), (int) MIN (seconds / 3600, G_MAXINT));
}

/* The selected conversation */

static void
update_details (CxAgentWindow *self)
{
  CxAgentConversation *conversation = self->selected;
  g_autoptr (GString) details = g_string_new (NULL);
  JsonObject *customer;
  JsonNode *user_data;
  const char *email;
  const char *subject;
  gboolean active;

  if (conversation == NULL)
    return;

  customer = cx_agent_conversation_get_customer (conversation);
  email = _cx_agent_window_object_string (customer, "emailAddress");
  if (email == NULL)
    email = _cx_agent_window_object_string (customer, "email");
  subject = cx_agent_conversation_get_subject (conversation);

  g_string_append_printf (details, _ ("Name: %s"),
                          _cx_agent_window_conversation_name (conversation));
  g_string_append_c (details, '\n');
  g_string_append_printf (details, _ ("Email: %s"), email != NULL ? email : "—");
  g_string_append_c (details, '\n');
  g_string_append_printf (details, _ ("Subject: %s"), subject != NULL ? subject : "—");
  g_string_append_c (details, '\n');
  g_string_append_printf (details, _ ("Queue: %s"),
                          cx_agent_conversation_get_queue (conversation) != NULL
                              ? cx_agent_conversation_get_queue (conversation)
                              : "—");
  user_data = cx_agent_conversation_get_user_data (conversation);
  if (user_data != NULL && JSON_NODE_HOLDS_OBJECT (user_data) &&
      json_object_get_size (json_node_get_object (user_data)) > 0)
    {
      JsonObject *object = json_node_get_object (user_data);
      g_autoptr (GList) members = json_object_get_members (object);

      g_string_append_printf (details, "\n\n%s", _ ("Data from the site:"));
      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (object, l->data);
          g_autofree char *text =
              JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
                  ? g_strdup (json_node_get_string (value))
                  : json_to_string (value, FALSE);

          g_string_append_printf (details, "\n%s: %s", (const char *) l->data, text);
        }
    }
  gtk_label_set_text (self->details_label, details->str);
  gtk_label_set_text (self->conversation_title, _cx_agent_window_conversation_name (conversation));

  if (cx_agent_conversation_get_customer_typing (conversation))
    {
      const char *preview = cx_agent_conversation_get_customer_typing_text (conversation);
      g_autofree char *typing =
          preview != NULL && *preview != '\0'
              ? g_strdup_printf (_ ("%s is typing: %s"),
                                 _cx_agent_window_conversation_name (conversation), preview)
              : g_strdup_printf (_ ("%s is typing…"),
                                 _cx_agent_window_conversation_name (conversation));

      gtk_label_set_text (self->typing_label, typing);
    }
  else
    gtk_label_set_text (self->typing_label, "");

  active = cx_agent_conversation_get_status (conversation) == CX_AGENT_CONVERSATION_ACTIVE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.end-chat", active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.transfer", active);
  gtk_widget_set_sensitive (GTK_WIDGET (self->transfer_button), active);
  gtk_widget_set_sensitive (GTK_WIDGET (self->composer), active);
  gtk_widget_set_sensitive (GTK_WIDGET (self->canned_button),
                            active && cx_agent_canned_get_n_responses (self->canned) > 0);
  if (!active)
    _cx_agent_window_close_canned (self);
  _cx_agent_window_update_title (self);
}

static void
show_conversation (CxAgentWindow *self, CxAgentConversation *conversation)
{
  g_autoptr (CxAgentTranscript) transcript = NULL;
  GtkFilterListModel *filtered;
  GtkNoSelection *selection;

  if (self->selected == conversation)
    return;

  if (self->selected != NULL)
    g_signal_handlers_disconnect_by_data (self->selected, self);
  g_set_object (&self->selected, conversation);

  if (conversation == NULL)
    {
      gtk_list_view_set_model (self->transcript_list, NULL);
      gtk_stack_set_visible_child_name (self->conversation_stack, "empty");
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.end-chat", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.transfer", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-in-window", FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->canned_button), FALSE);
      _cx_agent_window_close_canned (self);
      _cx_agent_window_refresh_rows (self);
      return;
    }

  transcript = cx_agent_transcript_new (conversation);
  filtered = gtk_filter_list_model_new (
      G_LIST_MODEL (g_steal_pointer (&transcript)),
      GTK_FILTER (gtk_custom_filter_new (_cx_agent_window_transcript_filter_func, NULL, NULL)));
  selection = gtk_no_selection_new (G_LIST_MODEL (filtered));
  self->at_bottom = TRUE;
  gtk_list_view_set_model (self->transcript_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  g_signal_connect_object (conversation, "notify", G_CALLBACK (update_details), self,
                           G_CONNECT_SWAPPED);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", -1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-in-window", self->chat_id == NULL);
  if (self->chat_id != NULL)
    gtk_label_set_text (self->title_label, _cx_agent_window_conversation_name (conversation));
  update_details (self);
  gtk_stack_set_visible_child_name (self->conversation_stack, "conversation");
  _cx_agent_window_refresh_rows (self);
}

static void
selected_item_cb (GtkSingleSelection *selection, GParamSpec *pspec, CxAgentWindow *self)
{
  show_conversation (self, gtk_single_selection_get_selected_item (selection));
}

void
_cx_agent_window_select_chat (CxAgentWindow *self, const char *chat_id)
{
  GListModel *model = G_LIST_MODEL (self->selection);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_agent_conversation_get_chat_id (conversation), chat_id) == 0)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
}

/* Following the service */

static void
rebuild_transfer_box (CxAgentWindow *self)
{
  const char *const *queues = cx_agent_service_get_queues (self->service);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->transfer_box))) != NULL)
    gtk_box_remove (self->transfer_box, child);

  if (queues[0] == NULL)
    {
      GtkWidget *label = gtk_label_new (_ ("No queues"));

      gtk_widget_add_css_class (label, "dim-label");
      gtk_box_append (self->transfer_box, label);
      return;
    }

  for (guint i = 0; queues[i] != NULL; i++)
    {
      GtkWidget *button = gtk_button_new_with_label (queues[i]);

      gtk_button_set_has_frame (GTK_BUTTON (button), FALSE);
      gtk_label_set_xalign (GTK_LABEL (gtk_button_get_child (GTK_BUTTON (button))), 0);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.transfer");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", queues[i]);
      gtk_box_append (self->transfer_box, button);
    }
}

/* "Waiting 1:05 · 12 s to accept", again every second while the banner shows. */
static void
update_countdown (CxAgentWindow *self)
{
  gint64 now = now_ms ();
  gint64 waiting_since =
      self->invitation != NULL ? cx_agent_conversation_get_waiting_since (self->invitation) : 0;
  gint64 expires_at =
      self->invitation != NULL ? cx_agent_conversation_get_expires_at (self->invitation) : 0;
  gint64 waited = waiting_since > 0 ? MAX (0, (now - waiting_since) / 1000) : -1;
  gint64 left = expires_at > 0 ? MAX (0, (expires_at - now + 999) / 1000) : -1;
  g_autofree char *waiting = NULL;
  g_autofree char *countdown = NULL;
  g_autofree char *text = NULL;

  if (waited >= 0)
    /* Translators: how long the customer has waited, minutes:seconds */
    waiting =
        g_strdup_printf (_ ("Waiting %lld:%02d"), (long long) (waited / 60), (int) (waited % 60));
  if (left >= 0)
    countdown = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%d second to accept", "%d seconds to accept", (gulong) left),
        (int) left);
  if (waiting != NULL && countdown != NULL)
    /* Translators: "Waiting 1:05", then "12 seconds to accept" */
    text = g_strdup_printf (_ ("%s · %s"), waiting, countdown);
  else
    text = g_strdup (waiting != NULL ? waiting : countdown != NULL ? countdown : "");
  gtk_label_set_text (self->countdown_label, text);
}

static gboolean
countdown_tick_cb (gpointer user_data)
{
  CxAgentWindow *self = user_data;

  /* An invitation that ran out goes from the banner now. */
  update_invitation (self);
  return self->countdown_id != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
update_invitation (CxAgentWindow *self)
{
  CxAgentConversation *invitation =
      cx_agent_service_get_signed_in (self->service) && self->chat_id == NULL
          ? find_invitation (self)
          : NULL;

  g_set_object (&self->invitation, invitation);
  if (invitation != NULL)
    {
      const char *queue = cx_agent_conversation_get_queue (invitation);
      const char *subject = cx_agent_conversation_get_subject (invitation);
      const char *name = _cx_agent_window_conversation_name (invitation);
      /* Translators: a customer's name, then the queue they wait in */
      g_autofree char *text = queue != NULL
                                  ? g_strdup_printf (_ ("%s is waiting in %s"), name, queue)
                                  : g_strdup_printf (_ ("%s is waiting"), name);

      if (subject != NULL && *subject != '\0')
        {
          /* Translators: who waits where, then the subject the customer gave */
          g_autofree char *with_subject = g_strdup_printf (_ ("%s: %s"), text, subject);

          g_free (text);
          text = g_steal_pointer (&with_subject);
        }
      gtk_label_set_text (self->invitation_label, text);
      update_countdown (self);
      if (self->countdown_id == 0)
        self->countdown_id = g_timeout_add_seconds (1, countdown_tick_cb, self);
    }
  else if (self->countdown_id != 0)
    {
      /* Returning G_SOURCE_REMOVE from a tick, or removed here from elsewhere. */
      GSource *source = g_main_context_find_source_by_id (NULL, self->countdown_id);

      if (source != NULL && !g_source_is_destroyed (source) && g_main_current_source () != source)
        g_source_remove (self->countdown_id);
      self->countdown_id = 0;
    }
  gtk_revealer_set_reveal_child (self->invitation_revealer, invitation != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.accept", invitation != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.decline", invitation != NULL);
}

void
_cx_agent_window_sync_window (CxAgentWindow *self)
{
  gboolean signed_in = cx_agent_service_get_signed_in (self->service);
  const char *state = cx_agent_service_get_state (self->service);
  guint selected = GTK_INVALID_LIST_POSITION;

  /* A pop-out signed out (here or in another window) has nothing left to show. */
  if (self->chat_id != NULL && self->was_signed_in && !signed_in)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  self->was_signed_in = signed_in;

  gtk_stack_set_visible_child_name (self->stack, signed_in ? "workspace" : "sign-in");
  /* The state is the agent's, not the window's: every window shows it and can change it. */
  gtk_widget_set_visible (GTK_WIDGET (self->state_dropdown), signed_in);
  gtk_widget_set_visible (GTK_WIDGET (self->page_switcher), signed_in && self->chat_id == NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->switch_button), signed_in && self->chat_id == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out", signed_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.switch-conversation",
                                 signed_in && self->chat_id == NULL);

  if (signed_in && self->chat_id != NULL && self->selected != NULL)
    /* A pop-out is about its customer. */
    gtk_label_set_text (self->title_label, _cx_agent_window_conversation_name (self->selected));
  else if (signed_in)
    {
      const char *name = cx_agent_service_get_display_name (self->service) != NULL
                             ? cx_agent_service_get_display_name (self->service)
                             : cx_agent_service_get_username (self->service);

      gtk_label_set_text (self->title_label, name != NULL ? name : "");
    }
  else
    gtk_label_set_text (self->title_label, _ ("CX Desk Agent"));

  /* The row of the state and reason; a reason this app does not know is plain "Not ready". */
  for (guint i = 0; i < N_STATES; i++)
    if (g_strcmp0 (state, _cx_agent_window_states[i].state) == 0 &&
        (g_strcmp0 (cx_agent_service_get_reason (self->service),
                    _cx_agent_window_states[i].reason) == 0 ||
         (selected == GTK_INVALID_LIST_POSITION && _cx_agent_window_states[i].reason == NULL)))
      selected = i;
  if (selected != GTK_INVALID_LIST_POSITION &&
      gtk_drop_down_get_selected (self->state_dropdown) != selected)
    {
      self->updating_state = TRUE;
      gtk_drop_down_set_selected (self->state_dropdown, selected);
      self->updating_state = FALSE;
    }

  gtk_label_set_text (self->conversation_placeholder,
                      g_strcmp0 (state, "ready") == 0
                          ? _ ("No conversations yet. New chats are offered here.")
                          : _ ("No conversations. Go Ready to take chats."));

  update_invitation (self);
  _cx_agent_window_update_title (self);
}

static void
canned_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  if (error != NULL)
    g_debug ("No canned responses: %s", error->message);
  cx_agent_canned_set_responses (self->canned, error == NULL ? result : NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->canned_button),
                            self->selected != NULL &&
                                cx_agent_conversation_get_status (self->selected) ==
                                    CX_AGENT_CONVERSATION_ACTIVE &&
                                cx_agent_canned_get_n_responses (self->canned) > 0);
}

/* The invitation's notification: sent while no window is active, gone once it is answered. */
static void
notify_invitation (CxAgentWindow *self, JsonNode *data)
{
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  const char *chat_id = _cx_agent_window_object_string (object, "chatId");
  GListModel *model = cx_agent_service_get_conversations (self->service);

  if (chat_id == NULL)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_agent_conversation_get_chat_id (conversation), chat_id) == 0 &&
          cx_agent_conversation_get_status (conversation) == CX_AGENT_CONVERSATION_INVITED &&
          !invitation_expired (conversation))
        cx_agent_application_notify_invitation (_cx_agent_window_get_application (self), chat_id,
                                                _cx_agent_window_conversation_name (conversation),
                                                cx_agent_conversation_get_queue (conversation));
    }
}

static void
withdraw_notification (CxAgentWindow *self, JsonNode *data)
{
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  const char *chat_id = _cx_agent_window_object_string (object, "chatId");

  if (chat_id != NULL)
    cx_agent_application_withdraw_invitation (_cx_agent_window_get_application (self), chat_id);
}

static void
service_event_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxAgentWindow *self = user_data;
  const char *name;

  if (g_strcmp0 (event->publisher, CX_AGENT_SERVICE_NAME) != 0)
    return;
  name = event->event + strlen (COMMAND_PREFIX);

  if (g_str_equal (name, "signedIn"))
    _cx_agent_window_run_command (self, "getCanned", NULL, canned_done);
  else if (g_str_equal (name, "invitation"))
    notify_invitation (self, event->data);
  else if (g_str_equal (name, "invitationWithdrawn") || g_str_equal (name, "chatAccepted"))
    withdraw_notification (self, event->data);
  else if (g_str_equal (name, "signedOut"))
    gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), TRUE);

  if (g_str_equal (name, "invitation") || g_str_equal (name, "invitationWithdrawn") ||
      g_str_equal (name, "chatAccepted") || g_str_equal (name, "chatLeft") ||
      g_str_equal (name, "chatEnded") || g_str_equal (name, "signedIn") ||
      g_str_equal (name, "signedOut"))
    gtk_filter_changed (self->conversation_filter, GTK_FILTER_CHANGE_DIFFERENT);

  _cx_agent_window_sync_window (self);
}

/* The service */

static void
restore_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  /* Not signed in anywhere yet: the sign-in page stays. */
  if (error == NULL)
    _cx_agent_window_run_command (self, "getCanned", NULL, canned_done);
  _cx_agent_window_sync_window (self);
}

/* The window is a view of the application's one session: its bus gets the session's
 * "AgentService" plugin, and its list the session's conversations. Run again when the
 * application's session changes (another server). */
static void
unbind_service (CxAgentWindow *self)
{
  if (self->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->service, self);
      if (self->bus != NULL)
        cx_agent_service_detach (self->service, self->bus);
    }
  if (self->subscription != 0 && self->bus != NULL)
    cx_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
  /* The banner's invitation was the old session's. */
  g_clear_object (&self->invitation);
  g_clear_object (&self->service);
  g_clear_object (&self->bus);
}

gboolean
_cx_agent_window_bind_service (CxAgentWindow *self, GError **error)
{
  CxAgentApplication *application =
      CX_AGENT_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr (CxBus) bus = cx_bus_new ();
  CxAgentService *service;
  GtkFilterListModel *filtered;

  service = cx_agent_application_get_service (application, error);
  if (service == NULL)
    return FALSE;
  if (service == self->service)
    return TRUE;
  if (cx_agent_service_attach (service, bus, error) == NULL)
    return FALSE;

  show_conversation (self, NULL);
  if (self->selection != NULL)
    gtk_list_view_set_model (self->conversation_list, NULL);
  if (self->switcher != NULL)
    cx_agent_switcher_set_model (self->switcher, NULL);
  cx_agent_callbacks_set_bus (CX_AGENT_CALLBACKS (self->callbacks), NULL);
  g_clear_object (&self->selection);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  unbind_service (self);

  self->cancellable = g_cancellable_new ();
  self->bus = g_steal_pointer (&bus);
  self->service = g_object_ref (service);
  self->subscription = cx_bus_subscribe (self->bus, NULL, service_event_cb, self, NULL);
  g_signal_connect_object (self->service, "notify::signed-in",
                           G_CALLBACK (_cx_agent_window_sync_window), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::state",
                           G_CALLBACK (_cx_agent_window_sync_window), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::reason",
                           G_CALLBACK (_cx_agent_window_sync_window), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::display-name",
                           G_CALLBACK (_cx_agent_window_sync_window), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::queues", G_CALLBACK (rebuild_transfer_box), self,
                           G_CONNECT_SWAPPED);
  rebuild_transfer_box (self);

  filtered =
      gtk_filter_list_model_new (g_object_ref (cx_agent_service_get_conversations (self->service)),
                                 g_object_ref (self->conversation_filter));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (filtered));
  gtk_single_selection_set_autoselect (self->selection, TRUE);
  g_signal_connect_object (self->selection, "notify::selected-item", G_CALLBACK (selected_item_cb),
                           self, 0);
  g_signal_connect_object (self->selection, "items-changed", G_CALLBACK (conversations_changed_cb),
                           self, 0);
  gtk_list_view_set_model (self->conversation_list, GTK_SELECTION_MODEL (self->selection));
  if (self->switcher != NULL)
    cx_agent_switcher_set_model (self->switcher, G_LIST_MODEL (self->selection));
  conversations_changed_cb (G_LIST_MODEL (self->selection), 0, 0,
                            g_list_model_get_n_items (G_LIST_MODEL (self->selection)), self);
  /* The session may have conversations already (a window opened later, a pop-out): the one
   * autoselected is shown now, not at the next change. */
  selected_item_cb (self->selection, NULL, self);
  /* A pop-out has no callbacks page: no need to fetch them. */
  if (self->chat_id == NULL)
    cx_agent_callbacks_set_bus (CX_AGENT_CALLBACKS (self->callbacks), self->bus);

  gtk_editable_set_text (GTK_EDITABLE (self->server_entry),
                         cx_agent_service_get_server_url (self->service));
  _cx_agent_window_run_command (self, "restore", NULL, restore_done);
  _cx_agent_window_sync_window (self);
  return TRUE;
}

/* The callbacks page's title counts the callbacks due, and asks for attention while any are. */
static void
callbacks_due_cb (GtkWidget *callbacks, GParamSpec *pspec, CxAgentWindow *self)
{
  guint n_due = cx_agent_callbacks_get_n_due (CX_AGENT_CALLBACKS (callbacks));
  /* Translators: the callbacks page's title, with how many are due */
  g_autofree char *title =
      n_due > 0 ? g_strdup_printf (_ ("Callbacks (%u)"), n_due) : g_strdup (_ ("Callbacks"));

  g_object_set (self->callbacks_page, "title", title, "needs-attention", n_due > 0, NULL);
}

/* GObject */

static void
cx_agent_window_dispose (GObject *object)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  g_clear_handle_id (&self->wait_refresh_id, g_source_remove);
  if (self->selected != NULL)
    g_signal_handlers_disconnect_by_data (self->selected, self);
  g_clear_object (&self->selected);
  g_clear_object (&self->invitation);
  if (self->callbacks != NULL)
    cx_agent_callbacks_set_bus (CX_AGENT_CALLBACKS (self->callbacks), NULL);
  if (self->switcher != NULL)
    cx_agent_switcher_set_model (self->switcher, NULL);
  /* The "/" popover hangs off the composer's box: it goes before the template. */
  if (self->canned != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->canned));
  self->canned = NULL;
  self->switcher = NULL;
  self->callbacks = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_AGENT_WINDOW);
  g_clear_object (&self->selection);
  unbind_service (self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->conversation_filter);

  G_OBJECT_CLASS (cx_agent_window_parent_class)->dispose (object);
}

static void
cx_agent_window_finalize (GObject *object)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (object);

  g_clear_pointer (&self->seen, g_hash_table_unref);
  g_clear_pointer (&self->bound_items, g_ptr_array_unref);
  g_free (self->chat_id);

  G_OBJECT_CLASS (cx_agent_window_parent_class)->finalize (object);
}

static void
cx_agent_window_class_init (CxAgentWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_agent_window_dispose;
  object_class->finalize = cx_agent_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cxdesk/CxDesk/Agent/"
                                                             "cx-agent-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, server_entry);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, username_entry);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, password_entry);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, sign_in_error);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, invitation_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, invitation_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, accept_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, decline_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_stack);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_title);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, transfer_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, transfer_box);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, end_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, transcript_list);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, typing_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, composer);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, details_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, page_switcher);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, switch_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, pages);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, callbacks_page);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, callbacks_box);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_placeholder);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, countdown_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_menu_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, conversation_menu);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, composer_box);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, canned_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, transfer_agent_entry);

  gtk_widget_class_install_action (widget_class, "win.sign-in", NULL,
                                   _cx_agent_window_sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL,
                                   _cx_agent_window_sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.accept", NULL,
                                   _cx_agent_window_accept_action);
  gtk_widget_class_install_action (widget_class, "win.decline", NULL,
                                   _cx_agent_window_decline_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, _cx_agent_window_send_action);
  gtk_widget_class_install_action (widget_class, "win.end-chat", NULL,
                                   _cx_agent_window_end_chat_action);
  gtk_widget_class_install_action (widget_class, "win.transfer", "s",
                                   _cx_agent_window_transfer_action);
  gtk_widget_class_install_action (widget_class, "win.transfer-to-agent", NULL,
                                   _cx_agent_window_transfer_to_agent_action);
  gtk_widget_class_install_action (widget_class, "win.open-in-window", NULL,
                                   _cx_agent_window_open_in_window_action);
  gtk_widget_class_install_action (widget_class, "win.switch-conversation", NULL,
                                   _cx_agent_window_switch_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.insert-canned", "s",
                                   _cx_agent_window_insert_canned_action);
  gtk_widget_class_install_action (widget_class, "win.show-conversations", NULL,
                                   _cx_agent_window_show_page_action);
  gtk_widget_class_install_action (widget_class, "win.show-callbacks", NULL,
                                   _cx_agent_window_show_page_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.accept", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.decline", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.open-in-window", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK,
                                       "win.switch-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK,
                                       "win.show-conversations", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.show-callbacks",
                                       NULL);
}

static void
cx_agent_window_init (CxAgentWindow *self)
{
  GtkListItemFactory *factory;
  GtkEventController *keys;
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->bound_items = g_ptr_array_new ();
  self->conversation_filter =
      GTK_FILTER (gtk_custom_filter_new (conversation_filter_func, self, NULL));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (_cx_agent_window_conversation_row_setup_cb),
                    self);
  g_signal_connect (factory, "bind", G_CALLBACK (_cx_agent_window_conversation_row_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (_cx_agent_window_conversation_row_unbind_cb),
                    self);
  gtk_list_view_set_factory (self->conversation_list, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (_cx_agent_window_transcript_row_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (_cx_agent_window_transcript_row_bind_cb), self);
  gtk_list_view_set_factory (self->transcript_list, factory);
  g_object_unref (factory);

  adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->transcript_list));
  g_signal_connect_object (adjustment, "notify::value",
                           G_CALLBACK (_cx_agent_window_transcript_adjustment_value_cb), self, 0);
  g_signal_connect_object (adjustment, "notify::upper",
                           G_CALLBACK (_cx_agent_window_transcript_adjustment_upper_cb), self, 0);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (_cx_agent_window_composer_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (_cx_agent_window_composer_changed_cb), self, 0);

  g_signal_connect_object (self->state_dropdown, "notify::selected",
                           G_CALLBACK (_cx_agent_window_state_selected_cb), self, 0);
  g_signal_connect_object (self->transfer_agent_entry, "activate",
                           G_CALLBACK (_cx_agent_window_transfer_agent_activate_cb), self, 0);

  /* The "/" popover: above the composer, never focused (the composer forwards the keys). */
  self->canned = CX_AGENT_CANNED (cx_agent_canned_new ("win.insert-canned"));
  gtk_widget_set_parent (GTK_WIDGET (self->canned), GTK_WIDGET (self->composer_box));
  gtk_menu_button_set_menu_model (self->canned_button, cx_agent_canned_get_menu (self->canned));

  /* The quick switcher (a popover with a row per conversation) is built when first opened:
   * most windows never open it, and each would hold its rows. */
  gtk_menu_button_set_create_popup_func (
      self->switch_button, _cx_agent_window_switch_button_create_popup_cb, self, NULL);
  /* So is the conversation's menu. */
  gtk_menu_button_set_create_popup_func (self->conversation_menu_button,
                                         _cx_agent_window_conversation_menu_create_popup_cb, self,
                                         NULL);

  self->callbacks = cx_agent_callbacks_new ();
  gtk_widget_set_vexpand (self->callbacks, TRUE);
  gtk_box_append (self->callbacks_box, self->callbacks);
  g_signal_connect_object (self->callbacks, "notify::n-due", G_CALLBACK (callbacks_due_cb), self,
                           0);

  self->wait_refresh_id =
      g_timeout_add_seconds (WAIT_REFRESH_SECONDS, _cx_agent_window_wait_refresh_cb, self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->sign_in_button));
  show_conversation (self, NULL);
}

static void
service_changed_cb (CxAgentWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (!_cx_agent_window_bind_service (self, &error))
    {
      gtk_label_set_text (self->sign_in_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), TRUE);
    }
}

static void
bind_to_application (CxAgentWindow *self, CxAgentApplication *application)
{
  /* Made (and notified) before this window listens: it binds once, below. */
  cx_agent_application_get_service (application, NULL);
  g_signal_connect_object (application, "notify::service", G_CALLBACK (service_changed_cb), self,
                           G_CONNECT_SWAPPED);
  service_changed_cb (self);
}

CxAgentWindow *
cx_agent_window_new (CxAgentApplication *application)
{
  CxAgentWindow *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (application), NULL);

  self = g_object_new (CX_TYPE_AGENT_WINDOW, "application", application, NULL);
  bind_to_application (self, application);
  return self;
}

/**
 * cx_agent_window_get_service:
 *
 * Returns: (transfer none) (nullable): the window's AgentService
 */
CxAgentService *
cx_agent_window_get_service (CxAgentWindow *self)
{
  g_return_val_if_fail (CX_IS_AGENT_WINDOW (self), NULL);

  return self->service;
}

/**
 * cx_agent_window_get_bus:
 *
 * Returns: (transfer none) (nullable): the window's own bus, on which the session's
 *   "AgentService" plugin is attached
 */
CxBus *
cx_agent_window_get_bus (CxAgentWindow *self)
{
  g_return_val_if_fail (CX_IS_AGENT_WINDOW (self), NULL);

  return self->bus;
}

/**
 * cx_agent_window_get_selected:
 *
 * Returns: (transfer none) (nullable): the conversation the window shows
 */
CxAgentConversation *
cx_agent_window_get_selected (CxAgentWindow *self)
{
  g_return_val_if_fail (CX_IS_AGENT_WINDOW (self), NULL);

  return self->selected;
}

/**
 * cx_agent_window_new_for_chat:
 * @chat_id: the chat the window shows
 *
 * A pop-out: the window shows @chat_id alone, with no list, invitations or callbacks. It has
 * its own service, so it follows the chat as every window does; closing it changes nothing for
 * the chat.
 */
CxAgentWindow *
cx_agent_window_new_for_chat (CxAgentApplication *application, const char *chat_id)
{
  CxAgentWindow *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (application), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);

  self = g_object_new (CX_TYPE_AGENT_WINDOW, "application", application, "default-width", 760,
                       "default-height", 640, NULL);
  self->chat_id = g_strdup (chat_id);
  gtk_widget_set_visible (GTK_WIDGET (self->sidebar_stack), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->conversation_menu_button), FALSE);
  gtk_filter_changed (self->conversation_filter, GTK_FILTER_CHANGE_MORE_STRICT);
  bind_to_application (self, application);
  return self;
}

/**
 * cx_agent_window_get_chat_id:
 *
 * Returns: (nullable): the chat a pop-out shows; %NULL for a workspace window
 */
const char *
cx_agent_window_get_chat_id (CxAgentWindow *self)
{
  g_return_val_if_fail (CX_IS_AGENT_WINDOW (self), NULL);

  return self->chat_id;
}

/**
 * cx_agent_window_answer_invitation:
 * @accept: accept, or decline
 *
 * Answers the invitation to @chat_id, as the banner's buttons and the notification's do; an
 * accepted chat is selected.
 */
void
cx_agent_window_answer_invitation (CxAgentWindow *self, const char *chat_id, gboolean accept)
{
  g_return_if_fail (CX_IS_AGENT_WINDOW (self));
  g_return_if_fail (chat_id != NULL);

  if (accept)
    {
      _cx_agent_window_run_command (self, "accept",
                                    _cx_agent_window_chat_data (chat_id, NULL, NULL),
                                    _cx_agent_window_accept_done);
      return;
    }
  cx_agent_application_withdraw_invitation (_cx_agent_window_get_application (self), chat_id);
  _cx_agent_window_run_command (self, "decline", _cx_agent_window_chat_data (chat_id, NULL, NULL),
                                NULL);
}

/**
 * cx_agent_window_sign_in:
 * @password: (nullable): without it, the password entry is focused for the agent to type it
 *
 * Signs in as @username, as the sign-in page does.
 */
void
cx_agent_window_sign_in (CxAgentWindow *self, const char *username, const char *password)
{
  g_return_if_fail (CX_IS_AGENT_WINDOW (self));
  g_return_if_fail (username != NULL);

  gtk_editable_set_text (GTK_EDITABLE (self->username_entry), username);
  if (password == NULL)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->password_entry));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), password);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.sign-in", NULL);
}
