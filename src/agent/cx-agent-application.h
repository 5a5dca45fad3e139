/* cx-agent-application.h: the agent workspace application.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "services/cx-agent-service.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

#define CX_AGENT_APPLICATION_ID "io.github.cxdesk.CxDesk.Agent"
#define CX_AGENT_DEFAULT_SERVER "http://127.0.0.1:8080"

#define CX_TYPE_AGENT_APPLICATION (cx_agent_application_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentApplication, cx_agent_application, CX, AGENT_APPLICATION,
                      GtkApplication)

CxAgentApplication *cx_agent_application_new (const char *application_id, GApplicationFlags flags);
CxHttp *cx_agent_application_get_http (CxAgentApplication *self);
const char *cx_agent_application_get_server_url (CxAgentApplication *self);
gboolean cx_agent_application_set_server_url (CxAgentApplication *self, const char *server_url,
                                              GError **error);
CxAgentService *cx_agent_application_get_service (CxAgentApplication *self, GError **error);
GtkWindow *cx_agent_application_new_window (CxAgentApplication *self);
void cx_agent_application_set_sign_in (CxAgentApplication *self, const char *username,
                                       const char *password);
GtkWindow *cx_agent_application_open_chat_window (CxAgentApplication *self, const char *chat_id);
void cx_agent_application_notify_invitation (CxAgentApplication *self, const char *chat_id,
                                             const char *customer, const char *queue);
void cx_agent_application_withdraw_invitation (CxAgentApplication *self, const char *chat_id);
gboolean cx_agent_application_get_invitation_notified (CxAgentApplication *self,
                                                       const char *chat_id);

G_END_DECLS
