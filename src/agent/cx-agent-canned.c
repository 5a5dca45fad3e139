/* cx-agent-canned.c: the canned responses of the composer (see the header).
 *
 * The popover never takes the focus: the composer keeps it and forwards Up, Down, Enter and
 * Escape (cx_agent_canned_move, cx_agent_canned_get_selected_text); a click on a row activates
 * the action given at construction with the response's text as target, as the menu's items do.
 * Titles and texts come from the server: plain text only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-canned"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "agent/cx-agent-canned.h"
#include "agent/cx-agent-pick-list.h"
#include "protocol/cx-protocol.h"

typedef struct
{
  char *title;
  char *text;
} Response;

struct _CxAgentCanned
{
  GtkPopover parent_instance;

  char *action_name;
  GArray *responses; /* Response */
  GMenu *menu;
  GtkListBox *list;
  GArray *shown; /* guint: index in responses, one per row */
};

G_DEFINE_FINAL_TYPE (CxAgentCanned, cx_agent_canned, GTK_TYPE_POPOVER)

static void
response_clear (gpointer data)
{
  Response *response = data;

  g_free (response->title);
  g_free (response->text);
}

static void
row_activated_cb (CxAgentCanned *self, GtkListBoxRow *row)
{
  int index = gtk_list_box_row_get_index (row);
  Response *response;

  if (index < 0 || (guint) index >= self->shown->len)
    return;
  response =
      &g_array_index (self->responses, Response, g_array_index (self->shown, guint, (guint) index));
  gtk_widget_activate_action (GTK_WIDGET (self), self->action_name, "s", response->text);
}

static void
cx_agent_canned_finalize (GObject *object)
{
  CxAgentCanned *self = CX_AGENT_CANNED (object);

  g_free (self->action_name);
  g_array_unref (self->responses);
  g_array_unref (self->shown);
  g_clear_object (&self->menu);

  G_OBJECT_CLASS (cx_agent_canned_parent_class)->finalize (object);
}

static void
cx_agent_canned_class_init (CxAgentCannedClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cx_agent_canned_finalize;
}

static void
cx_agent_canned_init (CxAgentCanned *self)
{
  GtkWidget *scrolled;

  self->responses = g_array_new (FALSE, TRUE, sizeof (Response));
  g_array_set_clear_func (self->responses, response_clear);
  self->shown = g_array_new (FALSE, FALSE, sizeof (guint));
  self->menu = g_menu_new ();

  scrolled = cx_agent_pick_list_new (_ ("Canned responses"), _ ("No canned response matches"), 6,
                                     280, &self->list);
  g_signal_connect_object (self->list, "row-activated", G_CALLBACK (row_activated_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_set_size_request (scrolled, 320, -1);

  gtk_popover_set_child (GTK_POPOVER (self), scrolled);
  gtk_popover_set_position (GTK_POPOVER (self), GTK_POS_TOP);
  gtk_popover_set_autohide (GTK_POPOVER (self), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (self), FALSE);
  gtk_widget_set_can_focus (GTK_WIDGET (self), FALSE);
  gtk_widget_set_halign (GTK_WIDGET (self), GTK_ALIGN_START);
}

/**
 * cx_agent_canned_new:
 * @action_name: the action that inserts a response, with its text as a string target
 */
GtkWidget *
cx_agent_canned_new (const char *action_name)
{
  CxAgentCanned *self = g_object_new (CX_TYPE_AGENT_CANNED, NULL);

  self->action_name = g_strdup (action_name);
  return GTK_WIDGET (self);
}

/* @reply: AgentService.getCanned's {responses: [{id, title, text}]}; entries that are not
 * well formed are left out. NULL empties the list. */
void
cx_agent_canned_set_responses (CxAgentCanned *self, JsonNode *reply)
{
  JsonObject *object;
  JsonNode *node;
  JsonArray *array;

  g_return_if_fail (CX_IS_AGENT_CANNED (self));

  g_array_set_size (self->responses, 0);
  g_menu_remove_all (self->menu);

  object = reply != NULL && JSON_NODE_HOLDS_OBJECT (reply) ? json_node_get_object (reply) : NULL;
  node = object != NULL ? json_object_get_member (object, "responses") : NULL;
  array = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *title;
      const char *text;
      Response response;
      g_autoptr (GMenuItem) item = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      title = cx_json_get_string (json_node_get_object (element), "title");
      text = cx_json_get_string (json_node_get_object (element), "text");
      if (title == NULL || text == NULL)
        continue;

      response.title = g_strdup (title);
      response.text = g_strdup (text);
      g_array_append_val (self->responses, response);

      /* A title is a label, not a mnemonic: underscores are doubled to stay literal. */
      {
        g_auto (GStrv) parts = g_strsplit (title, "_", -1);
        g_autofree char *label = g_strjoinv ("__", parts);

        item = g_menu_item_new (label, NULL);
      }
      g_menu_item_set_action_and_target (item, self->action_name, "s", text);
      g_menu_append_item (self->menu, item);
    }

  cx_agent_canned_set_query (self, "");
}

guint
cx_agent_canned_get_n_responses (CxAgentCanned *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CANNED (self), 0);

  return self->responses->len;
}

/* Returns: (transfer none): the responses as a menu of the insert action */
GMenuModel *
cx_agent_canned_get_menu (CxAgentCanned *self)
{
  g_return_val_if_fail (CX_IS_AGENT_CANNED (self), NULL);

  return G_MENU_MODEL (self->menu);
}

static gboolean
matches (const char *haystack, const char *folded_needle)
{
  g_autofree char *folded = g_utf8_casefold (haystack, -1);

  return strstr (folded, folded_needle) != NULL;
}

/* Shows the responses whose title or text contains @query, the first selected.
 * Returns: how many match */
guint
cx_agent_canned_set_query (CxAgentCanned *self, const char *query)
{
  g_autofree char *needle = NULL;
  GtkWidget *row;

  g_return_val_if_fail (CX_IS_AGENT_CANNED (self), 0);

  needle = g_utf8_casefold (query != NULL ? query : "", -1);
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, row);
  g_array_set_size (self->shown, 0);

  for (guint i = 0; i < self->responses->len; i++)
    {
      Response *response = &g_array_index (self->responses, Response, i);
      GtkWidget *box;
      GtkWidget *label;

      if (*needle != '\0' && !matches (response->title, needle) &&
          !matches (response->text, needle))
        continue;

      box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_widget_add_css_class (box, "canned-row");
      label = gtk_label_new (response->title);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (label, "heading");
      gtk_box_append (GTK_BOX (box), label);
      label = gtk_label_new (response->text);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_add_css_class (label, "caption");
      gtk_box_append (GTK_BOX (box), label);
      gtk_list_box_append (self->list, box);
      row = gtk_widget_get_parent (box);
      gtk_widget_set_focusable (row, FALSE);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      response->title, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      response->text, -1);
      g_array_append_val (self->shown, i);
    }

  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, 0));
  return self->shown->len;
}

/* Moves the selection @delta rows, wrapping around. */
void
cx_agent_canned_move (CxAgentCanned *self, int delta)
{
  GtkListBoxRow *row;
  int n;
  int index;

  g_return_if_fail (CX_IS_AGENT_CANNED (self));

  n = (int) self->shown->len;
  if (n == 0)
    return;
  row = gtk_list_box_get_selected_row (self->list);
  index = row != NULL ? gtk_list_box_row_get_index (row) : 0;
  index = ((index + delta) % n + n) % n;
  row = gtk_list_box_get_row_at_index (self->list, index);
  gtk_list_box_select_row (self->list, row);
}

/* Returns: (nullable): the selected response's text */
const char *
cx_agent_canned_get_selected_text (CxAgentCanned *self)
{
  GtkListBoxRow *row;
  int index;

  g_return_val_if_fail (CX_IS_AGENT_CANNED (self), NULL);

  row = gtk_list_box_get_selected_row (self->list);
  index = row != NULL ? gtk_list_box_row_get_index (row) : -1;
  if (index < 0 || (guint) index >= self->shown->len)
    return NULL;
  return g_array_index (self->responses, Response,
                        g_array_index (self->shown, guint, (guint) index))
      .text;
}
