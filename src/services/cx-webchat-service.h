/* cx-webchat-service.h: CxWebChatService, the "WebChatService" plugin of one window's bus: the
 * customer side of a GMS Chat API v2 chat (start, send, typing, end), its transport
 * (the cxdesk-server push socket, or GMS refresh polling), and the session cookies that let
 * every window of a site share one chat (reference §2-§4, DESIGN.md "Sessions, cookies and
 * windows").
 *
 * Commands (JSON data → result):
 *   startChat {nickname | firstname + lastname, email, subject, userData{}} → {chatId}; a
 *     chat already running in this window or, through the cookies, in another window of the
 *     site is answered instead of starting a second one
 *   sendMessage {message, serial?} → {index} once the server has stored it; queued in order,
 *     also while the server is offline (give such a call a long timeout: it waits for the
 *     server). Its row is in the transcript model at once; "serial", a failed row's, sends
 *     that row again
 *   sendTyping {message?} → null; stopTyping follows 5 s after the last call
 *   endChat → null, after "ended"
 *   restore → {chatId}; getTranscript → {messages, complete, error?}: every entry of the
 *     chat, in index order (the pages older than those held are read first, as the rows of the
 *     transcript model too); if they cannot be (the server fails, the chat ended and its keys
 *     are gone), the entries held with "complete": false and "error" saying why
 *   getSessionData → {chatId, userId, alias}
 *   loadEarlier → {messages, more}: the page of the transcript before the first entry held (a
 *     restore reads the newest page only, from a server that pages: API.md), "more" whether
 *     there are older ones still
 *   getFileLimits → GMS's file limits (upload-max-files, upload-max-file-size, …)
 *   sendFile {path} → {file-id, file-name, file-size, file-type} once the server has it; the
 *     file is checked against those limits before it is read (the FileUploaded entry then
 *     comes like any other)
 *   savePanelState {state: open | minimized | closed, unreadMessages} → null: kept in the
 *     site's cookies for the chat and given to the windows that restore it (restored's "panel")
 *   startPoll, stopPoll → null (the periodic refresh; the push socket is not affected)
 *   poll → null (private: any commander but WebChatService gets CX_BUS_ERROR_ACCESS_DENIED)
 * State, for the chat panel to bind: cx_webchat_service_get_messages(), the transcript as a
 *   GListModel of CxChatMessage (the entries that make a row, in index order; the customer's
 *   own messages from the moment sendMessage is called, "sending" until the server has them,
 *   then "sent" with their index, or "failed"; the notices of this window), and "agent-name".
 *   The same transcript goes on the bus as events, for page scripts and the Console.
 * Events: ready, started {chatId}, restored {chatId, messages (the newest page), more
 *   (older entries were not read: getTranscript has them all), panel?},
 *   restoreTimeout, restoreFailed {message}, messageReceived {messages} (each transcript entry
 *   once, in index order), agentConnected / agentDisconnected {nickname}, agentTypingStarted
 *   {nickname, text}, agentTypingStopped {nickname}, ended {chatId}, error {message},
 *   chatServerWentOffline, chatServerBackOnline. Messages are GMS transcript entries; their
 *   text is never markup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

/* The namespace the service registers on its bus. */
#define CX_WEBCHAT_SERVICE_NAME "WebChatService"

/* The state cookies, on the site's cookie domain: the prefix followed by "session" (chat id),
 * "keys" ({secureKey, alias, userId}), "ping" (ms since the epoch of the last good exchange),
 * "index" (next transcript position) and "chatStartLock" (ms since the epoch). */
#define CX_WEBCHAT_COOKIE_PREFIX "_genesys.widgets.webchat.state."

#define CX_TYPE_WEBCHAT_SERVICE (cx_webchat_service_get_type ())

G_DECLARE_FINAL_TYPE (CxWebChatService, cx_webchat_service, CX, WEBCHAT_SERVICE, GObject)

CxWebChatService *cx_webchat_service_new (CxBus *bus, CxHttp *http, const char *site_url,
                                          JsonObject *config, GError **error);

CxPlugin *cx_webchat_service_get_plugin (CxWebChatService *self);
const char *cx_webchat_service_get_site_url (CxWebChatService *self);
const char *cx_webchat_service_get_chat_id (CxWebChatService *self);
gboolean cx_webchat_service_get_uses_push (CxWebChatService *self);
GListModel *cx_webchat_service_get_messages (CxWebChatService *self);
const char *cx_webchat_service_get_agent_name (CxWebChatService *self);
void cx_webchat_service_add_notice (CxWebChatService *self, const char *sender, const char *text);
void cx_webchat_service_clear_transcript (CxWebChatService *self);

G_END_DECLS
