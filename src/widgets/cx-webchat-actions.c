/* cx-webchat-actions.c: CxWebChat's actions (send, attach, emoji, save the transcript, retry,
 * end the chat, new chat, minimize, close), typing, and the WebChat commands of its plugin.
 *
 * The sendMessage reply marks a message sent, or failed with a Retry button; a send waits for
 * the server however long it is offline (SEND_TIMEOUT_MS), as the service queues it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "widgets/cx-webchat-private.h"

/* Sending: the service puts the message in the transcript at once, as "sending", and marks it
 * sent or failed: the command's answer is the service's business. */

static void
send_message_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("A message was not sent: %s", error->message);
}

/* @serial: a failed row's, to send it again; 0 for a new message */
static void
send_text (CxWebChat *self, const char *text, guint serial)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;

  json_object_set_string_member (object, "message", text);
  if (serial != 0)
    json_object_set_int_member (object, "serial", serial);
  data = cx_json_node_new_object (object);
  _cx_webchat_command_service (self, "sendMessage", data, SEND_TIMEOUT_MS, send_message_cb, NULL);
}

void
_cx_webchat_send_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = g_strstrip (gtk_text_buffer_get_text (buffer, &start, &end, FALSE));
  if (text[0] == '\0')
    return;

  gtk_text_buffer_set_text (buffer, "", 0);
  send_text (self, text, 0);
}

/* Files, emoji and the saved transcript */

/* A notice of this window's only, in the transcript (not sent). */
static void
add_local_notice (CxWebChat *self, const char *text)
{
  _cx_webchat_add_notice (self, NULL, text);
}

static void
update_attach (CxWebChat *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "webchat.attach",
                                 self->phase == CX_WEBCHAT_PHASE_CHAT && self->file_dialog == NULL);
}

static void
file_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxWebChat) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    add_local_notice (self, error->message);
  else
    _cx_webchat_publish (self, "fileSent", reply);
}

void
_cx_webchat_send_file (CxWebChat *self, GFile *file)
{
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *path = g_file_get_path (file);
  JsonObject *object;

  if (path == NULL || self->bus == NULL || self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "path", path);
  data = cx_json_node_new_object (object);
  _cx_webchat_command_service (self, "sendFile", data, SEND_TIMEOUT_MS, file_sent_cb,
                               g_object_ref (self));
}

/* The attach and save dialogs answered: the file chosen, if any; the panel has no dialog open
 * after this. */
static GFile *
file_dialog_finish (CxWebChat *self, GtkNativeDialog *dialog, int response)
{
  GFile *file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->file_dialog);
  update_attach (self);
  return file;
}

static void
attach_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GFile) file = file_dialog_finish (self, dialog, response);

  if (file != NULL)
    _cx_webchat_send_file (self, file);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static GtkWindow *
parent_window (CxWebChat *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

void
_cx_webchat_attach_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  GtkFileChooserNative *chooser;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT || self->file_dialog != NULL)
    return;

  chooser = gtk_file_chooser_native_new (_ ("Send a File"), parent_window (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Send"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  self->file_dialog = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_object (chooser, "response", G_CALLBACK (attach_response_cb), self, 0);
  update_attach (self);
  gtk_native_dialog_show (self->file_dialog);
}

void
_cx_webchat_emoji_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
  g_signal_emit_by_name (self->composer, "insert-emoji");
}

/* The transcript as text, one entry a paragraph: "[time] sender: text"; first, if
 * @why_incomplete, that its earliest messages are missing and why. */
static char *
transcript_text (CxWebChat *self, const char *why_incomplete)
{
  GString *text = g_string_new (NULL);
  guint n = g_list_model_get_n_items (self->messages);

  if (why_incomplete != NULL)
    /* Translators: the first line of a saved transcript; %s says why */
    g_string_append_printf (text,
                            _ ("This transcript is incomplete: its earliest messages are "
                               "missing (%s)\n\n"),
                            why_incomplete);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (self->messages, i);
      g_autoptr (GDateTime) utc =
          g_date_time_new_from_unix_utc (cx_chat_message_get_time (row) / 1000);
      g_autoptr (GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;
      g_autofree char *when =
          local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M:%S") : g_strdup ("");
      const char *sender = cx_chat_message_get_sender (row);

      if (cx_chat_message_get_status (row) == CX_CHAT_MESSAGE_STATUS_FAILED)
        continue;
      if (sender != NULL && sender[0] != '\0')
        g_string_append_printf (text, "[%s] %s: %s\n", when, sender,
                                cx_chat_message_get_text (row));
      else
        g_string_append_printf (text, "[%s] %s\n", when, cx_chat_message_get_text (row));
    }
  return g_string_free (text, FALSE);
}

typedef struct
{
  CxWebChat *self; /* valid unless the command was cancelled */
  GFile *file;
  gboolean complete;
} SaveData;

static void
save_data_free (SaveData *save)
{
  g_clear_object (&save->file);
  g_free (save);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SaveData, save_data_free)

static void
transcript_saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SaveData) save = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *object;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s says why */
      text = g_strdup_printf (_ ("The transcript was not saved: %s"), error->message);
      add_local_notice (save->self, text);
      return;
    }

  object = json_object_new ();
  json_object_set_boolean_member (object, "complete", save->complete);
  data = cx_json_node_new_object (object);
  _cx_webchat_publish (save->self, "transcriptSaved", data);
}

/* Writes the rows as text into the file (@why_incomplete: the earliest are missing). */
static void
write_transcript (SaveData *save, const char *why_incomplete)
{
  CxWebChat *self = save->self;
  g_autofree char *text = transcript_text (self, why_incomplete);
  g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));
  GFile *file = save->file;

  g_steal_pointer (&text);
  if (why_incomplete != NULL)
    {
      g_autofree char *notice =
          /* Translators: %s says why */
          g_strdup_printf (_ ("The transcript is saved without its earliest messages: %s"),
                           why_incomplete);

      add_local_notice (self, notice);
    }
  save->complete = why_incomplete == NULL;
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                       self->cancellable, transcript_saved_cb, save);
}

/* getTranscript has read the older pages the view has not shown yet: their rows are in the
 * model now (above the view's), and the rows are what is saved. */
static void
transcript_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SaveData) save = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  JsonObject *object = NULL;
  JsonNode *complete = NULL;
  const char *why = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    {
      object = json_node_get_object (reply);
      complete = json_object_get_member (object, "complete");
    }
  if (error != NULL)
    why = error->message;
  else if (complete == NULL || json_node_get_value_type (complete) != G_TYPE_BOOLEAN)
    why = _ ("the chat service's answer was not understood");
  else if (!json_node_get_boolean (complete))
    {
      why = _cx_webchat_object_string (object, "error");
      if (why == NULL)
        why = _ ("the chat service could not read them");
    }

  write_transcript (g_steal_pointer (&save), why);
}

/* Saves the whole transcript as UTF-8 text into @file: the service reads the pages of a
 * restored chat not read yet first. */
void
_cx_webchat_save_transcript_to (CxWebChat *self, GFile *file)
{
  SaveData *save = g_new0 (SaveData, 1);

  save->self = self;
  save->file = g_object_ref (file);
  if (self->service == NULL || self->bus == NULL)
    {
      write_transcript (save, NULL);
      return;
    }

  _cx_webchat_command_service (self, "getTranscript", NULL, EARLIER_TIMEOUT_MS, transcript_read_cb,
                               save);
}

static void
save_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GFile) file = file_dialog_finish (self, dialog, response);

  if (file != NULL)
    _cx_webchat_save_transcript_to (self, file);
}

void
_cx_webchat_save_transcript_activated (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  GtkFileChooserNative *chooser;

  if (self->file_dialog != NULL || g_list_model_get_n_items (self->messages) == 0)
    return;

  chooser = gtk_file_chooser_native_new (_ ("Save the Transcript"), parent_window (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Save"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  /* Translators: the file name offered for a saved chat transcript */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _ ("Chat transcript.txt"));
  self->file_dialog = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_object (chooser, "response", G_CALLBACK (save_response_cb), self, 0);
  update_attach (self);
  gtk_native_dialog_show (self->file_dialog);
}

void
_cx_webchat_retry_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  guint serial = g_variant_get_uint32 (parameter);
  guint n = g_list_model_get_n_items (self->messages);

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  /* Failed messages are few and recent: look from the end. */
  for (guint i = n; i > 0; i--)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (self->messages, i - 1);

      if (cx_chat_message_get_serial (row) != serial)
        continue;
      if (cx_chat_message_get_status (row) == CX_CHAT_MESSAGE_STATUS_FAILED)
        send_text (self, cx_chat_message_get_text (row), serial);
      return;
    }
}

static void
typing_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  /* Typing is of the moment: a lost notification is not worth telling anyone. */
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("sendTyping: %s", error->message);
}

void
_cx_webchat_composer_changed_cb (CxWebChat *self, GtkTextBuffer *buffer)
{
  gint64 now = g_get_monotonic_time () / 1000;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT || gtk_text_buffer_get_char_count (buffer) == 0 ||
      now - self->last_typing_ms < TYPING_REPEAT_MS)
    return;

  /* No preview of the text: the agent sees what the customer sends, not what they draft. */
  self->last_typing_ms = now;
  _cx_webchat_command_service (self, "sendTyping", NULL, 0, typing_cb, NULL);
}

gboolean
_cx_webchat_composer_key_pressed_cb (CxWebChat *self, guint keyval, guint keycode,
                                     GdkModifierType state, GtkEventControllerKey *controller)
{
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));

  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return GDK_EVENT_PROPAGATE;

  /* An input method composing text gets its Enter first. */
  if (event != NULL && gtk_text_view_im_context_filter_keypress (self->composer, event))
    return GDK_EVENT_STOP;

  /* Shift+Enter (or Ctrl+Enter) is a new line, as in every chat. */
  if ((state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;

  gtk_widget_activate_action (GTK_WIDGET (self), "webchat.send", NULL);
  return GDK_EVENT_STOP;
}

/* Ending */

typedef struct
{
  CxWebChat *self;    /* valid unless the command was cancelled */
  CxCommand *command; /* WebChat.endChat, if that asked */
} EndData;

static void
end_data_free (EndData *end)
{
  g_clear_object (&end->command);
  g_free (end);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EndData, end_data_free)

static void
end_chat_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (EndData) end = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  g_autofree char *text = NULL;
  CxWebChat *self;

  if (error == NULL)
    {
      if (end->command != NULL)
        cx_command_resolve (end->command, NULL);
      return;
    }

  if (end->command != NULL)
    cx_command_reject (end->command, g_error_copy (error));
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = end->self;
  self->close_after_end = FALSE;
  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  /* Translators: %s says why, from the chat service */
  text = g_strdup_printf (_ ("The chat could not be ended: %s"), error->message);
  add_local_notice (self, text);
}

static void
request_end_chat (CxWebChat *self, CxCommand *command)
{
  EndData *end = g_new0 (EndData, 1);

  end->self = self;
  end->command = command != NULL ? g_object_ref (command) : NULL;
  _cx_webchat_command_service (self, "endChat", NULL, END_TIMEOUT_MS, end_chat_cb, end);
}

static void
end_dialog_response_cb (CxWebChat *self, int response, GtkDialog *dialog)
{
  gboolean close_after = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "close-after"));

  self->end_dialog = NULL;
  gtk_window_destroy (GTK_WINDOW (dialog));

  if (response != GTK_RESPONSE_ACCEPT || self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  self->close_after_end = close_after;
  request_end_chat (self, NULL);
}

/* Asks the customer before ending the chat (and closing the panel, with @close_after). */
static void
ask_end_chat (CxWebChat *self, gboolean close_after)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;
  GtkWidget *button;

  if (self->end_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->end_dialog));
      return;
    }

  dialog =
      gtk_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                              GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", _ ("End this chat?"));
  gtk_message_dialog_format_secondary_text (
      GTK_MESSAGE_DIALOG (dialog), "%s",
      _ ("The agent will see that you left, and the conversation cannot be continued."));
  gtk_dialog_add_button (GTK_DIALOG (dialog), _ ("_Cancel"), GTK_RESPONSE_CANCEL);
  button = gtk_dialog_add_button (GTK_DIALOG (dialog), _ ("_End Chat"), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data (G_OBJECT (dialog), "close-after", GINT_TO_POINTER (close_after));
  g_signal_connect_object (dialog, "response", G_CALLBACK (end_dialog_response_cb), self,
                           G_CONNECT_SWAPPED);

  self->end_dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_cx_webchat_end_chat_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    ask_end_chat (self, FALSE);
}

void
_cx_webchat_new_chat_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase != CX_WEBCHAT_PHASE_ENDED)
    return;

  /* The ended chat's transcript goes: the form begins afresh. */
  _cx_webchat_clear_transcript (self);
  if (self->service != NULL)
    cx_webchat_service_clear_transcript (self->service);
  else
    g_list_store_remove_all (self->own_rows);
  _cx_webchat_set_agent_name (self, NULL);
  _cx_webchat_set_chat_id (self, NULL);
  _cx_webchat_show_notice (self, NULL);
  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_FORM);
  _cx_webchat_focus_current (self);
}

void
_cx_webchat_minimize_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _cx_webchat_set_minimized (CX_WEBCHAT (widget), TRUE);
}

void
_cx_webchat_unminimize_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  _cx_webchat_set_minimized (CX_WEBCHAT (widget), FALSE);
}

void
_cx_webchat_close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  /* Closing a chat that goes on is leaving it: ask first. */
  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    ask_end_chat (self, TRUE);
  else
    _cx_webchat_set_open (self, FALSE);
}

/* WebChat commands */

void
_cx_webchat_open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object = NULL;
  JsonNode *form = NULL;
  JsonNode *auto_submit = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    {
      object = json_node_get_object (data);
      form = json_object_get_member (object, "form");
      auto_submit = json_object_get_member (object, "autoSubmit");
    }
  else if (data != NULL && !JSON_NODE_HOLDS_NULL (data))
    {
      cx_command_reject_message (command, _ ("open takes an object"));
      return;
    }

  if (form != NULL && !JSON_NODE_HOLDS_OBJECT (form) && !JSON_NODE_HOLDS_NULL (form))
    {
      cx_command_reject_message (command, _ ("open: “form” must be an object"));
      return;
    }
  if (auto_submit != NULL && json_node_get_value_type (auto_submit) != G_TYPE_BOOLEAN &&
      !JSON_NODE_HOLDS_NULL (auto_submit))
    {
      cx_command_reject_message (command, _ ("open: “autoSubmit” must be true or false"));
      return;
    }

  /* As in the Widgets. */
  if (self->open)
    {
      cx_command_reject_message (command, "already opened");
      return;
    }

  if (form != NULL && JSON_NODE_HOLDS_OBJECT (form) && self->phase == CX_WEBCHAT_PHASE_FORM)
    _cx_webchat_fill_form (self, json_node_get_object (form));
  _cx_webchat_set_open (self, TRUE);

  if (auto_submit != NULL && json_node_get_value_type (auto_submit) == G_TYPE_BOOLEAN &&
      json_node_get_boolean (auto_submit) && self->phase == CX_WEBCHAT_PHASE_FORM)
    gtk_widget_activate_action (GTK_WIDGET (self), "webchat.start", NULL);

  cx_command_resolve (command, NULL);
}

void
_cx_webchat_close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;

  /* Hides the panel; a chat going on goes on (open shows it again). */
  _cx_webchat_set_open (self, FALSE);
  cx_command_resolve (command, NULL);
}

void
_cx_webchat_minimize_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *minimized = NULL;
  gboolean value = !self->minimized;

  if (!self->open)
    {
      cx_command_reject_message (command, _ ("The chat is not open"));
      return;
    }

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    minimized = json_object_get_member (json_node_get_object (data), "minimized");
  if (minimized != NULL && json_node_get_value_type (minimized) == G_TYPE_BOOLEAN)
    value = json_node_get_boolean (minimized);
  else if (minimized != NULL && !JSON_NODE_HOLDS_NULL (minimized))
    {
      cx_command_reject_message (command, _ ("minimize: “minimized” must be true or false"));
      return;
    }

  _cx_webchat_set_minimized (self, value);
  cx_command_resolve (command, NULL);
}

void
_cx_webchat_end_chat_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  request_end_chat (self, command);
}

/* injectMessage {type: "text", name, text}: a notice of the page's own, shown in this window's
 * transcript only (never sent). Text only: an "html" message is refused, since nothing in the
 * panel is ever markup. */
void
_cx_webchat_inject_message_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  const char *type = _cx_webchat_object_string (object, "type");
  const char *name = _cx_webchat_object_string (object, "name");
  const char *text = _cx_webchat_object_string (object, "text");
  g_autoptr (JsonNode) published = NULL;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT && self->phase != CX_WEBCHAT_PHASE_ENDED)
    {
      cx_command_reject_message (command, _ ("There is no chat to add a message to"));
      return;
    }
  if (type != NULL && !g_str_equal (type, "text"))
    {
      cx_command_reject_message (command, _ ("injectMessage takes “text” messages only"));
      return;
    }
  if (text == NULL || text[0] == '\0' || !g_utf8_validate (text, -1, NULL))
    {
      cx_command_reject_message (command, _ ("injectMessage needs a “text”"));
      return;
    }

  _cx_webchat_add_notice (self, name, text);
  published = json_node_copy (data);
  _cx_webchat_publish (self, "injectedMessage", published);
  cx_command_resolve (command, NULL);
}

void
_cx_webchat_show_chat_button_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  _cx_webchat_set_chat_button_visible (CX_WEBCHAT (user_data), TRUE);
  cx_command_resolve (command, NULL);
}

void
_cx_webchat_hide_chat_button_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  _cx_webchat_set_chat_button_visible (CX_WEBCHAT (user_data), FALSE);
  cx_command_resolve (command, NULL);
}
