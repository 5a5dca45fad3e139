/* cx-agent-pick-list.c: the list a picker popover of the agent window shows (the canned
 * responses, the quick switcher): one row chosen at a time (browse selection, moved with the
 * arrows by its owner), a dim placeholder when nothing matches, and a scrolled window that
 * grows with the rows up to a height.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-pick-list"

#include "config.h"

#include "agent/cx-agent-pick-list.h"

/**
 * cx_agent_pick_list_new:
 * @accessible_label: (translated): what a screen reader calls the list
 * @placeholder_text: (translated): what the list says when it has no row
 * @placeholder_margin: the placeholder's margin above and below
 * @max_height: the height the list scrolls from
 * @list: (out) (transfer none): the list box, for its owner's rows and row-activated
 *
 * Returns: (transfer floating): the scrolled window holding the list
 */
GtkWidget *
cx_agent_pick_list_new (const char *accessible_label, const char *placeholder_text,
                        int placeholder_margin, int max_height, GtkListBox **list)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *placeholder = gtk_label_new (placeholder_text);
  GtkListBox *box = GTK_LIST_BOX (gtk_list_box_new ());

  gtk_list_box_set_selection_mode (box, GTK_SELECTION_BROWSE);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, placeholder_margin);
  gtk_widget_set_margin_bottom (placeholder, placeholder_margin);
  gtk_list_box_set_placeholder (box, placeholder);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible_label, -1);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), max_height);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (box));

  *list = box;
  return scrolled;
}
