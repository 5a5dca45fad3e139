/* cx-webchat.h: CxWebChat, the "WebChat" UI plugin of one window's bus: the chat panel docked
 * at the side of the window (pre-chat form, transcript, composer). Commands go to
 * "WebChatService" over the bus; the transcript and the agent's name are the service's state,
 * bound (cx_webchat_set_service()).
 *
 * Commands (JSON data → result):
 *   open {form{firstname, lastname, email, subject}, autoSubmit} → null; rejects "already
 *     opened" when the panel is open
 *   close → null (hides the panel; a chat going on goes on, and open shows it again)
 *   minimize {minimized?} → null (toggles without "minimized")
 *   endChat → null once the chat has ended
 *   injectMessage {type: "text", name, text} → null: a notice shown in this window's transcript
 *     only (never sent; "html" is refused: nothing here is markup)
 *   showChatButton, hideChatButton → null: the page's "Chat with Us" button
 *     (property "chat-button-visible")
 * Events: ready, opened, closed, minimized, unminimized, submitted {form}, started {chatId,
 *   restored}, ended {chatId}, messageAdded {kind, name, text, time, index} (each row added
 *   but those of a restored transcript), injectedMessage {…}, chatButtonShown, chatButtonHidden,
 *   fileSent {file-id, file-name, …}, transcriptSaved.
 *
 * The panel's state (open, minimized with its unread count, closed) goes into the site's
 * cookies with the chat (WebChatService.savePanelState); a window that restores the chat shows
 * the panel as it was.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"
#include "services/cx-webchat-service.h"

G_BEGIN_DECLS

/* The namespace the panel registers on its bus. */
#define CX_WEBCHAT_NAME "WebChat"

/**
 * CxWebChatPhase:
 * @CX_WEBCHAT_PHASE_FORM: the pre-chat form
 * @CX_WEBCHAT_PHASE_STARTING: the form was sent, the chat is starting
 * @CX_WEBCHAT_PHASE_CHAT: in a chat
 * @CX_WEBCHAT_PHASE_ENDED: the chat is over; its transcript stays until a new one
 */
typedef enum
{
  CX_WEBCHAT_PHASE_FORM,
  CX_WEBCHAT_PHASE_STARTING,
  CX_WEBCHAT_PHASE_CHAT,
  CX_WEBCHAT_PHASE_ENDED,
} CxWebChatPhase;

#define CX_TYPE_WEBCHAT_PHASE (cx_webchat_phase_get_type ())
GType cx_webchat_phase_get_type (void) G_GNUC_CONST;

#define CX_TYPE_WEBCHAT (cx_webchat_get_type ())

G_DECLARE_FINAL_TYPE (CxWebChat, cx_webchat, CX, WEBCHAT, GtkWidget)

GtkWidget *cx_webchat_new (void);
gboolean cx_webchat_attach (CxWebChat *self, CxBus *bus, GError **error);
void cx_webchat_set_service (CxWebChat *self, CxWebChatService *service);
CxPlugin *cx_webchat_get_plugin (CxWebChat *self);

gboolean cx_webchat_get_open (CxWebChat *self);
gboolean cx_webchat_get_minimized (CxWebChat *self);
CxWebChatPhase cx_webchat_get_phase (CxWebChat *self);
const char *cx_webchat_get_chat_id (CxWebChat *self);
guint cx_webchat_get_unread_count (CxWebChat *self);
gboolean cx_webchat_get_server_offline (CxWebChat *self);
const char *cx_webchat_get_typing_text (CxWebChat *self);
gboolean cx_webchat_get_chat_button_visible (CxWebChat *self);
void cx_webchat_save_transcript (CxWebChat *self, GFile *file);
void cx_webchat_send_file (CxWebChat *self, GFile *file);
GListModel *cx_webchat_get_messages (CxWebChat *self);

G_END_DECLS
