/* cx-agent-message-row.h: CxAgentMessageRow, one message of the agent's transcript view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "services/cx-agent-service.h"

G_BEGIN_DECLS

#define CX_TYPE_AGENT_MESSAGE_ROW (cx_agent_message_row_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentMessageRow, cx_agent_message_row, CX, AGENT_MESSAGE_ROW, GtkWidget)

GtkWidget *cx_agent_message_row_new (void);
void cx_agent_message_row_set_message (CxAgentMessageRow *self, const CxMessage *message);

G_END_DECLS
