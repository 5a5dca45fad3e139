/* cx-chat-message.h: CxChatMessage, one row of the chat panel's transcript (a GListStore item):
 * who, when, what, and for the customer's own messages whether it reached the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "protocol/cx-message.h"

G_BEGIN_DECLS

/**
 * CxChatMessageKind:
 * @CX_CHAT_MESSAGE_OWN: a message the customer wrote (in this window or another)
 * @CX_CHAT_MESSAGE_AGENT: a message of an agent or supervisor
 * @CX_CHAT_MESSAGE_SYSTEM: a notice: queue position, idle warnings, custom notices
 * @CX_CHAT_MESSAGE_EVENT: someone joined or left
 */
typedef enum
{
  CX_CHAT_MESSAGE_OWN,
  CX_CHAT_MESSAGE_AGENT,
  CX_CHAT_MESSAGE_SYSTEM,
  CX_CHAT_MESSAGE_EVENT,
} CxChatMessageKind;

/**
 * CxChatMessageStatus:
 * @CX_CHAT_MESSAGE_STATUS_NONE: not the customer's, or from the transcript
 * @CX_CHAT_MESSAGE_STATUS_SENDING: the customer's, not acknowledged yet
 * @CX_CHAT_MESSAGE_STATUS_SENT: the server has stored it
 * @CX_CHAT_MESSAGE_STATUS_FAILED: the server refused it, or the chat ended first
 * @CX_CHAT_MESSAGE_STATUS_UNCERTAIN: a send got no answer: the server may have it; the
 *   transcript is read before it is sent again
 */
typedef enum
{
  CX_CHAT_MESSAGE_STATUS_NONE,
  CX_CHAT_MESSAGE_STATUS_SENDING,
  CX_CHAT_MESSAGE_STATUS_SENT,
  CX_CHAT_MESSAGE_STATUS_FAILED,
  CX_CHAT_MESSAGE_STATUS_UNCERTAIN,
} CxChatMessageStatus;

#define CX_TYPE_CHAT_MESSAGE_KIND (cx_chat_message_kind_get_type ())
#define CX_TYPE_CHAT_MESSAGE_STATUS (cx_chat_message_status_get_type ())
GType cx_chat_message_kind_get_type (void) G_GNUC_CONST;
GType cx_chat_message_status_get_type (void) G_GNUC_CONST;

#define CX_TYPE_CHAT_MESSAGE (cx_chat_message_get_type ())

G_DECLARE_FINAL_TYPE (CxChatMessage, cx_chat_message, CX, CHAT_MESSAGE, GObject)

CxChatMessage *cx_chat_message_new (CxChatMessageKind kind, const char *sender, const char *text,
                                    gint64 utc_time_ms);
CxChatMessage *cx_chat_message_new_from_transcript (const CxMessage *message);

CxChatMessageKind cx_chat_message_get_kind (CxChatMessage *self);
const char *cx_chat_message_get_sender (CxChatMessage *self);
const char *cx_chat_message_get_text (CxChatMessage *self);
gint64 cx_chat_message_get_time (CxChatMessage *self);
guint cx_chat_message_get_serial (CxChatMessage *self);

guint cx_chat_message_get_index (CxChatMessage *self);
void cx_chat_message_set_index (CxChatMessage *self, guint index);
CxChatMessageStatus cx_chat_message_get_status (CxChatMessage *self);
void cx_chat_message_set_status (CxChatMessage *self, CxChatMessageStatus status);
const char *cx_chat_message_get_error (CxChatMessage *self);
void cx_chat_message_set_error (CxChatMessage *self, const char *error);

G_END_DECLS
