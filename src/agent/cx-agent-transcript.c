/* cx-agent-transcript.c: a conversation's transcript as a GListModel (see the header).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-transcript"

#include "config.h"

#include "agent/cx-agent-transcript.h"

struct _CxAgentTranscriptItem
{
  GObject parent_instance;

  CxMessage *message;
};

G_DEFINE_FINAL_TYPE (CxAgentTranscriptItem, cx_agent_transcript_item, G_TYPE_OBJECT)

static void
cx_agent_transcript_item_finalize (GObject *object)
{
  CxAgentTranscriptItem *self = CX_AGENT_TRANSCRIPT_ITEM (object);

  g_clear_pointer (&self->message, cx_message_unref);

  G_OBJECT_CLASS (cx_agent_transcript_item_parent_class)->finalize (object);
}

static void
cx_agent_transcript_item_class_init (CxAgentTranscriptItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cx_agent_transcript_item_finalize;
}

static void
cx_agent_transcript_item_init (CxAgentTranscriptItem *self)
{
}

CxMessage *
cx_agent_transcript_item_get_message (CxAgentTranscriptItem *self)
{
  g_return_val_if_fail (CX_IS_AGENT_TRANSCRIPT_ITEM (self), NULL);

  return self->message;
}

struct _CxAgentTranscript
{
  GObject parent_instance;

  CxAgentConversation *conversation;
  guint n_items;
};

static void cx_agent_transcript_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CxAgentTranscript, cx_agent_transcript, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      cx_agent_transcript_list_model_init))

static GType
cx_agent_transcript_get_item_type (GListModel *model)
{
  return CX_TYPE_AGENT_TRANSCRIPT_ITEM;
}

static guint
cx_agent_transcript_get_n_items (GListModel *model)
{
  return CX_AGENT_TRANSCRIPT (model)->n_items;
}

static gpointer
cx_agent_transcript_get_item (GListModel *model, guint position)
{
  CxAgentTranscript *self = CX_AGENT_TRANSCRIPT (model);
  CxAgentTranscriptItem *item;
  CxMessage *message;

  if (position >= self->n_items)
    return NULL;
  message = cx_agent_conversation_get_message (self->conversation, position);
  if (message == NULL)
    return NULL;
  item = g_object_new (CX_TYPE_AGENT_TRANSCRIPT_ITEM, NULL);
  item->message = cx_message_ref (message);
  return item;
}

static void
cx_agent_transcript_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = cx_agent_transcript_get_item_type;
  iface->get_n_items = cx_agent_transcript_get_n_items;
  iface->get_item = cx_agent_transcript_get_item;
}

/* The service only appends; anything else is reported as a whole new list. */
static void
n_messages_changed_cb (CxAgentTranscript *self)
{
  guint old_n = self->n_items;
  guint new_n = cx_agent_conversation_get_n_messages (self->conversation);

  self->n_items = new_n;
  if (new_n > old_n)
    g_list_model_items_changed (G_LIST_MODEL (self), old_n, 0, new_n - old_n);
  else if (new_n != old_n)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, new_n);
}

static void
cx_agent_transcript_dispose (GObject *object)
{
  CxAgentTranscript *self = CX_AGENT_TRANSCRIPT (object);

  g_clear_object (&self->conversation);

  G_OBJECT_CLASS (cx_agent_transcript_parent_class)->dispose (object);
}

static void
cx_agent_transcript_class_init (CxAgentTranscriptClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cx_agent_transcript_dispose;
}

static void
cx_agent_transcript_init (CxAgentTranscript *self)
{
}

CxAgentTranscript *
cx_agent_transcript_new (CxAgentConversation *conversation)
{
  CxAgentTranscript *self;

  g_return_val_if_fail (CX_IS_AGENT_CONVERSATION (conversation), NULL);

  self = g_object_new (CX_TYPE_AGENT_TRANSCRIPT, NULL);
  self->conversation = g_object_ref (conversation);
  self->n_items = cx_agent_conversation_get_n_messages (conversation);
  g_signal_connect_object (conversation, "notify::n-messages", G_CALLBACK (n_messages_changed_cb),
                           self, G_CONNECT_SWAPPED);
  return self;
}
