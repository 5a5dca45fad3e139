/* cx-agent-window.h: one agent workspace window, or a pop-out showing one conversation: its own
 * bus and AgentService on the application's CxHttp.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "agent/cx-agent-application.h"
#include "services/cx-agent-service.h"

G_BEGIN_DECLS

#define CX_TYPE_AGENT_WINDOW (cx_agent_window_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentWindow, cx_agent_window, CX, AGENT_WINDOW, GtkApplicationWindow)

CxAgentWindow *cx_agent_window_new (CxAgentApplication *application);
CxAgentWindow *cx_agent_window_new_for_chat (CxAgentApplication *application, const char *chat_id);
const char *cx_agent_window_get_chat_id (CxAgentWindow *self);
CxAgentService *cx_agent_window_get_service (CxAgentWindow *self);
CxBus *cx_agent_window_get_bus (CxAgentWindow *self);
CxAgentConversation *cx_agent_window_get_selected (CxAgentWindow *self);
void cx_agent_window_answer_invitation (CxAgentWindow *self, const char *chat_id, gboolean accept);
void cx_agent_window_sign_in (CxAgentWindow *self, const char *username, const char *password);

G_END_DECLS
