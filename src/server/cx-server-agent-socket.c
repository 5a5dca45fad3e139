/* cx-server-agent-socket.c: each agent's event sockets (/cx/1/agent/events): who is
 * connected, sending frames to an agent or to all, the liveness pings, and the grace time that
 * starts when an agent's last socket closes (API.md "Agents who vanish"). Sockets are local to
 * this process by nature (DESIGN.md). */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "server/cx-server-private.h"

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
_cx_server_send_to_all_agents_here (CxServer *self, JsonNode *frame)
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
gboolean
_cx_server_sign_out_sockets (CxServer *self, const char *username, const char *token_hash)
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

/* The store's CxAgentState and the wire's CxAgentPresence have the same values. */
G_STATIC_ASSERT ((int) CX_AGENT_OFFLINE == (int) CX_AGENT_PRESENCE_OFFLINE);
G_STATIC_ASSERT ((int) CX_AGENT_NOT_READY == (int) CX_AGENT_PRESENCE_NOT_READY);
G_STATIC_ASSERT ((int) CX_AGENT_READY == (int) CX_AGENT_PRESENCE_READY);

void
_cx_server_push_agent_state_here (CxServer *self, const CxAgent *agent)
{
  g_autoptr (JsonNode) frame =
      cx_agent_event_build_agent_state ((CxAgentPresence) agent->state, agent->reason);

  _cx_server_send_to_agent (self, agent->username, frame);
}

/* These three reach the agent's sockets on this node now, and on the other nodes through the
 * cluster's events (cx-server-cluster.c). */
void
_cx_server_push_agent_state (CxServer *self, const CxAgent *agent)
{
  _cx_server_push_agent_state_here (self, agent);
  _cx_server_cluster_note (self, "s", agent->username, NULL);
}

void
_cx_server_push_callbacks_changed (CxServer *self)
{
  g_autoptr (JsonNode) frame = cx_agent_event_build_callbacks_changed ();

  _cx_server_send_to_all_agents_here (self, frame);
  _cx_server_cluster_note (self, "b", "callbacks", NULL);
}

void
_cx_server_send_withdrawn (CxServer *self, const char *chat_id, const char *agent,
                           const char *reason)
{
  g_autoptr (JsonNode) frame = cx_agent_event_build_invitation_withdrawn (chat_id, reason);

  _cx_server_send_to_agent (self, agent, frame);
  _cx_server_cluster_note (self, "w", chat_id, agent, reason, NULL);
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

void
_cx_server_agent_events_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                            SoupWebsocketConnection *conn, gpointer user_data)
{
  CxServer *self = user_data;
  g_autofree char *token_hash = NULL;
  g_autoptr (CxAgent) agent = _cx_server_session_agent (self, msg, &token_hash);
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
  _cx_server_push_agent_state (self, agent);
  invitations = cx_store_list_invitations (self->store, agent->username, NULL);
  for (guint i = 0; invitations && i < invitations->len; i++)
    {
      g_autoptr (JsonNode) frame =
          _cx_server_invitation_frame (self, g_ptr_array_index (invitations, i));
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

static gboolean
grace_expired_cb (gpointer user_data)
{
  CxServerTimer *timer = user_data;
  CxServer *self = timer->server;
  GPtrArray *sockets = g_hash_table_lookup (self->agent_sockets, timer->key);
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) error = NULL;

  g_hash_table_remove (timer->table, timer->key);
  if (sockets != NULL && sockets->len > 0)
    return G_SOURCE_REMOVE;

  agent = cx_store_get_agent (self->store, timer->key, &error);
  if (agent == NULL)
    {
      if (error != NULL)
        g_warning ("Grace time of %s: %s", timer->key, error->message);
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
        _cx_server_push_agent_state (self, updated);
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
  if (self->grace_stopped || g_hash_table_contains (self->grace_timers, username))
    return;
  _cx_server_timer_start (self, self->grace_timers, username, NULL,
                          self->config->agent_grace_s * 1000, grace_expired_cb);
  /* Several nodes: one that has a socket of the agent answers, and the timer stops. */
  _cx_server_cluster_note (self, "p", username, NULL);
}

void
_cx_server_agent_socket_back (CxServer *self, const char *username)
{
  _cx_server_timer_cancel (self->grace_timers, username);
  /* A socket on this node ends the grace time another node may have started. */
  _cx_server_cluster_note (self, "k", username, NULL);
}

/* Starts the liveness pings, and the grace time of every agent present at start: nobody has a
 * socket yet. */
void
_cx_server_agent_socket_init (CxServer *self)
{
  g_autoptr (GPtrArray) agents = cx_store_list_agents (self->store, NULL);

  self->liveness_id = g_timeout_add_seconds (keepalive_interval (self), liveness_cb, self);
  self->grace_timers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; agents != NULL && i < agents->len; i++)
    {
      CxAgent *agent = g_ptr_array_index (agents, i);

      /* Several nodes: the nodes that have sockets of these agents answer, and the timers
       * stop (cx-server-cluster.c). */
      if (agent->state != CX_AGENT_OFFLINE)
        _cx_server_agent_sockets_gone (self, agent->username);
    }
}

/* Shutting down: no more pings, grace timers, nor new ones. */
void
_cx_server_agent_socket_stop (CxServer *self)
{
  self->grace_stopped = TRUE;
  g_clear_handle_id (&self->liveness_id, g_source_remove);
  _cx_server_timer_cancel_all (self->grace_timers);
}
