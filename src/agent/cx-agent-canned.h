/* cx-agent-canned.h: the canned responses of the composer: the list AgentService.getCanned
 * returns, as a menu model for the composer's menu button and as the popover that typing "/"
 * at the start of the composer opens, filtered by what follows the "/".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define CX_TYPE_AGENT_CANNED (cx_agent_canned_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentCanned, cx_agent_canned, CX, AGENT_CANNED, GtkPopover)

GtkWidget *cx_agent_canned_new (const char *action_name);
void cx_agent_canned_set_responses (CxAgentCanned *self, JsonNode *reply);
guint cx_agent_canned_get_n_responses (CxAgentCanned *self);
GMenuModel *cx_agent_canned_get_menu (CxAgentCanned *self);
guint cx_agent_canned_set_query (CxAgentCanned *self, const char *query);
void cx_agent_canned_move (CxAgentCanned *self, int delta);
const char *cx_agent_canned_get_selected_text (CxAgentCanned *self);

G_END_DECLS
