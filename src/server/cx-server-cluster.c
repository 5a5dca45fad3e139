/* cx-server-cluster.c: events between the nodes that share one PostgreSQL database (issue 13
 * part 3). A WebSocket is local to its node; when a node commits something that a socket on
 * another node must hear (messages of a chat, its end, an invitation or its withdrawal, an
 * agent's state, callbacks changed), it notes an event naming the rows, not their content. The
 * events of a few milliseconds go out together, after the commit that wrote their rows, as one
 * NOTIFY on the database's channel for this schema (payloads are capped at 8,000 bytes, and
 * every notifying transaction takes one global lock at commit: so few, small notifications).
 * Every node LISTENs on a connection of its own, watched on the main loop; an event from
 * another node is read back from the store and pushed to this node's sockets by the same
 * functions the local path uses. The node that wrote pushes its own sockets directly and skips
 * its own events. With SQLite (one node) none of this runs.
 *
 * Events are lines "kind<TAB>field<TAB>…", each field URI-escaped; the first line of a payload
 * is the sending node's id. A lost listening connection is made again; what was notified while
 * it was down is not replayed: clients catch up from the transcript (refresh) as they do after
 * any lost socket. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib-unix.h>
#include <libpq-fe.h>

#include "protocol/cx-agent-protocol.h"
#include "server/cx-server-private.h"
#include "server/cx-store-pg.h"

/* Events wait at most this long for the next NOTIFY. */
#define FLUSH_DELAY_MS 3
/* One NOTIFY's payload stays under PostgreSQL's 8,000 bytes. */
#define MAX_PAYLOAD 7800
/* A lost listening connection is tried again after this. */
#define RECONNECT_S 1
/* Events held while the database is unreachable, at most (older ones are dropped). */
#define MAX_PENDING_BYTES (4 * 1024 * 1024)

struct _CxServerCluster
{
  char *url;
  char *node;    /* this node's id */
  char *channel; /* "cx_" and a hash of the schema's name: one channel per schema */
  char *quoted;  /* the same, as an identifier for LISTEN */
  PGconn *conn;
  guint watch_id;
  guint reconnect_id;
  guint flush_id;
  guint sweep_id;
  GString *pending; /* event lines, each ending in '\n' */
};

static gboolean cluster_connect (CxServer *self);
static gboolean flush_cb (gpointer user_data);

static void
cluster_disconnect (CxServerCluster *cluster)
{
  g_clear_handle_id (&cluster->watch_id, g_source_remove);
  g_clear_pointer (&cluster->conn, PQfinish);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  CxServer *self = user_data;

  self->cluster->reconnect_id = 0;
  if (!cluster_connect (self))
    self->cluster->reconnect_id = g_timeout_add_seconds (RECONNECT_S, reconnect_cb, self);
  return G_SOURCE_REMOVE;
}

static void
cluster_lost (CxServer *self)
{
  CxServerCluster *cluster = self->cluster;

  g_warning ("The cluster's listening connection was lost: %s",
             cluster->conn ? PQerrorMessage (cluster->conn) : "");
  cluster_disconnect (cluster);
  if (cluster->reconnect_id == 0)
    cluster->reconnect_id = g_timeout_add_seconds (RECONNECT_S, reconnect_cb, self);
}

/* Remote events */

static char *
field (char **fields, guint i)
{
  return g_strv_length (fields) > i ? g_uri_unescape_string (fields[i], NULL) : NULL;
}

static void
remote_messages (CxServer *self, const char *chat_id, const char *from_s, const char *to_s,
                 const char *previous_agent, gboolean ended)
{
  guint64 from, to;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (CxChat) before = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_ascii_string_to_unsigned (from_s, 10, 0, G_MAXUINT, &from, NULL) ||
      !g_ascii_string_to_unsigned (to_s, 10, from, G_MAXUINT, &to, NULL))
    return;
  /* Only a chat with a socket here is worth a read. */
  chat = cx_store_get_chat (self->store, chat_id, &error);
  if (chat == NULL)
    return;
  messages = to > from ? cx_store_get_messages (self->store, chat_id, (guint) from,
                                                (guint) (to - from), &error)
                       : g_ptr_array_new ();
  if (messages == NULL)
    {
      g_warning ("Could not read the messages of %s: %s", chat_id, error->message);
      return;
    }
  before = cx_chat_copy (chat);
  g_free (before->agent);
  before->agent = previous_agent && *previous_agent ? g_strdup (previous_agent) : NULL;
  if (ended)
    before->state = CX_CHAT_ACTIVE;
  else if (chat->state == CX_CHAT_ENDED)
    before->state = CX_CHAT_ENDED; /* a later event tells the end */
  _cx_server_push_append (self, before, messages, chat);
}

static void
remote_invitation (CxServer *self, const char *chat_id, const char *agent)
{
  g_autoptr (GPtrArray) invitations = NULL;

  if (!g_hash_table_contains (self->agent_sockets, agent))
    return;
  invitations = cx_store_list_invitations (self->store, agent, NULL);
  for (guint i = 0; invitations && i < invitations->len; i++)
    {
      CxInvitation *invitation = g_ptr_array_index (invitations, i);
      g_autoptr (JsonNode) frame = NULL;

      if (!g_str_equal (invitation->chat_id, chat_id))
        continue;
      frame = _cx_server_invitation_frame (self, invitation);
      if (frame != NULL)
        _cx_server_send_to_agent (self, agent, frame);
    }
}

/* Another node asks who has sockets of @username ("*": of anyone), to stop its grace timers. */
static void
answer_presence (CxServer *self, const char *username)
{
  GHashTableIter iter;
  const char *name;
  GPtrArray *sockets;

  g_hash_table_iter_init (&iter, self->agent_sockets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &sockets))
    if (sockets->len > 0 && (g_str_equal (username, "*") || g_str_equal (username, name)))
      _cx_server_cluster_note (self, "k", name, NULL);
}

static void
remote_event (CxServer *self, const char *line)
{
  g_auto (GStrv) fields = g_strsplit (line, "\t", 8);
  g_autofree char *a = field (fields, 1);
  g_autofree char *b = field (fields, 2);
  g_autofree char *c = field (fields, 3);
  g_autofree char *d = field (fields, 4);
  g_autofree char *e = field (fields, 5);

  if (fields[0] == NULL || a == NULL)
    return;

  if (g_str_equal (fields[0], "m") && e != NULL)
    remote_messages (self, a, b, c, d, g_str_equal (e, "1"));
  else if (g_str_equal (fields[0], "c"))
    _cx_server_close_customer_sockets_here (self, a);
  else if (g_str_equal (fields[0], "i") && b != NULL)
    remote_invitation (self, a, b);
  else if (g_str_equal (fields[0], "w") && c != NULL)
    {
      g_autoptr (JsonNode) frame = cx_agent_event_build_invitation_withdrawn (a, c);

      _cx_server_send_to_agent (self, b, frame);
    }
  else if (g_str_equal (fields[0], "s"))
    {
      g_autoptr (CxAgent) agent = NULL;

      if (g_hash_table_contains (self->agent_sockets, a) &&
          (agent = cx_store_get_agent (self->store, a, NULL)) != NULL)
        _cx_server_push_agent_state_here (self, agent);
    }
  else if (g_str_equal (fields[0], "k"))
    _cx_server_timer_cancel (self->grace_timers, a);
  else if (g_str_equal (fields[0], "p"))
    answer_presence (self, a);
  else if (g_str_equal (fields[0], "b") && g_str_equal (a, "callbacks"))
    {
      g_autoptr (JsonNode) frame = cx_agent_event_build_callbacks_changed ();

      _cx_server_send_to_all_agents_here (self, frame);
    }
}

static void
drain_notifies (CxServer *self)
{
  CxServerCluster *cluster = self->cluster;
  PGnotify *notify;

  while (cluster->conn != NULL && (notify = PQnotifies (cluster->conn)) != NULL)
    {
      g_auto (GStrv) lines = g_strsplit (notify->extra, "\n", -1);

      if (lines[0] != NULL && !g_str_equal (lines[0], cluster->node))
        for (guint i = 1; lines[i] != NULL; i++)
          if (*lines[i] != '\0')
            remote_event (self, lines[i]);
      PQfreemem (notify);
    }
}

static gboolean
readable_cb (int fd, GIOCondition condition, gpointer user_data)
{
  CxServer *self = user_data;

  if (!PQconsumeInput (self->cluster->conn) || PQstatus (self->cluster->conn) != CONNECTION_OK)
    {
      self->cluster->watch_id = 0;
      cluster_lost (self);
      return G_SOURCE_REMOVE;
    }
  drain_notifies (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
exec_ok (PGconn *conn, const char *sql, char **value)
{
  PGresult *res = PQexec (conn, sql);
  gboolean ok = PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK;

  if (ok && value != NULL)
    *value = PQntuples (res) == 1 ? g_strdup (PQgetvalue (res, 0, 0)) : NULL;
  PQclear (res);
  return ok;
}

static gboolean
cluster_connect (CxServer *self)
{
  CxServerCluster *cluster = self->cluster;
  const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
  /* Named after the process, for pg_stat_activity (and test-server-cluster's reconnect). */
  g_autofree char *name = g_strdup_printf ("cxdesk-listen-%d", (int) getpid ());
  const char *values[] = { "10", name, cluster->url, NULL };
  g_autofree char *schema = NULL;
  g_autofree char *listen = NULL;

  cluster_disconnect (cluster);
  cluster->conn = PQconnectdbParams (keys, values, 1);
  if (PQstatus (cluster->conn) != CONNECTION_OK ||
      !exec_ok (cluster->conn, "SELECT current_schema()", &schema) || schema == NULL)
    {
      g_warning ("The cluster could not connect to the database: %s",
                 PQerrorMessage (cluster->conn));
      cluster_disconnect (cluster);
      return FALSE;
    }
  if (cluster->channel == NULL)
    {
      g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, schema, -1);
      char *quoted;

      /* Channel names are at most 63 bytes; schemas' names can be as long. */
      hash[32] = '\0';
      cluster->channel = g_strdup_printf ("cx_%s", hash);
      quoted = PQescapeIdentifier (cluster->conn, cluster->channel, strlen (cluster->channel));
      cluster->quoted = g_strdup (quoted);
      PQfreemem (quoted);
    }
  listen = g_strdup_printf ("LISTEN %s", cluster->quoted);
  if (!exec_ok (cluster->conn, listen, NULL))
    {
      g_warning ("The cluster could not listen: %s", PQerrorMessage (cluster->conn));
      cluster_disconnect (cluster);
      return FALSE;
    }
  cluster->watch_id = g_unix_fd_add (PQsocket (cluster->conn), G_IO_IN, readable_cb, self);
  g_debug ("Node %s listens on %s", cluster->node, cluster->channel);
  /* What was noted while the connection was down goes now. */
  if (cluster->pending->len > 0 && cluster->flush_id == 0)
    cluster->flush_id = g_timeout_add (FLUSH_DELAY_MS, flush_cb, self);
  return TRUE;
}

/* Timers that outlive their node: an invitation's expiry is a time in the database. The node
 * that armed it expires it on time; every node also sweeps, a little later and at a jittered
 * interval, for pending invitations past their time (their node died), and the first whose
 * conditional update wins (answer_invitation only moves a pending invitation) withdraws it and
 * routes the chat to the next agent. */
#define SWEEP_MS 1000
#define SWEEP_JITTER_MS 500
#define SWEEP_SLACK_MS 2000

static gboolean
sweep_cb (gpointer user_data)
{
  CxServer *self = user_data;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now = _cx_server_now ();

  self->cluster->sweep_id =
      g_timeout_add (SWEEP_MS + g_random_int_range (0, SWEEP_JITTER_MS), sweep_cb, self);

  invitations = cx_store_list_invitations (self->store, NULL, &error);
  if (invitations == NULL)
    {
      g_debug ("Invitation sweep: %s", error->message);
      return G_SOURCE_REMOVE;
    }
  for (guint i = 0; i < invitations->len; i++)
    {
      CxInvitation *invitation = g_ptr_array_index (invitations, i);

      if (invitation->expires_at > now - SWEEP_SLACK_MS ||
          g_hash_table_contains (self->invitation_timers, invitation->chat_id))
        continue;
      if (!cx_store_answer_invitation (self->store, invitation->chat_id, invitation->agent,
                                       CX_INVITATION_EXPIRED, now, NULL))
        continue; /* another node was first, or it was answered */
      g_debug ("Invitation of %s to %s expired (swept)", invitation->chat_id, invitation->agent);
      _cx_server_send_withdrawn (self, invitation->chat_id, invitation->agent, "timeout");
      _cx_server_route (self, invitation->chat_id);
    }
  return G_SOURCE_REMOVE;
}

/* Sending */

static void
send_payload (CxServer *self, const char *payload)
{
  CxServerCluster *cluster = self->cluster;
  const char *params[] = { cluster->channel, payload };
  PGresult *res;

  res = PQexecParams (cluster->conn, "SELECT pg_notify($1, $2)", 2, NULL, params, NULL, NULL, 0);
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    g_warning ("Could not notify the other nodes: %s", PQerrorMessage (cluster->conn));
  PQclear (res);
}

static void
flush_events (CxServer *self)
{
  CxServerCluster *cluster = self->cluster;
  g_autoptr (GString) payload = g_string_new (NULL);
  g_autoptr (GString) pending = NULL;
  const char *p, *end;

  g_clear_handle_id (&cluster->flush_id, g_source_remove);
  if (cluster->pending->len == 0 || cluster->conn == NULL)
    return;

  /* The rows the events name are committed first (which may note more events). */
  _cx_server_commit_flush (self);
  g_clear_handle_id (&cluster->flush_id, g_source_remove);
  pending = g_steal_pointer (&cluster->pending);
  cluster->pending = g_string_new (NULL);

  p = pending->str;
  end = p + pending->len;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize len = nl - p + 1;

      if (payload->len > 0 && payload->len + len > MAX_PAYLOAD)
        {
          send_payload (self, payload->str);
          g_string_truncate (payload, 0);
        }
      if (payload->len == 0)
        g_string_append_printf (payload, "%s\n", cluster->node);
      g_string_append_len (payload, p, len);
      p = nl + 1;
    }
  if (payload->len > 0)
    send_payload (self, payload->str);

  /* PQexec may have read notifications that the watch will not see again. */
  drain_notifies (self);
}

static gboolean
flush_cb (gpointer user_data)
{
  CxServer *self = user_data;

  self->cluster->flush_id = 0;
  flush_events (self);
  return G_SOURCE_REMOVE;
}

/**
 * _cx_server_cluster_note:
 * @kind: "m" (messages of a chat: id, from, to, the agent before, ended), "c" (close the
 *   customer's sockets: chat id), "i" (invitation: chat id, agent), "w" (invitation withdrawn:
 *   chat id, agent, reason), "s" (agent state: username), "k" (an agent has a socket here:
 *   username), "p" (who has sockets of this agent, or "*": the nodes that do answer "k") or
 *   "b" (to every agent: "callbacks")
 * @...: the fields, strings, NULL-terminated
 *
 * Tells the other nodes, within a few milliseconds and after the commit, that rows changed.
 * Does nothing on a single node.
 */
void
_cx_server_cluster_note (CxServer *self, const char *kind, ...)
{
  CxServerCluster *cluster = self->cluster;
  const char *value;
  va_list args;

  if (cluster == NULL)
    return;
  if (cluster->pending->len > MAX_PENDING_BYTES)
    {
      g_warning ("Dropping %zu bytes of events the other nodes did not get", cluster->pending->len);
      g_string_truncate (cluster->pending, 0);
    }

  g_string_append (cluster->pending, kind);
  va_start (args, kind);
  while ((value = va_arg (args, const char *)) != NULL)
    {
      g_string_append_c (cluster->pending, '\t');
      g_string_append_uri_escaped (cluster->pending, value, NULL, FALSE);
    }
  va_end (args);
  g_string_append_c (cluster->pending, '\n');

  if (cluster->flush_id == 0)
    cluster->flush_id = g_timeout_add (FLUSH_DELAY_MS, flush_cb, self);
}

gboolean
_cx_server_cluster_active (CxServer *self)
{
  return self->cluster != NULL;
}

void
_cx_server_cluster_init (CxServer *self)
{
  CxServerCluster *cluster;
  g_autofree char *random = NULL;

  if (!CX_IS_STORE_PG (self->store))
    return;

  cluster = g_new0 (CxServerCluster, 1);
  g_object_get (self->store, "url", &cluster->url, NULL);
  random = _cx_server_random_token (9);
  cluster->node = g_strdup_printf ("%d-%s", (int) getpid (), random);
  cluster->pending = g_string_new (NULL);
  self->cluster = cluster;
  cluster->sweep_id =
      g_timeout_add (SWEEP_MS + g_random_int_range (0, SWEEP_JITTER_MS), sweep_cb, self);
  if (!cluster_connect (self))
    cluster->reconnect_id = g_timeout_add_seconds (RECONNECT_S, reconnect_cb, self);
  /* The grace times this node started for every agent (cx-server-agent-socket.c) stop for the
   * agents connected to other nodes: they answer. */
  _cx_server_cluster_note (self, "p", "*", NULL);
}

/* Sends what is pending and stops listening. */
void
_cx_server_cluster_free (CxServer *self)
{
  CxServerCluster *cluster = self->cluster;

  if (cluster == NULL)
    return;
  flush_events (self);
  self->cluster = NULL;
  g_clear_handle_id (&cluster->reconnect_id, g_source_remove);
  g_clear_handle_id (&cluster->flush_id, g_source_remove);
  g_clear_handle_id (&cluster->sweep_id, g_source_remove);
  cluster_disconnect (cluster);
  g_string_free (cluster->pending, TRUE);
  g_free (cluster->channel);
  g_free (cluster->quoted);
  g_free (cluster->node);
  g_free (cluster->url);
  g_free (cluster);
}
