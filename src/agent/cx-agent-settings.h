/* cx-agent-settings.h: what the agent application remembers between launches.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "agent/cx-agent-application.h"

G_BEGIN_DECLS

void cx_agent_settings_restore_sign_in (CxAgentApplication *application, gboolean have_server,
                                        gboolean have_user);
void cx_agent_settings_attach (CxAgentApplication *application);

G_END_DECLS
