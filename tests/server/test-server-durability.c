/* test-server-durability.c: SIGKILL loses nothing that was acknowledged, from one customer or
 * from many at once (group commit); the agent's session, the chat and the customer's push
 * position survive a restart; SIGTERM exits 0.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-server-durability"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cx-test-server.h"

#define BURST 24
#define KILL_AFTER 6

/* Many customers at once: their sends share the server's batches. */
#define CUSTOMERS 12
#define SENDS_EACH 8
#define MANY_KILL_AFTER (CUSTOMERS * SENDS_EACH / 2)

typedef CxTestFixture Fixture;

typedef struct
{
  SoupMessage *msg;
  char *text;
  gboolean done;
  gboolean acked;
} Pending;

static void
burst_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  if (body != NULL && soup_message_get_status (pending->msg) == 200)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonNode *root;

      /* Acknowledged: a complete 200 reply with statusCode 0. */
      if (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      g_bytes_get_size (body), NULL) &&
          (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
          json_object_get_int_member_with_default (json_node_get_object (root), "statusCode", -1) ==
              0)
        pending->acked = TRUE;
    }
  pending->done = TRUE;
}

typedef struct
{
  Pending *pending;
  guint count;
  guint wanted;
} BurstWait;

static gboolean
enough_done (gpointer data)
{
  BurstWait *wait = data;
  guint done = 0;

  for (guint i = 0; i < wait->count; i++)
    done += wait->pending[i].done ? 1 : 0;
  return done >= wait->wanted;
}

/* A GMS send of @text from @customer, to be posted to @url. */
static SoupMessage *
send_message_new (const char *url, CxTestCustomer *customer, const char *text)
{
  const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                 "alias",  customer->alias,   "message",   text,
                                 NULL };
  g_autofree char *form = cx_test_form_encode (fields);
  g_autoptr (GBytes) body = g_bytes_new (form, strlen (form));
  SoupMessage *msg = soup_message_new ("POST", url);

  soup_message_set_request_body_from_bytes (msg, "application/x-www-form-urlencoded", body);
  return msg;
}

/* Sends @pending on @session; burst_cb says when it is done and whether it was acknowledged. */
static void
pending_send (SoupSession *session, Pending *pending)
{
  soup_session_send_and_read_async (session, pending->msg, G_PRIORITY_DEFAULT, NULL, burst_cb,
                                    pending);
}

/* After SIGKILL and a restart, a send that was acknowledged is in @transcript exactly once, and
 * none is there twice. */
static void
assert_kept_once (GPtrArray *transcript, const Pending *pending)
{
  guint copies = 0;

  for (guint j = 0; j < transcript->len; j++)
    {
      JsonObject *message = g_ptr_array_index (transcript, j);

      if (g_str_equal (cx_test_object_string (message, "type"), "Message") &&
          g_str_equal (cx_test_message_text (message), pending->text))
        copies++;
    }
  if (pending->acked && copies != 1)
    g_error ("“%s” was acknowledged but is in the transcript %u times after SIGKILL", pending->text,
             copies);
  g_assert_cmpuint (copies, <=, 1);
}

static void
pending_clear (Pending *pending, guint count)
{
  for (guint i = 0; i < count; i++)
    {
      g_clear_object (&pending[i].msg);
      g_clear_pointer (&pending[i].text, g_free);
    }
}

static gboolean
push_caught_up (gpointer data)
{
  CxTestSocket *socket = ((gpointer *) data)[0];
  gint64 wanted = *(gint64 *) ((gpointer *) data)[1];
  g_autoptr (GPtrArray) pushed = cx_test_push_transcript (socket);

  g_assert_false (socket->closed);
  return (gint64) pushed->len >= wanted - 1;
}

static gint64
push_next_position (CxTestSocket *socket)
{
  gint64 next = -1;

  for (guint i = 0; i < socket->all_frames->len; i++)
    {
      JsonObject *frame = g_ptr_array_index (socket->all_frames, i);

      if (g_str_equal (cx_test_object_string (frame, "type"), "messages"))
        next = cx_test_object_int (frame, "nextPosition");
    }
  g_assert_cmpint (next, >, 0);
  return next;
}

static gboolean
agent_lists_active_chat (CxTestAgent *agent, const char *chat_id)
{
  g_autoptr (CxTestReply) reply = cx_test_agent_call (agent, "GET", "/cx/1/agent/chats", NULL);
  JsonArray *chats;

  g_assert_cmpuint (reply->status, ==, 200);
  chats = json_object_get_array_member (cx_test_reply_object (reply), "chats");
  g_assert_nonnull (chats);
  for (guint i = 0; i < json_array_get_length (chats); i++)
    {
      JsonObject *chat = json_array_get_object_element (chats, i);
      g_autofree char *id = cx_test_object_loose_string (chat, "chatId");

      if (g_str_equal (id, chat_id))
        return g_str_equal (cx_test_object_string (chat, "state"), "active");
    }
  return FALSE;
}

/* Start a chat, exchange messages, SIGKILL in the middle of a burst of sends, restart on the
 * same database: everything acknowledged is there at the same index, the agent's cookie and
 * the chat still work, the push socket resumes from its nextPosition. */
static void
test_kill9 (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer =
      cx_test_customer_start (f->server, "customer-support", "Nell");
  g_autoptr (CxTestCustomer) before = cx_test_customer_copy_keys (customer);
  g_autoptr (CxTestCustomer) after = NULL;
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestSocket) push = NULL;
  g_autoptr (CxTestSocket) resumed = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (GPtrArray) before_summaries = NULL;
  g_autoptr (GPtrArray) after_summaries = NULL;
  g_autoptr (GPtrArray) resumed_messages = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (SoupSession) burst_session = cx_test_session_new (FALSE);
  g_autofree char *burst_url = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *cookie_after = NULL;
  Pending pending[BURST] = { { 0 } };
  BurstWait wait = { pending, BURST, KILL_AFTER };
  BurstWait all = { pending, BURST, BURST };
  gint64 agent_indices[4];
  gint64 push_next;
  gint64 late_index;
  guint acked = 0;
  gpointer catch_up[2];

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);
  push = cx_test_customer_push_socket (customer, 1);
  cookie = cx_test_agent_cookie (ada);

  for (int i = 0; i < 4; i++)
    {
      g_autofree char *from_customer = g_strdup_printf ("before the crash, customer %d", i);
      g_autofree char *from_agent = g_strdup_printf ("before the crash, agent %d", i);

      cx_test_customer_send (customer, from_customer);
      agent_indices[i] = cx_test_agent_send (ada, customer->chat_id, from_agent);
    }
  cx_test_customer_poll (before);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *from_agent = g_strdup_printf ("before the crash, agent %d", i);
      JsonObject *message = cx_test_customer_find (before, 1, "Message", "Agent", from_agent);

      g_assert_nonnull (message);
      g_assert_cmpint (cx_test_object_int (message, "index"), ==, agent_indices[i]);
    }
  before_summaries = cx_test_transcript_summaries (before->transcript);

  /* Let the push socket catch up with what refresh returned, and remember where it stands. */
  catch_up[0] = push;
  catch_up[1] = &before->next_position;
  cx_test_wait (push_caught_up, catch_up);
  push_next = push_next_position (push);

  /* A burst of sends, and SIGKILL while some are still in flight. */
  burst_url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/send", customer->service,
                                  customer->chat_id);
  for (int i = 0; i < BURST; i++)
    {
      pending[i].text = g_strdup_printf ("burst %02d", i);
      pending[i].msg = send_message_new (burst_url, customer, pending[i].text);
      pending_send (burst_session, &pending[i]);
    }
  cx_test_wait (enough_done, &wait);
  cx_test_server_kill9 (f->server);
  cx_test_wait (enough_done, &all);
  for (int i = 0; i < BURST; i++)
    acked += pending[i].acked ? 1 : 0;
  g_printerr ("note: %u of %d burst sends were acknowledged before SIGKILL\n", acked, BURST);
  g_assert_cmpuint (acked, >=, 1);

  cx_test_socket_wait_closed (push);
  cx_test_socket_wait_closed (ada->events);

  /* Restart on the same database; the port may change. */
  cx_test_server_restart (f->server);
  cx_test_assert_healthy (f->server);

  after = cx_test_customer_copy_keys (customer);
  cx_test_customer_poll (after);
  g_assert_false (after->ended);
  cx_test_assert_contiguous (after->transcript, 1);
  after_summaries = cx_test_transcript_summaries (after->transcript);
  g_assert_cmpuint (after_summaries->len, >=, before_summaries->len);
  for (guint i = 0; i < before_summaries->len; i++)
    g_assert_cmpstr (g_ptr_array_index (after_summaries, i), ==,
                     g_ptr_array_index (before_summaries, i));
  for (int i = 0; i < BURST; i++)
    assert_kept_once (after->transcript, &pending[i]);

  /* The agent's cookie still works, and the chat is still hers and active. */
  cookie_after = cx_test_agent_cookie (ada);
  g_assert_cmpstr (cookie_after, ==, cookie);
  reply = cx_test_agent_call (ada, "GET", "/cx/1/agent/me", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (reply), "username"), ==, "ada");
  g_assert_true (agent_lists_active_chat (ada, customer->chat_id));
  g_clear_pointer (&ada->events, cx_test_socket_free);
  cx_test_agent_connect_events (ada);

  /* The push socket comes back from where it was. */
  resumed = cx_test_customer_push_socket (customer, push_next);
  late_index = cx_test_agent_send (ada, customer->chat_id, "after the restart, agent");
  cx_test_socket_wait (resumed, "messages", customer->chat_id);
  for (;;)
    {
      g_clear_pointer (&resumed_messages, g_ptr_array_unref);
      resumed_messages = cx_test_push_transcript (resumed);
      if (resumed_messages->len > 0 &&
          cx_test_object_int (g_ptr_array_index (resumed_messages, resumed_messages->len - 1),
                              "index") >= late_index)
        break;
      g_assert_false (resumed->closed);
      g_main_context_iteration (NULL, TRUE);
    }
  cx_test_assert_contiguous (resumed_messages, push_next);
  g_assert_cmpstr (
      cx_test_message_text (g_ptr_array_index (resumed_messages, late_index - push_next)), ==,
      "after the restart, agent");

  /* And both sides can still talk. */
  cx_test_customer_send (customer, "after the restart, customer");
  cx_test_agent_wait_message (ada, customer->chat_id, "Message", "after the restart, customer");

  pending_clear (pending, BURST);
}

/* Many customers send at once, on as many connections, and SIGKILL comes while about half of
 * the sends are answered: after a restart every send that got its 200 is in its chat exactly
 * once, and nothing is there twice. The replies of a batch leave only once it is committed. */
static void
test_kill9_many (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) customers =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cx_test_customer_free);
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("max-conns", CUSTOMERS * SENDS_EACH, "max-conns-per-host",
                                     CUSTOMERS * SENDS_EACH, "timeout", 0, "idle-timeout", 0, NULL);
  Pending pending[CUSTOMERS * SENDS_EACH] = { { 0 } };
  BurstWait wait = { pending, G_N_ELEMENTS (pending), MANY_KILL_AFTER };
  BurstWait all = { pending, G_N_ELEMENTS (pending), G_N_ELEMENTS (pending) };
  guint acked = 0;

  for (guint c = 0; c < CUSTOMERS; c++)
    {
      g_autofree char *nickname = g_strdup_printf ("Customer %u", c);

      g_ptr_array_add (customers, cx_test_customer_start (f->server, "customer-support", nickname));
    }

  /* Round-robin over the customers, so that every batch mixes chats. */
  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    {
      CxTestCustomer *customer = g_ptr_array_index (customers, i % CUSTOMERS);
      g_autofree char *url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/send",
                                                 customer->service, customer->chat_id);

      pending[i].text = g_strdup_printf ("customer %u, send %u", i % CUSTOMERS, i / CUSTOMERS);
      pending[i].msg = send_message_new (url, customer, pending[i].text);
      pending_send (session, &pending[i]);
    }
  cx_test_wait (enough_done, &wait);
  cx_test_server_kill9 (f->server);
  cx_test_wait (enough_done, &all);
  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    acked += pending[i].acked ? 1 : 0;
  g_printerr ("note: %u of %u sends from %d customers were acknowledged before SIGKILL\n", acked,
              (guint) G_N_ELEMENTS (pending), CUSTOMERS);
  g_assert_cmpuint (acked, >=, 1);

  cx_test_server_restart (f->server);
  cx_test_assert_healthy (f->server);

  for (guint c = 0; c < CUSTOMERS; c++)
    {
      g_autoptr (CxTestCustomer) after =
          cx_test_customer_copy_keys (g_ptr_array_index (customers, c));

      cx_test_customer_poll (after);
      g_assert_false (after->ended);
      cx_test_assert_contiguous (after->transcript, 1);

      for (guint i = c; i < G_N_ELEMENTS (pending); i += CUSTOMERS)
        assert_kept_once (after->transcript, &pending[i]);
    }

  pending_clear (pending, G_N_ELEMENTS (pending));
}

#define PUSH_ROUND 20
#define PUSH_SOCKETS 8

typedef struct
{
  CxTestSocket *socket;
  gint64 last_index;
} PushWait;

static gboolean
push_has_index (gpointer data)
{
  PushWait *wait = data;
  g_autoptr (GPtrArray) pushed = cx_test_push_transcript (wait->socket);

  g_assert_false (wait->socket->closed);
  return pushed->len > 0 && cx_test_object_int (g_ptr_array_index (pushed, pushed->len - 1),
                                                "index") >= wait->last_index;
}

static void
wrote_body_cb (SoupMessage *msg, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static gboolean
all_written (gpointer data)
{
  return *(guint *) data >= PUSH_ROUND;
}

static char *
push_hello (CxTestCustomer *customer)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "secureKey");
  json_builder_add_string_value (builder, customer->secure_key);
  json_builder_set_member_name (builder, "userId");
  json_builder_add_value (builder, json_node_copy (customer->user_id_node));
  json_builder_set_member_name (builder, "alias");
  json_builder_add_value (builder, json_node_copy (customer->alias_node));
  json_builder_set_member_name (builder, "transcriptPosition");
  json_builder_add_int_value (builder, 1);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Push sockets that say hello just behind a round of sends, while the batch that holds them is
 * not yet committed: each socket sees every index exactly once, its backlog and the pushes
 * that follow neither overlapping nor leaving a gap. */
static void
test_push_during_batches (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer =
      cx_test_customer_start (f->server, "customer-support", "Quinn");
  g_autoptr (CxTestCustomer) after = NULL;
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("max-conns", PUSH_ROUND, "max-conns-per-host", PUSH_ROUND,
                                     "timeout", 0, "idle-timeout", 0, NULL);
  g_autoptr (SoupSession) socket_session = cx_test_session_new (FALSE);
  g_autofree char *url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/send",
                                             customer->service, customer->chat_id);
  g_autofree char *socket_url = cx_test_server_url (f->server, "/cx/1/chat/%s/%s/socket",
                                                    customer->service, customer->chat_id);
  g_autofree char *hello = push_hello (customer);
  Pending pending[2 * PUSH_ROUND] = { { 0 } };
  CxTestSocket *sockets[PUSH_SOCKETS] = { NULL };
  BurstWait first = { pending, PUSH_ROUND, PUSH_ROUND };
  BurstWait all = { pending, 2 * PUSH_ROUND, 2 * PUSH_ROUND };
  guint written = 0;

  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    {
      pending[i].text = g_strdup_printf ("send %02u", i);
      pending[i].msg = send_message_new (url, customer, pending[i].text);
    }

  /* A first round opens the connections, so that the second is on the wire at once. */
  for (guint i = 0; i < PUSH_ROUND; i++)
    pending_send (session, &pending[i]);
  cx_test_wait (enough_done, &first);
  for (guint i = 0; i < PUSH_SOCKETS; i++)
    {
      sockets[i] = cx_test_socket_connect (socket_session, socket_url);
      g_assert_no_error (sockets[i]->error);
    }

  /* The second round, and the hellos right behind it. */
  for (guint i = PUSH_ROUND; i < 2 * PUSH_ROUND; i++)
    {
      g_signal_connect (pending[i].msg, "wrote-body", G_CALLBACK (wrote_body_cb), &written);
      pending_send (session, &pending[i]);
    }
  cx_test_wait (all_written, &written);
  for (guint i = 0; i < PUSH_SOCKETS; i++)
    cx_test_socket_send (sockets[i], hello);
  cx_test_wait (enough_done, &all);
  for (guint i = 0; i < G_N_ELEMENTS (pending); i++)
    g_assert_true (pending[i].acked);

  after = cx_test_customer_copy_keys (customer);
  cx_test_customer_poll (after);
  cx_test_assert_contiguous (after->transcript, 1);
  for (guint i = 0; i < PUSH_SOCKETS; i++)
    {
      PushWait wait = { sockets[i], after->next_position - 1 };
      g_autoptr (GPtrArray) pushed = NULL;

      cx_test_wait (push_has_index, &wait);
      pushed = cx_test_push_transcript (sockets[i]);
      cx_test_assert_contiguous (pushed, 1);
      g_assert_cmpint (pushed->len, ==, after->next_position - 1);
      cx_test_socket_free (sockets[i]);
    }

  pending_clear (pending, G_N_ELEMENTS (pending));
}

/* prlimit(2) on the server process (glibc declares prlimit only for _GNU_SOURCE). */
static void
server_fsize_limit (int pid, const struct rlimit *limit, struct rlimit *old)
{
  g_assert_cmpint (syscall (SYS_prlimit64, pid, RLIMIT_FSIZE, limit, old), ==, 0);
}

/* A commit that fails: the server's files may not grow (its RLIMIT_FSIZE lowered to 1 byte, and
 * SIGXFSZ ignored, inherited from this process, so that a write to the WAL fails with EFBIG
 * instead of killing it). The send that was in the failed batch gets a 500 in the GMS shape,
 * is pushed to nobody and is not in the transcript; once the files may grow again the server
 * carries on. */
static void
test_commit_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestCustomer) after = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestSocket) push = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (GPtrArray) pushed = NULL;
  g_autofree char *url = NULL;
  struct rlimit tiny, old;
  int pid;

  /* The server inherits the ignored SIGXFSZ when it starts again. (SIGKILL, not SIGTERM: a
   * server that has just printed its listening line may not handle SIGTERM yet.) */
  signal (SIGXFSZ, SIG_IGN);
  cx_test_server_kill9 (f->server);
  cx_test_server_restart (f->server);

  customer = cx_test_customer_start (f->server, "customer-support", "Pat");
  ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);
  push = cx_test_customer_push_socket (customer, 1);
  cx_test_customer_send (customer, "before the disk fills");
  cx_test_agent_wait_message (ada, customer->chat_id, "Message", "before the disk fills");

  pid = cx_test_server_get_pid (f->server);
  server_fsize_limit (pid, NULL, &old);
  tiny = old;
  tiny.rlim_cur = 1;
  server_fsize_limit (pid, &tiny, NULL);

  url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/send", customer->service,
                            customer->chat_id);
  reply = cx_test_post_form (f->session, url, "userId", customer->user_id, "secureKey",
                             customer->secure_key, "alias", customer->alias, "message",
                             "not committed", NULL);
  cx_test_assert_gms_error (reply, 500);

  server_fsize_limit (pid, &old, NULL);

  /* The server carries on; what it had not committed was pushed to nobody. */
  cx_test_customer_send (customer, "after the disk has room");
  cx_test_agent_wait_message (ada, customer->chat_id, "Message", "after the disk has room");
  g_assert_null (
      cx_test_frames_find_message (ada->events, customer->chat_id, "Message", "not committed"));
  for (;;)
    {
      gboolean found = FALSE;

      g_clear_pointer (&pushed, g_ptr_array_unref);
      pushed = cx_test_push_transcript (push);
      for (guint i = 0; i < pushed->len; i++)
        {
          const char *text = cx_test_message_text (g_ptr_array_index (pushed, i));

          g_assert_cmpstr (text, !=, "not committed");
          found = found || g_strcmp0 (text, "after the disk has room") == 0;
        }
      if (found)
        break;
      g_assert_false (push->closed);
      g_main_context_iteration (NULL, TRUE);
    }
  cx_test_assert_contiguous (pushed, 1);

  after = cx_test_customer_copy_keys (customer);
  cx_test_customer_poll (after);
  cx_test_assert_contiguous (after->transcript, 1);
  g_assert_nonnull (cx_test_customer_find (after, 1, "Message", "Client", "before the disk fills"));
  g_assert_nonnull (
      cx_test_customer_find (after, 1, "Message", "Client", "after the disk has room"));
  g_assert_null (cx_test_customer_find (after, 1, "Message", "Client", "not committed"));
}

/* SIGTERM with sockets open exits 0, and a clean restart has everything. */
static void
test_sigterm (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Otto");
  g_autoptr (CxTestCustomer) after = NULL;
  g_autoptr (CxTestAgent) bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  g_autoptr (CxTestSocket) push = cx_test_customer_push_socket (customer, 1);
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  gint64 index;

  cx_test_agent_connect_events (bob);
  cx_test_agent_set_state (bob, "ready");
  invitation = cx_test_agent_wait_invitation (bob, customer->chat_id);
  chat = cx_test_agent_accept (bob, customer->chat_id);
  cx_test_customer_send (customer, "before SIGTERM");
  index = cx_test_agent_send (bob, customer->chat_id, "also before SIGTERM");

  cx_test_server_stop (f->server); /* asserts exit status 0 */
  cx_test_socket_wait_closed (push);
  cx_test_socket_wait_closed (bob->events);

  cx_test_server_restart (f->server);
  after = cx_test_customer_copy_keys (customer);
  cx_test_customer_poll (after);
  g_assert_nonnull (cx_test_customer_find (after, 1, "Message", "Client", "before SIGTERM"));
  g_assert_cmpint (
      cx_test_object_int (
          cx_test_customer_find (after, 1, "Message", "Agent", "also before SIGTERM"), "index"),
      ==, index);
  reply = cx_test_agent_call (bob, "GET", "/cx/1/agent/me", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
}

/* An acknowledged callback survives SIGKILL. */
static void
test_callback_survives (Fixture *f, gconstpointer data)
{
  g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) tomorrow = g_date_time_add_days (now, 1);
  g_autoptr (GDateTime) slot =
      g_date_time_new_utc (g_date_time_get_year (tomorrow), g_date_time_get_month (tomorrow),
                           g_date_time_get_day_of_month (tomorrow), 12, 0, 0);
  g_autofree char *time = cx_test_iso8601 (slot);
  g_autofree char *url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/customer-support");
  g_autoptr (CxTestReply) created = cx_test_post_form (session, url, "_customer_number",
                                                       "+15557777", "_desired_time", time, NULL);
  g_autoptr (CxTestReply) got = NULL;
  g_autofree char *id = NULL;
  g_autofree char *got_url = NULL;

  g_assert_cmpuint (created->status, ==, 200);
  id = cx_test_object_loose_string (cx_test_reply_object (created), "_id");

  cx_test_server_kill9 (f->server);
  cx_test_server_restart (f->server);

  got_url = cx_test_server_url (f->server, "/genesys/1/service/callback/customer-support/%s", id);
  {
    /* With the callback's secret (issue 9): it survives too. */
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", got_url);

    soup_message_headers_replace (
        soup_message_get_request_headers (msg), "X-Cx-Callback-Secret",
        cx_test_object_string (cx_test_reply_object (created), "_secret"));
    got = cx_test_send (session, msg);
  }
  g_assert_cmpuint (got->status, ==, 200);
  g_assert_cmpstr (cx_test_object_string (cx_test_reply_object (got), "_customer_number"), ==,
                   "+15557777");
}

static void
skip_on_postgresql (void)
{
  g_test_skip ("a full disk is simulated for an SQLite file only");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/durability/kill9", NULL, NULL, test_kill9);
  cx_test_add ("/server/durability/kill9-many-customers", NULL, NULL, test_kill9_many);
  /* A full disk is made with the server's RLIMIT_FSIZE: it stops SQLite's writes, not those of
   * a PostgreSQL server, which are another process's. */
  if (cx_test_on_postgresql ())
    g_test_add_func ("/server/durability/commit-fails", skip_on_postgresql);
  else
    cx_test_add ("/server/durability/commit-fails", NULL, NULL, test_commit_fails);
  cx_test_add ("/server/durability/push-during-batches", NULL, NULL, test_push_during_batches);
  cx_test_add ("/server/durability/sigterm", NULL, NULL, test_sigterm);
  cx_test_add ("/server/durability/callback-survives", NULL, NULL, test_callback_survives);

  return g_test_run ();
}
