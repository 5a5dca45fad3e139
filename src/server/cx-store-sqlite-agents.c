/* cx-store-sqlite-agents.c: CxStoreSqlite's agents, their sessions, and routing (each
 * decision one write transaction, so that no other offer interleaves). */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include "server/cx-store-sqlite-private.h"

/* Agents and sessions */

gboolean
cx_store_sqlite_put_agent (CxStore *store, const CxAgent *agent, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  g_return_val_if_fail (agent->state <= CX_AGENT_READY, FALSE);

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  /* The state columns only count for a new agent: an existing one keeps its own. */
  stmt = use (self, ST_AGENT_UPSERT);
  bind_text (stmt, 1, agent->username);
  bind_text (stmt, 2, agent->display_name);
  bind_text (stmt, 3, agent->password_hash);
  bind_int64 (stmt, 4, agent->capacity);
  bind_text (stmt, 5, agent_states[agent->state]);
  bind_text (stmt, 6, agent->reason);
  bind_int64 (stmt, 7, agent->state_since);
  bind_int64 (stmt, 8, agent->idle_since);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  stmt = use (self, ST_AGENT_QUEUES_CLEAR);
  bind_text (stmt, 1, agent->username);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  stmt = use (self, ST_AGENT_QUEUE_INSERT);
  for (guint i = 0; agent->queues != NULL && agent->queues[i] != NULL; i++)
    {
      bind_text (stmt, 1, agent->username);
      bind_text (stmt, 2, agent->queues[i]);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;
    }

  return cx_sqlite_transaction_commit (&tx, error);
}

CxAgent *
cx_store_sqlite_get_agent (CxStore *store, const char *username, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) queues = g_ptr_array_new_with_free_func (g_free);
  StepResult result;

  /* One snapshot for the row, its load and its queues. */
  if (!cx_sqlite_transaction_begin (&tx, self, FALSE, error))
    return NULL;

  {
    g_autoptr (Statement) stmt = use (self, ST_AGENT_GET);

    bind_text (stmt, 1, username);
    result = cx_sqlite_step (self, stmt, error);
    if (result != STEP_ROW)
      return NULL;
    agent = cx_sqlite_agent_from_row (self, stmt, error);
    if (agent == NULL)
      return NULL;
  }

  {
    g_autoptr (Statement) stmt = use (self, ST_AGENT_QUEUES_GET);

    bind_text (stmt, 1, username);
    while ((result = cx_sqlite_step (self, stmt, error)) == STEP_ROW)
      g_ptr_array_add (queues, column_dup (stmt, 0));
    if (result == STEP_ERROR)
      return NULL;
  }

  if (!cx_sqlite_transaction_commit (&tx, error))
    return NULL;

  agent->queues = cx_store_steal_strv (queues);
  return g_steal_pointer (&agent);
}

GPtrArray *
cx_store_sqlite_list_agents (CxStore *store, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_autoptr (GPtrArray) agents = NULL;
  g_autoptr (GHashTable) queues = NULL;
  StepResult result;

  if (!cx_sqlite_transaction_begin (&tx, self, FALSE, error))
    return NULL;

  {
    g_autoptr (Statement) stmt = use (self, ST_AGENTS_LIST);

    agents = cx_sqlite_collect (self, stmt, (gpointer) cx_sqlite_agent_from_row,
                                (GDestroyNotify) cx_agent_free, error);
    if (agents == NULL)
      return NULL;
  }

  queues =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  {
    g_autoptr (Statement) stmt = use (self, ST_AGENTS_QUEUES_LIST);

    while ((result = cx_sqlite_step (self, stmt, error)) == STEP_ROW)
      {
        const char *username = column_text (stmt, 0);
        GPtrArray *list = g_hash_table_lookup (queues, username);

        if (list == NULL)
          {
            list = g_ptr_array_new_with_free_func (g_free);
            g_hash_table_insert (queues, g_strdup (username), list);
          }
        g_ptr_array_add (list, column_dup (stmt, 1));
      }
    if (result == STEP_ERROR)
      return NULL;
  }

  if (!cx_sqlite_transaction_commit (&tx, error))
    return NULL;

  for (guint i = 0; i < agents->len; i++)
    {
      CxAgent *agent = g_ptr_array_index (agents, i);

      agent->queues = cx_store_steal_strv (g_hash_table_lookup (queues, agent->username));
    }

  return g_steal_pointer (&agents);
}

gboolean
cx_store_sqlite_set_agent_state (CxStore *store, const char *username, CxAgentState state,
                                 const char *reason, gint64 now, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  /* Chats and pending invitations stay with an agent that goes not ready or offline: the
   * server decides what to do with them. */
  stmt = use (self, ST_AGENT_SET_STATE);
  bind_text (stmt, 1, username);
  bind_text (stmt, 2, agent_states[state]);
  bind_text (stmt, 3, reason);
  bind_int64 (stmt, 4, now);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return cx_sqlite_set_not_found (error, "agent", username);

  return cx_sqlite_transaction_commit (&tx, error);
}

static gboolean
agent_exists (CxStoreSqlite *self, const char *username, gboolean *exists, GError **error)
{
  g_autoptr (Statement) stmt = use (self, ST_AGENT_EXISTS);
  StepResult result;

  bind_text (stmt, 1, username);
  result = cx_sqlite_step (self, stmt, error);
  *exists = result == STEP_ROW;
  return result != STEP_ERROR;
}

gboolean
cx_store_sqlite_create_session (CxStore *store, const char *token_hash, const char *username,
                                gint64 expires_at, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  gboolean exists;
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  if (!agent_exists (self, username, &exists, error))
    return FALSE;
  if (!exists)
    return cx_sqlite_set_not_found (error, "agent", username);

  stmt = use (self, ST_SESSION_INSERT);
  bind_text (stmt, 1, token_hash);
  bind_text (stmt, 2, username);
  bind_int64 (stmt, 3, expires_at);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

char *
cx_store_sqlite_lookup_session (CxStore *store, const char *token_hash, gint64 now, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_SESSION_LOOKUP);

  bind_text (stmt, 1, token_hash);
  bind_int64 (stmt, 2, now);
  if (cx_sqlite_step (self, stmt, error) != STEP_ROW)
    return NULL;

  return column_dup (stmt, 0);
}

/* Deleting a session that is not there is not an error: signing out twice is fine. */
gboolean
cx_store_sqlite_delete_session (CxStore *store, const char *token_hash, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  stmt = use (self, ST_SESSION_DELETE);
  bind_text (stmt, 1, token_hash);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  return cx_sqlite_transaction_commit (&tx, error);
}

/* Routing */

/* The agent of the chat's pending invitation, if it has one. */
static gboolean
pending_invitation (CxStoreSqlite *self, const char *chat_id, char **agent, GError **error)
{
  g_autoptr (Statement) stmt = use (self, ST_INVITATION_PENDING);
  StepResult result;

  bind_text (stmt, 1, chat_id);
  result = cx_sqlite_step (self, stmt, error);
  *agent = result == STEP_ROW ? column_dup (stmt, 0) : NULL;
  return result != STEP_ERROR;
}

static CxInvitation *
insert_invitation (CxStoreSqlite *self, const char *chat_id, const char *agent, gint64 now,
                   gint64 expires_at, GError **error)
{
  Statement *stmt = use (self, ST_INVITATION_INSERT);
  CxInvitation *invitation;

  bind_text (stmt, 1, chat_id);
  bind_text (stmt, 2, agent);
  bind_int64 (stmt, 3, now);
  bind_int64 (stmt, 4, expires_at);
  if (!cx_sqlite_run (self, stmt, error))
    return NULL;

  invitation = g_new0 (CxInvitation, 1);
  invitation->chat_id = g_strdup (chat_id);
  invitation->agent = g_strdup (agent);
  invitation->state = CX_INVITATION_PENDING;
  invitation->offered_at = now;
  invitation->expires_at = expires_at;
  return invitation;
}

CxInvitation *
cx_store_sqlite_offer_chat (CxStore *store, const char *chat_id, gint64 now, gint64 expires_at,
                            gint64 skip_since, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_autofree char *pending = NULL;
  g_autofree char *agent = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  /* Read, pick and insert under the write lock, so that no other offer interleaves. */
  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return NULL;

  if (!cx_sqlite_read_chat_head (self, chat_id, TRUE, &head, &found, error))
    return NULL;
  if (!found || head.state != CX_CHAT_WAITING)
    return NULL;

  if (!pending_invitation (self, chat_id, &pending, error))
    return NULL;
  if (pending != NULL)
    return NULL;

  {
    g_autoptr (Statement) stmt = use (self, ST_ROUTE_PICK);
    StepResult result;

    bind_text (stmt, 1, head.queue);
    bind_text (stmt, 2, chat_id);
    bind_int64 (stmt, 3, skip_since);
    result = cx_sqlite_step (self, stmt, error);
    if (result != STEP_ROW)
      return NULL; /* an error, or nobody can take it */
    agent = column_dup (stmt, 0);
  }

  invitation = insert_invitation (self, chat_id, agent, now, expires_at, error);
  if (invitation == NULL || !cx_sqlite_transaction_commit (&tx, error))
    return NULL;

  return g_steal_pointer (&invitation);
}

CxInvitation *
cx_store_sqlite_invite_agent (CxStore *store, const char *chat_id, const char *agent, gint64 now,
                              gint64 expires_at, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  g_auto (ChatHead) head = { 0 };
  g_autofree char *pending = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  gboolean found;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return NULL;

  if (!cx_sqlite_read_chat_head (self, chat_id, TRUE, &head, &found, error))
    return NULL;
  if (!found)
    {
      cx_sqlite_set_not_found (error, "chat", chat_id);
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

  if (!agent_exists (self, agent, &found, error))
    return NULL;
  if (!found)
    {
      cx_sqlite_set_not_found (error, "agent", agent);
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
  if (invitation == NULL || !cx_sqlite_transaction_commit (&tx, error))
    return NULL;

  return g_steal_pointer (&invitation);
}

gboolean
cx_store_sqlite_answer_invitation (CxStore *store, const char *chat_id, const char *agent,
                                   CxInvitationState state, gint64 now, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_auto (Transaction) tx = { NULL };
  Statement *stmt;

  if (!cx_sqlite_transaction_begin (&tx, self, TRUE, error))
    return FALSE;

  stmt = use (self, ST_INVITATION_ANSWER);
  bind_text (stmt, 1, chat_id);
  bind_text (stmt, 2, agent);
  bind_text (stmt, 3, invitation_states[state]);
  bind_int64 (stmt, 4, now);
  if (!cx_sqlite_run (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      g_autoptr (Statement) any = use (self, ST_INVITATION_ANY);
      StepResult result;

      bind_text (any, 1, chat_id);
      bind_text (any, 2, agent);
      result = cx_sqlite_step (self, any, error);
      if (result == STEP_ERROR)
        return FALSE;
      if (result == STEP_DONE)
        {
          g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND,
                       "Chat “%s” was never offered to “%s”", chat_id, agent);
          return FALSE;
        }
      g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT,
                   "The invitation of “%s” to chat “%s” is no longer pending", agent, chat_id);
      return FALSE;
    }

  if (state == CX_INVITATION_ACCEPTED)
    {
      g_auto (ChatHead) head = { 0 };
      gboolean found;

      if (!cx_sqlite_read_chat_head (self, chat_id, TRUE, &head, &found, error))
        return FALSE;
      /* Invitations go with their chat, and are withdrawn when it ends: neither happens
       * unless the database was edited by hand. */
      if (!found || head.state == CX_CHAT_ENDED)
        {
          g_set_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT, "Chat “%s” has ended",
                       chat_id);
          return FALSE;
        }

      stmt = use (self, ST_CHAT_ACCEPT);
      bind_text (stmt, 1, chat_id);
      bind_text (stmt, 2, agent);
      bind_int64 (stmt, 3, now);
      if (!cx_sqlite_run (self, stmt, error))
        return FALSE;

      /* A transfer: the chat leaves the agent that had it. */
      if (head.state == CX_CHAT_ACTIVE && head.agent != NULL && strcmp (head.agent, agent) != 0 &&
          !cx_sqlite_touch_idle_if_unloaded (self, head.agent, now, error))
        return FALSE;
    }
  else if (!cx_sqlite_touch_idle_if_unloaded (self, agent, now, error))
    {
      return FALSE;
    }

  return cx_sqlite_transaction_commit (&tx, error);
}

GPtrArray *
cx_store_sqlite_list_invitations (CxStore *store, const char *agent, GError **error)
{
  CxStoreSqlite *self = CX_STORE_SQLITE (store);
  g_autoptr (Statement) stmt = use (self, ST_INVITATIONS_LIST);

  bind_text (stmt, 1, agent);
  return cx_sqlite_collect (self, stmt, (gpointer) cx_sqlite_invitation_from_row,
                            (GDestroyNotify) cx_invitation_free, error);
}
