/* cx-store-pg-agents.c: CxStorePg's agents, their sessions, and routing: each decision one
 * transaction under the row locks cx-store-pg.c describes. */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-pg-private.h"

/* Agents and sessions */

gboolean
cx_store_pg_put_agent (CxStore *store, const CxAgent *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  g_return_val_if_fail (agent->state <= CX_AGENT_READY, FALSE);

  p_text (&p, agent->username);
  p_text (&p, agent->display_name);
  p_text (&p, agent->password_hash);
  p_int (&p, agent->capacity);
  p_text (&p, agent_states[agent->state]);
  p_text (&p, agent->reason);
  p_int (&p, agent->state_since);
  p_int (&p, agent->idle_since);
  /* The state columns only count for a new agent: an existing one keeps its own. */
  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_run (
          self,
          "INSERT INTO agents (username, display_name, password_hash, capacity, state, reason, "
          "state_since, idle_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
          "ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, "
          "password_hash = excluded.password_hash, capacity = excluded.capacity",
          &p, error))
    return FALSE;

  cx_pg_params_clear (&p);
  p_text (&p, agent->username);
  if (!cx_pg_run (self, "DELETE FROM agent_queues WHERE username = $1", &p, error))
    return FALSE;
  for (guint i = 0; agent->queues != NULL && agent->queues[i] != NULL; i++)
    {
      g_auto (Params) q = { 0 };

      p_text (&q, agent->username);
      p_text (&q, agent->queues[i]);
      if (!cx_pg_run (
              self,
              "INSERT INTO agent_queues (username, queue) VALUES ($1, $2) ON CONFLICT DO NOTHING",
              &q, error))
        return FALSE;
    }

  return cx_pg_transaction_commit (&tx, error);
}

CxAgent *
cx_store_pg_get_agent (CxStore *store, const char *username, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) queues = g_ptr_array_new_with_free_func (g_free);

  /* One statement, one snapshot: the row, its load and its queues. */
  p_text (&p, username);
  res = cx_pg_read_query (self,
                          "SELECT " AGENT_COLUMNS ", q.queue FROM agents a "
                          "LEFT JOIN agent_queues q ON q.username = a.username "
                          "WHERE a.username = $1 ORDER BY q.queue",
                          &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  agent = cx_pg_agent_from_row (self, res, 0, error);
  if (agent == NULL)
    return NULL;
  for (int row = 0; row < PQntuples (res); row++)
    if (!PQgetisnull (res, row, 9))
      g_ptr_array_add (queues, col_dup (res, row, 9));
  agent->queues = cx_store_steal_strv (queues);
  return g_steal_pointer (&agent);
}

GPtrArray *
cx_store_pg_list_agents (CxStore *store, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_autoptr (PGresult) res = NULL;
  g_autoptr (GPtrArray) agents = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_agent_free);
  g_autoptr (GPtrArray) queues = NULL;
  CxAgent *agent = NULL;

  res = cx_pg_read_query (self,
                          "SELECT " AGENT_COLUMNS ", q.queue FROM agents a "
                          "LEFT JOIN agent_queues q ON q.username = a.username "
                          "ORDER BY a.username, q.queue",
                          NULL, error);
  if (res == NULL)
    return NULL;

  for (int row = 0; row < PQntuples (res); row++)
    {
      if (agent == NULL || strcmp (agent->username, PQgetvalue (res, row, 0)) != 0)
        {
          if (agent != NULL)
            agent->queues = cx_store_steal_strv (queues);
          g_clear_pointer (&queues, g_ptr_array_unref);
          queues = g_ptr_array_new_with_free_func (g_free);
          agent = cx_pg_agent_from_row (self, res, row, error);
          if (agent == NULL)
            return NULL;
          g_ptr_array_add (agents, agent);
        }
      if (!PQgetisnull (res, row, 9))
        g_ptr_array_add (queues, col_dup (res, row, 9));
    }
  if (agent != NULL)
    agent->queues = cx_store_steal_strv (queues);
  return g_steal_pointer (&agents);
}

gboolean
cx_store_pg_set_agent_state (CxStore *store, const char *username, CxAgentState state,
                             const char *reason, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, username);
  p_text (&p, agent_states[state]);
  p_text (&p, reason);
  p_int (&p, now);
  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  /* The right-hand sides see the old row: idle_since and state_since move only on a change.
   * Chats and pending invitations stay with an agent that goes not ready or offline. */
  res = cx_pg_query (self,
                     "UPDATE agents SET "
                     "idle_since = CASE WHEN $2 = 'ready' AND state <> 'ready' THEN $4 "
                     "ELSE idle_since END, "
                     "state_since = CASE WHEN state <> $2 THEN $4 ELSE state_since END, "
                     "state = $2, reason = $3 WHERE username = $1",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    return cx_pg_set_not_found (error, "agent", username);
  return cx_pg_transaction_commit (&tx, error);
}

gboolean
cx_store_pg_create_session (CxStore *store, const char *token_hash, const char *username,
                            gint64 expires_at, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, token_hash);
  p_text (&p, username);
  p_int (&p, expires_at);
  if (!cx_pg_transaction_begin (&tx, self, error))
    return FALSE;
  res = cx_pg_query (self,
                     "INSERT INTO sessions (token_hash, username, expires_at) SELECT $1, $2, $3 "
                     "WHERE EXISTS (SELECT 1 FROM agents WHERE username = $2)",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    return cx_pg_set_not_found (error, "agent", username);
  return cx_pg_transaction_commit (&tx, error);
}

char *
cx_store_pg_lookup_session (CxStore *store, const char *token_hash, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, token_hash);
  p_int (&p, now);
  res = cx_pg_read_query (
      self, "SELECT username FROM sessions WHERE token_hash = $1 AND expires_at > $2", &p, error);
  if (res == NULL || PQntuples (res) == 0)
    return NULL;
  return col_dup (res, 0, 0);
}

/* Deleting a session that is not there is not an error: signing out twice is fine. */
gboolean
cx_store_pg_delete_session (CxStore *store, const char *token_hash, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (Params) p = { 0 };

  p_text (&p, token_hash);
  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_run (self, "DELETE FROM sessions WHERE token_hash = $1", &p, error))
    return FALSE;
  return cx_pg_transaction_commit (&tx, error);
}

/* Routing */

/* The agent of the chat's pending invitation, if it has one. */
static gboolean
pending_invitation (CxStorePg *self, const char *chat_id, char **agent, GError **error)
{
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;

  p_text (&p, chat_id);
  res = cx_pg_query (self, "SELECT agent FROM invitations WHERE chat_id = $1 AND state = 'pending'",
                     &p, error);
  if (res == NULL)
    return FALSE;
  *agent = PQntuples (res) > 0 ? col_dup (res, 0, 0) : NULL;
  return TRUE;
}

static CxInvitation *
insert_invitation (CxStorePg *self, const char *chat_id, const char *agent, gint64 now,
                   gint64 expires_at, GError **error)
{
  g_auto (Params) p = { 0 };
  CxInvitation *invitation;

  p_text (&p, chat_id);
  p_text (&p, agent);
  p_int (&p, now);
  p_int (&p, expires_at);
  if (!cx_pg_run (self,
                  "INSERT INTO invitations (chat_id, agent, state, offered_at, expires_at) "
                  "VALUES ($1, $2, 'pending', $3, $4)",
                  &p, error))
    return NULL;

  invitation = g_new0 (CxInvitation, 1);
  invitation->chat_id = g_strdup (chat_id);
  invitation->agent = g_strdup (agent);
  invitation->state = CX_INVITATION_PENDING;
  invitation->offered_at = now;
  invitation->expires_at = expires_at;
  return invitation;
}

/* How many times an offer picks again after finding its locked pick full. */
#define PICK_ATTEMPTS 8

/* Picks and locks an agent for the chat; NULL without an error when nobody can take it. $4
 * lists the agents already found full (a text array), not picked again. */
static gboolean
pick_agent (CxStorePg *self, const char *chat_id, const ChatHead *head, gint64 skip_since,
            char **agent, GError **error)
{
  g_autoptr (GPtrArray) full = g_ptr_array_new_with_free_func (g_free);

  *agent = NULL;
  for (guint attempt = 0; attempt < PICK_ATTEMPTS; attempt++)
    {
      g_auto (Params) p = { 0 };
      g_autoptr (PGresult) res = NULL;
      g_autoptr (PGresult) load = NULL;
      g_autoptr (GString) excluded = g_string_new ("{");

      /* An array literal of the names found full: quoted and escaped, as the array input
       * syntax wants, and passed as a parameter like any other data. */
      for (guint i = 0; i < full->len; i++)
        {
          const char *name = g_ptr_array_index (full, i);

          g_string_append (excluded, i > 0 ? ",\"" : "\"");
          for (const char *c = name; *c != '\0'; c++)
            {
              if (*c == '"' || *c == '\\')
                g_string_append_c (excluded, '\\');
              g_string_append_c (excluded, *c);
            }
          g_string_append_c (excluded, '"');
        }
      g_string_append_c (excluded, '}');

      p_text (&p, head->queue);
      p_text (&p, chat_id);
      p_int (&p, skip_since);
      p_text (&p, excluded->str);
      res = cx_pg_query (
          self,
          "SELECT a.username FROM agents a WHERE a.state = 'ready' "
          "AND a.username <> ALL ($4::text[]) "
          "AND (EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username "
          "AND q.queue = $1) "
          "OR NOT EXISTS (SELECT 1 FROM agent_queues q WHERE q.username = a.username)) "
          "AND " AGENT_LOAD " < a.capacity "
          "AND NOT EXISTS (SELECT 1 FROM invitations s WHERE s.chat_id = $2 "
          "AND s.agent = a.username AND s.state IN ('declined', 'expired') "
          "AND s.offered_at >= $3) "
          /* A chat transferred to a queue goes to someone who did not have it already,
           * when there is one. */
          "ORDER BY EXISTS (SELECT 1 FROM invitations h WHERE h.chat_id = $2 "
          "AND h.agent = a.username AND h.state = 'accepted'), a.idle_since, a.username "
          "LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
          &p, error);
      if (res == NULL)
        return FALSE;
      if (PQntuples (res) == 0)
        return TRUE; /* nobody */

      /* Locked now: a fresh statement sees every commit that touched this agent before. */
      cx_pg_params_clear (&p);
      p_text (&p, col (res, 0, 0));
      load = cx_pg_query (self,
                          "SELECT " AGENT_LOAD " < a.capacity AND a.state = 'ready' FROM agents a "
                          "WHERE a.username = $1",
                          &p, error);
      if (load == NULL)
        return FALSE;
      if (PQntuples (load) == 1 && strcmp (PQgetvalue (load, 0, 0), "t") == 0)
        {
          *agent = col_dup (res, 0, 0);
          return TRUE;
        }
      g_ptr_array_add (full, col_dup (res, 0, 0));
    }
  return TRUE; /* everyone we locked turned out full: nobody, for now */
}

CxInvitation *
cx_store_pg_offer_chat (CxStore *store, const char *chat_id, gint64 now, gint64 expires_at,
                        gint64 skip_since, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_autofree char *pending = NULL;
  g_autofree char *agent = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  /* The chat's row lock first: a second offer of this chat waits here, then sees ours. */
  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_lock_chat_head (self, chat_id, &head, &found, error))
    return NULL;
  if (!found || head.state != CX_CHAT_WAITING)
    return NULL;
  if (!pending_invitation (self, chat_id, &pending, error) || pending != NULL)
    return NULL;
  if (!pick_agent (self, chat_id, &head, skip_since, &agent, error) || agent == NULL)
    return NULL;

  invitation = insert_invitation (self, chat_id, agent, now, expires_at, error);
  if (invitation == NULL || !cx_pg_transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&invitation);
}

CxInvitation *
cx_store_pg_invite_agent (CxStore *store, const char *chat_id, const char *agent, gint64 now,
                          gint64 expires_at, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  g_autofree char *pending = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_lock_chat_head (self, chat_id, &head, &found, error))
    return NULL;
  if (!found)
    {
      cx_pg_set_not_found (error, "chat", chat_id);
      return NULL;
    }
  if (head.state == CX_CHAT_ENDED)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT, "Chat “%s” has ended", chat_id);
      return NULL;
    }
  if (head.state == CX_CHAT_ACTIVE && g_strcmp0 (head.agent, agent) == 0)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Agent “%s” already has chat “%s”", agent, chat_id);
      return NULL;
    }

  p_text (&p, agent);
  res = cx_pg_query (self, "SELECT 1 FROM agents WHERE username = $1 FOR UPDATE", &p, error);
  if (res == NULL)
    return NULL;
  if (PQntuples (res) == 0)
    {
      cx_pg_set_not_found (error, "agent", agent);
      return NULL;
    }

  /* One invitation at a time: the caller withdraws the pending one first. */
  if (!pending_invitation (self, chat_id, &pending, error))
    return NULL;
  if (pending != NULL)
    {
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "Chat “%s” is already offered to “%s”", chat_id, pending);
      return NULL;
    }

  invitation = insert_invitation (self, chat_id, agent, now, expires_at, error);
  if (invitation == NULL || !cx_pg_transaction_commit (&tx, error))
    return NULL;
  return g_steal_pointer (&invitation);
}

gboolean
cx_store_pg_answer_invitation (CxStore *store, const char *chat_id, const char *agent,
                               CxInvitationState state, gint64 now, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_auto (Params) p = { 0 };
  g_autoptr (PGresult) res = NULL;
  gboolean found;

  /* The chat first, as everywhere: an accept and an expiry of one invitation serialise. */
  if (!cx_pg_transaction_begin (&tx, self, error) ||
      !cx_pg_lock_chat_head (self, chat_id, &head, &found, error))
    return FALSE;

  p_text (&p, chat_id);
  p_text (&p, agent);
  p_text (&p, invitation_states[state]);
  p_int (&p, now);
  res = cx_pg_query (self,
                     "UPDATE invitations SET state = $3, answered_at = $4 "
                     "WHERE chat_id = $1 AND agent = $2 AND state = 'pending'",
                     &p, error);
  if (res == NULL)
    return FALSE;
  if (cx_pg_changes (res) == 0)
    {
      g_auto (Params) q = { 0 };
      g_autoptr (PGresult) any = NULL;

      p_text (&q, chat_id);
      p_text (&q, agent);
      any = cx_pg_query (
          self, "SELECT 1 FROM invitations WHERE chat_id = $1 AND agent = $2 LIMIT 1", &q, error);
      if (any == NULL)
        return FALSE;
      if (PQntuples (any) == 0)
        g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND,
                     "Chat “%s” was never offered to “%s”", chat_id, agent);
      else
        g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                     "The invitation of “%s” to chat “%s” is no longer pending", agent, chat_id);
      return FALSE;
    }

  if (state == CX_INVITATION_ACCEPTED)
    {
      g_auto (Params) q = { 0 };

      /* Invitations go with their chat, and are withdrawn when it ends. */
      if (!found || head.state == CX_CHAT_ENDED)
        {
          g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT, "Chat “%s” has ended",
                       chat_id);
          return FALSE;
        }
      p_text (&q, chat_id);
      p_text (&q, agent);
      p_int (&q, now);
      if (!cx_pg_run (
              self, "UPDATE chats SET state = 'active', agent = $2, accepted_at = $3 WHERE id = $1",
              &q, error))
        return FALSE;

      /* A transfer: the chat leaves the agent that had it. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL && strcmp (head.agent, agent) != 0 &&
          !cx_pg_touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (!cx_pg_touch_idle_if_unloaded (self, agent, now, error))
    {
      return FALSE;
    }

  return cx_pg_transaction_commit (&tx, error);
}

GPtrArray *
cx_store_pg_list_invitations (CxStore *store, const char *agent, GError **error)
{
  CxStorePg *self = CX_STORE_PG (store);
  g_auto (Params) p = { 0 };

  p_text (&p, agent);
  return cx_pg_collect_query (
      self,
      "SELECT " INVITATION_COLUMNS " FROM invitations WHERE state = 'pending' "
      "AND ($1::text IS NULL OR agent = $1) ORDER BY offered_at, chat_id",
      &p, (FromRow) cx_pg_invitation_from_row, (GDestroyNotify) cx_invitation_free, error);
}
