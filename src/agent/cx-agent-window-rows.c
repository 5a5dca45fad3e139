/* cx-agent-window-rows.c: the agent window's list rows: a conversation in the sidebar (name,
 * wait, unread; channel and queue), and the transcript's (a CxAgentMessageRow per message, the
 * typing and queue notices filtered out).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-window"

#include "config.h"

#include "agent/cx-agent-message-row.h"
#include "agent/cx-agent-window-private.h"

/* Sidebar rows: the name over its channel and queue (or what the chat is doing) and how long
 * the customer waits, in one label with attributes; the unread count in a badge. A window has
 * a row per conversation, and many windows show the same list, so a row is kept to three
 * widgets (the box, the text, the badge) instead of a box of labels per line. */

static void
update_conversation_row (GtkListItem *list_item)
{
  CxAgentWindow *self = g_object_get_data (G_OBJECT (list_item), "cx-window");
  CxAgentConversation *conversation = gtk_list_item_get_item (list_item);
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkLabel *text = g_object_get_data (G_OBJECT (row), "text");
  GtkLabel *badge = g_object_get_data (G_OBJECT (row), "badge");
  g_autoptr (PangoAttrList) attrs = NULL;
  g_autoptr (GString) shown = NULL;
  PangoAttribute *attr;
  const char *name;
  guint name_end;
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
  unread = _cx_agent_window_conversation_unread (self, conversation);
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
        wait = _cx_agent_window_customer_wait (conversation);
        break;
    }

  if (wait >= 0)
    wait_text = _cx_agent_window_format_wait (wait);

  /* Plain text from the network, with attributes by byte range: never markup. */
  name = _cx_agent_window_conversation_name (conversation);
  shown = g_string_new (name);
  name_end = shown->len;
  g_string_append_c (shown, '\n');
  g_string_append (shown, status_text);
  if (wait_text != NULL)
    /* Translators: after a conversation's channel and queue: how long the customer waits */
    g_string_append_printf (shown, _ (" · waits %s"), wait_text);

  attrs = pango_attr_list_new ();
  attr = pango_attr_weight_new (PANGO_WEIGHT_BOLD);
  attr->end_index = name_end;
  pango_attr_list_insert (attrs, attr);
  attr = pango_attr_scale_new (PANGO_SCALE_SMALL);
  attr->start_index = name_end + 1;
  pango_attr_list_insert (attrs, attr);
  attr = pango_attr_foreground_alpha_new (0.55 * G_MAXUINT16);
  attr->start_index = name_end + 1;
  pango_attr_list_insert (attrs, attr);
  gtk_label_set_text (text, shown->str);
  gtk_label_set_attributes (text, attrs);

  badge_text = g_strdup_printf ("%u", unread);
  gtk_label_set_text (badge, badge_text);
  gtk_widget_set_visible (GTK_WIDGET (badge), unread > 0);

  if (wait_text != NULL)
    /* Translators: a conversation row for screen readers: name, channel and queue, how long
     * the customer has waited for an answer, unread count */
    accessible =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %s, waiting %s, %u unread message",
                                      "%s, %s, waiting %s, %u unread messages", unread),
                         name, status_text, wait_text, unread);
  else
    accessible = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %s, %u unread message",
                                               "%s, %s, %u unread messages", unread),
                                  name, status_text, unread);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

void
_cx_agent_window_conversation_row_setup_cb (GtkSignalListItemFactory *factory,
                                            GtkListItem *list_item, CxAgentWindow *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *text = gtk_label_new (NULL);
  GtkWidget *badge = gtk_label_new (NULL);

  gtk_widget_add_css_class (row, "conversation-row");
  gtk_widget_set_hexpand (text, TRUE);
  gtk_label_set_xalign (GTK_LABEL (text), 0);
  gtk_label_set_lines (GTK_LABEL (text), 2);
  gtk_label_set_ellipsize (GTK_LABEL (text), PANGO_ELLIPSIZE_END);
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "unread-badge");
  gtk_box_append (GTK_BOX (row), text);
  gtk_box_append (GTK_BOX (row), badge);
  g_object_set_data (G_OBJECT (row), "text", text);
  g_object_set_data (G_OBJECT (row), "badge", badge);
  g_object_set_data (G_OBJECT (list_item), "cx-window", self);
  gtk_list_item_set_child (list_item, row);
}

void
_cx_agent_window_conversation_row_bind_cb (GtkSignalListItemFactory *factory,
                                           GtkListItem *list_item, CxAgentWindow *self)
{
  g_ptr_array_add (self->bound_items, list_item);
  g_signal_connect_object (gtk_list_item_get_item (list_item), "notify",
                           G_CALLBACK (update_conversation_row), list_item, G_CONNECT_SWAPPED);
  update_conversation_row (list_item);
}

void
_cx_agent_window_conversation_row_unbind_cb (GtkSignalListItemFactory *factory,
                                             GtkListItem *list_item, CxAgentWindow *self)
{
  g_ptr_array_remove_fast (self->bound_items, list_item);
  g_signal_handlers_disconnect_by_data (gtk_list_item_get_item (list_item), list_item);
}

/* The selected row's count is seen: every row on screen is brought up to date. */
void
_cx_agent_window_refresh_rows (CxAgentWindow *self)
{
  for (guint i = 0; i < self->bound_items->len; i++)
    update_conversation_row (g_ptr_array_index (self->bound_items, i));
  _cx_agent_window_update_title (self);
}

gboolean
_cx_agent_window_wait_refresh_cb (gpointer user_data)
{
  _cx_agent_window_refresh_rows (user_data);
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

gboolean
_cx_agent_window_transcript_filter_func (gpointer item, gpointer user_data)
{
  CxMessage *message = cx_agent_transcript_item_get_message (item);

  return message->type != CX_MESSAGE_TYPING_STARTED && message->type != CX_MESSAGE_TYPING_STOPPED &&
         !is_queue_notice (message);
}

void
_cx_agent_window_transcript_row_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                                          CxAgentWindow *self)
{
  gtk_list_item_set_child (list_item, cx_agent_message_row_new ());
  gtk_list_item_set_activatable (list_item, FALSE);
}

void
_cx_agent_window_transcript_row_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *list_item,
                                         CxAgentWindow *self)
{
  CxMessage *message = cx_agent_transcript_item_get_message (gtk_list_item_get_item (list_item));

  cx_agent_message_row_set_message (CX_AGENT_MESSAGE_ROW (gtk_list_item_get_child (list_item)),
                                    message);
}

/* The transcript follows new messages while it is scrolled to the end. */
void
_cx_agent_window_transcript_adjustment_value_cb (GtkAdjustment *adjustment, GParamSpec *pspec,
                                                 CxAgentWindow *self)
{
  self->at_bottom =
      gtk_adjustment_get_value (adjustment) >=
      gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment) - 2;
}

void
_cx_agent_window_transcript_adjustment_upper_cb (GtkAdjustment *adjustment, GParamSpec *pspec,
                                                 CxAgentWindow *self)
{
  if (self->at_bottom)
    gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) -
                                              gtk_adjustment_get_page_size (adjustment));
}
