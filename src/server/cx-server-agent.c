/* cx-server-agent.c: the agent API under /cx/1/agent (API.md): sessions, state, invitations,
 * conversations, callbacks, canned responses, and each agent's event socket. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <crypt.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-callback.h"
#include "server/cx-server-private.h"

/* Checked when the user name is unknown, so that a wrong name costs what a wrong password
 * does and the reply time does not tell which names exist. */
#define DUMMY_HASH "$5$cxdeskcxdeskcx$0000000000000000000000000000000000000000000"

const char *
_cx_agent_state_to_string (CxAgentState state)
{
  switch (state)
    {
      case CX_AGENT_READY:
        return "ready";
      case CX_AGENT_NOT_READY:
        return "not_ready";
      case CX_AGENT_OFFLINE:
      default:
        return "offline";
    }
}

static gboolean
agent_state_from_string (const char *text, CxAgentState *state)
{
  if (g_strcmp0 (text, "ready") == 0)
    *state = CX_AGENT_READY;
  else if (g_strcmp0 (text, "not_ready") == 0)
    *state = CX_AGENT_NOT_READY;
  else if (g_strcmp0 (text, "offline") == 0)
    *state = CX_AGENT_OFFLINE;
  else
    return FALSE;
  return TRUE;
}

JsonNode *
_cx_server_agent_to_json (const CxAgent *agent)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, agent->username);
  json_builder_set_member_name (builder, "displayName");
  json_builder_add_string_value (builder, agent->display_name);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, _cx_agent_state_to_string (agent->state));
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, agent->reason);
  json_builder_set_member_name (builder, "capacity");
  json_builder_add_int_value (builder, agent->capacity);
  json_builder_set_member_name (builder, "load");
  json_builder_add_int_value (builder, agent->load);
  json_builder_set_member_name (builder, "queues");
  json_builder_begin_array (builder);
  for (guint i = 0; agent->queues && agent->queues[i]; i++)
    json_builder_add_string_value (builder, agent->queues[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Sockets */

void
_cx_server_send_to_agent (CxServer *self, const char *username, JsonNode *frame)
{
  GPtrArray *sockets = g_hash_table_lookup (self->agent_sockets, username);
  g_autofree char *text = NULL;

  if (sockets == NULL || sockets->len == 0)
    return;

  text = json_to_string (frame, FALSE);
  for (guint i = 0; i < sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (conn, text);
    }
}

void
_cx_server_send_to_all_agents (CxServer *self, JsonNode *frame)
{
  GHashTableIter iter;
  const char *username;

  g_hash_table_iter_init (&iter, self->agent_sockets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &username, NULL))
    _cx_server_send_to_agent (self, username, frame);
}

static void
agent_socket_closed_cb (SoupWebsocketConnection *conn, CxServer *self)
{
  const char *username = g_object_get_data (G_OBJECT (conn), "cx-agent");
  GPtrArray *sockets = username ? g_hash_table_lookup (self->agent_sockets, username) : NULL;

  if (sockets != NULL && g_ptr_array_remove (sockets, conn) && sockets->len == 0)
    _cx_server_agent_sockets_gone (self, username); /* the grace time starts (issue 9) */
}

/* Tells the sockets of one session (the windows of one app) that it signed out, and closes
 * them. Returns whether the agent still has sockets of other sessions (another app signed in
 * as the same agent). */
static gboolean
sign_out_sockets (CxServer *self, const char *username, const char *token_hash)
{
  GPtrArray *sockets = g_hash_table_lookup (self->agent_sockets, username);
  g_autoptr (JsonNode) frame = cx_agent_event_build_signed_out ();
  g_autoptr (GPtrArray) closing = NULL;
  g_autofree char *text = json_to_string (frame, FALSE);
  gboolean others = FALSE;

  if (sockets == NULL)
    return FALSE;

  closing = g_ptr_array_copy (sockets, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_free_func (closing, g_object_unref);
  for (guint i = 0; i < closing->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (closing, i);

      if (g_strcmp0 (g_object_get_data (G_OBJECT (conn), "cx-session"), token_hash) != 0)
        {
          others =
              others || soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN;
          continue;
        }
      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        {
          soup_websocket_connection_send_text (conn, text);
          soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, "signed out");
        }
    }
  return others;
}

/* Sessions */

static char *
session_token (SoupServerMessage *msg)
{
  const char *header =
      soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) cookies = NULL;

  if (header == NULL)
    return NULL;
  cookies = soup_header_parse_semi_param_list (header);
  return g_strdup (g_hash_table_lookup (cookies, CX_AGENT_COOKIE));
}

/* The signed-in agent of a request, or NULL. */
static CxAgent *
session_agent (CxServer *self, SoupServerMessage *msg, char **token_hash_out)
{
  g_autofree char *token = session_token (msg);
  g_autofree char *hash = NULL;
  g_autofree char *username = NULL;
  g_autoptr (GError) error = NULL;

  if (token == NULL || strlen (token) != 64)
    return NULL;

  hash = _cx_server_hash_token (token);
  username = cx_store_lookup_session (self->store, hash, _cx_server_now (), &error);
  if (username == NULL)
    {
      if (error != NULL)
        g_warning ("Session lookup failed: %s", error->message);
      return NULL;
    }

  if (token_hash_out != NULL)
    *token_hash_out = g_steal_pointer (&hash);
  return cx_store_get_agent (self->store, username, NULL);
}

static void
set_session_cookie (SoupServerMessage *msg, const char *token, gboolean clear)
{
  g_autofree char *header = NULL;

  if (clear)
    header = g_strdup (CX_AGENT_COOKIE "=; Path=/cx/1; HttpOnly; SameSite=Strict; Max-Age=0");
  else
    header = g_strdup_printf (CX_AGENT_COOKIE "=%s; Path=/cx/1; HttpOnly; SameSite=Strict", token);
  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               header);
}

static gboolean
check_password (const char *password, const char *hash)
{
  /* 32 KiB; the main thread's stack has room, and nothing is left on the heap. */
  struct crypt_data data = { 0 };
  gboolean ok = FALSE;

  if (hash == NULL)
    {
      /* Spend the same time on an unknown name, and answer no. */
      crypt_r (password, DUMMY_HASH, &data);
    }
  else
    {
      const char *computed = crypt_r (password, hash, &data);

      ok = computed != NULL && computed[0] == '$' && _cx_server_equal_secret (computed, hash);
    }

  explicit_bzero (&data, sizeof data);
  return ok;
}

static const char *
get_string_member (JsonNode *body, const char *member)
{
  JsonNode *node = json_object_get_member (json_node_get_object (body), member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Sign-in throttling (issue 9, item 11; API.md "Signing in"). Failed attempts are counted per
 * user name (configured agents only, so the table is bounded) and per client address. After
 * limits.signInFreeFailures failures in a row, each further failure blocks the name or address
 * for twice as long as the one before, 1 s, 2 s, 4 s … up to limits.signInMaxDelaySeconds;
 * while blocked, attempts are answered 429 without checking the password (so they cost no
 * hashing and cannot be counted). A count with no failure for SIGN_IN_FORGET_MS is forgotten.
 *
 * The trade-off: a block on a user name also stops the real user, from wherever the
 * failures come. It never lasts longer than the cap at a time, and addresses this user signed
 * in from successfully before (the last SIGN_IN_KNOWN_ADDRESSES, since this process started)
 * are not held back by the user name's block, only by their own address's. */
#define SIGN_IN_FORGET_MS (15 * 60 * G_GINT64_CONSTANT (1000))
#define SIGN_IN_KNOWN_ADDRESSES 8
#define SIGN_IN_MAX_ADDRESSES 65536

typedef struct
{
  guint failures;
  gint64 last_failure;  /* monotonic ms */
  gint64 blocked_until; /* monotonic ms */
  GPtrArray *known;     /* of a user: addresses it signed in from, newest last */
} SignInFailures;

static void
sign_in_failures_free (gpointer data)
{
  SignInFailures *failures = data;

  g_clear_pointer (&failures->known, g_ptr_array_unref);
  g_free (failures);
}

static gint64
monotonic_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* How long @failures still blocks, in ms (0: not blocked). */
static gint64
sign_in_wait (SignInFailures *failures, gint64 now)
{
  return failures != NULL && failures->blocked_until > now ? failures->blocked_until - now : 0;
}

static void
sign_in_count_failure (CxServer *self, GHashTable *table, const char *key, gint64 now)
{
  SignInFailures *failures = g_hash_table_lookup (table, key);
  guint free_failures = self->config->sign_in_free_failures;

  if (failures == NULL)
    {
      /* Bounded: past the limit, forget the addresses that are not blocked now. */
      if (g_hash_table_size (table) >= SIGN_IN_MAX_ADDRESSES)
        {
          GHashTableIter iter;
          SignInFailures *other;

          g_hash_table_iter_init (&iter, table);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
            if (sign_in_wait (other, now) == 0 && other->known == NULL)
              g_hash_table_iter_remove (&iter);
        }
      failures = g_new0 (SignInFailures, 1);
      g_hash_table_insert (table, g_strdup (key), failures);
    }
  if (failures->failures > 0 && now - failures->last_failure > SIGN_IN_FORGET_MS)
    failures->failures = 0;

  failures->failures++;
  failures->last_failure = now;
  if (failures->failures >= free_failures)
    {
      guint doublings = MIN (failures->failures - free_failures, 20);
      gint64 delay = MIN ((G_GINT64_CONSTANT (1000) << doublings),
                          (gint64) self->config->sign_in_max_delay_s * 1000);

      failures->blocked_until = now + delay;
    }
}

static gboolean
sign_in_known_address (SignInFailures *user, const char *address)
{
  for (guint i = 0; user != NULL && user->known != NULL && i < user->known->len; i++)
    if (g_str_equal (g_ptr_array_index (user->known, i), address))
      return TRUE;
  return FALSE;
}

static void
sign_in_succeeded (CxServer *self, const char *username, const char *address)
{
  SignInFailures *user = g_hash_table_lookup (self->sign_in_users, username);

  if (user == NULL)
    {
      user = g_new0 (SignInFailures, 1);
      g_hash_table_insert (self->sign_in_users, g_strdup (username), user);
    }
  user->failures = 0;
  user->blocked_until = 0;
  if (user->known == NULL)
    user->known = g_ptr_array_new_with_free_func (g_free);
  if (!sign_in_known_address (user, address))
    {
      if (user->known->len >= SIGN_IN_KNOWN_ADDRESSES)
        g_ptr_array_remove_index (user->known, 0);
      g_ptr_array_add (user->known, g_strdup (address));
    }
  /* The address's own count is not reset: one account of one's own must not buy unlimited
   * guesses at the others. It is forgotten after SIGN_IN_FORGET_MS. */
}

/* 429 with Retry-After when @username or @address is blocked now. */
static gboolean
sign_in_refuse_if_blocked (CxServer *self, SoupServerMessage *msg, const char *username,
                           const char *address)
{
  gint64 now = monotonic_ms ();
  SignInFailures *user = g_hash_table_lookup (self->sign_in_users, username);
  gint64 wait = sign_in_wait (g_hash_table_lookup (self->sign_in_addresses, address), now);
  g_autofree char *seconds = NULL;

  if (!sign_in_known_address (user, address))
    wait = MAX (wait, sign_in_wait (user, now));
  if (wait == 0)
    return FALSE;

  seconds = g_strdup_printf ("%" G_GINT64_FORMAT, (wait + 999) / 1000);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                seconds);
  _cx_server_reply_error (msg, 429 /* Too Many Requests */,
                          _ ("Too many failed sign-ins: try again in %s s"), seconds);
  return TRUE;
}

static void
sign_in (CxServer *self, SoupServerMessage *msg)
{
  const char *address = soup_server_message_get_remote_host (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hash = NULL;
  const char *username, *password;

  if (body == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  username = get_string_member (body, "username");
  password = get_string_member (body, "password");
  if (username == NULL || password == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("Signing in needs a username and a password"));
      return;
    }

  if (address == NULL)
    address = "";
  if (sign_in_refuse_if_blocked (self, msg, username, address))
    return;

  agent = cx_store_get_agent (self->store, username, NULL);
  if (!check_password (password, agent ? agent->password_hash : NULL))
    {
      gint64 now = monotonic_ms ();

      if (agent != NULL)
        sign_in_count_failure (self, self->sign_in_users, agent->username, now);
      sign_in_count_failure (self, self->sign_in_addresses, address, now);
      _cx_server_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, _ ("Wrong user name or password"));
      return;
    }
  sign_in_succeeded (self, agent->username, address);

  token = _cx_server_random_token (32);
  hash = _cx_server_hash_token (token);
  if (!cx_store_create_session (self->store, hash, agent->username,
                                _cx_server_now () + CX_SESSION_LIFETIME_MS, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  /* Signing in makes an agent present, not yet ready for customers. */
  if (agent->state == CX_AGENT_OFFLINE)
    {
      cx_store_set_agent_state (self->store, agent->username, CX_AGENT_NOT_READY, NULL,
                                _cx_server_now (), NULL);
      g_clear_pointer (&agent, cx_agent_free);
      agent = cx_store_get_agent (self->store, username, NULL);
    }

  set_session_cookie (msg, token, FALSE);
  reply = _cx_server_agent_to_json (agent);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static CxAgentPresence
presence_of (CxAgentState state)
{
  switch (state)
    {
      case CX_AGENT_READY:
        return CX_AGENT_PRESENCE_READY;
      case CX_AGENT_NOT_READY:
        return CX_AGENT_PRESENCE_NOT_READY;
      case CX_AGENT_OFFLINE:
      default:
        return CX_AGENT_PRESENCE_OFFLINE;
    }
}

static void
push_agent_state (CxServer *self, const CxAgent *agent)
{
  g_autoptr (JsonNode) frame =
      cx_agent_event_build_agent_state (presence_of (agent->state), agent->reason);

  _cx_server_send_to_agent (self, agent->username, frame);
}

static void
sign_out (CxServer *self, SoupServerMessage *msg, CxAgent *agent, const char *token_hash)
{
  g_autoptr (GError) error = NULL;

  if (!cx_store_delete_session (self->store, token_hash, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  /* Only this session's windows sign out. The agent goes offline unless another app is still
   * signed in as them (its sockets are open here). */
  if (!sign_out_sockets (self, agent->username, token_hash))
    {
      g_autoptr (CxAgent) updated = NULL;

      if (!cx_store_set_agent_state (self->store, agent->username, CX_AGENT_OFFLINE, NULL,
                                     _cx_server_now (), &error))
        {
          _cx_server_reply_internal (msg, error);
          return;
        }
      updated = cx_store_get_agent (self->store, agent->username, NULL);
      if (updated != NULL)
        push_agent_state (self, updated);
    }
  set_session_cookie (msg, NULL, TRUE);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
set_state (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxAgent) updated = NULL;
  g_autoptr (JsonNode) reply = NULL;
  const char *reason;
  CxAgentState state;

  if (body == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  if (!agent_state_from_string (get_string_member (body, "state"), &state))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("“state” must be ready, not_ready or offline"));
      return;
    }
  reason = get_string_member (body, "reason");
  if (reason != NULL && g_utf8_strlen (reason, -1) > 128)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("“reason” is longer than 128 characters"));
      return;
    }

  if (!cx_store_set_agent_state (self->store, agent->username, state,
                                 state == CX_AGENT_READY ? NULL : reason, _cx_server_now (),
                                 &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  updated = cx_store_get_agent (self->store, agent->username, NULL);
  push_agent_state (self, updated);
  if (state == CX_AGENT_READY)
    _cx_server_route_all (self);

  reply = _cx_server_agent_to_json (updated);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* Invitations and chats */

static JsonNode *
invitation_frame (CxServer *self, const CxInvitation *invitation)
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
  g_autoptr (JsonNode) frame = invitation_frame (self, invitation);

  if (frame != NULL)
    _cx_server_send_to_agent (self, invitation->agent, frame);
}

static void
list_invitations (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) invitations =
      cx_store_list_invitations (self->store, agent->username, &error);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;

  if (invitations == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "invitations");
  json_builder_begin_array (builder);
  for (guint i = 0; i < invitations->len; i++)
    {
      JsonNode *frame = invitation_frame (self, g_ptr_array_index (invitations, i));

      if (frame != NULL)
        json_builder_add_value (builder, frame);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
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
      g_autoptr (JsonNode) frame = cx_agent_event_build_invitation_withdrawn (chat_id, "declined");

      /* Every window of the agent shows the invitation; all of them drop it. */
      _cx_server_send_to_agent (self, agent->username, frame);
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
  reply = _cx_server_chat_to_json (self, chat, TRUE);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
list_chats (CxServer *self, SoupServerMessage *msg, CxAgent *agent)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) chats =
      cx_store_list_open_chats (self->store, NULL, agent->username, &error);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;

  if (chats == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "chats");
  json_builder_begin_array (builder);
  for (guint i = 0; i < chats->len; i++)
    json_builder_add_value (builder,
                            _cx_server_chat_to_json (self, g_ptr_array_index (chats, i), TRUE));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
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
  const char *from_text = query ? g_hash_table_lookup (query, "from") : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (JsonNode) frame = NULL;
  guint64 from = 1;

  if (from_text != NULL && (!g_ascii_string_to_unsigned (from_text, 10, 1, G_MAXUINT, &from, NULL)))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("“from” must be a transcript index, 1 or more"));
      return;
    }

  messages = cx_store_get_messages (self->store, chat->id, from, 0, &error);
  if (messages == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }
  frame = cx_agent_event_build_messages (chat->id, messages, chat->next_index);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, frame);
}

/* Text from an agent: the same rules as a customer's (API.md "Limits"). */
static gboolean
check_text (CxServer *self, const char *text, GError **error)
{
  if (text == NULL || *text == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("“text” is empty"));
      return FALSE;
    }
  if (g_utf8_strlen (text, -1) > (glong) self->config->max_message_length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The message is longer than %u characters"),
                   self->config->max_message_length);
      return FALSE;
    }
  for (const char *p = text; *p; p++)
    if ((guchar) *p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
      {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             _ ("The message contains control characters"));
        return FALSE;
      }
  return TRUE;
}

static void
send_message (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxMessage) message = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) reply = NULL;
  const char *text;

  if (body == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  text = get_string_member (body, "text");
  if (!check_text (self, text, &error))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
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

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, message->index);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
typing (CxServer *self, SoupServerMessage *msg, CxAgent *agent, CxChat *chat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxMessage) message = NULL;
  JsonNode *flag;

  if (body == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  flag = json_object_get_member (json_node_get_object (body), "typing");
  if (flag == NULL || !JSON_NODE_HOLDS_VALUE (flag) ||
      json_node_get_value_type (flag) != G_TYPE_BOOLEAN)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, _ ("“typing” must be true or false"));
      return;
    }
  if (chat->state != CX_CHAT_ACTIVE)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT, _ ("The chat has ended"));
      return;
    }

  message = _cx_server_agent_message (
      self, agent->username,
      json_node_get_boolean (flag) ? CX_MESSAGE_TYPING_STARTED : CX_MESSAGE_TYPING_STOPPED, NULL);
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
  const char *queue, *to_agent;

  if (body == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  queue = get_string_member (body, "queue");
  to_agent = get_string_member (body, "agent");
  if ((queue == NULL) == (to_agent == NULL))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("A transfer needs either “queue” or “agent”"));
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
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;

  if (callbacks == NULL)
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "callbacks");
  json_builder_begin_array (builder);
  for (guint i = 0; i < callbacks->len; i++)
    {
      CxCallback *callback = g_ptr_array_index (callbacks, i);

      if (agent_serves (agent, callback->service))
        json_builder_add_value (builder, _cx_server_callback_to_json (callback));
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
change_callback (CxServer *self, SoupServerMessage *msg, CxAgent *agent, const char *id,
                 const char *action)
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

  if (g_str_equal (action, "complete"))
    {
      g_free (callback->state);
      callback->state = g_strdup ("COMPLETED");
    }
  else
    {
      g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
      const char *desired = body ? get_string_member (body, "desiredTime") : NULL;
      gint64 time;

      if (body == NULL)
        {
          _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
          return;
        }
      if (desired == NULL || !cx_iso8601_parse (desired, &time, &error))
        {
          _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                                  _ ("“desiredTime” must be an ISO-8601 time"));
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

  frame = cx_agent_event_build_callbacks_changed ();
  _cx_server_send_to_all_agents (self, frame);
  reply_callback (msg, callback);
}

static void
list_canned (CxServer *self, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "responses");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->config->canned->len; i++)
    {
      CxCannedResponse *canned = g_ptr_array_index (self->config->canned, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, canned->id);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, canned->title);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, canned->text);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* Origin and content type (issue 9, item 10; API.md "Origins"). A browser names the page that
 * makes a cross-site request in Origin: the agent API answers only its own origin and those of
 * agentOrigins. A request without Origin (the native agent app, curl) is not a browser's
 * cross-site request and passes. */

/* "scheme://host:port", lower case, with the scheme's default port filled in; NULL if @scheme
 * is not http(s) or there is no host. */
static char *
origin_key (const char *scheme, const char *host, int port)
{
  g_autofree char *lower_scheme = NULL;
  g_autofree char *lower_host = NULL;

  if (scheme == NULL || host == NULL || *host == '\0')
    return NULL;
  lower_scheme = g_ascii_strdown (scheme, -1);
  if (port < 0 && g_str_equal (lower_scheme, "http"))
    port = 80;
  else if (port < 0 && g_str_equal (lower_scheme, "https"))
    port = 443;
  if (port < 0)
    return NULL;
  lower_host = g_ascii_strdown (host, -1);
  return g_strdup_printf ("%s://%s:%d", lower_scheme, lower_host, port);
}

static char *
origin_key_of (const char *origin)
{
  g_autoptr (GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) != NULL ||
      (*g_uri_get_path (uri) != '\0' && !g_str_equal (g_uri_get_path (uri), "/")))
    return NULL;
  return origin_key (g_uri_get_scheme (uri), g_uri_get_host (uri), g_uri_get_port (uri));
}

static gboolean
origin_allowed (CxServer *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_list (headers, "Origin");
  GUri *own = soup_server_message_get_uri (msg);
  g_autofree char *key = NULL;
  g_autofree char *own_key = NULL;

  if (origin == NULL)
    return TRUE;
  /* "null" (a sandboxed or file: page), several origins, or garbage: not ours. */
  key = origin_key_of (origin);
  if (key == NULL)
    return FALSE;

  /* The server's own origin: the scheme it was reached with, and the request's Host. */
  own_key = origin_key (g_uri_get_scheme (own), g_uri_get_host (own), g_uri_get_port (own));
  if (own_key != NULL && g_str_equal (key, own_key))
    return TRUE;
  for (guint i = 0; self->config->agent_origins[i] != NULL; i++)
    {
      g_autofree char *allowed = origin_key_of (self->config->agent_origins[i]);

      if (allowed != NULL && g_str_equal (key, allowed))
        return TRUE;
    }
  return FALSE;
}

/* A POST or PUT with a body must say it is JSON: a browser's cross-site form or text/plain
 * request cannot. */
static gboolean
content_type_allowed (SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method (msg);
  const char *type = NULL;

  if (!g_str_equal (method, "POST") && !g_str_equal (method, "PUT"))
    return TRUE;
  if (soup_server_message_get_request_body (msg)->length == 0)
    return TRUE;
  type =
      soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

/* The dispatcher for /cx/1/agent/… */
static void
agent_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer user_data)
{
  CxServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path + strlen ("/cx/1/agent"), "/", 0);
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *token_hash = NULL;
  guint n = g_strv_length (parts);
  gboolean get = g_str_equal (method, "GET"), post = g_str_equal (method, "POST");

  /* parts[0] is "" (the path starts with a slash after the prefix). */
  if (n < 2 || parts[0][0] != '\0')
    {
      _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
      return;
    }

  /* Access rules (issue 9): before anything else, the handshake of the event socket too. */
  if (!origin_allowed (self, msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_FORBIDDEN,
                              _ ("Requests from this origin are not allowed"));
      return;
    }
  if (!content_type_allowed (msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                              _ ("The body must be application/json"));
      return;
    }

  if (n == 2 && g_str_equal (parts[1], "session") && post)
    {
      sign_in (self, msg);
      return;
    }

  agent = session_agent (self, msg, &token_hash);
  if (agent == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, _ ("Sign in first"));
      return;
    }

  if (n == 2 && g_str_equal (parts[1], "session") && g_str_equal (method, "DELETE"))
    sign_out (self, msg, agent, token_hash);
  else if (n == 2 && g_str_equal (parts[1], "me") && get)
    {
      g_autoptr (JsonNode) reply = _cx_server_agent_to_json (agent);
      _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
    }
  else if (n == 2 && g_str_equal (parts[1], "state") && g_str_equal (method, "PUT"))
    set_state (self, msg, agent);
  else if (n == 2 && g_str_equal (parts[1], "events") && get)
    ; /* Authorized: the WebSocket handler takes it from here. */
  else if (n == 2 && g_str_equal (parts[1], "invitations") && get)
    list_invitations (self, msg, agent);
  else if (n == 4 && g_str_equal (parts[1], "invitations") && post &&
           (g_str_equal (parts[3], "accept") || g_str_equal (parts[3], "decline")))
    answer_invitation (self, msg, agent, parts[2], g_str_equal (parts[3], "accept"));
  else if (n == 2 && g_str_equal (parts[1], "chats") && get)
    list_chats (self, msg, agent);
  else if (n == 4 && g_str_equal (parts[1], "chats"))
    {
      chat = my_chat (self, msg, agent, parts[2]);
      if (chat == NULL)
        return;
      if (get && g_str_equal (parts[3], "messages"))
        get_messages (self, msg, agent, chat, query);
      else if (post && g_str_equal (parts[3], "send"))
        send_message (self, msg, agent, chat);
      else if (post && g_str_equal (parts[3], "typing"))
        typing (self, msg, agent, chat);
      else if (post && g_str_equal (parts[3], "end"))
        end_chat (self, msg, agent, chat);
      else if (post && g_str_equal (parts[3], "transfer"))
        transfer (self, msg, agent, chat);
      else
        _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
    }
  else if (n == 2 && g_str_equal (parts[1], "callbacks") && get)
    list_callbacks (self, msg, agent);
  else if (n == 4 && g_str_equal (parts[1], "callbacks") && post &&
           (g_str_equal (parts[3], "complete") || g_str_equal (parts[3], "reschedule")))
    change_callback (self, msg, agent, parts[2], parts[3]);
  else if (n == 2 && g_str_equal (parts[1], "canned") && get)
    list_canned (self, msg);
  else
    _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
}

/* Liveness (issue 9, item 14): an app that crashes closes its socket (the system does), but
 * one whose network is gone leaves it open. Every socket is pinged each keepalive interval
 * (30 s, or the grace time if shorter); one that has answered nothing (no pong, no frame) for
 * SILENT_INTERVALS of them and SILENT_SLACK_S more is closed, and the grace time starts. */
#define KEEPALIVE_MAX_S 30
#define SILENT_INTERVALS 3
#define SILENT_SLACK_S 10

static guint
keepalive_interval (CxServer *self)
{
  return CLAMP (self->config->agent_grace_s, 1, KEEPALIVE_MAX_S);
}

static void
agent_socket_seen (SoupWebsocketConnection *conn)
{
  g_object_set_data (G_OBJECT (conn), "cx-seen-s",
                     GSIZE_TO_POINTER ((gsize) (g_get_monotonic_time () / G_USEC_PER_SEC)));
}

static void
agent_socket_pong_cb (SoupWebsocketConnection *conn, GBytes *message, gpointer user_data)
{
  agent_socket_seen (conn);
}

static void
agent_socket_message_cb (SoupWebsocketConnection *conn, int type, GBytes *message,
                         gpointer user_data)
{
  agent_socket_seen (conn);
}

static gboolean
liveness_cb (gpointer user_data)
{
  CxServer *self = user_data;
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;
  gint64 limit = (gint64) SILENT_INTERVALS * keepalive_interval (self) + SILENT_SLACK_S;
  g_autoptr (GPtrArray) silent = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GPtrArray *sockets;

  g_hash_table_iter_init (&iter, self->agent_sockets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &sockets))
    for (guint i = 0; i < sockets->len; i++)
      {
        SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);
        gint64 seen = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (conn), "cx-seen-s"));

        if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN &&
            now - seen > limit)
          g_ptr_array_add (silent, g_object_ref (conn));
      }

  /* Closed outside the walk: closing may change the table. libsoup gives a peer that does not
   * answer the close frame 5 s, then closes the stream, and "closed" starts the grace time. */
  for (guint i = 0; i < silent->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (silent, i);

      g_debug ("The event socket of %s has not answered for %" G_GINT64_FORMAT " s: closing it",
               (const char *) g_object_get_data (G_OBJECT (conn), "cx-agent"), limit);
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "no answer");
    }
  return G_SOURCE_CONTINUE;
}

static void
agent_socket_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                 SoupWebsocketConnection *conn, gpointer user_data)
{
  CxServer *self = user_data;
  g_autofree char *token_hash = NULL;
  g_autoptr (CxAgent) agent = session_agent (self, msg, &token_hash);
  g_autoptr (GPtrArray) invitations = NULL;
  GPtrArray *sockets;

  if (agent == NULL)
    {
      /* The session ended between the check and the handshake. */
      soup_websocket_connection_close (conn, 4401, "sign in first");
      return;
    }

  sockets = g_hash_table_lookup (self->agent_sockets, agent->username);
  if (sockets == NULL)
    {
      sockets = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->agent_sockets, g_strdup (agent->username), sockets);
    }
  g_ptr_array_add (sockets, g_object_ref (conn));
  g_object_set_data_full (G_OBJECT (conn), "cx-agent", g_strdup (agent->username), g_free);
  g_object_set_data_full (G_OBJECT (conn), "cx-session", g_steal_pointer (&token_hash), g_free);
  g_signal_connect_object (conn, "closed", G_CALLBACK (agent_socket_closed_cb), self, 0);
  /* Pinged every keepalive interval; a peer that stops answering is closed (issue 9). */
  soup_websocket_connection_set_keepalive_interval (conn, keepalive_interval (self));
  agent_socket_seen (conn);
  g_signal_connect (conn, "pong", G_CALLBACK (agent_socket_pong_cb), NULL);
  g_signal_connect (conn, "message", G_CALLBACK (agent_socket_message_cb), NULL);
  _cx_server_agent_socket_back (self, agent->username); /* within the grace time (issue 9) */

  /* What a reconnecting workspace needs first: its state and what is offered to it. */
  push_agent_state (self, agent);
  invitations = cx_store_list_invitations (self->store, agent->username, NULL);
  for (guint i = 0; invitations && i < invitations->len; i++)
    {
      g_autoptr (JsonNode) frame = invitation_frame (self, g_ptr_array_index (invitations, i));
      g_autofree char *text = frame ? json_to_string (frame, FALSE) : NULL;

      if (text != NULL)
        soup_websocket_connection_send_text (conn, text);
    }
}

/* Agents who vanish (issue 9, item 14; API.md "Agents who vanish"). When an agent's last event
 * socket in this process closes (the app quit, crashed or lost the network), a timer of
 * limits.agentGraceSeconds starts; a new socket within it cancels it and nothing changes. When
 * it fires with still no socket, a ready agent becomes not_ready with the reason
 * "disconnected", and every pending invitation to the agent is withdrawn and offered to the
 * next agent. The timers are not stored: at start every agent who is not offline has no socket
 * yet, so each gets the grace time from the start (a restart never cuts a grace short, nor
 * loses one). */
#define GRACE_REASON "disconnected"

typedef struct
{
  CxServer *server;
  char *username;
} GraceTimer;

static void
grace_timer_free (gpointer data)
{
  GraceTimer *timer = data;

  g_free (timer->username);
  g_free (timer);
}

static gboolean
grace_expired_cb (gpointer user_data)
{
  GraceTimer *timer = user_data;
  CxServer *self = timer->server;
  GPtrArray *sockets = g_hash_table_lookup (self->agent_sockets, timer->username);
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) error = NULL;

  g_hash_table_remove (self->grace_timers, timer->username);
  if (sockets != NULL && sockets->len > 0)
    return G_SOURCE_REMOVE;

  agent = cx_store_get_agent (self->store, timer->username, &error);
  if (agent == NULL)
    {
      if (error != NULL)
        g_warning ("Grace time of %s: %s", timer->username, error->message);
      return G_SOURCE_REMOVE;
    }

  if (agent->state == CX_AGENT_READY)
    {
      g_autoptr (CxAgent) updated = NULL;

      g_debug ("%s has had no event socket for %u s: not ready", agent->username,
               self->config->agent_grace_s);
      if (!cx_store_set_agent_state (self->store, agent->username, CX_AGENT_NOT_READY, GRACE_REASON,
                                     _cx_server_now (), &error))
        {
          g_warning ("Grace time of %s: %s", agent->username, error->message);
          return G_SOURCE_REMOVE;
        }
      updated = cx_store_get_agent (self->store, agent->username, NULL);
      if (updated != NULL)
        push_agent_state (self, updated);
    }

  invitations = cx_store_list_invitations (self->store, agent->username, NULL);
  for (guint i = 0; invitations != NULL && i < invitations->len; i++)
    {
      CxInvitation *invitation = g_ptr_array_index (invitations, i);

      _cx_server_withdraw_invitation (self, invitation->chat_id, GRACE_REASON);
      _cx_server_route (self, invitation->chat_id);
    }
  return G_SOURCE_REMOVE;
}

void
_cx_server_agent_sockets_gone (CxServer *self, const char *username)
{
  GraceTimer *timer;
  guint id;

  if (self->grace_stopped || g_hash_table_contains (self->grace_timers, username))
    return;
  timer = g_new0 (GraceTimer, 1);
  timer->server = self;
  timer->username = g_strdup (username);
  id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, self->config->agent_grace_s,
                                   grace_expired_cb, timer, grace_timer_free);
  g_hash_table_insert (self->grace_timers, g_strdup (username), GUINT_TO_POINTER (id));
}

void
_cx_server_agent_socket_back (CxServer *self, const char *username)
{
  gpointer id;

  if (g_hash_table_lookup_extended (self->grace_timers, username, NULL, &id))
    {
      g_source_remove (GPOINTER_TO_UINT (id));
      g_hash_table_remove (self->grace_timers, username);
    }
}

static void
grace_stop (CxServer *self)
{
  GHashTableIter iter;
  gpointer id;

  self->grace_stopped = TRUE;
  g_clear_handle_id (&self->liveness_id, g_source_remove);
  if (self->grace_timers == NULL)
    return;
  g_hash_table_iter_init (&iter, self->grace_timers);
  while (g_hash_table_iter_next (&iter, NULL, &id))
    g_source_remove (GPOINTER_TO_UINT (id));
  g_hash_table_remove_all (self->grace_timers);
}

/* The agent API's rules, for the callback API's agent-only calls (issue 9). */
gboolean
_cx_server_agent_request_allowed (CxServer *self, SoupServerMessage *msg)
{
  return origin_allowed (self, msg);
}

CxAgent *
_cx_server_session_agent (CxServer *self, SoupServerMessage *msg, char **token_hash_out)
{
  return session_agent (self, msg, token_hash_out);
}

/* Frees what the access rules keep (issue 9); from the server's finalize. */
void
_cx_server_access_free (CxServer *self)
{
  grace_stop (self);
  g_clear_pointer (&self->grace_timers, g_hash_table_unref);
  g_clear_pointer (&self->sign_in_users, g_hash_table_unref);
  g_clear_pointer (&self->sign_in_addresses, g_hash_table_unref);
}

static void
ewt_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer user_data)
{
  CxServer *self = user_data;
  const char *raw = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) reply = NULL;
  g_auto (GStrv) pairs = g_strsplit (raw ? raw : "", "&", 0);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ewt");
  json_builder_begin_object (builder);
  /* queue=a&queue=b: GHashTable keeps one value per key, so read the raw query. */
  for (guint i = 0; pairs[i] != NULL; i++)
    if (g_str_has_prefix (pairs[i], "queue="))
      {
        g_autofree char *name = g_uri_unescape_string (pairs[i] + strlen ("queue="), NULL);

        if (name == NULL || !g_utf8_validate (name, -1, NULL) ||
            cx_server_config_find_service (self->config, name) == NULL)
          {
            _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, _ ("There is no queue %s"),
                                    name && g_utf8_validate (name, -1, NULL) ? name : "?");
            return;
          }
        json_builder_set_member_name (builder, name);
        json_builder_add_int_value (builder, _cx_server_ewt (self, name));
      }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  reply = json_builder_get_root (builder);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

void
_cx_server_agent_init (CxServer *self)
{
  /* Sign-in throttling (issue 9): freed by _cx_server_access_free(). */
  self->sign_in_users =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sign_in_failures_free);
  self->sign_in_addresses =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sign_in_failures_free);
  self->liveness_id = g_timeout_add_seconds (keepalive_interval (self), liveness_cb, self);
  /* Agents who vanish (issue 9): whoever is present at start has no socket yet. */
  self->grace_timers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    g_autoptr (GPtrArray) agents = cx_store_list_agents (self->store, NULL);

    for (guint i = 0; agents != NULL && i < agents->len; i++)
      {
        CxAgent *agent = g_ptr_array_index (agents, i);

        if (agent->state != CX_AGENT_OFFLINE)
          _cx_server_agent_sockets_gone (self, agent->username);
      }
  }

  soup_server_add_handler (self->soup, "/cx/1/agent", agent_handler_cb, self, NULL);
  /* The same handler on the socket's own path: a handler only runs for the longest path it
   * matches, and this one refuses (401) a handshake without a session before it happens. */
  soup_server_add_handler (self->soup, "/cx/1/agent/events", agent_handler_cb, self, NULL);
  soup_server_add_websocket_handler (self->soup, "/cx/1/agent/events", NULL, NULL, agent_socket_cb,
                                     self, NULL);
  soup_server_add_handler (self->soup, "/cx/1/ewt", ewt_cb, self, NULL);
}
