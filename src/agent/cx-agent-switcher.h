/* cx-agent-switcher.h: the quick switcher (Ctrl+K): a popover with a search entry over the
 * window's conversations (customer name, queue, last message); arrows move, Enter chooses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "services/cx-agent-service.h"

G_BEGIN_DECLS

#define CX_TYPE_AGENT_SWITCHER (cx_agent_switcher_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentSwitcher, cx_agent_switcher, CX, AGENT_SWITCHER, GtkPopover)

GtkWidget *cx_agent_switcher_new (void);
void cx_agent_switcher_set_model (CxAgentSwitcher *self, GListModel *conversations);
void cx_agent_switcher_popup (CxAgentSwitcher *self);
GtkEditable *cx_agent_switcher_get_entry (CxAgentSwitcher *self);
guint cx_agent_switcher_get_n_matches (CxAgentSwitcher *self);

G_END_DECLS
