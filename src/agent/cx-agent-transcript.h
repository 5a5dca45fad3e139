/* cx-agent-transcript.h: a conversation's transcript as a GListModel of CxAgentTranscriptItem,
 * for the transcript GtkListView. It follows the conversation's n-messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "services/cx-agent-service.h"

G_BEGIN_DECLS

#define CX_TYPE_AGENT_TRANSCRIPT_ITEM (cx_agent_transcript_item_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentTranscriptItem, cx_agent_transcript_item, CX, AGENT_TRANSCRIPT_ITEM,
                      GObject)

CxMessage *cx_agent_transcript_item_get_message (CxAgentTranscriptItem *self);

#define CX_TYPE_AGENT_TRANSCRIPT (cx_agent_transcript_get_type ())

G_DECLARE_FINAL_TYPE (CxAgentTranscript, cx_agent_transcript, CX, AGENT_TRANSCRIPT, GObject)

CxAgentTranscript *cx_agent_transcript_new (CxAgentConversation *conversation);

G_END_DECLS
