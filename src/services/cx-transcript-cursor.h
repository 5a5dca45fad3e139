/* cx-transcript-cursor.h: CxTranscriptCursor, where a client is in a chat's transcript: which
 * entries it holds (a window [first, next) of GMS indices), and so which entries of a reply or
 * push frame are new, which are duplicates, and whether some are missing. The customer's
 * CxWebChatService and the agent's CxAgentConversation both read their transcripts through one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "protocol/cx-message.h"

G_BEGIN_DECLS

typedef struct _CxTranscriptCursor CxTranscriptCursor;

CxTranscriptCursor *cx_transcript_cursor_new (void);
void cx_transcript_cursor_free (CxTranscriptCursor *self);
void cx_transcript_cursor_reset (CxTranscriptCursor *self, guint position);

guint cx_transcript_cursor_get_next_position (CxTranscriptCursor *self);
guint cx_transcript_cursor_get_first_position (CxTranscriptCursor *self);
gboolean cx_transcript_cursor_has_older (CxTranscriptCursor *self);

GPtrArray *cx_transcript_cursor_accept (CxTranscriptCursor *self, GPtrArray *messages,
                                        guint complete_from, guint complete_next,
                                        GPtrArray **after_gap);
GPtrArray *cx_transcript_cursor_accept_older (CxTranscriptCursor *self, GPtrArray *messages,
                                              guint page_from);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTranscriptCursor, cx_transcript_cursor_free)

G_END_DECLS
