/* cx-agent-pick-list.h: the scrolled list both of the agent window's pickers show (the canned
 * responses and the quick switcher).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWidget *cx_agent_pick_list_new (const char *accessible_label, const char *placeholder_text,
                                   int placeholder_margin, int max_height, GtkListBox **list);

G_END_DECLS
