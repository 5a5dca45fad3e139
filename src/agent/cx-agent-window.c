/* cx-agent-window.c: one agent workspace window.
 *
 * The window has its own CxBus with an AgentService on the application's CxHttp; it shows the
 * sign-in page while the service is signed out and the workspace while it is signed in, and
 * follows the service: a sign-in, a sign-out or a state change made in another window shows
 * here too. Everything the window asks of the service goes through bus commands, as a page
 * script's CXBus.command would. Text from the network is set with gtk_label_set_text: never
 * markup.
 *
 * A workspace window lists the agent's conversations (unread counts per row, their total in
 * the window title), offers invitations in a banner with a countdown to their expiry (and a
 * desktop notification, through the application, while no window is active), and has a
 * second page with the callbacks. A pop-out window (cx_agent_window_new_for_chat) is the same
 * window restricted to one chat: no list, no banner. Either way the window has its own bus and
 * service, so the same chat in two windows stays in sync through the server, and closing a
 * window never ends a chat.
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

#include <glib/gi18n.h>
#include <string.h>

#include "agent/cx-agent-callbacks.h"
#include "agent/cx-agent-canned.h"
#include "agent/cx-agent-switcher.h"
#include "agent/cx-agent-transcript.h"
#include "agent/cx-agent-window.h"

#define COMMAND_PREFIX CX_AGENT_SERVICE_NAME "."
#define TYPING_REPEAT_USEC (3 * G_USEC_PER_SEC)

struct _CxAgentWindow
{
  GtkApplicationWindow parent_instance;

  CxBus *bus;
  CxAgentService *service;
  gulong subscription;
  GCancellable *cancellable;

  GtkFilter *conversation_filter;
  GtkSingleSelection *selection;
  CxAgentConversation *selected;
  GHashTable *seen;       /* chat id → number of messages seen */
  GPtrArray *bound_items; /* GtkListItem: the conversation rows on screen */
  char *chat_id;          /* a pop-out: the one chat it shows */
  char *invitation_chat_id;
  gint64 invitation_expires_at;
  gint64 invitation_waiting_since;
  guint countdown_id;
  gboolean was_signed_in;
  gboolean canned_dismissed; /* Escape closed the "/" popover: not again for this "/" */
  CxAgentCanned *canned;
  CxAgentSwitcher *switcher;
  GtkWidget *callbacks;
  guint wait_refresh_id;
  gboolean updating_state;
  gboolean at_bottom;
  gint64 last_typing;

  /* Template children */
  GtkLabel *title_label;
  GtkDropDown *state_dropdown;
  GtkStack *stack;
  GtkEntry *server_entry;
  GtkEntry *username_entry;
  GtkPasswordEntry *password_entry;
  GtkLabel *sign_in_error;
  GtkButton *sign_in_button;
  GtkListView *conversation_list;
  GtkRevealer *invitation_revealer;
  GtkLabel *invitation_label;
  GtkButton *accept_button;
  GtkButton *decline_button;
  GtkStack *conversation_stack;
  GtkLabel *conversation_title;
  GtkMenuButton *transfer_button;
  GtkBox *transfer_box;
  GtkButton *end_button;
  GtkListView *transcript_list;
  GtkLabel *typing_label;
  GtkTextView *composer;
  GtkButton *send_button;
  GtkLabel *details_label;
  GtkStackSwitcher *page_switcher;
  GtkMenuButton *switch_button;
  GtkStack *pages;
  GtkStackPage *callbacks_page;
  GtkBox *callbacks_box;
  GtkStack *sidebar_stack;
  GtkLabel *conversation_placeholder;
  GtkLabel *countdown_label;
  GtkMenuButton *conversation_menu_button;
  GtkBox *composer_box;
  GtkMenuButton *canned_button;
  GtkEntry *transfer_agent_entry;
};

G_DEFINE_FINAL_TYPE (CxAgentWindow, cx_agent_window, GTK_TYPE_APPLICATION_WINDOW)

/* The state drop-down's rows, in its order: a not-ready reason is sent as this code (the server
 * keeps free text; other windows of the app map the code back to its row). */
static const struct
{
  const char *state;
  const char *reason;
} states[] = {
  { "ready", NULL },        { "not_ready", NULL },      { "not_ready", "break" },
  { "not_ready", "lunch" }, { "not_ready", "meeting" }, { "not_ready", "training" },
  { "offline", NULL },
};

#define WAIT_REFRESH_SECONDS 20

static void sync_window (CxAgentWindow *self);
static void show_conversation (CxAgentWindow *self, CxAgentConversation *conversation);
static void update_title (CxAgentWindow *self);
static void update_invitation (CxAgentWindow *self);
static void close_canned (CxAgentWindow *self);

/* Commands */

typedef void (*CommandDone) (CxAgentWindow *self, JsonNode *result, const GError *error);

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
static void
run_command (CxAgentWindow *self, const char *name, JsonNode *data, CommandDone done)
{
  g_autoptr (JsonNode) owned = data;
  g_autofree char *full = g_strconcat (COMMAND_PREFIX, name, NULL);
  CommandData *command = g_new0 (CommandData, 1);

  command->self = g_object_ref (self);
  command->done = done;
  cx_bus_command_async (self->bus, NULL, full, data, 0, self->cancellable, command_cb, command);
}

/* {"chatId": …} plus one more string or boolean member. */
static JsonNode *
chat_data (const char *chat_id, const char *member, const char *value)
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
static const char *
object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Conversations */

static CxAgentApplication *
get_application (CxAgentWindow *self)
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
        cx_agent_application_withdraw_invitation (get_application (self),
                                                  cx_agent_conversation_get_chat_id (conversation));
      else if (found == NULL)
        found = conversation; /* the model keeps it */
    }
  return found;
}

static const char *
conversation_name (CxAgentConversation *conversation)
{
  const char *nickname = cx_agent_conversation_get_nickname (conversation);

  return nickname != NULL && *nickname != '\0' ? nickname : _ ("Customer");
}

static guint
conversation_unread (CxAgentWindow *self, CxAgentConversation *conversation)
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
static void
update_title (CxAgentWindow *self)
{
  GListModel *model = self->selection != NULL ? G_LIST_MODEL (self->selection) : NULL;
  g_autofree char *base = NULL;
  g_autofree char *title = NULL;
  guint unread = 0;

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      unread += conversation_unread (self, conversation);
    }

  if (self->chat_id != NULL && self->selected != NULL)
    /* Translators: a pop-out window's title: the customer's name */
    base = g_strdup_printf (_ ("%s — CX Desk Agent"), conversation_name (self->selected));
  else
    base = g_strdup (_ ("CX Desk Agent"));
  title = unread > 0 ? g_strdup_printf ("(%u) %s", unread, base) : g_steal_pointer (&base);
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

      g_signal_handlers_disconnect_by_func (conversation, update_title, self);
      g_signal_connect_object (conversation, "notify::n-messages", G_CALLBACK (update_title), self,
                               G_CONNECT_SWAPPED);
    }
  gtk_stack_set_visible_child_name (
      self->sidebar_stack,
      self->selection != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->selection)) > 0
          ? "list"
          : "empty");
  update_title (self);
}

/* How long the customer has waited for an answer: since their last message when no agent
 * message follows it, else -1 (seconds). */
static gint64
customer_wait (CxAgentConversation *conversation)
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
static char *
format_wait (gint64 seconds)
{
  if (seconds < 60)
    return g_strdup (C_ ("waiting time", "now"));
  if (seconds < 3600)
    return g_strdup_printf (C_ ("waiting time", "%d min"), (int) (seconds / 60));
  return g_strdup_printf (C_ ("waiting time", "%d h"), (int) MIN (seconds / 3600, G_MAXINT));
}

/* Sidebar rows: name, how long the customer waits, unread count; channel and queue, or what
 * the chat is doing */

static void
update_conversation_row (GtkListItem *list_item)
{
  CxAgentWindow *self = g_object_get_data (G_OBJECT (list_item), "cx-window");
  CxAgentConversation *conversation = gtk_list_item_get_item (list_item);
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkLabel *name = g_object_get_data (G_OBJECT (row), "name");
  GtkLabel *status = g_object_get_data (G_OBJECT (row), "status");
  GtkLabel *badge = g_object_get_data (G_OBJECT (row), "badge");
  GtkLabel *wait_label = g_object_get_data (G_OBJECT (row), "wait");
  g_autofree char *status_text = NULL;
  g_autofree char *badge_text = NULL;
  g_autofree char *wait_text = NULL;
  g_autofree char *accessible = NULL;
  const char *queue;
  gint64 wait = -1;
  guint unread;

  if (conversation == NULL || self == NULL)
    return;

  queue = cx_agent_conversation_get_queue (conversation);
  unread = conversation_unread (self, conversation);
  switch (cx_agent_conversation_get_status (conversation))
    {
      case CX_AGENT_CONVERSATION_ENDED:
        status_text = g_strdup (_ ("Ended"));
        break;
      case CX_AGENT_CONVERSATION_LEFT:
        status_text = g_strdup (_ ("Transferred"));
        break;
      default:
        /* Translators: the channel (Chat) and the queue a chat came from, then "typing…" */
        status_text = cx_agent_conversation_get_customer_typing (conversation)
                          ? g_strdup_printf (_ ("Chat · %s · typing…"), queue != NULL ? queue : "")
                          : g_strdup_printf (_ ("Chat · %s"), queue != NULL ? queue : "");
        wait = customer_wait (conversation);
        break;
    }

  gtk_label_set_text (name, conversation_name (conversation));
  gtk_label_set_text (status, status_text);
  badge_text = g_strdup_printf ("%u", unread);
  gtk_label_set_text (badge, badge_text);
  gtk_widget_set_visible (GTK_WIDGET (badge), unread > 0);
  if (wait >= 0)
    wait_text = format_wait (wait);
  gtk_label_set_text (wait_label, wait_text != NULL ? wait_text : "");
  gtk_widget_set_visible (GTK_WIDGET (wait_label), wait_text != NULL);

  if (wait_text != NULL)
    /* Translators: a conversation row for screen readers: name, channel and queue, how long
     * the customer has waited for an answer, unread count */
    accessible =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %s, waiting %s, %u unread message",
                                      "%s, %s, waiting %s, %u unread messages", unread),
                         conversation_name (conversation), status_text, wait_text, unread);
  else
    accessible = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %s, %u unread message",
                                               "%s, %s, %u unread messages", unread),
                                  conversation_name (conversation), status_text, unread);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
conversation_row_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                           CxAgentWindow *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *column = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *status = gtk_label_new (NULL);
  GtkWidget *badge = gtk_label_new (NULL);
  GtkWidget *wait = gtk_label_new (NULL);

  gtk_widget_add_css_class (row, "conversation-row");
  gtk_widget_set_hexpand (column, TRUE);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (name, "heading");
  gtk_label_set_xalign (GTK_LABEL (status), 0);
  gtk_label_set_ellipsize (GTK_LABEL (status), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (status, "dim-label");
  gtk_widget_add_css_class (status, "caption");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "unread-badge");
  gtk_widget_set_valign (wait, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (wait, "dim-label");
  gtk_widget_add_css_class (wait, "caption");
  gtk_box_append (GTK_BOX (column), name);
  gtk_box_append (GTK_BOX (column), status);
  gtk_box_append (GTK_BOX (row), column);
  gtk_box_append (GTK_BOX (row), wait);
  gtk_box_append (GTK_BOX (row), badge);
  g_object_set_data (G_OBJECT (row), "name", name);
  g_object_set_data (G_OBJECT (row), "status", status);
  g_object_set_data (G_OBJECT (row), "badge", badge);
  g_object_set_data (G_OBJECT (row), "wait", wait);
  g_object_set_data (G_OBJECT (list_item), "cx-window", self);
  gtk_list_item_set_child (list_item, row);
}

static void
conversation_row_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                          CxAgentWindow *self)
{
  g_ptr_array_add (self->bound_items, list_item);
  g_signal_connect_object (gtk_list_item_get_item (list_item), "notify",
                           G_CALLBACK (update_conversation_row), list_item, G_CONNECT_SWAPPED);
  update_conversation_row (list_item);
}

static void
conversation_row_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                            CxAgentWindow *self)
{
  g_ptr_array_remove_fast (self->bound_items, list_item);
  g_signal_handlers_disconnect_by_data (gtk_list_item_get_item (list_item), list_item);
}

/* The selected row's count is seen: every row on screen is brought up to date. */
static void
refresh_rows (CxAgentWindow *self)
{
  for (guint i = 0; i < self->bound_items->len; i++)
    update_conversation_row (g_ptr_array_index (self->bound_items, i));
  update_title (self);
}

static gboolean
wait_refresh_cb (gpointer user_data)
{
  refresh_rows (user_data);
  return G_SOURCE_CONTINUE;
}

/* Transcript rows: sender, time, text */

/* A queue-position notice is addressed to the waiting customer; to the agent who has taken the
 * chat it is noise. */
static gboolean
is_queue_notice (const CxMessage *message)
{
  return message->type == CX_MESSAGE_NOTICE && message->user_data != NULL &&
         JSON_NODE_HOLDS_OBJECT (message->user_data) &&
         json_object_has_member (json_node_get_object (message->user_data), "queuePosition");
}

static gboolean
transcript_filter_func (gpointer item, gpointer user_data)
{
  CxMessage *message = cx_agent_transcript_item_get_message (item);

  return message->type != CX_MESSAGE_TYPING_STARTED && message->type != CX_MESSAGE_TYPING_STOPPED &&
         !is_queue_notice (message);
}

static void
transcript_row_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                         CxAgentWindow *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *sender = gtk_label_new (NULL);
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *text = gtk_label_new (NULL);

  gtk_widget_add_css_class (row, "transcript-row");
  gtk_widget_add_css_class (sender, "transcript-sender");
  gtk_label_set_xalign (GTK_LABEL (sender), 0);
  gtk_label_set_ellipsize (GTK_LABEL (sender), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (time, "dim-label");
  gtk_widget_add_css_class (time, "caption");
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (text), TRUE);
  gtk_label_set_use_markup (GTK_LABEL (text), FALSE);
  gtk_box_append (GTK_BOX (header), sender);
  gtk_box_append (GTK_BOX (header), time);
  gtk_box_append (GTK_BOX (row), header);
  gtk_box_append (GTK_BOX (row), text);
  g_object_set_data (G_OBJECT (row), "sender", sender);
  g_object_set_data (G_OBJECT (row), "time", time);
  g_object_set_data (G_OBJECT (row), "text", text);
  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
}

static void
transcript_row_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                        CxAgentWindow *self)
{
  CxMessage *message = cx_agent_transcript_item_get_message (gtk_list_item_get_item (list_item));
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkLabel *text = g_object_get_data (G_OBJECT (row), "text");
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (message->utc_time / 1000);
  g_autofree char *time_text = time != NULL ? g_date_time_format (time, "%H:%M") : NULL;
  g_autofree char *notice = NULL;
  const char *sender = message->from_nickname;
  gboolean is_notice = message->type != CX_MESSAGE_TEXT;

  if (sender == NULL || *sender == '\0')
    sender = message->from_type == CX_PARTY_CLIENT ? _ ("Customer") : _ ("Agent");

  switch (message->type)
    {
      case CX_MESSAGE_PARTICIPANT_JOINED:
        notice = g_strdup_printf (_ ("%s joined the chat"), sender);
        break;
      case CX_MESSAGE_PARTICIPANT_LEFT:
        notice = g_strdup_printf (_ ("%s left the chat"), sender);
        break;
      default:
        break;
    }

  /* A notice names its sender in its text already: it is one line, with its time after it. */
  gtk_widget_set_visible (gtk_widget_get_parent (g_object_get_data (G_OBJECT (row), "sender")),
                          !is_notice);
  if (is_notice && time_text != NULL)
    {
      /* Translators: a notice in the transcript, then its time */
      g_autofree char *with_time = g_strdup_printf (
          _ ("%s · %s"), notice != NULL ? notice : (message->text != NULL ? message->text : ""),
          time_text);

      g_free (notice);
      notice = g_steal_pointer (&with_time);
    }
  if (message->from_type == CX_PARTY_AGENT)
    gtk_widget_add_css_class (g_object_get_data (G_OBJECT (row), "sender"), "transcript-agent");
  else
    gtk_widget_remove_css_class (g_object_get_data (G_OBJECT (row), "sender"), "transcript-agent");
  gtk_label_set_text (g_object_get_data (G_OBJECT (row), "sender"), sender);
  gtk_label_set_text (g_object_get_data (G_OBJECT (row), "time"),
                      time_text != NULL ? time_text : "");
  gtk_label_set_text (text, notice != NULL ? notice : (message->text != NULL ? message->text : ""));
  if (is_notice)
    gtk_widget_add_css_class (GTK_WIDGET (text), "transcript-notice");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (text), "transcript-notice");
}

/* The transcript follows new messages while it is scrolled to the end. */
static void
transcript_adjustment_value_cb (GtkAdjustment *adjustment, GParamSpec *pspec, CxAgentWindow *self)
{
  self->at_bottom =
      gtk_adjustment_get_value (adjustment) >=
      gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment) - 2;
}

static void
transcript_adjustment_upper_cb (GtkAdjustment *adjustment, GParamSpec *pspec, CxAgentWindow *self)
{
  if (self->at_bottom)
    gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) -
                                              gtk_adjustment_get_page_size (adjustment));
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
  email = object_string (customer, "emailAddress");
  if (email == NULL)
    email = object_string (customer, "email");
  subject = cx_agent_conversation_get_subject (conversation);

  g_string_append_printf (details, _ ("Name: %s"), conversation_name (conversation));
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
  gtk_label_set_text (self->conversation_title, conversation_name (conversation));

  if (cx_agent_conversation_get_customer_typing (conversation))
    {
      const char *preview = cx_agent_conversation_get_customer_typing_text (conversation);
      g_autofree char *typing =
          preview != NULL && *preview != '\0'
              ? g_strdup_printf (_ ("%s is typing: %s"), conversation_name (conversation), preview)
              : g_strdup_printf (_ ("%s is typing…"), conversation_name (conversation));

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
    close_canned (self);
  update_title (self);
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
      close_canned (self);
      refresh_rows (self);
      return;
    }

  transcript = cx_agent_transcript_new (conversation);
  filtered = gtk_filter_list_model_new (
      G_LIST_MODEL (g_steal_pointer (&transcript)),
      GTK_FILTER (gtk_custom_filter_new (transcript_filter_func, NULL, NULL)));
  selection = gtk_no_selection_new (G_LIST_MODEL (filtered));
  self->at_bottom = TRUE;
  gtk_list_view_set_model (self->transcript_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  g_signal_connect_object (conversation, "notify", G_CALLBACK (update_details), self,
                           G_CONNECT_SWAPPED);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), "", -1);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-in-window", self->chat_id == NULL);
  if (self->chat_id != NULL)
    gtk_label_set_text (self->title_label, conversation_name (conversation));
  update_details (self);
  gtk_stack_set_visible_child_name (self->conversation_stack, "conversation");
  refresh_rows (self);
}

static void
selected_item_cb (GtkSingleSelection *selection, GParamSpec *pspec, CxAgentWindow *self)
{
  show_conversation (self, gtk_single_selection_get_selected_item (selection));
}

static void
select_chat (CxAgentWindow *self, const char *chat_id)
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
  gint64 waited = self->invitation_waiting_since > 0
                      ? MAX (0, (now - self->invitation_waiting_since) / 1000)
                      : -1;
  gint64 left = self->invitation_expires_at > 0
                    ? MAX (0, (self->invitation_expires_at - now + 999) / 1000)
                    : -1;
  g_autofree char *waiting = NULL;
  g_autofree char *countdown = NULL;
  g_autofree char *text = NULL;

  if (waited >= 0)
    /* Translators: how long the customer has waited, minutes:seconds */
    waiting =
        g_strdup_printf (_ ("Waiting %" G_GINT64_FORMAT ":%02d"), waited / 60, (int) (waited % 60));
  if (left >= 0)
    countdown = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%d second to accept", "%d seconds to accept", (gulong) left),
        (int) left);
  if (waiting != NULL && countdown != NULL)
    text = g_strdup_printf ("%s · %s", waiting, countdown);
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

  g_clear_pointer (&self->invitation_chat_id, g_free);
  self->invitation_expires_at = 0;
  self->invitation_waiting_since = 0;
  if (invitation != NULL)
    {
      const char *queue = cx_agent_conversation_get_queue (invitation);
      const char *subject = cx_agent_conversation_get_subject (invitation);
      g_autofree char *text =
          g_strdup_printf (_ ("%s is waiting in %s"), conversation_name (invitation),
                           queue != NULL ? queue : _ ("a queue"));

      if (subject != NULL && *subject != '\0')
        {
          g_autofree char *with_subject = g_strdup_printf ("%s: %s", text, subject);

          g_free (text);
          text = g_steal_pointer (&with_subject);
        }
      self->invitation_chat_id = g_strdup (cx_agent_conversation_get_chat_id (invitation));
      self->invitation_expires_at = cx_agent_conversation_get_expires_at (invitation);
      self->invitation_waiting_since = cx_agent_conversation_get_waiting_since (invitation);
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

static void
sync_window (CxAgentWindow *self)
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
    gtk_label_set_text (self->title_label, conversation_name (self->selected));
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
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    if (g_strcmp0 (state, states[i].state) == 0 &&
        (g_strcmp0 (cx_agent_service_get_reason (self->service), states[i].reason) == 0 ||
         (selected == GTK_INVALID_LIST_POSITION && states[i].reason == NULL)))
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
  update_title (self);
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
  const char *chat_id = object_string (object, "chatId");
  GListModel *model = cx_agent_service_get_conversations (self->service);

  if (chat_id == NULL)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (model, i);

      if (g_strcmp0 (cx_agent_conversation_get_chat_id (conversation), chat_id) == 0 &&
          cx_agent_conversation_get_status (conversation) == CX_AGENT_CONVERSATION_INVITED &&
          !invitation_expired (conversation))
        cx_agent_application_notify_invitation (get_application (self), chat_id,
                                                conversation_name (conversation),
                                                cx_agent_conversation_get_queue (conversation));
    }
}

static void
withdraw_notification (CxAgentWindow *self, JsonNode *data)
{
  JsonObject *object =
      data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  const char *chat_id = object_string (object, "chatId");

  if (chat_id != NULL)
    cx_agent_application_withdraw_invitation (get_application (self), chat_id);
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
    run_command (self, "getCanned", NULL, canned_done);
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

  sync_window (self);
}

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
  sync_window (self);
}

static gboolean bind_service (CxAgentWindow *self, GError **error);

static void
sign_in_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
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
  run_command (self, "signIn", g_steal_pointer (&data), sign_in_done);
}

static void
sign_out_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  run_command (CX_AGENT_WINDOW (widget), "signOut", NULL, NULL);
}

/* The agent as setState returns it; on failure the drop-down goes back to the real state. */
static void
set_state_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  if (error != NULL)
    g_debug ("Cannot change the state: %s", error->message);
  sync_window (self);
}

static void
state_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec, CxAgentWindow *self)
{
  guint selected = gtk_drop_down_get_selected (dropdown);
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) data = NULL;

  if (self->updating_state || selected >= G_N_ELEMENTS (states) ||
      !cx_agent_service_get_signed_in (self->service) ||
      (g_strcmp0 (cx_agent_service_get_state (self->service), states[selected].state) == 0 &&
       g_strcmp0 (cx_agent_service_get_reason (self->service), states[selected].reason) == 0))
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, states[selected].state);
  json_builder_set_member_name (builder, "reason");
  if (states[selected].reason != NULL)
    json_builder_add_string_value (builder, states[selected].reason);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);
  run_command (self, "setState", g_steal_pointer (&data), set_state_done);
}

static void
accept_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  JsonObject *object;

  if (error != NULL)
    {
      g_debug ("Accept failed: %s", error->message);
      return;
    }
  gtk_filter_changed (self->conversation_filter, GTK_FILTER_CHANGE_DIFFERENT);
  object = result != NULL && JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  if (object_string (object, "chatId") != NULL)
    select_chat (self, object_string (object, "chatId"));
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static void
accept_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->invitation_chat_id != NULL)
    cx_agent_window_answer_invitation (self, self->invitation_chat_id, TRUE);
}

static void
decline_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->invitation_chat_id != NULL)
    cx_agent_window_answer_invitation (self, self->invitation_chat_id, FALSE);
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

static void
send_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
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
  command = chat_data (data->chat_id, "text", text);
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
    run_command (self, "end", chat_data (chat_id, NULL, NULL), NULL);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
end_chat_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
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
                                            conversation_name (self->selected));
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

static void
transfer_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  gtk_menu_button_popdown (self->transfer_button);
  if (self->selected != NULL)
    run_command (self, "transfer",
                 chat_data (cx_agent_conversation_get_chat_id (self->selected), "queue",
                            g_variant_get_string (parameter, NULL)),
                 transfer_done);
}

/* To the agent whose user name is in the transfer popover's entry. */
static void
transfer_to_agent_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
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
  run_command (self, "transfer",
               chat_data (cx_agent_conversation_get_chat_id (self->selected), "agent", agent),
               transfer_done);
}

static void
transfer_agent_activate_cb (GtkEntry *entry, CxAgentWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.transfer-to-agent", NULL);
}

/* A conversation in a window of its own; this one keeps it too. */
static void
open_in_window_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->selected == NULL || self->chat_id != NULL)
    return;
  cx_agent_application_open_chat_window (get_application (self),
                                         cx_agent_conversation_get_chat_id (self->selected));
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->chat_id != NULL || !cx_agent_service_get_signed_in (self->service))
    return;
  gtk_stack_set_visible_child_name (
      self->pages, g_str_equal (action_name, "win.show-callbacks") ? "callbacks" : "conversations");
}

/* The quick switcher */

static void
switch_conversation_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxAgentWindow *self = CX_AGENT_WINDOW (widget);

  if (self->chat_id != NULL || !cx_agent_service_get_signed_in (self->service))
    return;
  cx_agent_switcher_popup (self->switcher);
}

static void
switcher_chosen_cb (CxAgentSwitcher *switcher, CxAgentConversation *conversation,
                    CxAgentWindow *self)
{
  gtk_stack_set_visible_child_name (self->pages, "conversations");
  select_chat (self, cx_agent_conversation_get_chat_id (conversation));
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* Canned responses: from the menu, or by typing "/" at the start of the composer */

static void
close_canned (CxAgentWindow *self)
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
      close_canned (self);
      return;
    }
  if (self->canned_dismissed || self->selected == NULL ||
      cx_agent_conversation_get_status (self->selected) != CX_AGENT_CONVERSATION_ACTIVE ||
      cx_agent_canned_get_n_responses (self->canned) == 0)
    {
      close_canned (self);
      return;
    }
  cx_agent_canned_set_query (self->canned, query);
  if (!gtk_widget_get_visible (GTK_WIDGET (self->canned)))
    gtk_popover_popup (GTK_POPOVER (self->canned));
}

/* The "/query" typed is replaced by the response; from the menu it goes in at the cursor. */
static void
insert_canned_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
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
  close_canned (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

/* The composer: Enter sends, Shift+Enter starts a new line; typing is told to the customer. */
static gboolean
composer_key_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
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
            close_canned (self);
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

static void
composer_changed_cb (GtkTextBuffer *buffer, CxAgentWindow *self)
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
  run_command (self, "typing", json_builder_get_root (builder), NULL);
}

/* The service */

static void
restore_done (CxAgentWindow *self, JsonNode *result, const GError *error)
{
  /* Not signed in anywhere yet: the sign-in page stays. */
  if (error == NULL)
    run_command (self, "getCanned", NULL, canned_done);
  sync_window (self);
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
  g_clear_object (&self->service);
  g_clear_object (&self->bus);
}

static gboolean
bind_service (CxAgentWindow *self, GError **error)
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
  g_signal_connect_object (self->service, "notify::signed-in", G_CALLBACK (sync_window), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::state", G_CALLBACK (sync_window), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::reason", G_CALLBACK (sync_window), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->service, "notify::display-name", G_CALLBACK (sync_window), self,
                           G_CONNECT_SWAPPED);
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
  run_command (self, "restore", NULL, restore_done);
  sync_window (self);
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
  g_free (self->invitation_chat_id);

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
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, composer_box);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, canned_button);
  gtk_widget_class_bind_template_child (widget_class, CxAgentWindow, transfer_agent_entry);

  gtk_widget_class_install_action (widget_class, "win.sign-in", NULL, sign_in_action);
  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "win.decline", NULL, decline_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.end-chat", NULL, end_chat_action);
  gtk_widget_class_install_action (widget_class, "win.transfer", "s", transfer_action);
  gtk_widget_class_install_action (widget_class, "win.transfer-to-agent", NULL,
                                   transfer_to_agent_action);
  gtk_widget_class_install_action (widget_class, "win.open-in-window", NULL, open_in_window_action);
  gtk_widget_class_install_action (widget_class, "win.switch-conversation", NULL,
                                   switch_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.insert-canned", "s", insert_canned_action);
  gtk_widget_class_install_action (widget_class, "win.show-conversations", NULL, show_page_action);
  gtk_widget_class_install_action (widget_class, "win.show-callbacks", NULL, show_page_action);

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
  g_signal_connect (factory, "setup", G_CALLBACK (conversation_row_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (conversation_row_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (conversation_row_unbind_cb), self);
  gtk_list_view_set_factory (self->conversation_list, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (transcript_row_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (transcript_row_bind_cb), self);
  gtk_list_view_set_factory (self->transcript_list, factory);
  g_object_unref (factory);

  adjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->transcript_list));
  g_signal_connect_object (adjustment, "notify::value", G_CALLBACK (transcript_adjustment_value_cb),
                           self, 0);
  g_signal_connect_object (adjustment, "notify::upper", G_CALLBACK (transcript_adjustment_upper_cb),
                           self, 0);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (composer_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (composer_changed_cb), self, 0);

  g_signal_connect_object (self->state_dropdown, "notify::selected", G_CALLBACK (state_selected_cb),
                           self, 0);
  g_signal_connect_object (self->transfer_agent_entry, "activate",
                           G_CALLBACK (transfer_agent_activate_cb), self, 0);

  /* The "/" popover: above the composer, never focused (the composer forwards the keys). */
  self->canned = CX_AGENT_CANNED (cx_agent_canned_new ("win.insert-canned"));
  gtk_widget_set_parent (GTK_WIDGET (self->canned), GTK_WIDGET (self->composer_box));
  gtk_menu_button_set_menu_model (self->canned_button, cx_agent_canned_get_menu (self->canned));

  self->switcher = CX_AGENT_SWITCHER (cx_agent_switcher_new ());
  gtk_menu_button_set_popover (self->switch_button, GTK_WIDGET (self->switcher));
  g_signal_connect_object (self->switcher, "chosen", G_CALLBACK (switcher_chosen_cb), self, 0);

  self->callbacks = cx_agent_callbacks_new ();
  gtk_widget_set_vexpand (self->callbacks, TRUE);
  gtk_box_append (self->callbacks_box, self->callbacks);
  g_signal_connect_object (self->callbacks, "notify::n-due", G_CALLBACK (callbacks_due_cb), self,
                           0);

  self->wait_refresh_id = g_timeout_add_seconds (WAIT_REFRESH_SECONDS, wait_refresh_cb, self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->sign_in_button));
  show_conversation (self, NULL);
}

static void
service_changed_cb (CxAgentWindow *self)
{
  g_autoptr (GError) error = NULL;

  if (!bind_service (self, &error))
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
      run_command (self, "accept", chat_data (chat_id, NULL, NULL), accept_done);
      return;
    }
  cx_agent_application_withdraw_invitation (get_application (self), chat_id);
  run_command (self, "decline", chat_data (chat_id, NULL, NULL), NULL);
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
