/* cx-chat-row.c: the widget that shows one CxChatMessage in the chat transcript: sender,
 * time, the text (wrapping, selectable, never markup) and, for the customer's own messages,
 * whether it was sent, with a Retry button when it was not.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-chat-row"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets/cx-chat-row.h"

struct _CxChatRow
{
  GtkWidget parent_instance;

  CxChatMessage *message;

  GtkWidget *bubble;
  GtkWidget *heading;
  GtkLabel *sender_label;
  GtkLabel *time_label;
  GtkLabel *text_label;
  GtkWidget *status_box;
  GtkLabel *status_label;
  GtkWidget *retry_button;
};

G_DEFINE_FINAL_TYPE (CxChatRow, cx_chat_row, GTK_TYPE_WIDGET)

static const char *const kind_classes[] = {
  [CX_CHAT_MESSAGE_OWN] = "cx-own",
  [CX_CHAT_MESSAGE_AGENT] = "cx-agent",
  [CX_CHAT_MESSAGE_SYSTEM] = "cx-system",
  [CX_CHAT_MESSAGE_EVENT] = "cx-event",
};

static char *
format_time (gint64 utc_time_ms)
{
  g_autoptr (GDateTime) time = NULL;

  if (utc_time_ms <= 0)
    return g_strdup ("");

  time = g_date_time_new_from_unix_local (utc_time_ms / 1000);
  if (time == NULL)
    return g_strdup ("");

  /* Translators: the time of a chat message, see g_date_time_format() */
  return g_date_time_format (time, C_ ("message time", "%H:%M"));
}

static void
update_status (CxChatRow *self)
{
  CxChatMessageStatus status = cx_chat_message_get_status (self->message);
  g_autofree char *text = NULL;
  gboolean failed = status == CX_CHAT_MESSAGE_STATUS_FAILED;

  switch (status)
    {
      case CX_CHAT_MESSAGE_STATUS_SENDING:
        text = g_strdup (_ ("Sending…"));
        break;

      case CX_CHAT_MESSAGE_STATUS_UNCERTAIN:
        /* No answer yet: the chat's transcript will say whether it arrived. */
        text = g_strdup (_ ("Checking whether it was sent…"));
        break;

      case CX_CHAT_MESSAGE_STATUS_SENT:
        text = g_strdup (_ ("Sent"));
        break;

      case CX_CHAT_MESSAGE_STATUS_FAILED:
        /* The service's reason is for support staff (it names addresses and HTTP statuses):
         * the customer reads that it failed, the reason is in the tooltip. */
        text = g_strdup (_ ("Not sent"));
        break;

      case CX_CHAT_MESSAGE_STATUS_NONE:
      default:
        break;
    }

  gtk_widget_set_visible (self->status_box, text != NULL);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label),
                               failed ? cx_chat_message_get_error (self->message) : NULL);
  /* Retry is offered while it can work: its action is disabled once the chat is over. */
  gtk_widget_set_visible (self->retry_button,
                          failed && gtk_widget_get_sensitive (self->retry_button));

  if (failed)
    gtk_widget_add_css_class (self->bubble, "cx-failed");
  else
    gtk_widget_remove_css_class (self->bubble, "cx-failed");
  if (status == CX_CHAT_MESSAGE_STATUS_SENDING || status == CX_CHAT_MESSAGE_STATUS_UNCERTAIN)
    gtk_widget_add_css_class (self->bubble, "cx-sending");
  else
    gtk_widget_remove_css_class (self->bubble, "cx-sending");
}

static void
message_notify_cb (CxChatRow *self, GParamSpec *pspec, CxChatMessage *message)
{
  update_status (self);
}

static void
retry_sensitive_cb (CxChatRow *self, GParamSpec *pspec, GtkWidget *button)
{
  if (self->message != NULL)
    update_status (self);
}

static void
update_all (CxChatRow *self)
{
  CxChatMessageKind kind = cx_chat_message_get_kind (self->message);
  const char *sender = cx_chat_message_get_sender (self->message);
  g_autofree char *time = format_time (cx_chat_message_get_time (self->message));
  gboolean centered = kind == CX_CHAT_MESSAGE_SYSTEM || kind == CX_CHAT_MESSAGE_EVENT;

  for (guint i = 0; i < G_N_ELEMENTS (kind_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self), kind_classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self), kind_classes[kind]);

  gtk_label_set_text (self->sender_label, sender != NULL ? sender : "");
  gtk_widget_set_visible (GTK_WIDGET (self->sender_label), sender != NULL);
  gtk_label_set_text (self->time_label, time);
  gtk_label_set_text (self->text_label, cx_chat_message_get_text (self->message));

  /* The customer's on the right, the agent's on the left, notices in the middle. */
  gtk_widget_set_halign (self->bubble, kind == CX_CHAT_MESSAGE_OWN ? GTK_ALIGN_END
                                       : centered                  ? GTK_ALIGN_CENTER
                                                                   : GTK_ALIGN_START);
  gtk_widget_set_halign (self->heading, centered ? GTK_ALIGN_CENTER : GTK_ALIGN_FILL);
  gtk_label_set_justify (self->text_label, centered ? GTK_JUSTIFY_CENTER : GTK_JUSTIFY_LEFT);
  gtk_label_set_xalign (self->text_label, centered ? 0.5f : 0.0f);

  /* The retry handle: the target first, so the button never names the action without one. */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->retry_button), "u",
                                    cx_chat_message_get_serial (self->message));
  if (gtk_actionable_get_action_name (GTK_ACTIONABLE (self->retry_button)) == NULL)
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->retry_button), "webchat.retry");

  update_status (self);
}

static void
cx_chat_row_dispose (GObject *object)
{
  GtkWidget *child;
  CxChatRow *self = CX_CHAT_ROW (object);

  cx_chat_row_set_message (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_CHAT_ROW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_chat_row_parent_class)->dispose (object);
}

static void
cx_chat_row_class_init (CxChatRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_chat_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-chat-row.ui");
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, heading);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, text_label);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, status_box);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, CxChatRow, retry_button);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cxchatrow");
}

static void
cx_chat_row_init (CxChatRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->retry_button, "notify::sensitive", G_CALLBACK (retry_sensitive_cb),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
cx_chat_row_new (void)
{
  return g_object_new (CX_TYPE_CHAT_ROW, NULL);
}

/**
 * cx_chat_row_get_message:
 *
 * Returns: (transfer none) (nullable): the message shown
 */
CxChatMessage *
cx_chat_row_get_message (CxChatRow *self)
{
  g_return_val_if_fail (CX_IS_CHAT_ROW (self), NULL);

  return self->message;
}

/**
 * cx_chat_row_set_message:
 * @message: (nullable): the message to show, or %NULL when the row is recycled
 */
void
cx_chat_row_set_message (CxChatRow *self, CxChatMessage *message)
{
  g_return_if_fail (CX_IS_CHAT_ROW (self));
  g_return_if_fail (message == NULL || CX_IS_CHAT_MESSAGE (message));

  if (self->message == message)
    return;

  if (self->message != NULL)
    g_signal_handlers_disconnect_by_func (self->message, message_notify_cb, self);
  g_set_object (&self->message, message);
  if (message == NULL)
    return;

  g_signal_connect_object (message, "notify::status", G_CALLBACK (message_notify_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (message, "notify::error", G_CALLBACK (message_notify_cb), self,
                           G_CONNECT_SWAPPED);
  update_all (self);
}

/**
 * cx_chat_row_get_text_label:
 *
 * Returns: (transfer none): the label with the message's text (for tests and accessibility)
 */
GtkLabel *
cx_chat_row_get_text_label (CxChatRow *self)
{
  g_return_val_if_fail (CX_IS_CHAT_ROW (self), NULL);

  return self->text_label;
}
