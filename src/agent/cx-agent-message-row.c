/* cx-agent-message-row.c: CxAgentMessageRow, one message of the agent's transcript view (a
 * template widget, as gnome-text-editor's list rows are): the sender and the time above the
 * text; a notice (someone joined or left, a system line) is one line with its time after it.
 * The row is recycled by the list view: set_message() sets every label and style class.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-message-row"

#include "config.h"

#include <glib/gi18n.h>

#include "agent/cx-agent-message-row.h"

struct _CxAgentMessageRow
{
  GtkWidget parent_instance;

  /* Template children */
  GtkLabel *sender_label;
  GtkLabel *time_label;
  GtkLabel *text_label;
};

G_DEFINE_FINAL_TYPE (CxAgentMessageRow, cx_agent_message_row, GTK_TYPE_WIDGET)

/**
 * cx_agent_message_row_set_message:
 * @self: a #CxAgentMessageRow
 * @message: the message to show
 */
void
cx_agent_message_row_set_message (CxAgentMessageRow *self, const CxMessage *message)
{
  g_autoptr (GDateTime) time = NULL;
  g_autofree char *time_text = NULL;
  g_autofree char *notice = NULL;
  const char *sender;
  gboolean is_notice;

  g_return_if_fail (CX_IS_AGENT_MESSAGE_ROW (self));
  g_return_if_fail (message != NULL);

  time = g_date_time_new_from_unix_local (message->utc_time / 1000);
  time_text = time != NULL ? g_date_time_format (time, "%H:%M") : NULL;
  sender = message->from_nickname;
  is_notice = message->type != CX_MESSAGE_TEXT;

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
  gtk_widget_set_visible (GTK_WIDGET (self->sender_label), !is_notice);
  gtk_widget_set_visible (GTK_WIDGET (self->time_label), !is_notice);
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
    gtk_widget_add_css_class (GTK_WIDGET (self->sender_label), "transcript-agent");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->sender_label), "transcript-agent");
  gtk_label_set_text (self->sender_label, sender);
  gtk_label_set_text (self->time_label, time_text != NULL ? time_text : "");
  gtk_label_set_text (self->text_label,
                      notice != NULL ? notice : (message->text != NULL ? message->text : ""));
  if (is_notice)
    gtk_widget_add_css_class (GTK_WIDGET (self->text_label), "transcript-notice");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->text_label), "transcript-notice");
}

GtkWidget *
cx_agent_message_row_new (void)
{
  return g_object_new (CX_TYPE_AGENT_MESSAGE_ROW, NULL);
}

static void
cx_agent_message_row_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), CX_TYPE_AGENT_MESSAGE_ROW);

  G_OBJECT_CLASS (cx_agent_message_row_parent_class)->dispose (object);
}

static void
cx_agent_message_row_class_init (CxAgentMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_agent_message_row_dispose;

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/cxdesk/CxDesk/Agent/cx-agent-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, CxAgentMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, CxAgentMessageRow, text_label);
}

static void
cx_agent_message_row_init (CxAgentMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
