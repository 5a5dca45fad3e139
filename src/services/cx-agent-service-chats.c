/* cx-agent-service-chats.c: CxAgentService's chats: one CxAgentConversation each, every
 * transcript entry applied once and in index order (chat_receive), invitations, the agent's
 * typing, and the chat commands (accept, decline, send, typing, end, transfer, getChats,
 * getTranscript, dismiss).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-service"

#include "config.h"

#include "services/cx-agent-service-private.h"

/* Chats */

void
_cx_agent_service_chat_free (Chat *chat)
{
  g_clear_object (&chat->conversation);
  g_clear_pointer (&chat->pending, g_ptr_array_unref);
  g_free (chat);
}

Chat *
_cx_agent_service_lookup_chat (CxAgentService *self, const char *chat_id)
{
  return chat_id != NULL ? g_hash_table_lookup (self->chats, chat_id) : NULL;
}

gboolean
_cx_agent_service_chat_is_held (Chat *chat)
{
  return chat->syncing || chat->fetching || chat->accepting;
}

Chat *
_cx_agent_service_chat_new (CxAgentService *self, const char *chat_id,
                            CxAgentConversationStatus status)
{
  Chat *chat = g_new0 (Chat, 1);

  chat->conversation = _cx_agent_conversation_new (chat_id, status);
  chat->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  g_hash_table_insert (self->chats, g_strdup (chat_id), chat);
  g_list_store_append (self->conversations, chat->conversation);

  return chat;
}

static void
chat_remove (CxAgentService *self, const char *chat_id)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  guint position = 0;

  if (chat == NULL)
    return;

  if (g_list_store_find (self->conversations, chat->conversation, &position))
    g_list_store_remove (self->conversations, position);
  g_hash_table_remove (self->chats, chat_id);
}

static void stop_typing_timer (CxAgentService *self, const char *chat_id);

/* The conversation enters @status; publishes what that means for this window. */
void
_cx_agent_service_chat_set_status (CxAgentService *self, const char *chat_id,
                                   CxAgentConversationStatus status)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  CxAgentConversationStatus old;

  if (chat == NULL || chat->conversation->status == status)
    return;

  old = chat->conversation->status;
  /* An ended chat stays ended. */
  if (old == CX_AGENT_CONVERSATION_ENDED)
    return;

  _cx_agent_conversation_set_status (chat->conversation, status);
  if (status != CX_AGENT_CONVERSATION_INVITED)
    chat->conversation->expires_at = 0;

  switch (status)
    {
      case CX_AGENT_CONVERSATION_ACTIVE:
        _cx_agent_service_publish_chat_id (self, "chatAccepted", chat_id);
        break;

      case CX_AGENT_CONVERSATION_LEFT:
        stop_typing_timer (self, chat_id);
        if (old == CX_AGENT_CONVERSATION_ACTIVE)
          _cx_agent_service_publish_chat_id (self, "chatLeft", chat_id);
        break;

      case CX_AGENT_CONVERSATION_ENDED:
        stop_typing_timer (self, chat_id);
        _cx_agent_conversation_set_typing (chat->conversation, FALSE, NULL);
        _cx_agent_service_publish_chat_id (self, "chatEnded", chat_id);
        break;

      case CX_AGENT_CONVERSATION_INVITED:
      default:
        break;
    }
}

static void chat_fetch (CxAgentService *self, const char *chat_id);

/* The state @fresh leaves the chat in, published as the change it is: chatAccepted before the
 * entries, chatLeft and the customer's typing after them. */
static void
publish_batch (CxAgentService *self, const char *chat_id, GPtrArray *fresh)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  g_autoptr (CxAgentConversation) conversation = g_object_ref (chat->conversation);
  g_autoptr (JsonNode) data = NULL;
  CxAgentConversationStatus status = conversation->status;
  gboolean typing = conversation->customer_typing;
  g_autofree char *typing_text = g_strdup (conversation->customer_typing_text);
  guint generation = self->generation;
  JsonObject *object;

  for (guint i = 0; i < fresh->len; i++)
    {
      CxMessage *message = g_ptr_array_index (fresh, i);

      if (message->from_type == CX_PARTY_CLIENT)
        {
          if (message->type == CX_MESSAGE_TYPING_STARTED)
            {
              typing = TRUE;
              g_free (typing_text);
              typing_text = g_strdup (message->text);
            }
          else if (message->type == CX_MESSAGE_TYPING_STOPPED || message->type == CX_MESSAGE_TEXT ||
                   message->type == CX_MESSAGE_PARTICIPANT_LEFT)
            {
              typing = FALSE;
            }
        }
      else if (message->from_type == CX_PARTY_AGENT)
        {
          /* Only the chat's agent hears of it: a join or leave here is this agent's. */
          if (message->type == CX_MESSAGE_PARTICIPANT_JOINED)
            status = CX_AGENT_CONVERSATION_ACTIVE;
          else if (message->type == CX_MESSAGE_PARTICIPANT_LEFT &&
                   status == CX_AGENT_CONVERSATION_ACTIVE)
            status = CX_AGENT_CONVERSATION_LEFT;
        }
    }

  _cx_agent_conversation_append (conversation, fresh);

  if (status == CX_AGENT_CONVERSATION_ACTIVE)
    _cx_agent_service_chat_set_status (self, chat_id, status);
  if (self->generation != generation)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", chat_id);
  json_object_set_array_member (object, "messages", _cx_agent_service_messages_to_array (fresh));
  data = cx_json_node_new_object (object);
  _cx_agent_service_publish (self, "messageReceived", data);
  if (self->generation != generation)
    return;

  if (status == CX_AGENT_CONVERSATION_LEFT)
    _cx_agent_service_chat_set_status (self, chat_id, status);
  if (self->generation != generation || conversation->status == CX_AGENT_CONVERSATION_ENDED)
    return;

  if (typing && (!conversation->customer_typing ||
                 g_strcmp0 (typing_text, conversation->customer_typing_text) != 0))
    {
      JsonObject *typing_object = json_object_new ();
      g_autoptr (JsonNode) typing_data = NULL;

      _cx_agent_conversation_set_typing (conversation, TRUE, typing_text);
      json_object_set_string_member (typing_object, "chatId", chat_id);
      json_object_set_string_member (typing_object, "text", typing_text != NULL ? typing_text : "");
      typing_data = cx_json_node_new_object (typing_object);
      _cx_agent_service_publish (self, "customerTypingStarted", typing_data);
    }
  else if (!typing && conversation->customer_typing)
    {
      _cx_agent_conversation_set_typing (conversation, FALSE, NULL);
      _cx_agent_service_publish_chat_id (self, "customerTypingStopped", chat_id);
    }
}

/* Applies @messages to the chat, each entry once, in index order, from its next position.
 * With @complete_from > 0, @messages are every entry the server has from that index up to
 * @complete_next (a reply, not a push frame): an index missing there is an entry this version
 * skips, not a gap. Otherwise an index past the next one is a gap: the rest waits in pending
 * and the transcript is read from the next position. */
void
_cx_agent_service_chat_receive (CxAgentService *self, const char *chat_id, GPtrArray *messages,
                                guint complete_from, guint complete_next)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  g_autoptr (GPtrArray) fresh = NULL;
  g_autoptr (GPtrArray) after_gap = NULL;
  g_autofree char *id = g_strdup (chat_id);
  gboolean gap;

  if (chat == NULL)
    return;

  /* The conversation's transcript cursor says which entries are new, and what waits. */
  fresh = _cx_agent_conversation_accept (chat->conversation, messages, complete_from, complete_next,
                                         &after_gap);
  gap = after_gap != NULL;
  for (guint i = 0; gap && i < after_gap->len; i++)
    g_ptr_array_add (chat->pending, cx_message_ref (g_ptr_array_index (after_gap, i)));

  if (fresh->len > 0)
    publish_batch (self, id, fresh);

  chat = _cx_agent_service_lookup_chat (self, id);
  if (!gap || chat == NULL || self->disposed)
    return;

  if (chat->last_fetch_from == _cx_agent_conversation_get_next_position (chat->conversation))
    {
      /* The server's transcript from here did not have these entries a moment ago either:
       * do not loop on it. The next sync reads the chat again. */
      g_debug ("Chat %s: entries after %u are missing from the transcript; dropping %u", id,
               _cx_agent_conversation_get_next_position (chat->conversation), chat->pending->len);
      g_ptr_array_set_size (chat->pending, 0);
      return;
    }

  g_debug ("Chat %s: a push frame skipped to a later index; reading from %u", id,
           _cx_agent_conversation_get_next_position (chat->conversation));
  chat_fetch (self, id);
}

/* Once nothing holds the chat any more: the frames that waited, then its end. */
void
_cx_agent_service_chat_flush (CxAgentService *self, const char *chat_id)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  g_autofree char *id = g_strdup (chat_id);

  if (chat == NULL || _cx_agent_service_chat_is_held (chat))
    return;

  if (chat->pending->len > 0)
    {
      g_autoptr (GPtrArray) taken = chat->pending;

      chat->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
      _cx_agent_service_chat_receive (self, id, taken, 0, 0);
      chat = _cx_agent_service_lookup_chat (self, id);
    }

  if (chat != NULL && !_cx_agent_service_chat_is_held (chat) && chat->pending_end)
    {
      chat->pending_end = FALSE;
      _cx_agent_service_chat_set_status (self, id, CX_AGENT_CONVERSATION_ENDED);
    }
}

static void
chat_fetch_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, request->chat_id);
  g_autoptr (GPtrArray) messages = NULL;
  guint next_position = 0;

  if (request->generation != self->generation || chat == NULL)
    return;

  chat->fetching = FALSE;

  if (error != NULL)
    {
      if (g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
        return;

      if (soup_message_get_status (request->base.msg) == SOUP_STATUS_NOT_FOUND)
        {
          /* Not this agent's chat any more. */
          g_ptr_array_set_size (chat->pending, 0);
          _cx_agent_service_chat_set_status (self, request->chat_id, CX_AGENT_CONVERSATION_LEFT);
          return;
        }

      if (error->domain == CX_AGENT_SERVICE_ERROR)
        {
          chat->last_fetch_from = 0;
          _cx_agent_service_publish_error (self, error->message);
          return;
        }

      /* No answer: the server is unreachable. Reconnecting re-reads every chat. */
      g_debug ("Chat %s: reading the transcript failed: %s", request->chat_id, error->message);
      chat->last_fetch_from = 0;
      _cx_agent_service_connection_failed (self);
      return;
    }

  if (!cx_agent_messages_parse (reply, &messages, &next_position, NULL))
    {
      g_autoptr (GError) bad = _cx_agent_service_bad_reply_error ("/messages");

      _cx_agent_service_publish_error (self, bad->message);
      return;
    }

  _cx_agent_service_chat_receive (self, request->chat_id, messages, request->from, next_position);
  _cx_agent_service_chat_flush (self, request->chat_id);
}

/* Reads the chat's transcript from its next position; push frames wait meanwhile. */
static void
chat_fetch (CxAgentService *self, const char *chat_id)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  g_autofree char *path = NULL;
  Request *request;

  if (chat == NULL || chat->fetching || self->session != SESSION_SIGNED_IN)
    return;

  chat->fetching = TRUE;
  chat->last_fetch_from = _cx_agent_conversation_get_next_position (chat->conversation);
  path = cx_agent_route_messages_path (chat_id, chat->last_fetch_from);
  request = _cx_agent_service_request_new (self, cx_agent_route_method (CX_AGENT_ROUTE_MESSAGES),
                                           path, NULL, NULL, chat_fetch_reply);
  request->chat_id = g_strdup (chat_id);
  request->from = _cx_agent_conversation_get_next_position (chat->conversation);
  _cx_agent_service_request_send (self, request);
}

/* A chat of the agent API (API.md "A chat"), parsed by cx_agent_chat_parse(): the conversation is
 * created or updated, and its transcript applied. */
void
_cx_agent_service_apply_chat (CxAgentService *self, const CxAgentChat *view)
{
  g_autofree char *id = g_strdup (view->chat_id);
  CxAgentConversationStatus status;
  Chat *chat;

  switch (view->state)
    {
      case CX_AGENT_CHAT_ENDED:
        status = CX_AGENT_CONVERSATION_ENDED;
        break;
      case CX_AGENT_CHAT_ACTIVE:
        status = CX_AGENT_CONVERSATION_ACTIVE;
        break;
      case CX_AGENT_CHAT_WAITING:
      default:
        /* Back in a queue (transferred): not this agent's any more. */
        status = CX_AGENT_CONVERSATION_LEFT;
        break;
    }

  chat = _cx_agent_service_lookup_chat (self, id);
  if (chat == NULL)
    chat = _cx_agent_service_chat_new (self, id, CX_AGENT_CONVERSATION_INVITED);

  _cx_agent_conversation_set_queue (chat->conversation, view->queue);
  _cx_agent_conversation_take_customer (chat->conversation,
                                        _cx_agent_service_customer_from_event (&view->customer));
  _cx_agent_conversation_set_user_data (chat->conversation, view->user_data);
  if (view->created_at > 0)
    chat->conversation->waiting_since = view->created_at;

  if (status == CX_AGENT_CONVERSATION_ACTIVE)
    _cx_agent_service_chat_set_status (self, id, status);
  _cx_agent_service_chat_receive (self, id, view->messages, 1, view->next_position);
  if (status != CX_AGENT_CONVERSATION_ACTIVE)
    _cx_agent_service_chat_set_status (self, id, status);
}

/* Invitations */

void
_cx_agent_service_handle_invitation (CxAgentService *self, const CxAgentEvent *event)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, event->chat_id);
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;
  gboolean fresh;

  if (chat != NULL && chat->conversation->status == CX_AGENT_CONVERSATION_ACTIVE)
    {
      g_debug ("Chat %s: an invitation for a chat this agent is in", event->chat_id);
      return;
    }

  if (chat != NULL && chat->conversation->status == CX_AGENT_CONVERSATION_ENDED)
    {
      /* An ended chat is not offered again: this is news of another one. */
      chat_remove (self, event->chat_id);
      chat = NULL;
    }

  if (chat == NULL)
    chat = _cx_agent_service_chat_new (self, event->chat_id, CX_AGENT_CONVERSATION_INVITED);

  chat->invite_mark = FALSE;
  fresh = chat->conversation->status != CX_AGENT_CONVERSATION_INVITED ||
          chat->conversation->expires_at == 0;

  _cx_agent_conversation_set_queue (chat->conversation, event->queue);
  _cx_agent_conversation_take_customer (chat->conversation,
                                        _cx_agent_service_customer_from_event (&event->customer));
  _cx_agent_conversation_set_user_data (chat->conversation, event->user_data);
  chat->conversation->waiting_since = event->waiting_since;
  chat->conversation->expires_at = event->expires_at;
  _cx_agent_conversation_set_status (chat->conversation, CX_AGENT_CONVERSATION_INVITED);

  /* Pending invitations come again on every connection: each is news once. */
  if (!fresh)
    return;

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", event->chat_id);
  json_object_set_string_member (object, "queue", event->queue);
  json_object_set_object_member (object, "customer",
                                 _cx_agent_service_customer_from_event (&event->customer));
  json_object_set_member (object, "userData", json_node_copy (event->user_data));
  json_object_set_int_member (object, "waitingSince", event->waiting_since);
  json_object_set_int_member (object, "expiresAt", event->expires_at);
  data = cx_json_node_new_object (object);
  _cx_agent_service_publish (self, "invitation", data);
}

void
_cx_agent_service_withdraw_invitation (CxAgentService *self, const char *chat_id,
                                       const char *reason)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, chat_id);
  g_autofree char *id = g_strdup (chat_id);
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (chat == NULL || chat->conversation->status != CX_AGENT_CONVERSATION_INVITED)
    return;

  chat_remove (self, id);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", id);
  if (reason != NULL)
    json_object_set_string_member (object, "reason", reason);
  else
    json_object_set_null_member (object, "reason");
  data = cx_json_node_new_object (object);
  _cx_agent_service_publish (self, "invitationWithdrawn", data);
}

/* Typing of the agent: a true is followed by a false after TYPING_IDLE_MS without another */

void
_cx_agent_service_typing_timer_free (TypingTimer *timer)
{
  g_clear_handle_id (&timer->id, g_source_remove);
  g_free (timer->chat_id);
  g_free (timer);
}

static void post_typing (CxAgentService *self, const char *chat_id, gboolean typing,
                         CxCommand *command);

static gboolean
typing_idle_cb (gpointer user_data)
{
  TypingTimer *timer = user_data;
  CxAgentService *self = timer->self;
  g_autofree char *chat_id = g_strdup (timer->chat_id);

  timer->id = 0;
  g_hash_table_remove (self->typing_timers, chat_id);
  if (self->session == SESSION_SIGNED_IN)
    post_typing (self, chat_id, FALSE, NULL);

  return G_SOURCE_REMOVE;
}

static void
start_typing_timer (CxAgentService *self, const char *chat_id)
{
  TypingTimer *timer = g_new0 (TypingTimer, 1);

  timer->self = self;
  timer->chat_id = g_strdup (chat_id);
  timer->id = g_timeout_add (TYPING_IDLE_MS, typing_idle_cb, timer);
  g_hash_table_replace (self->typing_timers, g_strdup (chat_id), timer);
}

static void
stop_typing_timer (CxAgentService *self, const char *chat_id)
{
  g_hash_table_remove (self->typing_timers, chat_id);
}

static void
typing_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error != NULL && request->generation == self->generation)
    {
      /* The next true must be sent again. */
      stop_typing_timer (self, request->chat_id);
      if (request->base.command == NULL &&
          !g_error_matches (error, CX_AGENT_SERVICE_ERROR, CX_AGENT_SERVICE_ERROR_NOT_SIGNED_IN))
        g_debug ("Chat %s: typing not sent: %s", request->chat_id, error->message);
    }

  _cx_agent_service_answer (request, NULL, error);
}

static void
post_typing (CxAgentService *self, const char *chat_id, gboolean typing, CxCommand *command)
{
  g_autoptr (JsonNode) body = cx_agent_typing_build (typing);
  Request *request;

  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_TYPING, chat_id, body, command,
                                             typing_reply);
  request->chat_id = g_strdup (chat_id);
  _cx_agent_service_request_send (self, request);
}

/* Commands: invitations and chats */

static void
accept_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  Chat *chat = _cx_agent_service_lookup_chat (self, request->chat_id);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (CxAgentChat) view = NULL;

  if (request->generation != self->generation)
    {
      _cx_agent_service_answer (request, reply, error);
      return;
    }

  if (chat != NULL)
    chat->accepting = FALSE;

  if (error == NULL)
    {
      if (cx_agent_chat_parse (reply, &view, NULL) && g_str_equal (view->chat_id, request->chat_id))
        _cx_agent_service_apply_chat (self, view);
      else
        local_error = _cx_agent_service_bad_reply_error ("/accept");
    }

  _cx_agent_service_answer (request, reply, error != NULL ? error : local_error);
  _cx_agent_service_chat_flush (self, request->chat_id);
}

void
_cx_agent_service_accept_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  Request *request;
  Chat *chat;

  if (chat_id == NULL ||
      !_cx_agent_service_require_session (self, command, _cx_agent_service_accept_cb))
    return;

  /* Frames of the chat wait for the reply, which has its whole transcript. */
  chat = _cx_agent_service_lookup_chat (self, chat_id);
  if (chat != NULL)
    chat->accepting = TRUE;

  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_ACCEPT, chat_id, NULL, command,
                                             accept_reply);
  request->chat_id = g_strdup (chat_id);
  request->conflict_message = _ ("This chat is no longer offered to you");
  _cx_agent_service_request_send (self, request);
}

static void
decline_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error == NULL && request->generation == self->generation)
    _cx_agent_service_withdraw_invitation (self, request->chat_id, "declined");

  _cx_agent_service_answer (request, NULL, error);
}

void
_cx_agent_service_decline_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  Request *request;

  if (chat_id == NULL ||
      !_cx_agent_service_require_session (self, command, _cx_agent_service_decline_cb))
    return;

  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_DECLINE, chat_id, NULL, command,
                                             decline_reply);
  request->chat_id = g_strdup (chat_id);
  request->conflict_message = _ ("This chat is no longer offered to you");
  _cx_agent_service_request_send (self, request);
}

static void
send_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) bad = NULL;
  guint index = 0;

  if (error != NULL)
    {
      _cx_agent_service_answer (request, NULL, error);
      return;
    }

  if (!cx_agent_send_reply_parse (reply, &index, NULL))
    {
      bad = _cx_agent_service_bad_reply_error ("/send");
      _cx_agent_service_answer (request, NULL, bad);
      return;
    }

  /* The command's result is the reply, reduced to what the API documents. */
  result = cx_agent_send_reply_build (index);
  _cx_agent_service_answer (request, result, NULL);
}

void
_cx_agent_service_send_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  const char *text;
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (chat_id == NULL)
    return;

  text = _cx_agent_service_command_string (command, "text");
  if (text == NULL || text[0] == '\0')
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("send needs a “text”"));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_send_cb))
    return;

  /* A message ends the agent's typing. */
  if (g_hash_table_contains (self->typing_timers, chat_id))
    {
      stop_typing_timer (self, chat_id);
      post_typing (self, chat_id, FALSE, NULL);
    }

  body = cx_agent_send_build (text);
  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_SEND, chat_id, body, command,
                                             send_reply);
  request->chat_id = g_strdup (chat_id);
  _cx_agent_service_request_send (self, request);
}

void
_cx_agent_service_typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  JsonNode *typing_node;
  gboolean typing;
  gboolean was_typing;

  if (chat_id == NULL)
    return;

  typing_node = cx_json_get_member (_cx_agent_service_command_object (command), "typing");
  if (typing_node == NULL || !JSON_NODE_HOLDS_VALUE (typing_node) ||
      json_node_get_value_type (typing_node) != G_TYPE_BOOLEAN)
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("typing needs “typing”: true or false"));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_typing_cb))
    return;

  typing = json_node_get_boolean (typing_node);
  was_typing = g_hash_table_contains (self->typing_timers, chat_id);

  if (typing)
    {
      /* Each true puts the automatic false off; only the first is sent. */
      start_typing_timer (self, chat_id);
      if (was_typing)
        {
          cx_command_resolve (command, NULL);
          return;
        }
    }
  else
    {
      stop_typing_timer (self, chat_id);
      if (!was_typing)
        {
          cx_command_resolve (command, NULL);
          return;
        }
    }

  post_typing (self, chat_id, typing, command);
}

static void
leave_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  if (error == NULL && request->generation == self->generation)
    {
      /* This window knows at once; the others from the transcript and chatEnded. */
      _cx_agent_service_chat_set_status (self, request->chat_id,
                                         request->ends_chat ? CX_AGENT_CONVERSATION_ENDED
                                                            : CX_AGENT_CONVERSATION_LEFT);
    }

  _cx_agent_service_answer (request, NULL, error);
}

void
_cx_agent_service_end_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  Request *request;

  if (chat_id == NULL ||
      !_cx_agent_service_require_session (self, command, _cx_agent_service_end_cb))
    return;

  stop_typing_timer (self, chat_id);
  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_END, chat_id, NULL, command,
                                             leave_reply);
  request->chat_id = g_strdup (chat_id);
  request->ends_chat = TRUE;
  _cx_agent_service_request_send (self, request);
}

void
_cx_agent_service_transfer_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  const char *queue;
  const char *agent;
  g_autoptr (JsonNode) body = NULL;
  Request *request;

  if (chat_id == NULL)
    return;

  queue = _cx_agent_service_command_string (command, "queue");
  agent = _cx_agent_service_command_string (command, "agent");
  if ((queue == NULL) == (agent == NULL) || (queue != NULL && !cx_id_is_valid (queue)) ||
      (agent != NULL && !cx_id_is_valid (agent)))
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("transfer needs either a “queue” or an “agent”"));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_transfer_cb))
    return;

  stop_typing_timer (self, chat_id);
  body = cx_agent_transfer_build (queue, agent);
  request = _cx_agent_service_route_request (self, CX_AGENT_ROUTE_TRANSFER, chat_id, body, command,
                                             leave_reply);
  request->chat_id = g_strdup (chat_id);
  _cx_agent_service_request_send (self, request);
}

static void
get_chats_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GPtrArray) chats = NULL;
  g_autoptr (GError) bad = NULL;

  if (error != NULL)
    {
      _cx_agent_service_answer (request, NULL, error);
      return;
    }

  if (!cx_agent_chats_parse (reply, &chats, NULL))
    {
      bad = _cx_agent_service_bad_reply_error ("/chats");
      _cx_agent_service_answer (request, NULL, bad);
      return;
    }

  /* Checked, and what is new to this window applied, before the caller sees it. */
  for (guint i = 0; i < chats->len && request->generation == self->generation; i++)
    {
      CxAgentChat *chat = g_ptr_array_index (chats, i);

      _cx_agent_service_apply_chat (self, chat);
      _cx_agent_service_chat_flush (self, chat->chat_id);
    }

  _cx_agent_service_answer (request, reply, NULL);
}

void
_cx_agent_service_get_chats_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_get_chats_cb))
    return;

  _cx_agent_service_request_send (self,
                                  _cx_agent_service_route_request (self, CX_AGENT_ROUTE_CHATS, NULL,
                                                                   NULL, command, get_chats_reply));
}

static void
get_transcript_reply (CxAgentService *self, Request *request, JsonNode *reply, const GError *error)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) bad = NULL;
  g_autoptr (JsonNode) result = NULL;
  JsonObject *result_object;
  guint next_position = 0;

  if (error != NULL)
    {
      _cx_agent_service_answer (request, NULL, error);
      return;
    }

  if (!cx_agent_messages_parse (reply, &messages, &next_position, NULL))
    {
      bad = _cx_agent_service_bad_reply_error ("/messages");
      _cx_agent_service_answer (request, NULL, bad);
      return;
    }

  if (request->generation == self->generation)
    {
      _cx_agent_service_chat_receive (self, request->chat_id, messages, request->from,
                                      next_position);
      _cx_agent_service_chat_flush (self, request->chat_id);
    }

  result_object = json_object_new ();
  json_object_set_string_member (result_object, "chatId", request->chat_id);
  json_object_set_array_member (result_object, "messages",
                                _cx_agent_service_messages_to_array (messages));
  json_object_set_int_member (result_object, "nextPosition", next_position);
  result = cx_json_node_new_object (result_object);
  _cx_agent_service_answer (request, result, NULL);
}

void
_cx_agent_service_get_transcript_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  JsonObject *data = _cx_agent_service_command_object (command);
  g_autofree char *path = NULL;
  gint64 from = 1;
  Request *request;

  if (chat_id == NULL)
    return;

  if (!cx_json_is_null_or_absent (data, "from") &&
      !cx_json_get_int (data, "from", 1, G_MAXUINT, &from))
    {
      _cx_agent_service_reject_literal (
          command, CX_AGENT_SERVICE_ERROR_INVALID,
          _ ("getTranscript: “from” must be a transcript index, 1 or more"));
      return;
    }

  if (!_cx_agent_service_require_session (self, command, _cx_agent_service_get_transcript_cb))
    return;

  path = cx_agent_route_messages_path (chat_id, (guint) from);
  request = _cx_agent_service_request_new (self, cx_agent_route_method (CX_AGENT_ROUTE_MESSAGES),
                                           path, NULL, command, get_transcript_reply);
  request->chat_id = g_strdup (chat_id);
  request->from = (guint) from;
  _cx_agent_service_request_send (self, request);
}

void
_cx_agent_service_dismiss_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxAgentService *self = user_data;
  const char *chat_id = _cx_agent_service_command_chat_id (command);
  Chat *chat;

  if (chat_id == NULL)
    return;

  chat = _cx_agent_service_lookup_chat (self, chat_id);
  if (chat == NULL)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  if (chat->conversation->status != CX_AGENT_CONVERSATION_ENDED &&
      chat->conversation->status != CX_AGENT_CONVERSATION_LEFT)
    {
      _cx_agent_service_reject_literal (command, CX_AGENT_SERVICE_ERROR_INVALID,
                                        _ ("Only a conversation that is over can be dismissed"));
      return;
    }

  chat_remove (self, chat_id);
  cx_command_resolve (command, NULL);
}
