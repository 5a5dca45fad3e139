/* cx-agent-switcher.c: the quick switcher (see the header).
 *
 * The rows are built when the popover opens and again on each keystroke: a switcher lists the
 * few conversations one agent has at a time, so a GtkListBox is enough. The entry keeps the
 * focus; Up and Down move the selected row, Enter emits "chosen" with its conversation, Escape
 * closes. Text from the network is set as plain text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-switcher"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "agent/cx-agent-pick-list.h"
#include "agent/cx-agent-switcher.h"

struct _CxAgentSwitcher
{
  GtkPopover parent_instance;

  GListModel *model;
  GtkSearchEntry *entry;
  GtkListBox *list;
  GPtrArray *shown; /* CxAgentConversation, one per row */
};

G_DEFINE_FINAL_TYPE (CxAgentSwitcher, cx_agent_switcher, GTK_TYPE_POPOVER)

enum
{
  CHOSEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
conversation_name (CxAgentConversation *conversation)
{
  const char *nickname = cx_agent_conversation_get_nickname (conversation);

  return nickname != NULL && *nickname != '\0' ? nickname : _ ("Customer");
}

static const char *
last_message (CxAgentConversation *conversation)
{
  for (guint i = cx_agent_conversation_get_n_messages (conversation); i > 0; i--)
    {
      CxMessage *message = cx_agent_conversation_get_message (conversation, i - 1);

      if (message != NULL && message->type == CX_MESSAGE_TEXT && message->text != NULL)
        return message->text;
    }
  return NULL;
}

static gboolean
matches (const char *haystack, const char *folded_needle)
{
  g_autofree char *folded = NULL;

  if (haystack == NULL)
    return FALSE;
  folded = g_utf8_casefold (haystack, -1);
  return strstr (folded, folded_needle) != NULL;
}

static void
rebuild (CxAgentSwitcher *self)
{
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  g_autofree char *needle = g_utf8_casefold (query, -1);
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, row);
  g_ptr_array_set_size (self->shown, 0);

  for (guint i = 0; self->model != NULL && i < g_list_model_get_n_items (self->model); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (self->model, i);
      const char *name = conversation_name (conversation);
      const char *queue = cx_agent_conversation_get_queue (conversation);
      const char *last = last_message (conversation);
      GtkWidget *box;
      GtkWidget *label;
      g_autofree char *caption = NULL;

      if (*needle != '\0' && !matches (name, needle) && !matches (queue, needle) &&
          !matches (last, needle))
        continue;

      box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_widget_add_css_class (box, "switcher-row");
      label = gtk_label_new (name);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (label, "heading");
      gtk_box_append (GTK_BOX (box), label);
      /* Translators: a conversation in the quick switcher: its queue, then its last message */
      caption = last != NULL ? g_strdup_printf (_ ("%s · %s"), queue != NULL ? queue : "", last)
                             : g_strdup (queue != NULL ? queue : "");
      label = gtk_label_new (caption);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_add_css_class (label, "caption");
      gtk_box_append (GTK_BOX (box), label);
      gtk_list_box_append (self->list, box);
      gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_parent (box)),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      g_ptr_array_add (self->shown, g_object_ref (conversation));
    }

  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, 0));
}

static void
choose_row (CxAgentSwitcher *self, GtkListBoxRow *row)
{
  g_autoptr (CxAgentConversation) conversation = NULL;
  int index = row != NULL ? gtk_list_box_row_get_index (row) : -1;

  if (index < 0 || (guint) index >= self->shown->len)
    return;
  conversation = g_object_ref (g_ptr_array_index (self->shown, index));
  gtk_popover_popdown (GTK_POPOVER (self));
  g_signal_emit (self, signals[CHOSEN], 0, conversation);
}

static void
entry_activate_cb (CxAgentSwitcher *self)
{
  choose_row (self, gtk_list_box_get_selected_row (self->list));
}

static void
row_activated_cb (CxAgentSwitcher *self, GtkListBoxRow *row)
{
  choose_row (self, row);
}

static gboolean
entry_key_cb (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
              CxAgentSwitcher *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list);
  int index = row != NULL ? gtk_list_box_row_get_index (row) : -1;
  int n = (int) self->shown->len;

  if (n == 0)
    return FALSE;
  if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    index = (index + 1) % n;
  else if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
    index = (index - 1 + n) % n;
  else
    return FALSE;
  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, index));
  return TRUE;
}

static void
cx_agent_switcher_dispose (GObject *object)
{
  CxAgentSwitcher *self = CX_AGENT_SWITCHER (object);

  g_clear_object (&self->model);
  if (self->shown != NULL)
    g_ptr_array_set_size (self->shown, 0);

  G_OBJECT_CLASS (cx_agent_switcher_parent_class)->dispose (object);
}

static void
cx_agent_switcher_finalize (GObject *object)
{
  CxAgentSwitcher *self = CX_AGENT_SWITCHER (object);

  g_ptr_array_unref (self->shown);

  G_OBJECT_CLASS (cx_agent_switcher_parent_class)->finalize (object);
}

static void
cx_agent_switcher_class_init (CxAgentSwitcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_agent_switcher_dispose;
  object_class->finalize = cx_agent_switcher_finalize;

  /**
   * CxAgentSwitcher::chosen:
   * @conversation: the conversation the agent chose
   */
  signals[CHOSEN] = g_signal_new ("chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 1, CX_TYPE_AGENT_CONVERSATION);
}

static void
cx_agent_switcher_init (CxAgentSwitcher *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scrolled;
  GtkEventController *keys = gtk_event_controller_key_new ();

  self->shown = g_ptr_array_new_with_free_func (g_object_unref);

  self->entry = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  /* gtk_search_entry_set_placeholder_text() is GTK 4.10: the property is older. */
  g_object_set (self->entry, "placeholder-text", _ ("Go to a conversation"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Go to a conversation"), -1);
  g_signal_connect_object (self->entry, "changed", G_CALLBACK (rebuild), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->entry, "activate", G_CALLBACK (entry_activate_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->entry, "stop-search", G_CALLBACK (gtk_popover_popdown), self,
                           G_CONNECT_SWAPPED);
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (entry_key_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), keys);

  scrolled = cx_agent_pick_list_new (_ ("Conversations"), _ ("No conversation matches"), 12, 360,
                                     &self->list);
  g_signal_connect_object (self->list, "row-activated", G_CALLBACK (row_activated_cb), self,
                           G_CONNECT_SWAPPED);

  gtk_widget_set_size_request (box, 360, -1);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->entry));
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_popover_set_child (GTK_POPOVER (self), box);
  gtk_popover_set_position (GTK_POPOVER (self), GTK_POS_BOTTOM);
}

GtkWidget *
cx_agent_switcher_new (void)
{
  return g_object_new (CX_TYPE_AGENT_SWITCHER, NULL);
}

void
cx_agent_switcher_set_model (CxAgentSwitcher *self, GListModel *conversations)
{
  g_return_if_fail (CX_IS_AGENT_SWITCHER (self));

  g_set_object (&self->model, conversations);
  rebuild (self);
}

/* Opens with an empty query and the entry focused. */
void
cx_agent_switcher_popup (CxAgentSwitcher *self)
{
  g_return_if_fail (CX_IS_AGENT_SWITCHER (self));

  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  rebuild (self);
  gtk_popover_popup (GTK_POPOVER (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

GtkEditable *
cx_agent_switcher_get_entry (CxAgentSwitcher *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SWITCHER (self), NULL);

  return GTK_EDITABLE (self->entry);
}

guint
cx_agent_switcher_get_n_matches (CxAgentSwitcher *self)
{
  g_return_val_if_fail (CX_IS_AGENT_SWITCHER (self), 0);

  return self->shown->len;
}
