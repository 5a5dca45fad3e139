/* cx-webchat.c: the "WebChat" UI plugin: the chat panel of one site window.
 *
 * The panel talks to nothing but its bus: it commands "WebChatService" (startChat,
 * sendMessage, sendTyping, endChat) and follows its events (started, restored, messageReceived,
 * agent joins, typing, ended, the server going away and coming back). Every window of a site has
 * its own panel and service; the service shares the chat between them through the site's
 * cookies, so what happens in one window shows in all of them.
 *
 * The transcript is a GListStore of CxChatMessage shown by a GtkListView, so a long chat
 * scrolls without a widget per message. The customer's own messages appear at once as
 * "sending"; the transcript entry the server echoes back is matched to them (by text, the oldest
 * pending first, as the service itself does) instead of being shown twice, and the sendMessage
 * reply marks them sent, or failed with a Retry button.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"
#include "widgets/cx-chat-message.h"
#include "widgets/cx-chat-row.h"
#include "widgets/cx-webchat.h"

#define SERVICE "WebChatService"
/* sendMessage waits for the server, also while it is offline: the service queues the message
 * and resolves when it is stored. A bus timeout must not turn that wait into a failure (the
 * service would still send it, and a Retry would send it twice). */
#define SEND_TIMEOUT_MS (24u * 60 * 60 * 1000)
#define END_TIMEOUT_MS (2u * 60 * 1000)
/* The service repeats "typing" to the server itself while it is told within 5 s. */
#define TYPING_REPEAT_MS 2000
/* How close to the end of the transcript counts as "at the end" (new messages scroll in). */
#define STICK_THRESHOLD_PX 24.0
/* Frames the end of the transcript must hold still before it is no longer followed. */
#define FOLLOW_STABLE_FRAMES 3

/* A restored transcript shows its last rows; the earlier ones come in as the customer scrolls
 * up to the top, so many at a time. GTK 4.8's list view builds up to 200 rows around what it
 * shows whatever the view's height: a long chat would otherwise cost 200 rows built at its
 * start and 200 more at its end before the first frame. */
#define SHOWN_AT_FIRST 50
#define SHOWN_STEP 100

struct _CxWebChat
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;

  GListStore *messages;     /* CxChatMessage */
  GtkSliceListModel *shown; /* the rows of messages the view has, from an offset to the end */
  GHashTable *by_index;     /* transcript index → CxChatMessage (the store holds the reference) */
  GPtrArray *pending; /* CxChatMessage of the customer's, sending, not in the transcript yet */

  gboolean open;
  gboolean minimized;
  CxWebChatPhase phase;
  char *chat_id;
  char *agent_name;
  char *typing_text;
  guint unread;
  gboolean offline;
  guint follow_tick_id;
  guint follow_stable_frames;
  gboolean follow_scrolled_to_item;
  double follow_value; /* where following left the view (-1: not known yet), and its height */
  double follow_upper;
  guint show_earlier_id;
  gint64 last_typing_ms;
  gboolean close_after_end;
  GtkWidget *end_dialog;
  gboolean chat_button_visible;
  gboolean restoring_panel;    /* applying a restored panel state: not saved back */
  gboolean loading_transcript; /* adding a restored transcript: no messageAdded */
  GtkNativeDialog *file_dialog;

  /* Template children */
  GtkWidget *minimized_button;
  GtkLabel *badge_label;
  GtkWidget *panel;
  GtkLabel *status_label;
  GtkWidget *end_button;
  GtkRevealer *banner_revealer;
  GtkSpinner *banner_spinner;
  GtkStack *stack;
  GtkWidget *form_box;
  GtkLabel *notice_label;
  GtkEntry *first_name_entry;
  GtkEntry *last_name_entry;
  GtkEntry *email_entry;
  GtkEntry *subject_entry;
  GtkLabel *first_name_error;
  GtkLabel *last_name_error;
  GtkLabel *email_error;
  GtkLabel *form_error;
  GtkSpinner *start_spinner;
  GtkWidget *start_button;
  GtkScrolledWindow *transcript_scroller;
  GtkListView *transcript_view;
  GtkLabel *typing_label;
  GtkWidget *composer_box;
  GtkTextView *composer;
  GtkWidget *attach_button;
  GtkWidget *send_button;
  GtkWidget *save_button;
  GtkWidget *ended_box;
  GtkWidget *new_chat_button;
};

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

static void
publish (CxWebChat *self, const char *event, JsonNode *data)
{
  g_autoptr (JsonNode) empty = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  if (data == NULL)
    data = empty = empty_node ();
  cx_plugin_publish (self->plugin, event, data);
}

static JsonObject *
event_object (const CxEvent *event)
{
  if (event->data == NULL || !JSON_NODE_HOLDS_OBJECT (event->data))
    return NULL;
  return json_node_get_object (event->data);
}

/* A string member, or NULL when absent or not a string. */
static const char *
object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static char *
entry_text_stripped (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static void
command_service (CxWebChat *self, const char *command, JsonNode *data, guint timeout_ms,
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
static void
save_panel_state (CxWebChat *self)
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
  command_service (self, "savePanelState", data, 0, panel_state_saved_cb, NULL);
}

static void
set_unread (CxWebChat *self, guint unread)
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

  save_panel_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD_COUNT]);
}

static void
set_typing (CxWebChat *self, const char *nickname)
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

static void
set_offline (CxWebChat *self, gboolean offline)
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

static void
set_agent_name (CxWebChat *self, const char *name)
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

static void
set_phase (CxWebChat *self, CxWebChatPhase phase)
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

static void
set_chat_id (CxWebChat *self, const char *chat_id)
{
  if (g_strcmp0 (self->chat_id, chat_id) == 0)
    return;

  g_free (self->chat_id);
  self->chat_id = g_strdup (chat_id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAT_ID]);
}

static void
focus_current (CxWebChat *self)
{
  if (!self->open || self->minimized)
    return;

  if (self->phase == CX_WEBCHAT_PHASE_FORM)
    gtk_widget_grab_focus (GTK_WIDGET (self->first_name_entry));
  else if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* Opening, closing, minimizing: each publishes its event when the state changes. */

static void
set_open (CxWebChat *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  if (!open)
    self->minimized = FALSE;
  else
    set_unread (self, 0);
  update_visibility (self);
  save_panel_state (self);
  publish (self, open ? "opened" : "closed", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MINIMIZED]);
  if (open)
    focus_current (self);
}

static void
set_minimized (CxWebChat *self, gboolean minimized)
{
  if (!self->open || self->minimized == minimized)
    return;

  self->minimized = minimized;
  if (!minimized)
    set_unread (self, 0);
  update_visibility (self);
  save_panel_state (self);
  publish (self, minimized ? "minimized" : "unminimized", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MINIMIZED]);
  if (minimized)
    gtk_widget_grab_focus (self->minimized_button);
  else
    focus_current (self);
}

/* The transcript */

static void
clear_transcript (CxWebChat *self)
{
  g_hash_table_remove_all (self->by_index);
  g_ptr_array_set_size (self->pending, 0);
  g_list_store_remove_all (self->messages);
  gtk_slice_list_model_set_offset (self->shown, 0);
}

/* Shows the last SHOWN_AT_FIRST of @n_rows (a restored transcript). */
static void
show_last_rows (CxWebChat *self, guint n_rows)
{
  gtk_slice_list_model_set_offset (self->shown,
                                   n_rows > SHOWN_AT_FIRST ? n_rows - SHOWN_AT_FIRST : 0);
}

/* Scrolled up to the top: the rows before, if any. The view keeps its place on the row it
 * showed at the top. From an idle: not from inside the view's own scrolling. */
static gboolean
show_earlier_rows_cb (gpointer user_data)
{
  CxWebChat *self = user_data;
  guint offset = gtk_slice_list_model_get_offset (self->shown);

  self->show_earlier_id = 0;
  gtk_slice_list_model_set_offset (self->shown, offset > SHOWN_STEP ? offset - SHOWN_STEP : 0);
  return G_SOURCE_REMOVE;
}

static void
transcript_edge_reached_cb (CxWebChat *self, GtkPositionType position)
{
  /* Not while the end is followed: at the start of a restore, the view is at its top. */
  if (position != GTK_POS_TOP || gtk_slice_list_model_get_offset (self->shown) == 0 ||
      self->follow_tick_id != 0 || self->show_earlier_id != 0)
    return;
  self->show_earlier_id = g_idle_add (show_earlier_rows_cb, self);
}

static void
publish_message_added (CxWebChat *self, CxChatMessage *row)
{
  g_autoptr (GEnumClass) kinds = NULL;
  g_autoptr (JsonNode) data = NULL;
  guint index = cx_chat_message_get_index (row);
  JsonObject *object;

  /* A restored transcript comes whole, with "started" {restored: true}. */
  if (self->loading_transcript)
    return;

  kinds = g_type_class_ref (CX_TYPE_CHAT_MESSAGE_KIND);
  object = json_object_new ();
  json_object_set_string_member (
      object, "kind", g_enum_get_value (kinds, cx_chat_message_get_kind (row))->value_nick);
  if (cx_chat_message_get_sender (row) != NULL)
    json_object_set_string_member (object, "name", cx_chat_message_get_sender (row));
  json_object_set_string_member (object, "text", cx_chat_message_get_text (row));
  json_object_set_int_member (object, "time", cx_chat_message_get_time (row));
  if (index > 0)
    json_object_set_int_member (object, "index", index);
  data = cx_json_node_new_object (object);
  publish (self, "messageAdded", data);
}

/* Rows in one change of the model: the view relays itself out once, not once a row. */
static void
append_rows (CxWebChat *self, GPtrArray *rows)
{
  guint position = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  if (rows->len == 0)
    return;

  g_list_store_splice (self->messages, position, 0, rows->pdata, rows->len);
  for (guint i = 0; i < rows->len; i++)
    {
      CxChatMessage *row = g_ptr_array_index (rows, i);
      guint index = cx_chat_message_get_index (row);

      if (index > 0)
        g_hash_table_insert (self->by_index, GUINT_TO_POINTER (index), row);
      publish_message_added (self, row);
    }
}

static void
append_row (CxWebChat *self, CxChatMessage *row)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();

  g_ptr_array_add (rows, row);
  append_rows (self, rows);
}

static void
remove_row (CxWebChat *self, CxChatMessage *row)
{
  guint position;

  g_ptr_array_remove (self->pending, row);
  if (g_list_store_find (self->messages, row, &position))
    g_list_store_remove (self->messages, position);
}

static CxChatMessage *
take_pending (CxWebChat *self, const char *text)
{
  for (guint i = 0; i < self->pending->len; i++)
    {
      CxChatMessage *row = g_ptr_array_index (self->pending, i);

      if (g_strcmp0 (cx_chat_message_get_text (row), text) == 0)
        {
          g_ptr_array_remove_index (self->pending, i);
          return row;
        }
    }
  return NULL;
}

/* Adds the transcript entries of @array not shown yet. Returns how many agent messages came. */
static guint
add_transcript (CxWebChat *self, JsonArray *array)
{
  guint length = array != NULL ? json_array_get_length (array) : 0;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  guint from_agent = 0;

  for (guint i = 0; i < length; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CxMessage) message = NULL;
      g_autoptr (CxChatMessage) row = NULL;
      CxChatMessage *own;
      gboolean staff;

      message = cx_message_from_json (json_array_get_element (array, i), &error);
      if (message == NULL)
        {
          g_debug ("Ignoring a transcript entry: %s", error->message);
          continue;
        }

      if (message->index > 0 &&
          g_hash_table_contains (self->by_index, GUINT_TO_POINTER (message->index)))
        continue;

      staff = message->from_type == CX_PARTY_AGENT || message->from_type == CX_PARTY_SUPERVISOR;
      if (staff && message->type == CX_MESSAGE_PARTICIPANT_JOINED)
        set_agent_name (self, message->from_nickname);
      else if (staff && message->type == CX_MESSAGE_PARTICIPANT_LEFT &&
               g_strcmp0 (self->agent_name, message->from_nickname) == 0)
        set_agent_name (self, NULL);

      /* The server's copy of a message sent from this window: the row is already there. */
      if (message->type == CX_MESSAGE_TEXT && message->from_type == CX_PARTY_CLIENT &&
          (own = take_pending (self, message->text)) != NULL)
        {
          cx_chat_message_set_index (own, message->index);
          cx_chat_message_set_status (own, CX_CHAT_MESSAGE_STATUS_SENT);
          g_hash_table_insert (self->by_index, GUINT_TO_POINTER (message->index), own);
          continue;
        }

      row = cx_chat_message_new_from_transcript (message);
      if (row == NULL)
        continue;
      if (cx_chat_message_get_kind (row) == CX_CHAT_MESSAGE_AGENT)
        from_agent++;
      g_ptr_array_add (rows, g_steal_pointer (&row));
    }

  append_rows (self, rows);
  return from_agent;
}

/* Following the end of the transcript. GtkListView measures rows only as they come into view
 * and keeps its own anchor, so one jump to the end lands short of a tall new row: the end is
 * set again on each frame until it holds still. */
static gboolean
follow_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  CxWebChat *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->transcript_scroller);
  double upper = gtk_adjustment_get_upper (adjustment);
  double value = gtk_adjustment_get_value (adjustment);
  double end = upper - gtk_adjustment_get_page_size (adjustment);

  /* Up from where this left it, the rows unchanged: the customer scrolled. They lead now. */
  if (self->follow_value >= 0 && upper == self->follow_upper && value < self->follow_value - 1)
    {
      self->follow_tick_id = 0;
      /* Scrolled all the way up meanwhile: the edge was passed over while following. */
      if (value <= gtk_adjustment_get_lower (adjustment))
        transcript_edge_reached_cb (self, GTK_POS_TOP);
      return G_SOURCE_REMOVE;
    }

  if (value < end - 0.5)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));

      /* One frame the last row, the next its end. GTK 4.8's list view, set straight to an end
       * it has only estimated, may land rows short of it or show no row at all; and the
       * end of a row taller than the view is below what scroll-to-item brings in. Each takes
       * effect at the next allocation, so not both in one frame. */
      if (!self->follow_scrolled_to_item && n > 0)
        {
          gtk_widget_activate_action (GTK_WIDGET (self->transcript_view), "list.scroll-to-item",
                                      "u", n - 1);
          self->follow_value = -1; /* where that lands is known next frame */
        }
      else
        {
          gtk_adjustment_set_value (adjustment, end);
          self->follow_value = gtk_adjustment_get_value (adjustment);
        }
      self->follow_upper = upper;
      self->follow_scrolled_to_item = !self->follow_scrolled_to_item;
      self->follow_stable_frames = 0;
      return G_SOURCE_CONTINUE;
    }

  self->follow_value = value;
  self->follow_upper = upper;
  if (++self->follow_stable_frames < FOLLOW_STABLE_FRAMES)
    return G_SOURCE_CONTINUE;

  self->follow_tick_id = 0;
  return G_SOURCE_REMOVE;
}

/* After rows were added: keep the end in view if it was in view (or following it still), or
 * always with @force (the customer's own message, a restored transcript). */
static void
follow_end (CxWebChat *self, gboolean force)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->transcript_scroller);
  double end = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));

  if (!force && self->follow_tick_id == 0 &&
      gtk_adjustment_get_value (adjustment) < end - STICK_THRESHOLD_PX)
    return;
  if (n == 0)
    return;

  /* Brings the last row in, so that it is measured... */
  gtk_widget_activate_action (GTK_WIDGET (self->transcript_view), "list.scroll-to-item", "u",
                              n - 1);
  /* ...and then its end, frame after frame. */
  self->follow_scrolled_to_item = TRUE;
  self->follow_value = -1;
  self->follow_stable_frames = 0;
  if (self->follow_tick_id == 0)
    self->follow_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->transcript_view),
                                                         follow_tick_cb, self, NULL);
}

/* Entering and leaving a chat */

static void
enter_chat (CxWebChat *self, const char *chat_id, gboolean restored)
{
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->phase == CX_WEBCHAT_PHASE_CHAT && g_strcmp0 (self->chat_id, chat_id) == 0)
    return;

  set_chat_id (self, chat_id);
  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  set_phase (self, CX_WEBCHAT_PHASE_CHAT);
  save_panel_state (self);
  if (gtk_widget_is_visible (self->panel))
    gtk_widget_grab_focus (GTK_WIDGET (self->composer));

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", chat_id != NULL ? chat_id : "");
  json_object_set_boolean_member (object, "restored", restored);
  data = cx_json_node_new_object (object);
  publish (self, "started", data);
}

static void
show_notice (CxWebChat *self, const char *text)
{
  gtk_label_set_text (self->notice_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), text != NULL);
}

/* WebChatService events */

static void
service_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *chat_id = object_string (event_object (event), "chatId");

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    {
      clear_transcript (self);
      set_agent_name (self, NULL);
    }
  enter_chat (self, chat_id, FALSE);
}

/* The panel as the other windows of the site left it ("panel" of restored): open unless it was
 * closed, minimized with its unread count if it was. */
static void
restore_panel_state (CxWebChat *self, JsonObject *restored)
{
  JsonNode *node = restored != NULL ? json_object_get_member (restored, "panel") : NULL;
  JsonObject *panel =
      node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *state = object_string (panel, "state");
  JsonNode *unread = panel != NULL ? json_object_get_member (panel, "unreadMessages") : NULL;

  self->restoring_panel = TRUE;
  enter_chat (self, object_string (restored, "chatId"), TRUE);
  if (g_strcmp0 (state, "closed") != 0)
    set_open (self, TRUE);
  if (g_strcmp0 (state, "minimized") == 0)
    {
      set_minimized (self, TRUE);
      if (unread != NULL && json_node_get_value_type (unread) == G_TYPE_INT64 &&
          json_node_get_int (unread) > 0)
        set_unread (self, MIN (json_node_get_int (unread), G_MAXINT32));
    }
  self->restoring_panel = FALSE;
}

static void
service_restored_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonObject *object = event_object (event);
  JsonNode *messages = object != NULL ? json_object_get_member (object, "messages") : NULL;

  /* The whole transcript, from the start: this window shows what every other one shows. */
  clear_transcript (self);
  set_agent_name (self, NULL);
  set_typing (self, NULL);
  self->loading_transcript = TRUE;
  if (messages != NULL && JSON_NODE_HOLDS_ARRAY (messages))
    {
      /* The view hears of the rows once, its offset set: it builds rows for the end only.
       * (GTK 4.8's slice model, its offset set past the end of a model that then grows,
       * tells the view a wrong count.) */
      gtk_slice_list_model_set_model (self->shown, NULL);
      add_transcript (self, json_node_get_array (messages));
      show_last_rows (self, g_list_model_get_n_items (G_LIST_MODEL (self->messages)));
      gtk_slice_list_model_set_model (self->shown, G_LIST_MODEL (self->messages));
    }
  self->loading_transcript = FALSE;
  restore_panel_state (self, object);
  follow_end (self, TRUE);
}

static void
service_message_received_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonObject *object = event_object (event);
  JsonNode *messages = object != NULL ? json_object_get_member (object, "messages") : NULL;
  guint from_agent;

  if (self->phase == CX_WEBCHAT_PHASE_FORM || messages == NULL || !JSON_NODE_HOLDS_ARRAY (messages))
    return;

  from_agent = add_transcript (self, json_node_get_array (messages));
  follow_end (self, FALSE);
  if (from_agent > 0 && (!self->open || self->minimized))
    set_unread (self, self->unread + from_agent);
}

static void
service_agent_connected_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *nickname = object_string (event_object (event), "nickname");

  if (nickname != NULL && nickname[0] != '\0')
    set_agent_name (self, nickname);
}

static void
service_agent_disconnected_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;

  set_typing (self, NULL);
  if (g_strcmp0 (self->agent_name, object_string (event_object (event), "nickname")) == 0)
    set_agent_name (self, NULL);
}

static void
service_typing_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *nickname = object_string (event_object (event), "nickname");

  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    set_typing (self, nickname != NULL ? nickname : "");
}

static void
service_typing_stopped_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  set_typing (CX_WEBCHAT (user_data), NULL);
}

static void
service_ended_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT && self->phase != CX_WEBCHAT_PHASE_STARTING)
    return;

  set_typing (self, NULL);
  set_offline (self, FALSE);
  if (self->end_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->end_dialog));
  set_phase (self, CX_WEBCHAT_PHASE_ENDED);
  follow_end (self, TRUE);
  if (gtk_widget_is_visible (self->panel))
    gtk_widget_grab_focus (self->new_chat_button);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id != NULL ? self->chat_id : "");
  data = cx_json_node_new_object (object);
  publish (self, "ended", data);

  if (self->close_after_end)
    {
      self->close_after_end = FALSE;
      set_open (self, FALSE);
    }
}

static void
service_offline_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  set_offline (CX_WEBCHAT (user_data), TRUE);
}

static void
service_online_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  set_offline (CX_WEBCHAT (user_data), FALSE);
}

static void
service_restore_timeout_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;

  if (self->phase != CX_WEBCHAT_PHASE_FORM)
    return;

  /* The cookies named a chat nobody has looked at for too long: say so, and offer a new one. */
  show_notice (self, _ ("Your previous chat has expired. You can start a new one."));
  set_open (self, TRUE);
}

static void
service_restore_failed_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *message = object_string (event_object (event), "message");
  g_autofree char *text = NULL;

  if (self->phase != CX_WEBCHAT_PHASE_FORM)
    return;

  /* Translators: %s says why, from the chat service */
  text = g_strdup_printf (_ ("Your chat could not be restored: %s"),
                          message != NULL ? message : _ ("unknown error"));
  show_notice (self, text);
  set_open (self, TRUE);
}

/* The pre-chat form */

static gboolean
email_is_valid (const char *email)
{
  const char *at = strchr (email, '@');
  const char *domain;
  gsize length;

  if (at == NULL || at == email || strchr (at + 1, '@') != NULL)
    return FALSE;

  domain = at + 1;
  length = strlen (domain);
  if (length < 3 || strchr (domain, '.') == NULL || domain[0] == '.' || domain[length - 1] == '.' ||
      strstr (domain, "..") != NULL)
    return FALSE;

  for (const char *p = email; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      return FALSE;

  return TRUE;
}

static void
set_field_error (GtkEntry *entry, GtkLabel *label, const char *error)
{
  gtk_label_set_text (label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (label), error != NULL);
  if (error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  gtk_accessible_update_state (
      GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_STATE_INVALID,
      error != NULL ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE, -1);
}

/* Shows an error beside every field that needs one; focuses the first. */
static gboolean
validate_form (CxWebChat *self)
{
  g_autofree char *first = entry_text_stripped (self->first_name_entry);
  g_autofree char *last = entry_text_stripped (self->last_name_entry);
  g_autofree char *email = entry_text_stripped (self->email_entry);
  const char *email_error = NULL;
  GtkWidget *first_invalid = NULL;

  set_field_error (self->first_name_entry, self->first_name_error,
                   first[0] == '\0' ? _ ("Enter your first name") : NULL);
  set_field_error (self->last_name_entry, self->last_name_error,
                   last[0] == '\0' ? _ ("Enter your last name") : NULL);
  if (email[0] == '\0')
    email_error = _ ("Enter your email address");
  else if (!email_is_valid (email))
    email_error = _ ("Enter an email address like name@example.com");
  set_field_error (self->email_entry, self->email_error, email_error);

  if (first[0] == '\0')
    first_invalid = GTK_WIDGET (self->first_name_entry);
  else if (last[0] == '\0')
    first_invalid = GTK_WIDGET (self->last_name_entry);
  else if (email_error != NULL)
    first_invalid = GTK_WIDGET (self->email_entry);

  if (first_invalid != NULL)
    {
      gtk_widget_grab_focus (first_invalid);
      return FALSE;
    }
  return TRUE;
}

static void
entry_changed_cb (CxWebChat *self, GtkEntry *entry)
{
  /* An error goes once the customer corrects the field; it comes back on the next try. */
  if (entry == self->first_name_entry)
    set_field_error (entry, self->first_name_error, NULL);
  else if (entry == self->last_name_entry)
    set_field_error (entry, self->last_name_error, NULL);
  else if (entry == self->email_entry)
    set_field_error (entry, self->email_error, NULL);
}

static void
entry_activate_cb (CxWebChat *self, GtkEntry *entry)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "webchat.start", NULL);
}

static void
fill_form (CxWebChat *self, JsonObject *form)
{
  static const struct
  {
    const char *member;
    gsize offset;
  } fields[] = {
    { "firstname", G_STRUCT_OFFSET (CxWebChat, first_name_entry) },
    { "lastname", G_STRUCT_OFFSET (CxWebChat, last_name_entry) },
    { "email", G_STRUCT_OFFSET (CxWebChat, email_entry) },
    { "subject", G_STRUCT_OFFSET (CxWebChat, subject_entry) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const char *value = object_string (form, fields[i].member);
      GtkEntry *entry = G_STRUCT_MEMBER (GtkEntry *, self, fields[i].offset);

      if (value != NULL)
        gtk_editable_set_text (GTK_EDITABLE (entry), value);
    }
}

static void
start_chat_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply != NULL)
    {
      /* Usually "started" or "restored" came first and did this. */
      if (self->phase == CX_WEBCHAT_PHASE_STARTING && JSON_NODE_HOLDS_OBJECT (reply))
        enter_chat (self, object_string (json_node_get_object (reply), "chatId"), FALSE);
      return;
    }

  if (self->phase != CX_WEBCHAT_PHASE_STARTING)
    return;

  set_phase (self, CX_WEBCHAT_PHASE_FORM);
  /* Translators: %s says why, from the chat service */
  text = g_strdup_printf (_ ("The chat could not start: %s"), error->message);
  gtk_label_set_text (self->form_error, text);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), TRUE);
  gtk_widget_grab_focus (self->start_button);
}

static void
start_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  g_autofree char *email = NULL;
  g_autofree char *subject = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *form;

  /* The action is disabled while a start is under way; this guards a queued activation. */
  if (self->phase != CX_WEBCHAT_PHASE_FORM || !validate_form (self))
    return;

  first = entry_text_stripped (self->first_name_entry);
  last = entry_text_stripped (self->last_name_entry);
  email = entry_text_stripped (self->email_entry);
  subject = entry_text_stripped (self->subject_entry);

  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  set_phase (self, CX_WEBCHAT_PHASE_STARTING);

  form = json_object_new ();
  json_object_set_string_member (form, "firstname", first);
  json_object_set_string_member (form, "lastname", last);
  json_object_set_string_member (form, "email", email);
  if (subject[0] != '\0')
    json_object_set_string_member (form, "subject", subject);
  data = cx_json_node_new_object (form);

  publish (self, "submitted", data);
  command_service (self, "startChat", data, 0, start_chat_cb, self);
}

/* Sending */

typedef struct
{
  CxWebChat *self; /* valid unless the command was cancelled */
  CxChatMessage *row;
} SendData;

static void
send_data_free (SendData *send)
{
  g_clear_object (&send->row);
  g_free (send);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SendData, send_data_free)

static void
send_message_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SendData) send = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  CxWebChat *self;
  CxChatMessage *other;
  JsonNode *index_node = NULL;
  guint index;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = send->self;
  if (reply == NULL)
    {
      g_ptr_array_remove (self->pending, send->row);
      cx_chat_message_set_error (send->row, error->message);
      cx_chat_message_set_status (send->row, CX_CHAT_MESSAGE_STATUS_FAILED);
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (reply))
    index_node = json_object_get_member (json_node_get_object (reply), "index");
  index = index_node != NULL && json_node_get_value_type (index_node) == G_TYPE_INT64
              ? (guint) CLAMP (json_node_get_int (index_node), 0, G_MAXUINT)
              : 0;

  g_ptr_array_remove (self->pending, send->row);
  if (cx_chat_message_get_index (send->row) == 0 && index > 0)
    {
      other = g_hash_table_lookup (self->by_index, GUINT_TO_POINTER (index));
      if (other != NULL && other != send->row)
        {
          /* The transcript's copy came first and did not match (the server changed the
           * text): it stands for this message. */
          remove_row (self, send->row);
          return;
        }
      cx_chat_message_set_index (send->row, index);
      g_hash_table_insert (self->by_index, GUINT_TO_POINTER (index), send->row);
    }
  cx_chat_message_set_status (send->row, CX_CHAT_MESSAGE_STATUS_SENT);
}

static void
send_row (CxWebChat *self, CxChatMessage *row)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) data = NULL;
  SendData *send = g_new0 (SendData, 1);

  send->self = self;
  send->row = g_object_ref (row);
  cx_chat_message_set_error (row, NULL);
  cx_chat_message_set_status (row, CX_CHAT_MESSAGE_STATUS_SENDING);
  if (cx_chat_message_get_index (row) == 0)
    g_ptr_array_add (self->pending, g_object_ref (row));

  json_object_set_string_member (object, "message", cx_chat_message_get_text (row));
  data = cx_json_node_new_object (object);
  command_service (self, "sendMessage", data, SEND_TIMEOUT_MS, send_message_cb, send);
}

static void
send_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  g_autoptr (CxChatMessage) row = NULL;
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = g_strstrip (gtk_text_buffer_get_text (buffer, &start, &end, FALSE));
  if (text[0] == '\0')
    return;

  gtk_text_buffer_set_text (buffer, "", 0);
  row = cx_chat_message_new (CX_CHAT_MESSAGE_OWN, _ ("You"), text, g_get_real_time () / 1000);
  /* The customer's own message always comes into view. */
  append_row (self, row);
  follow_end (self, TRUE);
  send_row (self, row);
}

/* Files, emoji and the saved transcript */

/* A notice of this window's only, in the transcript (not sent). */
static void
add_local_notice (CxWebChat *self, const char *text)
{
  g_autoptr (CxChatMessage) row =
      cx_chat_message_new (CX_CHAT_MESSAGE_SYSTEM, NULL, text, g_get_real_time () / 1000);

  append_row (self, row);
  follow_end (self, TRUE);
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
    publish (self, "fileSent", reply);
}

static void
send_file (CxWebChat *self, GFile *file)
{
  g_autoptr (JsonNode) data = NULL;
  g_autofree char *path = g_file_get_path (file);
  JsonObject *object;

  if (path == NULL || self->bus == NULL || self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "path", path);
  data = cx_json_node_new_object (object);
  command_service (self, "sendFile", data, SEND_TIMEOUT_MS, file_sent_cb, g_object_ref (self));
}

static void
attach_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->file_dialog);
  update_attach (self);
  if (file != NULL)
    send_file (self, file);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static GtkWindow *
parent_window (CxWebChat *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
attach_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
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

static void
emoji_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
  g_signal_emit_by_name (self->composer, "insert-emoji");
}

/* The transcript as text, one entry a paragraph: "[time] sender: text". */
static char *
transcript_text (CxWebChat *self)
{
  GString *text = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (G_LIST_MODEL (self->messages), i);
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

static void
transcript_saved_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxWebChat) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s says why */
      text = g_strdup_printf (_ ("The transcript was not saved: %s"), error->message);
      add_local_notice (self, text);
      return;
    }
  publish (self, "transcriptSaved", NULL);
}

/* Saves the transcript as UTF-8 text into @file. */
static void
save_transcript_to (CxWebChat *self, GFile *file)
{
  g_autofree char *text = transcript_text (self);
  g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));

  g_steal_pointer (&text);
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                       self->cancellable, transcript_saved_cb, g_object_ref (self));
}

static void
save_response_cb (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  CxWebChat *self = user_data;
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->file_dialog);
  update_attach (self);
  if (file != NULL)
    save_transcript_to (self, file);
}

static void
save_transcript_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  GtkFileChooserNative *chooser;

  if (self->file_dialog != NULL || g_list_model_get_n_items (G_LIST_MODEL (self->messages)) == 0)
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

static void
retry_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);
  guint serial = g_variant_get_uint32 (parameter);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;

  /* Failed messages are few and recent: look from the end. */
  for (guint i = n; i > 0; i--)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (cx_chat_message_get_serial (row) != serial)
        continue;
      if (cx_chat_message_get_status (row) == CX_CHAT_MESSAGE_STATUS_FAILED)
        send_row (self, row);
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

static void
composer_changed_cb (CxWebChat *self, GtkTextBuffer *buffer)
{
  gint64 now = g_get_monotonic_time () / 1000;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT || gtk_text_buffer_get_char_count (buffer) == 0 ||
      now - self->last_typing_ms < TYPING_REPEAT_MS)
    return;

  /* No preview of the text: the agent sees what the customer sends, not what they draft. */
  self->last_typing_ms = now;
  command_service (self, "sendTyping", NULL, 0, typing_cb, NULL);
}

static gboolean
composer_key_pressed_cb (CxWebChat *self, guint keyval, guint keycode, GdkModifierType state,
                         GtkEventControllerKey *controller)
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
  g_autoptr (CxChatMessage) row = NULL;
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
  row = cx_chat_message_new (CX_CHAT_MESSAGE_SYSTEM, NULL, text, g_get_real_time () / 1000);
  append_row (self, row);
  follow_end (self, TRUE);
}

static void
request_end_chat (CxWebChat *self, CxCommand *command)
{
  EndData *end = g_new0 (EndData, 1);

  end->self = self;
  end->command = command != NULL ? g_object_ref (command) : NULL;
  command_service (self, "endChat", NULL, END_TIMEOUT_MS, end_chat_cb, end);
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

static void
end_chat_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    ask_end_chat (self, FALSE);
}

static void
new_chat_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  if (self->phase != CX_WEBCHAT_PHASE_ENDED)
    return;

  clear_transcript (self);
  set_agent_name (self, NULL);
  set_chat_id (self, NULL);
  show_notice (self, NULL);
  set_phase (self, CX_WEBCHAT_PHASE_FORM);
  focus_current (self);
}

static void
minimize_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  set_minimized (CX_WEBCHAT (widget), TRUE);
}

static void
unminimize_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  set_minimized (CX_WEBCHAT (widget), FALSE);
}

static void
close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxWebChat *self = CX_WEBCHAT (widget);

  /* Closing a chat that goes on is leaving it: ask first. */
  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    ask_end_chat (self, TRUE);
  else
    set_open (self, FALSE);
}

/* WebChat commands */

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
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
    fill_form (self, json_node_get_object (form));
  set_open (self, TRUE);

  if (auto_submit != NULL && json_node_get_value_type (auto_submit) == G_TYPE_BOOLEAN &&
      json_node_get_boolean (auto_submit) && self->phase == CX_WEBCHAT_PHASE_FORM)
    gtk_widget_activate_action (GTK_WIDGET (self), "webchat.start", NULL);

  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;

  /* Hides the panel; a chat going on goes on (open shows it again). */
  set_open (self, FALSE);
  cx_command_resolve (command, NULL);
}

static void
minimize_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
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

  set_minimized (self, value);
  cx_command_resolve (command, NULL);
}

static void
end_chat_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
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
static void
inject_message_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  const char *type = object_string (object, "type");
  const char *name = object_string (object, "name");
  const char *text = object_string (object, "text");
  g_autoptr (CxChatMessage) row = NULL;
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

  row = cx_chat_message_new (CX_CHAT_MESSAGE_SYSTEM, name, text, g_get_real_time () / 1000);
  append_row (self, row);
  follow_end (self, FALSE);
  published = json_node_copy (data);
  publish (self, "injectedMessage", published);
  cx_command_resolve (command, NULL);
}

static void
set_chat_button_visible (CxWebChat *self, gboolean visible)
{
  if (self->chat_button_visible == visible)
    return;

  self->chat_button_visible = visible;
  publish (self, visible ? "chatButtonShown" : "chatButtonHidden", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHAT_BUTTON_VISIBLE]);
}

static void
show_chat_button_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_chat_button_visible (CX_WEBCHAT (user_data), TRUE);
  cx_command_resolve (command, NULL);
}

static void
hide_chat_button_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_chat_button_visible (CX_WEBCHAT (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

/* The transcript's rows */

static void
factory_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_selectable (item, FALSE);
  gtk_list_item_set_child (item, cx_chat_row_new ());
}

static void
factory_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  cx_chat_row_set_message (CX_CHAT_ROW (gtk_list_item_get_child (item)),
                           gtk_list_item_get_item (item));
}

static void
factory_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  cx_chat_row_set_message (CX_CHAT_ROW (gtk_list_item_get_child (item)), NULL);
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

  if (self->plugin != NULL && cx_plugin_get_bus (self->plugin) != NULL)
    cx_bus_unregister_plugin (cx_plugin_get_bus (self->plugin), self->plugin);
  g_clear_object (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_WEBCHAT);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  if (self->pending != NULL)
    g_ptr_array_set_size (self->pending, 0);
  if (self->by_index != NULL)
    g_hash_table_remove_all (self->by_index);
  g_clear_handle_id (&self->show_earlier_id, g_source_remove);
  g_clear_object (&self->shown);
  g_clear_object (&self->messages);

  G_OBJECT_CLASS (cx_webchat_parent_class)->dispose (object);
}

static void
cx_webchat_finalize (GObject *object)
{
  CxWebChat *self = CX_WEBCHAT (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->by_index, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
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
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);

  gtk_widget_class_install_action (widget_class, "webchat.start", NULL, start_activated);
  gtk_widget_class_install_action (widget_class, "webchat.send", NULL, send_activated);
  gtk_widget_class_install_action (widget_class, "webchat.retry", "u", retry_activated);
  gtk_widget_class_install_action (widget_class, "webchat.end-chat", NULL, end_chat_activated);
  gtk_widget_class_install_action (widget_class, "webchat.new-chat", NULL, new_chat_activated);
  gtk_widget_class_install_action (widget_class, "webchat.minimize", NULL, minimize_activated);
  gtk_widget_class_install_action (widget_class, "webchat.unminimize", NULL, unminimize_activated);
  gtk_widget_class_install_action (widget_class, "webchat.close", NULL, close_activated);
  gtk_widget_class_install_action (widget_class, "webchat.attach", NULL, attach_activated);
  gtk_widget_class_install_action (widget_class, "webchat.emoji", NULL, emoji_activated);
  gtk_widget_class_install_action (widget_class, "webchat.save-transcript", NULL,
                                   save_transcript_activated);

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
  self->messages = g_list_store_new (CX_TYPE_CHAT_MESSAGE);
  self->by_index = g_hash_table_new (NULL, NULL);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->phase = CX_WEBCHAT_PHASE_ENDED; /* so that set_phase() below notifies and sets up */
  self->chat_button_visible = TRUE;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (factory_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (factory_bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (factory_unbind_cb), NULL);
  self->shown =
      gtk_slice_list_model_new (G_LIST_MODEL (g_object_ref (self->messages)), 0, G_MAXUINT);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->shown)));
  gtk_list_view_set_factory (self->transcript_view, factory);
  gtk_list_view_set_model (self->transcript_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect_object (keys, "key-pressed", G_CALLBACK (composer_key_pressed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (composer_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->transcript_scroller, "edge-reached",
                           G_CALLBACK (transcript_edge_reached_cb), self, G_CONNECT_SWAPPED);

  set_phase (self, CX_WEBCHAT_PHASE_FORM);
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
  { SERVICE ".started", service_started_cb },
  { SERVICE ".restored", service_restored_cb },
  { SERVICE ".restoreTimeout", service_restore_timeout_cb },
  { SERVICE ".restoreFailed", service_restore_failed_cb },
  { SERVICE ".messageReceived", service_message_received_cb },
  { SERVICE ".agentConnected", service_agent_connected_cb },
  { SERVICE ".agentDisconnected", service_agent_disconnected_cb },
  { SERVICE ".agentTypingStarted", service_typing_started_cb },
  { SERVICE ".agentTypingStopped", service_typing_stopped_cb },
  { SERVICE ".ended", service_ended_cb },
  { SERVICE ".chatServerWentOffline", service_offline_cb },
  { SERVICE ".chatServerBackOnline", service_online_cb },
};

typedef struct
{
  const char *name;
  CxCommandFunc func;
} CommandSpec;

static const CommandSpec command_specs[] = {
  { "open", open_command_cb },
  { "close", close_command_cb },
  { "minimize", minimize_command_cb },
  { "endChat", end_chat_command_cb },
  { "injectMessage", inject_message_command_cb },
  { "showChatButton", show_chat_button_command_cb },
  { "hideChatButton", hide_chat_button_command_cb },
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

  plugin = cx_bus_register_plugin (bus, CX_WEBCHAT_NAME, error);
  if (plugin == NULL)
    return FALSE;

  self->bus = g_object_ref (bus);
  self->plugin = g_object_ref (plugin);

  if (!cx_plugin_register_events (plugin, event_names, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (command_specs); i++)
    if (!cx_plugin_register_command (plugin, command_specs[i].name, command_specs[i].func, self,
                                     NULL, error))
      return FALSE;
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

  return G_LIST_MODEL (self->messages);
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

  save_transcript_to (self, file);
}

/* For tests and scripts: sends @file as the file chooser of the "Attach" action does. */
void
cx_webchat_send_file (CxWebChat *self, GFile *file)
{
  g_return_if_fail (CX_IS_WEBCHAT (self));
  g_return_if_fail (G_IS_FILE (file));

  send_file (self, file);
}
