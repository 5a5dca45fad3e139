/* cx-agent-service.h: CxAgentService, the agent app's one session with cxdesk-server: the agent
 * side of its /cx/1 API (sign-in, state, invitations, chats, callbacks, canned responses), its
 * one event socket, and one GListModel of conversations for every window.
 *
 * The application holds ONE service (DESIGN.md "Sessions, cookies and windows"). Each window is
 * a view of it: the window attaches its own bus (cx_agent_service_attach()), which gets an
 * "AgentService" plugin whose commands go to the shared session and which hears every event of
 * it, so the window's plugins and its Console work as they would on a page. Signing in or out
 * from any window signs in or out the session, and so every window; the HttpOnly session cookie
 * lives in the app's one CxHttp cookie jar, which only carries it to the server.
 *
 * Commands (JSON data → result):
 *   signIn {username, password} → the agent {username, displayName, state, reason, capacity,
 *     queues}; signOut → null; restore → the agent, with the session the app already has
 *   setState {state: "ready" | "not_ready" | "offline", reason?} → the agent
 *   accept {chatId} → the chat; decline {chatId} → null
 *   send {chatId, text} → {index}; typing {chatId, typing} → null (a true is followed by a
 *     false 5 s after the last true, automatically); end {chatId} → null;
 *   transfer {chatId, queue | agent} → null
 *   getChats → {chats}; getTranscript {chatId, from?} → {chatId, messages, nextPosition}
 *   getCallbacks → {callbacks}; completeCallback {id} → the callback;
 *   rescheduleCallback {id, desiredTime} → the callback; getCanned → {responses}
 *   dismiss {chatId} → null: closes an ended or left conversation: it leaves the list of every
 *     window
 * Events: signedIn {agent}, signedOut {}, stateChanged {state, reason}, invitation {chatId,
 *   queue, customer{nickname, firstName, lastName, email, subject}, userData, waitingSince,
 *   expiresAt}, invitationWithdrawn {chatId, reason}, chatAccepted {chatId}, messageReceived
 *   {chatId, messages} (each transcript entry once per chat, in index order),
 *   customerTypingStarted {chatId, text}, customerTypingStopped {chatId}, chatLeft {chatId} (this
 *   agent is no longer in the chat: transferred, or ended by the agent), chatEnded {chatId},
 *   callbacksChanged {}, connectionLost {}, connectionRestored {}, error {message}.
 * Text from the network is passed through untouched: it is never markup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "protocol/cx-message.h"
#include "services/cx-agent-conversation.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

/* The namespace the service registers on its bus. */
#define CX_AGENT_SERVICE_NAME "AgentService"

#define CX_AGENT_SERVICE_ERROR (cx_agent_service_error_quark ())

/**
 * CxAgentServiceError:
 * @CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN: there is no session: never signed in, signed out (here
 *   or in another window), or the server no longer knows the session
 * @CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS: signIn: the server refused the name or password
 * @CX_AGENT_SERVICE_ERROR_INVALID: the command's data is missing something or malformed
 * @CX_AGENT_SERVICE_ERROR_REFUSED: the server refused the request (a 4xx other than 401); the
 *   message says why
 * @CX_AGENT_SERVICE_ERROR_BAD_REPLY: the server's reply is not what the API documents
 * @CX_AGENT_SERVICE_ERROR_BUSY: signing in or out is already under way
 *
 * Network failures and timeouts are reported as %CX_HTTP_ERROR, a closed window as
 * %CX_BUS_ERROR_SHUT_DOWN.
 */
typedef enum
{
  CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN,
  CX_AGENT_SERVICE_ERROR_WRONG_CREDENTIALS,
  CX_AGENT_SERVICE_ERROR_INVALID,
  CX_AGENT_SERVICE_ERROR_REFUSED,
  CX_AGENT_SERVICE_ERROR_BAD_REPLY,
  CX_AGENT_SERVICE_ERROR_BUSY,
} CxAgentServiceError;

GQuark cx_agent_service_error_quark (void);

/* The service */

#define CX_TYPE_AGENT_SERVICE (cx_agent_service_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentService, cx_agent_service, CX, AGENT_SERVICE, GObject)

CxAgentService *cx_agent_service_new (CxHttp *http, const char *server_url, GError **error);

CxPlugin *cx_agent_service_attach (CxAgentService *self, CxBus *bus, GError **error);
void cx_agent_service_detach (CxAgentService *self, CxBus *bus);
guint cx_agent_service_get_n_windows (CxAgentService *self);
CxHttp *cx_agent_service_get_http (CxAgentService *self);
const char *cx_agent_service_get_server_url (CxAgentService *self);
gboolean cx_agent_service_get_signed_in (CxAgentService *self);
const char *cx_agent_service_get_username (CxAgentService *self);
const char *cx_agent_service_get_state (CxAgentService *self);
const char *cx_agent_service_get_display_name (CxAgentService *self);
const char *cx_agent_service_get_reason (CxAgentService *self);
const char *const *cx_agent_service_get_queues (CxAgentService *self);
gboolean cx_agent_service_get_connected (CxAgentService *self);
GListModel *cx_agent_service_get_conversations (CxAgentService *self);
guint cx_agent_service_get_malformed_frames (CxAgentService *self);

G_END_DECLS
