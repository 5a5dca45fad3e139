/* cx-server-agent.c: the agent API under /cx/1/agent (API.md): the dispatcher, and the
 * handlers of the agent's state, invitations, chats, callbacks and canned responses. Every body
 * is parsed and every reply built by protocol/cx-agent-api.c. Sessions and the access rules are
 * in cx-server-agent-session.c, the event sockets in cx-server-agent-socket.c. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-gms-callback.h"
#include "server/cx-server-private.h"

/* The store's CxChatState and the wire's CxAgentChatState have the same values. */
G_STATIC_ASSERT ((int) CX_CHAT_WAITING == (int) CX_AGENT_CHAT_WAITING);
G_STATIC_ASSERT ((int) CX_CHAT_ACTIVE == (int) CX_AGENT_CHAT_ACTIVE);
G_STATIC_ASSERT ((int) CX_CHAT_ENDED == (int) CX_AGENT_CHAT_ENDED);

/* The agent's view of a chat (API.md "A chat"), with its whole transcript. */
static JsonNode *
chat_to_json (CxServer *self, const CxChat *chat)
{
  g_autoptr (GPtrArray) messages = cx_store_get_messages (self->store, chat->id, 1, 0, NULL);
  CxAgentChat view = {
    .chat_id = chat->id,
    .service = chat->service,
    .queue = chat->queue,
    .state = (CxAgentChatState) chat->state,
    .customer = { chat->nickname, chat->first_name, chat->last_name, chat->email, chat->subject },
    .user_data = chat->user_data,
    .created_at = chat->created_at,
    .accepted_at = chat->accepted_at,
    .next_position = chat->next_index,
    .messages = messages,
  };

  return cx_agent_chat_build (&view);
}

/* A body that did not parse: 400 with the parser's reason. */
static void
reply_bad_request (SoupServerMessage *msg, const GError *error)
{
  _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
}

static void
set_state (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxAgent) updated = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *reason = NULL;
  CxAgentPresence presence;
  CxAgentState state;

  if (body == NULL || !cx_agent_state_request_parse (body, &presence, &reason, &error))
    {
      reply_bad_request (msg, error);
      return;
    }
  state = (CxAgentState) presence;

  if (!cx_store_set_agent_state (self->store, agent->username, state,
                                 state == CX_AGENT_READY ? NULL : reason, _cx_server_now (),
                                 &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  updated = cx_store_get_agent (self->store, agent->username, NULL);
  _cx_server_push_agent_state (self, updated);
  if (state == CX_AGENT_READY)
    _cx_server_route_all (self);

  reply = _cx_server_agent_to_json (updated);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* Invitations and chats */

JsonNode *
_cx_server_invitation_frame (CxServer *self, const CxInvitation *invitation)
{
  g_autoptr (CxChat) chat = cx_store_get_chat (self->store, invitation->chat_id, NULL);
  CxAgentCustomer customer;

  if (chat == NULL)
    return NULL;
  customer.nickname = chat->nickname;
  customer.first_name = chat->first_name;
  customer.last_name = chat->last_name;
  customer.email = chat->email;
  customer.subject = chat->subject;
  return cx_agent_event_build_invitation (chat->id, chat->queue, &customer, chat->user_data,
                                          chat->queued_at, invitation->expires_at);
}

void
_cx_server_send_invitation (CxServer *self, const CxInvitation *invitation)
{
  g_autoptr (JsonNode) frame = _cx_server_invitation_frame (self, invitation);

  if (frame != NULL)
    _cx_server_send_to_agent (self, invitation->agent, frame);
  _cx_server_cluster_note (self, "i", invitation->chat_id, invitation->agent, NULL);
}

static void
list_invitations (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) invitations =
      cx_store_list_invitations (self->store, agent->username, &error);
  g_autoptr (GPtrArray) frames = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (invitations == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < invitations->len; i++)
    {
      JsonNode *frame = _cx_server_invitation_frame (self, g_ptr_array_index (invitations, i));

      if (frame != NULL)
        g_ptr_array_add (frames, frame);
    }
  reply = cx_agent_invitations_build (frames);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
answer_invitation (CxServer *self, SoupServerMessage *msg, CxAgent *agent, const char *chat_id,
                   gboolean accept)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (CxMessage) joined = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (!cx_store_answer_invitation (self->store, chat_id, agent->username,
                                   accept ? CX_INVITATION_ACCEPTED : CX_INVITATION_DECLINED,
                                   _cx_server_now (), &error))
    {
      if (g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT) ||
          g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND))
        _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT,
                                _ ("This chat is no longer offered to you"));
      else
        _cx_server_reply_internal (msg, error);
      return;
    }
  _cx_server_cancel_invitation_timer (self, chat_id);

  chat = cx_store_get_chat (self->store, chat_id, &error);
  if (chat == NULL)
    {
      if (error != NULL)
        _cx_server_reply_internal (msg, error);
      else
        _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is no such chat"));
      return;
    }

  if (!accept)
    {
      /* Every window of the agent shows the invitation; all of them drop it. */
      _cx_server_send_withdrawn (self, chat_id, agent->username, "declined");
      _cx_server_route (self, chat_id);
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }

  /* The store made the chat active with this agent; the customer learns it from the
   * transcript, as GMS tells it. */
  joined = _cx_server_agent_message (self, agent->username, CX_MESSAGE_PARTICIPANT_JOINED, NULL);
  if (!_cx_server_append_one (self, chat, joined, NULL, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }
  g_hash_table_remove (self->notified_positions, chat_id);
  _cx_server_queue_changed (self, chat->queue);

  g_clear_pointer (&chat, cx_chat_free);
  chat = cx_store_get_chat (self->store, chat_id, NULL);
  reply = chat_to_json (self, chat);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
list_chats (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) chats =
      cx_store_list_open_chats (self->store, NULL, agent->username, &error);
  g_autoptr (GPtrArray) nodes = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (chats == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < chats->len; i++)
    g_ptr_array_add (nodes, chat_to_json (self, g_ptr_array_index (chats, i)));
  reply = cx_agent_chats_build (nodes);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* The chat, if it is this agent's; otherwise a 404 has been sent. */
static CxChat *
my_chat (CxServer *self, SoupServerMessage *msg, CxAgent *agent, const char *chat_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = cx_store_get_chat (self->store, chat_id, &error);

  if (chat == NULL && error != NULL)
    {
      _cx_server_reply_internal (msg, error);
      return NULL;
    }
  if (chat == NULL || g_strcmp0 (chat->agent, agent->username) != 0)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("You have no chat %s"), chat_id);
      return NULL;
    }
  return g_steal_pointer (&chat);
}

static void
get_messages (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat,
              GHashTable *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (JsonNode) reply = NULL;
  guint from = 1;

  if (!cx_agent_route_parse_from (query, &from, &error))
    {
      reply_bad_request (msg, error);
      return;
    }

  messages = cx_store_get_messages (self->store, chat->id, from, 0, &error);
  if (messages == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }
  reply = cx_agent_messages_build (chat->id, messages, chat->next_index);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
send_message (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxMessage) message = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *text = NULL;

  /* Text from an agent: the same rules as a customer's (API.md "Limits"). */
  if (body == NULL || !cx_agent_send_parse (body, self->config->max_message_length, &text, &error))
    {
      reply_bad_request (msg, error);
      return;
    }
  if (chat->state != CX_CHAT_ACTIVE)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT, _ ("The chat has ended"));
      return;
    }

  message = _cx_server_agent_message (self, agent->username, CX_MESSAGE_TEXT, text);
  if (!_cx_server_append_one (self, chat, message, NULL, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  reply = cx_agent_send_reply_build (message->index);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
typing (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxMessage) message = NULL;
  gboolean flag = FALSE;

  if (body == NULL || !cx_agent_typing_parse (body, &flag, &error))
    {
      reply_bad_request (msg, error);
      return;
    }
  if (chat->state != CX_CHAT_ACTIVE)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT, _ ("The chat has ended"));
      return;
    }

  message = _cx_server_agent_message (
      self, agent->username, flag ? CX_MESSAGE_TYPING_STARTED : CX_MESSAGE_TYPING_STOPPED, NULL);
  if (!_cx_server_append_one (self, chat, message, NULL, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
end_chat (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxMessage) left = NULL;
  g_autoptr (CxChat) update = cx_chat_copy (chat);

  if (chat->state == CX_CHAT_ENDED)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }

  left = _cx_server_agent_message (self, agent->username, CX_MESSAGE_PARTICIPANT_LEFT, NULL);
  update->state = CX_CHAT_ENDED;
  update->ended_at = _cx_server_now ();
  if (!_cx_server_append_one (self, chat, left, update, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }
  _cx_server_close_customer_sockets (self, chat->id);
  g_hash_table_remove (self->typing_previews, chat->id);
  _cx_server_route_all (self);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
transfer (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxChat) update = NULL;
  g_autoptr (CxAgent) target = NULL;
  g_autoptr (GPtrArray) messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  g_autofree char *queue = NULL;
  g_autofree char *to_agent = NULL;

  if (body == NULL || !cx_agent_transfer_parse (body, &queue, &to_agent, &error))
    {
      reply_bad_request (msg, error);
      return;
    }
  if (queue != NULL && cx_server_config_find_service (self->config, queue) == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, _ ("There is no queue %s"), queue);
      return;
    }
  if (to_agent != NULL)
    {
      target = cx_store_get_agent (self->store, to_agent, NULL);
      if (target == NULL || g_str_equal (to_agent, agent->username))
        {
          _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, _ ("There is no other agent %s"),
                                  to_agent);
          return;
        }
    }
  if (chat->state != CX_CHAT_ACTIVE)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT, _ ("The chat has ended"));
      return;
    }

  update = cx_chat_copy (chat);
  update->state = CX_CHAT_WAITING;
  g_clear_pointer (&update->agent, g_free);
  update->accepted_at = 0;
  update->queued_at = _cx_server_now ();
  if (queue != NULL)
    {
      g_free (update->queue);
      update->queue = g_strdup (queue);
    }

  g_ptr_array_add (messages, _cx_server_agent_message (self, agent->username,
                                                       CX_MESSAGE_PARTICIPANT_LEFT, NULL));
  g_ptr_array_add (messages, _cx_server_system_notice (_ ("You are being transferred."), NULL));
  if (!_cx_server_append (self, chat, messages, update, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  if (target != NULL)
    {
      gint64 now = _cx_server_now ();
      g_autoptr (CxInvitation) invitation =
          cx_store_invite_agent (self->store, chat->id, target->username, now,
                                 now + self->config->invitation_timeout_s * 1000, &error);

      if (invitation == NULL)
        {
          _cx_server_reply_internal (msg, error);
          return;
        }
      _cx_server_arm_invitation (self, invitation);
    }
  else
    _cx_server_route (self, chat->id);

  _cx_server_route_all (self);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* Callbacks, for agents */

static gboolean
agent_serves (const CxAgent *agent, const char *service)
{
  return agent->queues == NULL || agent->queues[0] == NULL ||
         g_strv_contains ((const char *const *) agent->queues, service);
}

static void
reply_callback (SoupServerMessage *msg, const CxCallback *callback)
{
  g_autoptr (JsonNode) node = _cx_server_callback_to_json (callback);

  _cx_server_reply_json (msg, SOUP_STATUS_OK, node);
}

static void
list_callbacks (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) callbacks = cx_store_find_callbacks (self->store, NULL, NULL, NULL, &error);
  g_autoptr (GPtrArray) nodes = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (callbacks == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < callbacks->len; i++)
    {
      CxCallback *callback = g_ptr_array_index (callbacks, i);

      if (agent_serves (agent, callback->service))
        g_ptr_array_add (nodes, _cx_server_callback_to_json (callback));
    }
  reply = cx_agent_callbacks_build (nodes);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
change_callback (CxServer *self, SoupServerMessage *msg, CxAgent *agent, const char *id,
                 gboolean complete)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxCallback) callback = cx_store_get_callback (self->store, id, &error);
  g_autoptr (JsonNode) frame = NULL;
  gint64 slot_start = 0, slot_end = 0;
  guint capacity = 0;

  if (callback == NULL || !agent_serves (agent, callback->service))
    {
      if (error != NULL)
        _cx_server_reply_internal (msg, error);
      else
        _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is no callback %s"), id);
      return;
    }

  if (complete)
    {
      g_free (callback->state);
      callback->state = g_strdup ("COMPLETED");
    }
  else
    {
      g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
      gint64 time = 0;

      if (body == NULL || !cx_agent_reschedule_parse (body, &time, &error))
        {
          reply_bad_request (msg, error);
          return;
        }
      if (!_cx_server_callback_slot (self, time, &slot_start, &slot_end, &error))
        {
          _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
          return;
        }
      capacity = self->config->slot_capacity;
      callback->desired_time = time;
      g_free (callback->state);
      callback->state = g_strdup ("SCHEDULED");
    }

  if (!cx_store_update_callback (self->store, callback, slot_start, slot_end, capacity, &error))
    {
      if (g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL))
        _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT, _ ("That time slot is full"));
      else
        _cx_server_reply_internal (msg, error);
      return;
    }

  _cx_server_push_callbacks_changed (self);
  reply_callback (msg, callback);
}

static void
list_canned (CxServer *self, SoupServerMessage *msg)
{
  g_autoptr (GPtrArray) responses = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonNode) reply = NULL;

  for (guint i = 0; i < self->config->canned->len; i++)
    {
      CxCannedResponse *canned = g_ptr_array_index (self->config->canned, i);
      CxAgentCanned *view = g_new (CxAgentCanned, 1);

      *view = (CxAgentCanned){ canned->id, canned->title, canned->text };
      g_ptr_array_add (responses, view);
    }
  reply = cx_agent_canned_build (responses);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* The dispatcher for /cx/1/agent/… */
static void
agent_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  CxServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *rest = path + strlen (CX_AGENT_API_PREFIX);
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *token_hash = NULL;
  g_autofree char *id = NULL;
  CxAgentRoute route = CX_AGENT_ROUTE_ME;
  gboolean routed;

  if (rest[0] != '/' || rest[1] == '\0')
    {
      _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
      return;
    }
  routed = cx_agent_route_parse (method, rest, &route, &id);

  /* Access rules (issue 9): before anything else, the handshake of the event socket too. */
  if (!_cx_server_agent_request_allowed (self, msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_FORBIDDEN,
                              _ ("Requests from this origin are not allowed"));
      return;
    }
  if (!_cx_server_agent_content_type_allowed (msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                              _ ("The body must be application/json"));
      return;
    }

  if (routed && route == CX_AGENT_ROUTE_SIGN_IN)
    {
      _cx_server_agent_sign_in (self, msg);
      return;
    }

  /* Without a session every path is 401, known or not. */
  agent = _cx_server_session_agent (self, msg, &token_hash);
  if (agent == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, _ ("Sign in first"));
      return;
    }
  if (!routed)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
      return;
    }

  switch (route)
    {
      case CX_AGENT_ROUTE_SIGN_OUT:
        _cx_server_agent_sign_out (self, msg, agent, token_hash);
        return;
      case CX_AGENT_ROUTE_ME:
        {
          g_autoptr (JsonNode) reply = _cx_server_agent_to_json (agent);

          _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
        }
        return;
      case CX_AGENT_ROUTE_STATE:
        set_state (self, msg, agent);
        return;
      case CX_AGENT_ROUTE_EVENTS:
        return; /* Authorized: the WebSocket handler takes it from here. */
      case CX_AGENT_ROUTE_INVITATIONS:
        list_invitations (self, msg, agent);
        return;
      case CX_AGENT_ROUTE_ACCEPT:
      case CX_AGENT_ROUTE_DECLINE:
        answer_invitation (self, msg, agent, id, route == CX_AGENT_ROUTE_ACCEPT);
        return;
      case CX_AGENT_ROUTE_CHATS:
        list_chats (self, msg, agent);
        return;
      case CX_AGENT_ROUTE_CALLBACKS:
        list_callbacks (self, msg, agent);
        return;
      case CX_AGENT_ROUTE_COMPLETE_CALLBACK:
      case CX_AGENT_ROUTE_RESCHEDULE_CALLBACK:
        change_callback (self, msg, agent, id, route == CX_AGENT_ROUTE_COMPLETE_CALLBACK);
        return;
      case CX_AGENT_ROUTE_CANNED:
        list_canned (self, msg);
        return;
      case CX_AGENT_ROUTE_SIGN_IN:
      case CX_AGENT_ROUTE_MESSAGES:
      case CX_AGENT_ROUTE_SEND:
      case CX_AGENT_ROUTE_TYPING:
      case CX_AGENT_ROUTE_END:
      case CX_AGENT_ROUTE_TRANSFER:
      default:
        break;
    }

  /* The routes of one of the agent's chats. */
  chat = my_chat (self, msg, agent, id);
  if (chat == NULL)
    return;
  if (route == CX_AGENT_ROUTE_MESSAGES)
    get_messages (self, msg, agent, chat, query);
  else if (route == CX_AGENT_ROUTE_SEND)
    send_message (self, msg, agent, chat);
  else if (route == CX_AGENT_ROUTE_TYPING)
    typing (self, msg, agent, chat);
  else if (route == CX_AGENT_ROUTE_END)
    end_chat (self, msg, agent, chat);
  else
    transfer (self, msg, agent, chat);
}

static void
ewt_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer user_data)
{
  CxServer *self = user_data;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) queues = NULL;
  g_autofree gint64 *seconds = NULL;
  g_autoptr (JsonNode) reply = NULL;

  /* queue=a&queue=b: GHashTable keeps one value per key, so the raw query. */
  if (!cx_agent_ewt_query_parse (g_uri_get_query (soup_server_message_get_uri (msg)), &queues,
                                 &error))
    {
      reply_bad_request (msg, error);
      return;
    }

  seconds = g_new0 (gint64, g_strv_length (queues) + 1);
  for (guint i = 0; queues[i] != NULL; i++)
    {
      if (cx_server_config_find_service (self->config, queues[i]) == NULL)
        {
          _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, _ ("There is no queue %s"),
                                  queues[i]);
          return;
        }
      seconds[i] = _cx_server_ewt (self, queues[i]);
    }

  reply = cx_agent_ewt_build ((const char *const *) queues, seconds);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

void
_cx_server_agent_init (CxServer *self)
{
  g_autofree char *events = g_strconcat (CX_AGENT_API_PREFIX, "/events", NULL);

  _cx_server_agent_session_init (self);
  _cx_server_agent_socket_init (self);

  soup_server_add_handler (self->soup, CX_AGENT_API_PREFIX, agent_handler_cb, self, NULL);
  /* The same handler on the socket's own path: a handler only runs for the longest path it
   * matches, and this one refuses (401) a handshake without a session before it happens. */
  soup_server_add_handler (self->soup, events, agent_handler_cb, self, NULL);
  soup_server_add_websocket_handler (self->soup, events, NULL, NULL, _cx_server_agent_events_cb,
                                     self, NULL);
  soup_server_add_handler (self->soup, CX_AGENT_API_EWT_PATH, ewt_cb, self, NULL);
}

/* Frees what the access rules keep (issue 9); from the server's finalize. */
void
_cx_server_access_free (CxServer *self)
{
  _cx_server_agent_socket_stop (self);
  g_clear_pointer (&self->grace_timers, g_hash_table_unref);
  _cx_server_agent_session_free (self);
}
