/* cx-chat-row.h: CxChatRow, the widget that shows one CxChatMessage in the transcript.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "services/cx-chat-message.h"

G_BEGIN_DECLS

#define CX_TYPE_CHAT_ROW (cx_chat_row_get_type ())

G_DECLARE_FINAL_TYPE (CxChatRow, cx_chat_row, CX, CHAT_ROW, GtkWidget)

GtkWidget *cx_chat_row_new (void);
CxChatMessage *cx_chat_row_get_message (CxChatRow *self);
void cx_chat_row_set_message (CxChatRow *self, CxChatMessage *message);
GtkLabel *cx_chat_row_get_text_label (CxChatRow *self);

G_END_DECLS
