/* cx-agent-window-actions.c: the agent window's win.* actions and what they start: sign-in and
 * out, the agent's state, accepting and declining invitations, sending (a message the server
 * did not take goes back to the composer), ending, transferring, a conversation in a window of
 * its own, the quick switcher, canned responses and the composer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-window"

#include "config.h"

#include "agent/cx-agent-window-private.h"

/* Actions */

static void
sign_in_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), TRUE);
  if (error != NULL)
    {
      if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS))
        gtk_label_set_text (self->sign_in_error, _ ("Wrong user name or password."));
      else
        {
          g_autofree char *text = g_strdup_printf (_ ("Cannot sign in: %s"), error->message);

          gtk_label_set_text (self->sign_in_error, text);
        }
      gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_entry));
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->password_entry), "");
  gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), FALSE);
  _cx_agent_window_sync_window (self);
}

void
_cx_agent_window_sign_in_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);
  const char *url = gtk_editable_get_text (GTK_EDITABLE (self->server_entry));
  const char *username = gtk_editable_get_text (GTK_EDITABLE (self->username_entry));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_entry));
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (GError) error = NULL;

  if (*username == '\0' || *password == '\0')
    {
      gtk_label_set_text (self->sign_in_error, _ ("Enter your user name and password."));
      gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), TRUE);
      return;
    }

  /* Another server: the application's session is made again, and every window binds to it. */
  if (!cx_agent_application_set_server_url (
          CX_AGENT_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))), url, &error))
    {
      gtk_label_set_text (self->sign_in_error, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), TRUE);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, username);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);

  gtk_widget_set_visible (GTK_WIDGET (self->sign_in_error), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), FALSE);
  _cx_agent_window_run_command (self, "signIn", g_steal_pointer (&data), sign_in_done);
}

void
_cx_agent_window_sign_out_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _cx_agent_window_run_command (CX_AGENT_WINDOW (widget), "signOut", NULL, NULL);
}

/* The agent as setState returns it; on failure the drop-down goes back to the real state. */
static void
set_state_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  if (error != NULL)
    g_debug ("Cannot change the state: %s", error->message);
  _cx_agent_window_sync_window (self);
}

void
_cx_agent_window_state_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec, CxAgentWindow *self)
{
  guint selected = gtk_drop_down_get_selected (dropdown);
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) data = NULL;

  if (self->updating_state || selected >= N_STATES ||
      !cx_agent_service_get_signed_in (self->service) ||
      (g_strcmp0 (cx_agent_service_get_state (self->service),
                  _cx_agent_window_states[selected].state) == 0 &&
       g_strcmp0 (cx_agent_service_get_reason (self->service),
                  _cx_agent_window_states[selected].reason) == 0))
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, _cx_agent_window_states[selected].state);
  json_builder_set_member_name (builder, "reason");
  if (_cx_agent_window_states[selected].reason != NULL)
    json_builder_add_string_value (builder, _cx_agent_window_states[selected].reason);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);
  _cx_agent_window_run_command (self, "setState", g_steal_pointer (&data), set_state_done);
}

void
_cx_agent_window_accept_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  JsonObject *object;

  if (error != NULL)
    {
      g_debug ("Accept failed: %s", error->message);
      return;
    }
  gtk_filter_changed (self->conversation_filter, GTK_FILTER_CHANGE_DIFFERENT);
  object = result != NULL && JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  if (_cx_agent_window_object_string (object, "chatId") != NULL)
    _cx_agent_window_select_chat (self, _cx_agent_window_object_string (object, "chatId"));
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

void
_cx_agent_window_accept_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->invitation != NULL)
    cx_agent_window_answer_invitation (self, cx_agent_conversation_get_chat_id (self->invitation),
                                       TRUE);
}

void
_cx_agent_window_decline_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->invitation != NULL)
    cx_agent_window_answer_invitation (self, cx_agent_conversation_get_chat_id (self->invitation),
                                       FALSE);
}

/* A message on its way: what to give back to the composer if it does not arrive. */
typedef struct
{
  CxAgentWindow *self; /* a reference */
  char *chat_id;
  char *text;
} SendData;

static void
send_data_free (SendData *data)
{
  g_object_unref (data->self);
  g_free (data->chat_id);
  g_free (data->text);
  g_free (data);
}

/* A message the server did not take goes back into the composer, before what was written since:
 * nothing the agent wrote is lost, and nothing is sent twice behind their back. */
static void
send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SendData *data = user_data;
  CxAgentWindow *self = data->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  g_autofree char *text = NULL;
  GtkTextBuffer *buffer;
  GtkTextIter start;

  if (error == NULL || self->service == NULL ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      send_data_free (data);
      return;
    }

  if (self->selected != NULL &&
      g_strcmp0 (cx_agent_conversation_get_chat_id (self->selected), data->chat_id) == 0)
    {
      buffer = gtk_text_view_get_buffer (self->composer);
      gtk_text_buffer_get_start_iter (buffer, &start);
      if (gtk_text_buffer_get_char_count (buffer) > 0)
        gtk_text_buffer_insert (buffer, &start, "\n", -1);
      gtk_text_buffer_get_start_iter (buffer, &start);
      gtk_text_buffer_insert (buffer, &start, data->text, -1);
      /* Translators: %s is the reason */
      text = g_strdup_printf (_ ("Your message was not sent: %s. It is back in the composer."),
                              error->message);
    }
  else
    /* Translators: the first %s is the reason, the second the message */
    text = g_strdup_printf (_ ("Your message was not sent: %s. It was: %s"), error->message,
                            data->text);
  gtk_label_set_text (self->typing_label, text);
  send_data_free (data);
}

void
_cx_agent_window_send_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) command = NULL;
  SendData *data;

  if (self->selected == NULL)
    return;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_strstrip (text);
  if (*text == '\0')
    return;

  data = g_new0 (SendData, 1);
  data->self = g_object_ref (self);
  data->chat_id = g_strdup (cx_agent_conversation_get_chat_id (self->selected));
  data->text = g_strdup (text);
  command = _cx_agent_window_chat_data (data->chat_id, "text", text);
  cx_bus_command_async (self->bus, NULL, COMMAND_PREFIX "send", command, 0, self->cancellable,
                        send_cb, data);
  gtk_text_buffer_set_text (buffer, "", -1);
  self->last_typing = 0;
}

static void
end_response_cb (GtkDialog *dialog, int response, CxAgentWindow *self)
{
  const char *chat_id = g_object_get_data (G_OBJECT (dialog), "chat-id");

  if (response == GTK_RESPONSE_ACCEPT && chat_id != NULL)
    _cx_agent_window_run_command (self, "end", _cx_agent_window_chat_data (chat_id, NULL, NULL),
                                  NULL);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

void
_cx_agent_window_end_chat_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);
  GtkWidget *dialog;

  if (self->selected == NULL)
    return;

  dialog =
      gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                              GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", _ ("End the chat?"));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _ ("The conversation with %s will end for both of "
                                               "you."),
                                            _cx_agent_window_conversation_name (self->selected));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _ ("_Cancel"), GTK_RESPONSE_CANCEL, _ ("_End Chat"),
                          GTK_RESPONSE_ACCEPT, NULL);
  gtk_widget_add_css_class (
      gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT),
      "destructive-action");
  g_object_set_data_full (G_OBJECT (dialog), "chat-id",
                          g_strdup (cx_agent_conversation_get_chat_id (self->selected)), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (end_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
transfer_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text =
          g_strdup_printf (_ ("The chat was not transferred: %s"), error->message);

      gtk_label_set_text (self->typing_label, text);
    }
}

void
_cx_agent_window_transfer_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  gtk_menu_button_popdown (self->transfer_button);
  if (self->selected != NULL)
    _cx_agent_window_run_command (
        self, "transfer",
        _cx_agent_window_chat_data (cx_agent_conversation_get_chat_id (self->selected), "queue",
                                    g_variant_get_string (parameter, NULL)),
        transfer_done);
}

/* To the agent whose user name is in the transfer popover's entry. */
void
_cx_agent_window_transfer_to_agent_action (GtkWidget *widget, const char *action_name,
                                           GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);
  g_autofree char *agent =
      g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->transfer_agent_entry))));

  if (self->selected == NULL || *agent == '\0')
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->transfer_agent_entry));
      return;
    }
  gtk_menu_button_popdown (self->transfer_button);
  gtk_editable_set_text (GTK_EDITABLE (self->transfer_agent_entry), "");
  _cx_agent_window_run_command (
      self, "transfer",
      _cx_agent_window_chat_data (cx_agent_conversation_get_chat_id (self->selected), "agent",
                                  agent),
      transfer_done);
}

void
_cx_agent_window_transfer_agent_activate_cb (GtkEntry *entry, CxAgentWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.transfer-to-agent", NULL);
}

/* A conversation in a window of its own; this one keeps it too. */
void
_cx_agent_window_open_in_window_action (GtkWidget *widget, const char *action_name,
                                        GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->selected == NULL || self->chat_id != NULL)
    return;
  cx_agent_application_open_chat_window (_cx_agent_window_get_application (self),
                                         cx_agent_conversation_get_chat_id (self->selected));
}

void
_cx_agent_window_show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->chat_id != NULL || !cx_agent_service_get_signed_in (self->service))
    return;
  gtk_stack_set_visible_child_name (
      self->pages, g_str_equal (action_name, "win.show-callbacks") ? "callbacks" : "conversations");
}

/* Popovers built when first opened: the quick switcher, the conversation's menu */

CxAgentSwitcher *
_cx_agent_window_ensure_switcher (CxAgentWindow *self)
{
  if (self->switcher != NULL)
    return self->switcher;

  self->switcher = CX_AGENT_SWITCHER (cx_agent_switcher_new ());
  gtk_menu_button_set_popover (self->switch_button, GTK_WIDGET (self->switcher));
  g_signal_connect_object (self->switcher, "chosen",
                           G_CALLBACK (_cx_agent_window_switcher_chosen_cb), self, 0);
  if (self->selection != NULL)
    cx_agent_switcher_set_model (self->switcher, G_LIST_MODEL (self->selection));
  return self->switcher;
}

void
_cx_agent_window_switch_button_create_popup_cb (GtkMenuButton *button, gpointer user_data)
{
  _cx_agent_window_ensure_switcher (CX_AGENT_WINDOW (user_data));
}

void
_cx_agent_window_conversation_menu_create_popup_cb (GtkMenuButton *button, gpointer user_data)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (user_data);

  if (gtk_menu_button_get_menu_model (button) == NULL)
    gtk_menu_button_set_menu_model (button, self->conversation_menu);
}

/* The quick switcher */

void
_cx_agent_window_switch_conversation_action (GtkWidget *widget, const char *action_name,
                                             GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->chat_id != NULL || !cx_agent_service_get_signed_in (self->service))
    return;
  cx_agent_switcher_popup (_cx_agent_window_ensure_switcher (self));
}

void
_cx_agent_window_switcher_chosen_cb (CxAgentSwitcher *switcher, CxAgentConversation *conversation,
                                     CxAgentWindow *self)
{
  gtk_stack_set_visible_child_name (self->pages, "conversations");
  _cx_agent_window_select_chat (self, cx_agent_conversation_get_chat_id (conversation));
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* Canned responses: from the menu, or by typing "/" at the start of the composer */

void
_cx_agent_window_close_canned (CxAgentWindow *self)
{
  if (self->canned != NULL && gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    gtk_popover_popdown (GTK_POPOVER (self->canned));
}

/* What follows the "/" the composer starts with, or NULL. */
static char *
slash_query (CxAgentWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  if (text[0] != '/' || strchr (text, '\n') != NULL)
    return NULL;
  return g_strdup (text + 1);
}

static void
update_canned_popover (CxAgentWindow *self)
{
  g_autofree char *query = slash_query (self);

  if (query == NULL)
    {
      self->canned_dismissed = FALSE;
      _cx_agent_window_close_canned (self);
      return;
    }
  if (self->canned_dismissed || self->selected == NULL ||
      cx_agent_conversation_get_status (self->selected) != CX_AGENT_CONVERSATION_ACTIVE ||
      cx_agent_canned_get_n_responses (self->canned) == 0)
    {
      _cx_agent_window_close_canned (self);
      return;
    }
  cx_agent_canned_set_query (self->canned, query);
  if (!gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    gtk_popover_popup (GTK_POPOVER (self->canned));
}

/* The "/query" typed is replaced by the response; from the menu it goes in at the cursor. */
void
_cx_agent_window_insert_canned_action (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  const char *text = g_variant_get_string (parameter, NULL);
  g_autofree char *query = slash_query (self);

  if (self->selected == NULL ||
      cx_agent_conversation_get_status (self->selected) != CX_AGENT_CONVERSATION_ACTIVE)
    return;
  if (query != NULL && gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    gtk_text_buffer_set_text (buffer, text, -1);
  else
    gtk_text_buffer_insert_at_cursor (buffer, text, -1);
  _cx_agent_window_close_canned (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* The composer: Enter sends, Shift+Enter starts a new line; typing is told to the customer. */
gboolean
_cx_agent_window_composer_key_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                                  GdkModifierType state, CxAgentWindow *self)
{
  /* While the "/" popover shows, the keys that move in it and choose from it are its own. */
  if (gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    {
      const char *text;

      switch (keyval)
        {
          case GDK_KEY_Up:
          case GDK_KEY_KP_Up:
            cx_agent_canned_move (self->canned, -1);
            return TRUE;
          case GDK_KEY_Down:
          case GDK_KEY_KP_Down:
            cx_agent_canned_move (self->canned, 1);
            return TRUE;
          case GDK_KEY_Escape:
            self->canned_dismissed = TRUE;
            _cx_agent_window_close_canned (self);
            return TRUE;
          case GDK_KEY_Return:
          case GDK_KEY_KP_Enter:
          case GDK_KEY_Tab:
            text = cx_agent_canned_get_selected_text (self->canned);
            if (text != NULL)
              {
                gtk_widget_activate_action (GTK_WIDGET (self), "win.insert-canned", "s", text);
                return TRUE;
              }
            break;
          default:
            break;
        }
    }

  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) &&
      (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) == 0)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
      return TRUE;
    }
  return FALSE;
}

void
_cx_agent_window_composer_changed_cb (GtkTextBuffer *buffer, CxAgentWindow *self)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr (JsonBuilder) builder = NULL;

  update_canned_popover (self);
  /* A "/" search for a canned response is not typing to the customer. */
  if (gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    return;
  if (self->selected == NULL || gtk_text_buffer_get_char_count (buffer) == 0 ||
      cx_agent_conversation_get_status (self->selected) != CX_AGENT_CONVERSATION_ACTIVE ||
      now - self->last_typing < TYPING_REPEAT_USEC)
    return;

  self->last_typing = now;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "chatId");
  json_builder_add_string_value (builder, cx_agent_conversation_get_chat_id (self->selected));
  json_builder_set_member_name (builder, "typing");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  _cx_agent_window_run_command (self, "typing", json_builder_get_root (builder), NULL);
}
