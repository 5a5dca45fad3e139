/* cx-agent-callbacks.h: CxAgentCallbacks, the agent workspace's callbacks view: the callbacks of
 * the services the agent serves, in three sections (due now, scheduled, done), with Call,
 * Complete and Reschedule on each open one. It talks to the window's "AgentService" through
 * the window's bus only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

#define CX_TYPE_AGENT_CALLBACKS (cx_agent_callbacks_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentCallbacks, cx_agent_callbacks, CX, AGENT_CALLBACKS, GtkWidget)

GtkWidget *cx_agent_callbacks_new (void);

/* The window's bus, with its "AgentService": the view lists the callbacks and refreshes on
 * AgentService.callbacksChanged and signedIn; empty when signed out. */
void cx_agent_callbacks_set_bus (CxAgentCallbacks *self, CxBus *bus);

/* The number of open callbacks whose desired time has passed: property "n-due", notified. */
guint cx_agent_callbacks_get_n_due (CxAgentCallbacks *self);

G_END_DECLS
