/* cx-webchat.c: the "WebChat" UI plugin: the chat panel of one site window.
 *
 * The panel talks to nothing but its bus: it commands "WebChatService" (startChat,
 * sendMessage, sendTyping, endChat) and follows its events (started, restored, messageReceived,
 * agent joins, typing, ended, the server going away and coming back). Every window of a site has
 * its own panel and service; the service shares the chat between them through the site's
 * cookies, so what happens in one window shows in all of them.
 *
 * The class is split by concern over cx-webchat-private.h: this file has the class, its
 * template, properties and plugin tables, and the state the panel shows (each setter notifies);
 * cx-webchat-events.c follows the service's events; cx-webchat-form.c is the pre-chat form;
 * cx-webchat-transcript.c the transcript view; cx-webchat-actions.c the panel's actions and
 * the WebChat commands.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "widgets/cx-webchat-private.h"

G_DEFINE_FINAL_TYPE (CxWebChat, cx_webchat, GTK_TYPE_WIDGET)

G_DEFINE_ENUM_TYPE (CxWebChatPhase, cx_webchat_phase,
                    G_DEFINE_ENUM_VALUE (CX_WEBCHAT_PHASE_FORM, "form"),
                    G_DEFINE_ENUM_VALUE (CX_WEBCHAT_PHASE_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (CX_WEBCHAT_PHASE_CHAT, "chat"),
                    G_DEFINE_ENUM_VALUE (CX_WEBCHAT_PHASE_ENDED, "ended"))

enum
{
  PROP_0,
  PROP_OPEN,
  PROP_MINIMIZED,
  PROP_PHASE,
  PROP_CHAT_ID,
  PROP_UNREAD_COUNT,
  PROP_SERVER_OFFLINE,
  PROP_TYPING_TEXT,
  PROP_CHAT_BUTTON_VISIBLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = {
  "messageAdded",     "opened",
  "closed",           "minimized",
  "unminimized",      "submitted",
  "started",          "ended",
  "injectedMessage",  "chatButtonShown",
  "chatButtonHidden", "fileSent",
  "transcriptSaved",  NULL,
};

/* Small helpers */

static JsonNode *
empty_node (void)
{
  return cx_json_node_new_object (json_object_new ());
}

void
_cx_webchat_publish (CxWebChat *self, const char *event, JsonNode *data)
{
  g_autoptr (JsonNode) empty = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  if (data == NULL)
    data = empty = empty_node ();
  cx_plugin_publish (self->plugin, event, data);
}

JsonObject *
_cx_webchat_event_object (const CxEvent *event)
{
  if (event->data == NULL || !JSON_NODE_HOLDS_OBJECT (event->data))
    return NULL;
  return json_node_get_object (event->data);
}

/* A string member, or NULL when absent or not a string. */
const char *
_cx_webchat_object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

char *
_cx_webchat_entry_text_stripped (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

void
_cx_webchat_command_service (CxWebChat *self, const char *command, JsonNode *data, guint timeout_ms,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *full = g_strconcat (SERVICE ".", command, NULL);

  cx_bus_command_async (self->bus, self->plugin, full, data, timeout_ms, self->cancellable,
                        callback, user_data);
}

/* State shown */

static void
update_status (CxWebChat *self)
{
  g_autofree char *text = NULL;

  switch (self->phase)
    {
      case CX_WEBCHAT_PHASE_STARTING:
        text = g_strdup (_ ("Connecting…"));
        break;

      case CX_WEBCHAT_PHASE_CHAT:
        if (self->agent_name != NULL)
          /* Translators: %s is the name of the agent */
          text = g_strdup_printf (_ ("Chatting with %s"), self->agent_name);
        else
          text = g_strdup (_ ("Waiting for an agent…"));
        break;

      case CX_WEBCHAT_PHASE_ENDED:
        text = g_strdup (_ ("Chat ended"));
        break;

      case CX_WEBCHAT_PHASE_FORM:
      default:
        break;
    }

  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL);
}

static void
update_visibility (CxWebChat *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self), self->open);
  gtk_widget_set_visible (self->minimized_button, self->open && self->minimized);
  gtk_widget_set_visible (self->panel, self->open && !self->minimized);
  /* Minimized, the panel is a button at the bottom: it does not take the window's side. */
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

static void
panel_state_saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  /* Only the windows opened later miss it: they show the panel open. */
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("The panel's state was not saved: %s", error->message);
}

/* The panel's state goes into the site's cookies with the chat, so that a window opened later
 * shows the panel as this one does (open, minimized with its unread count, or closed). */
void
_cx_webchat_save_panel_state (CxWebChat *self)
{
  g_autoptr (JsonNode) data = NULL;
  JsonObject *object;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT || self->restoring_panel || self->bus == NULL)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "state",
                                 !self->open       ? "closed"
                                 : self->minimized ? "minimized"
                                                   : "open");
  json_object_set_int_member (object, "unreadMessages", self->unread);
  data = cx_json_node_new_object (object);
  _cx_webchat_command_service (self, "savePanelState", data, 0, panel_state_saved_cb, NULL);
}

void
_cx_webchat_set_unread (CxWebChat *self, guint unread)
{
  g_autofree char *count = NULL;
  g_autofree char *description = NULL;

  if (self->unread == unread)
    return;

  self->unread = unread;
  count = g_strdup_printf ("%u", unread);
  gtk_label_set_text (self->badge_label, count);
  gtk_widget_set_visible (GTK_WIDGET (self->badge_label), unread > 0);

  if (unread > 0)
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Chat, %u unread message",
                                                "Chat, %u unread messages", unread),
                                   unread);
  else
    description = g_strdup (_ ("Chat"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->minimized_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);

  _cx_webchat_save_panel_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD_COUNT]);
}

void
_cx_webchat_set_typing (CxWebChat *self, const char *nickname)
{
  g_autofree char *text = NULL;

  if (nickname != NULL)
    text = g_strdup_printf (
        /* Translators: %s is the name of the agent */
        _ ("%s is typing…"), nickname[0] != '\0' ? nickname : _ ("The agent"));

  if (g_strcmp0 (text, self->typing_text) == 0)
    return;

  g_free (self->typing_text);
  self->typing_text = g_steal_pointer (&text);
  gtk_label_set_text (self->typing_label, self->typing_text != NULL ? self->typing_text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->typing_label), self->typing_text != NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING_TEXT]);
}

void
_cx_webchat_set_offline (CxWebChat *self, gboolean offline)
{
  if (self->offline == offline)
    return;

  self->offline = offline;
  gtk_revealer_set_reveal_child (self->banner_revealer, offline);
  if (offline)
    gtk_spinner_start (self->banner_spinner);
  else
    gtk_spinner_stop (self->banner_spinner);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_OFFLINE]);
}

void
_cx_webchat_set_agent_name (CxWebChat *self, const char *name)
{
  if (g_strcmp0 (self->agent_name, name) == 0)
    return;

  g_free (self->agent_name);
  self->agent_name = g_strdup (name);
  update_status (self);
}

static void
release_focus_from (CxWebChat *self, GtkWidget *container)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && (focus == container || gtk_widget_is_ancestor (focus, container)))
    gtk_root_set_focus (root, NULL);
}

void
_cx_webchat_set_phase (CxWebChat *self, CxWebChatPhase phase)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean form = phase == CX_WEBCHAT_PHASE_FORM;
  gboolean starting = phase == CX_WEBCHAT_PHASE_STARTING;
  gboolean chat = phase == CX_WEBCHAT_PHASE_CHAT;
  gboolean ended = phase == CX_WEBCHAT_PHASE_ENDED;
  GtkEntry *entries[] = { self->first_name_entry, self->last_name_entry, self->email_entry,
                          self->subject_entry };

  gtk_widget_action_set_enabled (widget, "webchat.start", form);
  gtk_widget_action_set_enabled (widget, "webchat.send", chat);
  gtk_widget_action_set_enabled (widget, "webchat.retry", chat);
  gtk_widget_action_set_enabled (widget, "webchat.end-chat", chat);
  gtk_widget_action_set_enabled (widget, "webchat.new-chat", ended);
  gtk_widget_action_set_enabled (widget, "webchat.attach", chat && self->file_dialog == NULL);
  gtk_widget_action_set_enabled (widget, "webchat.emoji", chat);
  gtk_widget_action_set_enabled (widget, "webchat.save-transcript", chat || ended);

  /* The focus leaves what is about to go, while it can still be told so (a text entry made
   * insensitive or hidden while it has the focus never hears that it lost it). */
  if (!form && !starting)
    release_focus_from (self, self->form_box);
  if (ended)
    release_focus_from (self, self->composer_box);

  /* Read-only, not insensitive, while the chat starts: the focus stays where it is. */
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    gtk_editable_set_editable (GTK_EDITABLE (entries[i]), form);
  if (starting)
    gtk_spinner_start (self->start_spinner);
  else
    gtk_spinner_stop (self->start_spinner);

  gtk_stack_set_visible_child_name (self->stack, form || starting ? "form" : "chat");
  /* The form hides the transcript: the view follows the model only while it shows it (a
   * restore fills the model first, and the view then builds the rows it shows, not all). */
  if (form || starting)
    gtk_slice_list_model_set_model (self->shown, NULL);
  else if (gtk_slice_list_model_get_model (self->shown) == NULL)
    gtk_slice_list_model_set_model (self->shown, self->messages);
  gtk_widget_set_visible (self->end_button, chat);
  gtk_widget_set_visible (self->save_button, chat || ended);
  gtk_widget_set_visible (self->composer_box, !ended);
  gtk_widget_set_visible (self->ended_box, ended);
  gtk_text_view_set_editable (self->composer, chat);

  if (self->phase == phase)
    return;

  self->phase = phase;
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PHASE]);
}

void
_cx_webchat_set_chat_id (CxWebChat *self, const char *chat_id)
{
  if (g_strcmp0 (self->chat_id, chat_id) == 0)
    return;

  g_free (self->chat_id);
  self->chat_id = g_strdup (chat_id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAT_ID]);
}

void
_cx_webchat_focus_current (CxWebChat *self)
{
  if (!self->open || self->minimized)
    return;

  if (self->phase == CX_WEBCHAT_PHASE_FORM)
    gtk_widget_grab_focus (GTK_WIDGET (self->first_name_entry));
  else if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* Opening, closing, minimizing: each publishes its event when the state changes. */

void
_cx_webchat_set_open (CxWebChat *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  if (!open)
    self->minimized = FALSE;
  else
    _cx_webchat_set_unread (self, 0);
  update_visibility (self);
  _cx_webchat_save_panel_state (self);
  _cx_webchat_publish (self, open ? "opened" : "closed", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MINIMIZED]);
  if (open)
    _cx_webchat_focus_current (self);
}

void
_cx_webchat_set_minimized (CxWebChat *self, gboolean minimized)
{
  if (!self->open || self->minimized == minimized)
    return;

  self->minimized = minimized;
  if (!minimized)
    _cx_webchat_set_unread (self, 0);
  update_visibility (self);
  _cx_webchat_save_panel_state (self);
  _cx_webchat_publish (self, minimized ? "minimized" : "unminimized", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MINIMIZED]);
  if (minimized)
    gtk_widget_grab_focus (self->minimized_button);
  else
    _cx_webchat_focus_current (self);
}

void
_cx_webchat_set_chat_button_visible (CxWebChat *self, gboolean visible)
{
  if (self->chat_button_visible == visible)
    return;

  self->chat_button_visible = visible;
  _cx_webchat_publish (self, visible ? "chatButtonShown" : "chatButtonHidden", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAT_BUTTON_VISIBLE]);
}

/* Object */

static void
cx_webchat_dispose (GObject *object)
{
  CxWebChat *self = CX_WEBCHAT (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  if (self->follow_tick_id != 0 && self->transcript_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->transcript_view), self->follow_tick_id);
  self->follow_tick_id = 0;
  if (self->end_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->end_dialog)));
  if (self->file_dialog != NULL)
    {
      gtk_native_dialog_destroy (self->file_dialog);
      g_clear_object (&self->file_dialog);
    }

  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_WEBCHAT);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_handle_id (&self->show_earlier_id, g_source_remove);
  g_clear_object (&self->shown);
  if (self->messages != NULL)
    g_signal_handlers_disconnect_by_data (self->messages, self);
  g_clear_object (&self->messages);
  g_clear_object (&self->own_rows);
  if (self->service != NULL)
    g_signal_handlers_disconnect_by_data (self->service, self);
  g_clear_weak_pointer (&self->service);

  G_OBJECT_CLASS (cx_webchat_parent_class)->dispose (object);
}

static void
cx_webchat_finalize (GObject *object)
{
  CxWebChat *self = CX_WEBCHAT (object);

  g_clear_object (&self->cancellable);
  g_free (self->chat_id);
  g_free (self->agent_name);
  g_free (self->typing_text);

  G_OBJECT_CLASS (cx_webchat_parent_class)->finalize (object);
}

static void
cx_webchat_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxWebChat *self = CX_WEBCHAT (object);

  switch (prop_id)
    {
      case PROP_OPEN:
        g_value_set_boolean (value, self->open);
        break;

      case PROP_MINIMIZED:
        g_value_set_boolean (value, self->minimized);
        break;

      case PROP_PHASE:
        g_value_set_enum (value, self->phase);
        break;

      case PROP_CHAT_ID:
        g_value_set_string (value, self->chat_id);
        break;

      case PROP_UNREAD_COUNT:
        g_value_set_uint (value, self->unread);
        break;

      case PROP_SERVER_OFFLINE:
        g_value_set_boolean (value, self->offline);
        break;

      case PROP_TYPING_TEXT:
        g_value_set_string (value, self->typing_text);
        break;

      case PROP_CHAT_BUTTON_VISIBLE:
        g_value_set_boolean (value, self->chat_button_visible);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_webchat_class_init (CxWebChatClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cx_webchat_dispose;
  object_class->finalize = cx_webchat_finalize;
  object_class->get_property = cx_webchat_get_property;

  properties[PROP_OPEN] = g_param_spec_boolean ("open", NULL, NULL, FALSE, flags);
  properties[PROP_MINIMIZED] = g_param_spec_boolean ("minimized", NULL, NULL, FALSE, flags);
  properties[PROP_PHASE] =
      g_param_spec_enum ("phase", NULL, NULL, CX_TYPE_WEBCHAT_PHASE, CX_WEBCHAT_PHASE_FORM, flags);
  properties[PROP_CHAT_ID] = g_param_spec_string ("chat-id", NULL, NULL, NULL, flags);
  properties[PROP_UNREAD_COUNT] =
      g_param_spec_uint ("unread-count", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_SERVER_OFFLINE] =
      g_param_spec_boolean ("server-offline", NULL, NULL, FALSE, flags);
  properties[PROP_TYPING_TEXT] = g_param_spec_string ("typing-text", NULL, NULL, NULL, flags);
  /* Whether the page shows its "Chat with Us" button (showChatButton / hideChatButton). */
  properties[PROP_CHAT_BUTTON_VISIBLE] =
      g_param_spec_boolean ("chat-button-visible", NULL, NULL, TRUE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-webchat.ui");
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, minimized_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, badge_label);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, panel);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, status_label);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, end_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, banner_spinner);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, stack);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, form_box);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, notice_label);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, first_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, last_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, email_entry);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, first_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, last_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, email_error);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, form_error);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, start_spinner);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, start_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, transcript_scroller);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, transcript_view);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, typing_label);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, composer_box);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, composer);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, send_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, attach_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, save_button);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, ended_box);
  gtk_widget_class_bind_template_child (widget_class, CxWebChat, new_chat_button);
  gtk_widget_class_bind_template_callback_full (widget_class, "entry_activate_cb",
                                                G_CALLBACK (_cx_webchat_entry_activate_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "entry_changed_cb",
                                                G_CALLBACK (_cx_webchat_entry_changed_cb));

  gtk_widget_class_install_action (widget_class, "webchat.start", NULL,
                                   _cx_webchat_start_activated);
  gtk_widget_class_install_action (widget_class, "webchat.send", NULL, _cx_webchat_send_activated);
  gtk_widget_class_install_action (widget_class, "webchat.retry", "u", _cx_webchat_retry_activated);
  gtk_widget_class_install_action (widget_class, "webchat.end-chat", NULL,
                                   _cx_webchat_end_chat_activated);
  gtk_widget_class_install_action (widget_class, "webchat.new-chat", NULL,
                                   _cx_webchat_new_chat_activated);
  gtk_widget_class_install_action (widget_class, "webchat.minimize", NULL,
                                   _cx_webchat_minimize_activated);
  gtk_widget_class_install_action (widget_class, "webchat.unminimize", NULL,
                                   _cx_webchat_unminimize_activated);
  gtk_widget_class_install_action (widget_class, "webchat.close", NULL,
                                   _cx_webchat_close_activated);
  gtk_widget_class_install_action (widget_class, "webchat.attach", NULL,
                                   _cx_webchat_attach_activated);
  gtk_widget_class_install_action (widget_class, "webchat.emoji", NULL,
                                   _cx_webchat_emoji_activated);
  gtk_widget_class_install_action (widget_class, "webchat.save-transcript", NULL,
                                   _cx_webchat_save_transcript_activated);

  gtk_widget_class_set_css_name (widget_class, "cxwebchat");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_webchat_init (CxWebChat *self)
{
  g_autoptr (GtkListItemFactory) factory = NULL;
  GtkNoSelection *selection;
  GtkEventController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->own_rows = g_list_store_new (CX_TYPE_CHAT_MESSAGE);
  self->messages = g_object_ref (G_LIST_MODEL (self->own_rows));
  g_signal_connect_object (self->messages, "items-changed",
                           G_CALLBACK (_cx_webchat_messages_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->messages, "items-changed",
                           G_CALLBACK (_cx_webchat_messages_above_cb), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  self->phase =
      CX_WEBCHAT_PHASE_ENDED; /* so that _cx_webchat_set_phase() below notifies and sets up */
  self->chat_button_visible = TRUE;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (_cx_webchat_factory_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (_cx_webchat_factory_bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (_cx_webchat_factory_unbind_cb), NULL);
  self->shown = gtk_slice_list_model_new (g_object_ref (self->messages), 0, SHOWN_ALL);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->shown)));
  gtk_list_view_set_factory (self->transcript_view, factory);
  gtk_list_view_set_model (self->transcript_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect_object (keys, "key-pressed", G_CALLBACK (_cx_webchat_composer_key_pressed_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (_cx_webchat_composer_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->transcript_scroller, "edge-reached",
                           G_CALLBACK (_cx_webchat_transcript_edge_reached_cb), self,
                           G_CONNECT_SWAPPED);

  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_FORM);
  update_visibility (self);
}

GtkWidget *
cx_webchat_new (void)
{
  return g_object_new (CX_TYPE_WEBCHAT, NULL);
}

typedef struct
{
  const char *event;
  CxEventFunc func;
} Subscription;

static const Subscription subscriptions[] = {
  { SERVICE ".started", _cx_webchat_service_started_cb },
  { SERVICE ".restored", _cx_webchat_service_restored_cb },
  { SERVICE ".restoreTimeout", _cx_webchat_service_restore_timeout_cb },
  { SERVICE ".restoreFailed", _cx_webchat_service_restore_failed_cb },
  { SERVICE ".agentDisconnected", _cx_webchat_service_agent_disconnected_cb },
  { SERVICE ".agentTypingStarted", _cx_webchat_service_typing_started_cb },
  { SERVICE ".agentTypingStopped", _cx_webchat_service_typing_stopped_cb },
  { SERVICE ".ended", _cx_webchat_service_ended_cb },
  { SERVICE ".chatServerWentOffline", _cx_webchat_service_offline_cb },
  { SERVICE ".chatServerBackOnline", _cx_webchat_service_online_cb },
};

static const CxCommandSpec command_specs[] = {
  { "open", _cx_webchat_open_command_cb },
  { "close", _cx_webchat_close_command_cb },
  { "minimize", _cx_webchat_minimize_command_cb },
  { "endChat", _cx_webchat_end_chat_command_cb },
  { "injectMessage", _cx_webchat_inject_message_command_cb },
  { "showChatButton", _cx_webchat_show_chat_button_command_cb },
  { "hideChatButton", _cx_webchat_hide_chat_button_command_cb },
};

/**
 * cx_webchat_attach:
 * @self: the panel
 * @bus: the window's bus
 * @error: return location for a #GError
 *
 * Registers the "WebChat" plugin on @bus, subscribes to "WebChatService" (which may come
 * later: attach first, and a restore that follows the service's creation is seen), and makes
 * the plugin ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (the name is taken on @bus)
 */
gboolean
cx_webchat_attach (CxWebChat *self, CxBus *bus, GError **error)
{
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_WEBCHAT (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_WEBCHAT_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  for (guint i = 0; i < G_N_ELEMENTS (subscriptions); i++)
    cx_plugin_subscribe (plugin, subscriptions[i].event, subscriptions[i].func, self, NULL);

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_webchat_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "WebChat" plugin, once attached
 */
CxPlugin *
cx_webchat_get_plugin (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), NULL);

  return self->plugin;
}

gboolean
cx_webchat_get_open (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), FALSE);

  return self->open;
}

gboolean
cx_webchat_get_minimized (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), FALSE);

  return self->minimized;
}

CxWebChatPhase
cx_webchat_get_phase (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), CX_WEBCHAT_PHASE_FORM);

  return self->phase;
}

/**
 * cx_webchat_get_chat_id:
 *
 * Returns: (nullable): the chat shown (also after it ended), or %NULL
 */
const char *
cx_webchat_get_chat_id (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), NULL);

  return self->chat_id;
}

guint
cx_webchat_get_unread_count (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), 0);

  return self->unread;
}

gboolean
cx_webchat_get_server_offline (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), FALSE);

  return self->offline;
}

/**
 * cx_webchat_get_typing_text:
 *
 * Returns: (nullable): the typing indicator as shown ("Ada is typing…"), or %NULL
 */
const char *
cx_webchat_get_typing_text (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), NULL);

  return self->typing_text;
}

/**
 * cx_webchat_get_messages:
 *
 * Returns: (transfer none): the transcript as shown, a #GListModel of #CxChatMessage
 */
GListModel *
cx_webchat_get_messages (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), NULL);

  return self->messages;
}

static void
agent_name_changed_cb (CxWebChat *self, GParamSpec *pspec, CxWebChatService *service)
{
  _cx_webchat_set_agent_name (self, cx_webchat_service_get_agent_name (service));
}

/**
 * cx_webchat_set_service:
 * @service: the "WebChatService" of the panel's bus
 *
 * Binds the panel to its service's state: the transcript model it shows, the agent's name.
 * Commands still go over the bus.
 */
void
cx_webchat_set_service (CxWebChat *self, CxWebChatService *service)
{
  g_return_if_fail (CX_IS_WEBCHAT (self));
  g_return_if_fail (CX_IS_WEBCHAT_SERVICE (service));
  g_return_if_fail (self->service == NULL);
  g_return_if_fail (self->messages == G_LIST_MODEL (self->own_rows));

  /* The window owns the service; the panel only looks at it. */
  g_set_weak_pointer (&self->service, service);
  g_signal_handlers_disconnect_by_data (self->messages, self);
  g_clear_object (&self->messages);
  self->messages = g_object_ref (cx_webchat_service_get_messages (service));
  g_signal_connect_object (self->messages, "items-changed",
                           G_CALLBACK (_cx_webchat_messages_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->messages, "items-changed",
                           G_CALLBACK (_cx_webchat_messages_above_cb), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  if (self->phase != CX_WEBCHAT_PHASE_FORM && self->phase != CX_WEBCHAT_PHASE_STARTING)
    gtk_slice_list_model_set_model (self->shown, self->messages);
  g_signal_connect_object (service, "notify::agent-name", G_CALLBACK (agent_name_changed_cb), self,
                           G_CONNECT_SWAPPED);
  agent_name_changed_cb (self, NULL, service);
}

gboolean
cx_webchat_get_chat_button_visible (CxWebChat *self)
{
  g_return_val_if_fail (CX_IS_WEBCHAT (self), FALSE);

  return self->chat_button_visible;
}

/* For tests and scripts: what the "Save Transcript" action writes, written to @file. */
void
cx_webchat_save_transcript (CxWebChat *self, GFile *file)
{
  g_return_if_fail (CX_IS_WEBCHAT (self));
  g_return_if_fail (G_IS_FILE (file));

  _cx_webchat_save_transcript_to (self, file);
}

/* For tests and scripts: sends @file as the file chooser of the "Attach" action does. */
void
cx_webchat_send_file (CxWebChat *self, GFile *file)
{
  g_return_if_fail (CX_IS_WEBCHAT (self));
  g_return_if_fail (G_IS_FILE (file));

  _cx_webchat_send_file (self, file);
}
