/* test-server-cluster.c: several cxdesk-server nodes on one PostgreSQL database (issue 13): a
 * customer on one node and an agent on another chat both ways, nothing lost or duplicated; two
 * nodes racing to route many chats give each to exactly one agent; a cut listening connection
 * comes back; the same chat through HAProxy (if installed); an invitation armed on a node
 * that is then killed (-9) still expires and goes to the next agent. Each case is skipped
 * without CXDESK_TEST_PG_URL (SQLite is one node).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "test-server-cluster"

#include "config.h"

#include <string.h>

#include "cx-test-server.h"

typedef CxTestFixture Fixture;

#define EXCHANGED 20
#define RACE_CHATS 200

static const CxTestConfigOptions short_invitations = { .invitation_timeout_seconds = 2 };
static const CxTestConfigOptions many_starts = { .chat_starts_per_minute = 1000 };

static void
test_skipped (void)
{
  g_test_skip ("several nodes need PostgreSQL (CXDESK_TEST_PG_URL)");
}

typedef struct
{
  CxTestSocket *socket;
  const char *prefix;
  guint count;
} Arrived;

/* Every text of the socket's messages frames starting with @prefix, in order. */
static GPtrArray *
texts_with_prefix (CxTestSocket *socket, const char *prefix)
{
  g_autoptr (GPtrArray) messages = cx_test_push_transcript (socket);
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < messages->len; i++)
    {
      JsonObject *message = g_ptr_array_index (messages, i);
      const char *text = json_object_has_member (message, "text")
                             ? json_object_get_string_member (message, "text")
                             : NULL;

      if (text != NULL && g_str_has_prefix (text, prefix))
        g_ptr_array_add (texts, g_strdup (text));
    }
  return texts;
}

static gboolean
all_arrived (gpointer data)
{
  Arrived *arrived = data;
  g_autoptr (GPtrArray) texts = texts_with_prefix (arrived->socket, arrived->prefix);

  return texts->len >= arrived->count;
}

/* Each of "<prefix>00".."<prefix>NN" exactly once, in order. */
static void
assert_exactly_once (CxTestSocket *socket, const char *prefix)
{
  g_autoptr (GPtrArray) texts = texts_with_prefix (socket, prefix);

  g_assert_cmpuint (texts->len, ==, EXCHANGED);
  for (guint i = 0; i < EXCHANGED; i++)
    {
      g_autofree char *expected = g_strdup_printf ("%s%02u", prefix, i);

      g_assert_cmpstr (g_ptr_array_index (texts, i), ==, expected);
    }
}

/* The customer and the agent send EXCHANGED messages each, in turns; returns once every one of
 * them has reached the other side's socket. */
static void
exchange (CxTestCustomer *customer, CxTestSocket *push, CxTestAgent *ada)
{
  Arrived to_agent = { ada->events, "customer ", EXCHANGED };
  Arrived to_customer = { push, "agent ", EXCHANGED };

  for (guint i = 0; i < EXCHANGED; i++)
    {
      g_autofree char *from_customer = g_strdup_printf ("customer %02u", i);
      g_autofree char *from_agent = g_strdup_printf ("agent %02u", i);

      cx_test_customer_send (customer, from_customer);
      cx_test_agent_send (ada, customer->chat_id, from_agent);
    }
  cx_test_wait (all_arrived, &to_agent);
  cx_test_wait (all_arrived, &to_customer);
}

/* The customer on node A with its push socket there, the agent on node B: every message of each
 * reaches the other's socket once. The invitation, sent by A's routing, reaches B's socket. */
static void
test_chat_across_nodes (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestServer) node_b = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestSocket) push = NULL;

  node_b = cx_test_server_new_peer (f->server);
  ada = cx_test_agent_ready (node_b, "ada", CX_TEST_ADA_PASSWORD);
  customer = cx_test_customer_start (f->server, "customer-support", "Nell");
  push = cx_test_customer_push_socket (customer, 1);
  cx_test_agent_take (ada, customer->chat_id);

  exchange (customer, push, ada);
  /* A little more time for a duplicate to show, then nothing twice, nothing missing. */
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "agent 19");
  assert_exactly_once (ada->events, "customer ");
  assert_exactly_once (push, "agent ");
  assert_exactly_once (ada->events, "agent ");
  assert_exactly_once (push, "customer ");
}

/* The same through HAProxy, round robin and no stickiness: every request of the customer and of
 * the agent may land on either node, the sockets on either. */
static void
test_chat_through_haproxy (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestServer) node_b = NULL;
  g_autoptr (CxTestServer) proxy = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestSocket) push = NULL;
  CxTestServer *nodes[2];

  node_b = cx_test_server_new_peer (f->server);
  nodes[0] = f->server;
  nodes[1] = node_b;
  proxy = cx_test_server_new_haproxy (nodes, 2);
  if (proxy == NULL)
    {
      g_test_skip ("haproxy is not installed");
      return;
    }
  ada = cx_test_agent_ready (proxy, "ada", CX_TEST_ADA_PASSWORD);
  customer = cx_test_customer_start (proxy, "customer-support", "Ola");
  push = cx_test_customer_push_socket (customer, 1);
  cx_test_agent_take (ada, customer->chat_id);

  exchange (customer, push, ada);
  cx_test_customer_poll_until (customer, 1, "Message", "Agent", "agent 19");
  assert_exactly_once (ada->events, "customer ");
  assert_exactly_once (push, "agent ");

  /* The sockets go before the proxy that carries them. */
  g_clear_pointer (&push, cx_test_socket_free);
  g_clear_pointer (&customer, cx_test_customer_free);
  g_clear_pointer (&ada, cx_test_agent_free);
}

/* psql -At -c @sql on the test database: its output. */
static char *
psql (const char *sql)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;
  const char *argv[] = {
    "psql", "-X", "-q", "-At", "-d", g_getenv ("CXDESK_TEST_PG_URL"), "-c", sql, NULL,
  };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strstrip (g_steal_pointer (&out));
}

static gboolean
listening_again (gpointer data)
{
  g_autofree char *sql = g_strdup_printf (
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cxdesk-listen-%d'",
      (int) GPOINTER_TO_INT (data));
  g_autofree char *count = psql (sql);

  return g_str_equal (count, "1");
}

/* Node B's listening connection is cut (as a database restart or a network fault would): it
 * comes back by itself, and what node A commits after reaches B's agent again. */
static void
test_listener_reconnects (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestServer) node_b = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autofree char *terminate = NULL;
  g_autofree char *terminated = NULL;
  g_autoptr (GPtrArray) texts = NULL;
  Arrived arrived;
  int pid_b;

  node_b = cx_test_server_new_peer (f->server);
  pid_b = (int) cx_test_server_get_pid (node_b);
  ada = cx_test_agent_ready (node_b, "ada", CX_TEST_ADA_PASSWORD);
  customer = cx_test_customer_start (f->server, "customer-support", "Pia");
  cx_test_agent_take (ada, customer->chat_id);
  g_assert_true (listening_again (GINT_TO_POINTER (pid_b)));

  terminate = g_strdup_printf ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = 'cxdesk-listen-%d'",
                               pid_b);
  terminated = psql (terminate);
  g_assert_cmpstr (terminated, ==, "1");
  cx_test_wait (listening_again, GINT_TO_POINTER (pid_b));

  cx_test_customer_send (customer, "after the cut");
  arrived = (Arrived){ ada->events, "after the cut", 1 };
  cx_test_wait (all_arrived, &arrived);
  texts = texts_with_prefix (ada->events, "after the cut");
  g_assert_cmpuint (texts->len, ==, 1);
}

/* Two agents, each on its own node, take and end chats as they are offered while customers
 * start them on both nodes: every chat is accepted exactly once, and no accept is refused
 * (a refused accept would be a chat offered to both). */
typedef struct
{
  CxTestAgent *agent;
  GHashTable *accepted; /* chat id -> agent */
  guint refused;
  guint taken;
} Taker;

static void
take_offered (Taker *taker)
{
  JsonObject *invitation;

  while ((invitation = cx_test_socket_take (taker->agent->events, "invitation", NULL)) != NULL)
    {
      g_autofree char *chat_id = cx_test_object_loose_string (invitation, "chatId");
      g_autofree char *accept = g_strdup_printf ("/cx/1/agent/invitations/%s/accept", chat_id);
      g_autofree char *end = g_strdup_printf ("/cx/1/agent/chats/%s/end", chat_id);
      g_autoptr (CxTestReply) reply = cx_test_agent_call (taker->agent, "POST", accept, NULL);
      g_autoptr (CxTestReply) ended = NULL;

      json_object_unref (invitation);
      if (reply->status != 200)
        {
          taker->refused++;
          continue;
        }
      g_assert_false (g_hash_table_contains (taker->accepted, chat_id));
      g_hash_table_insert (taker->accepted, g_strdup (chat_id), taker->agent->username);
      taker->taken++;
      ended = cx_test_agent_call (taker->agent, "POST", end, NULL);
      g_assert_cmpuint (ended->status, <, 300);
    }
}

typedef struct
{
  Taker *takers;
  GHashTable *accepted;
} Race;

static gboolean
race_done (gpointer data)
{
  Race *race = data;

  take_offered (&race->takers[0]);
  take_offered (&race->takers[1]);
  return g_hash_table_size (race->accepted) >= RACE_CHATS;
}

static void
test_routing_race (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestServer) node_b = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (GPtrArray) customers = NULL;
  g_autoptr (GHashTable) accepted = NULL;
  Taker takers[2];
  Race race;

  node_b = cx_test_server_new_peer (f->server);
  ada = cx_test_agent_ready (f->server, "ada", CX_TEST_ADA_PASSWORD);
  bob = cx_test_agent_ready (node_b, "bob", CX_TEST_BOB_PASSWORD);
  accepted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  takers[0] = (Taker){ ada, accepted, 0, 0 };
  takers[1] = (Taker){ bob, accepted, 0, 0 };
  race = (Race){ takers, accepted };

  customers = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_test_customer_free);
  for (guint i = 0; i < RACE_CHATS; i++)
    {
      g_autofree char *nickname = g_strdup_printf ("Racer %u", i);

      g_ptr_array_add (customers,
                       cx_test_customer_start (i % 2 ? node_b : f->server, "sales", nickname));
      take_offered (&takers[0]);
      take_offered (&takers[1]);
    }
  cx_test_wait (race_done, &race);

  g_assert_cmpuint (takers[0].refused, ==, 0);
  g_assert_cmpuint (takers[1].refused, ==, 0);
  for (guint i = 0; i < customers->len; i++)
    {
      CxTestCustomer *customer = g_ptr_array_index (customers, i);

      g_assert_true (g_hash_table_contains (accepted, customer->chat_id));
    }
  g_printerr ("note: ada took %u chats on node A, bob %u on node B\n", takers[0].taken,
              takers[1].taken);
}

/* An invitation armed on node A, whose process is then killed: node B's sweep expires it and
 * it goes to the next agent. */
static void
test_invitation_outlives_node (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestServer) node_b = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) withdrawn = NULL;
  g_autoptr (JsonObject) rerouted = NULL;
  g_autoptr (JsonObject) chat = NULL;

  node_b = cx_test_server_new_peer (f->server);
  ada = cx_test_agent_ready (node_b, "ada", CX_TEST_ADA_PASSWORD);
  customer = cx_test_customer_start (f->server, "sales", "Kim");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  cx_test_server_kill9 (f->server);

  bob = cx_test_agent_ready (node_b, "bob", CX_TEST_BOB_PASSWORD);
  withdrawn = cx_test_socket_wait (ada->events, "invitationWithdrawn", customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (withdrawn, "reason"), ==, "timeout");
  rerouted = cx_test_agent_wait_invitation (bob, customer->chat_id);
  chat = cx_test_agent_accept (bob, customer->chat_id);

  /* Node A comes back on the same database, as a restarted node would; its customer sees the
   * agent who took the chat on node B. */
  cx_test_server_restart (f->server);
  cx_test_assert_healthy (f->server);
  cx_test_customer_poll_until (customer, 1, "ParticipantJoined", "Agent", NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!cx_test_on_postgresql ())
    {
      g_test_add_func ("/server/cluster/needs-postgresql", test_skipped);
      return g_test_run ();
    }

  cx_test_add ("/server/cluster/chat-across-nodes", NULL, NULL, test_chat_across_nodes);
  cx_test_add ("/server/cluster/chat-through-haproxy", NULL, NULL, test_chat_through_haproxy);
  cx_test_add ("/server/cluster/listener-reconnects", NULL, NULL, test_listener_reconnects);
  cx_test_add ("/server/cluster/routing-race", &many_starts, NULL, test_routing_race);
  cx_test_add ("/server/cluster/invitation-outlives-node", &short_invitations, NULL,
               test_invitation_outlives_node);
  return g_test_run ();
}
