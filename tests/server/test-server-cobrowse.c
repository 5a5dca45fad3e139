/* test-server-cobrowse.c: the co-browse relay of the real cxdesk-server (issue 11; API.md
 * "Co-browse"): a customer creates a session and opens its socket with the secret, an agent
 * joins by code and opens its own; page frames go to the agent, control frames to the
 * customer; input only in write mode, which only the customer's consent turns on; either side
 * ends it for both; codes are single use, expire, and a wrong one is refused. */
#include <string.h>

#include "cx-test-server.h"
#include "protocol/cx-cobrowse-protocol.h"
#include "protocol/cx-cobrowse-relay.h"

typedef struct
{
  char *id;
  char *code;
  char *secret;
} Created;

static void
created_free (Created *created)
{
  g_free (created->id);
  g_free (created->code);
  g_free (created->secret);
  g_free (created);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Created, created_free)

static CxTestReply *
create_reply (CxTestFixture *f)
{
  g_autofree char *url = cx_test_server_url (f->server, "%s", CX_COBROWSE_RELAY_SESSIONS_PATH);

  return cx_test_request (f->session, "POST", url, NULL, NULL);
}

static Created *
create (CxTestFixture *f)
{
  g_autoptr (CxTestReply) reply = create_reply (f);
  g_autoptr (CxCobrowseSessionInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  Created *created = g_new0 (Created, 1);

  g_assert_cmpuint (reply->status, ==, 201);
  g_assert_true (cx_cobrowse_session_info_parse (reply->json, &info, &error));
  g_assert_no_error (error);
  g_assert_true (cx_cobrowse_code_is_valid (info->code));
  g_assert_cmpint (info->expires_at, >, g_get_real_time () / 1000);
  created->id = g_strdup (info->id);
  created->code = g_strdup (info->code);
  created->secret = g_strdup (info->secret);
  return created;
}

static CxTestSocket *
customer_socket (CxTestFixture *f, const Created *created, const char *secret)
{
  g_autofree char *url = cx_test_server_url (f->server, "%s/%s/customer",
                                             CX_COBROWSE_RELAY_SESSIONS_PATH, created->id);
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", secret);

  return cx_test_socket_connect_with (f->session, url, "Authorization", bearer);
}

static CxTestReply *
join (CxTestAgent *agent, const char *code)
{
  g_autoptr (JsonNode) body = cx_cobrowse_join_request_build (code);
  g_autofree char *text = json_to_string (body, FALSE);

  return cx_test_agent_call (agent, "POST", CX_COBROWSE_RELAY_JOIN_PATH, text);
}

static CxTestSocket *
agent_socket (CxTestFixture *f, CxTestAgent *agent, const char *id)
{
  g_autofree char *url =
      cx_test_server_url (f->server, "%s/%s/agent", CX_COBROWSE_RELAY_SESSIONS_PATH, id);

  return cx_test_socket_connect (agent->session, url);
}

static void
send_node (CxTestSocket *socket, JsonNode *frame)
{
  g_autofree char *text = json_to_string (frame, FALSE);

  cx_test_socket_send (socket, text);
  json_node_unref (frame);
}

static char *
snapshot_text (const char *page, const char *value)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_SNAPSHOT);
  CxCobrowseNode *node;

  frame->page = g_strdup (page);
  frame->has_viewport = TRUE;
  frame->viewport_width = 800;
  frame->viewport_height = 600;
  node = cx_cobrowse_node_new (1);
  node->kind = CX_COBROWSE_KIND_BOX;
  node->fields = CX_COBROWSE_FIELD_KIND | CX_COBROWSE_FIELD_RECT | CX_COBROWSE_FIELD_VISIBLE |
                 CX_COBROWSE_FIELD_SENSITIVE;
  node->width = 800;
  node->height = 600;
  node->visible = node->sensitive = TRUE;
  g_ptr_array_add (frame->nodes, node);
  node = cx_cobrowse_node_new (2);
  node->parent = 1;
  node->kind = CX_COBROWSE_KIND_ENTRY;
  node->fields = CX_COBROWSE_FIELD_KIND | CX_COBROWSE_FIELD_RECT | CX_COBROWSE_FIELD_VISIBLE |
                 CX_COBROWSE_FIELD_SENSITIVE | CX_COBROWSE_FIELD_TEXT;
  node->width = 200;
  node->height = 30;
  node->visible = node->sensitive = TRUE;
  node->text = g_strdup (value);
  g_ptr_array_add (frame->nodes, node);
  return cx_cobrowse_frame_to_string (frame, NULL);
}

/* A customer and ada, joined, both sockets open. */
typedef struct
{
  Created *created;
  CxTestSocket *customer;
  CxTestAgent *agent;
  CxTestSocket *agent_socket;
} Pair;

static void
pair_free (Pair *pair)
{
  cx_test_socket_free (pair->customer);
  cx_test_socket_free (pair->agent_socket);
  cx_test_agent_free (pair->agent);
  created_free (pair->created);
  g_free (pair);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pair, pair_free)

static Pair *
pair_new (CxTestFixture *f)
{
  Pair *pair = g_new0 (Pair, 1);
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (JsonObject) joined = NULL;
  g_autofree char *id = NULL;
  g_autoptr (GError) error = NULL;

  pair->created = create (f);
  pair->customer = customer_socket (f, pair->created, pair->created->secret);
  g_assert_no_error (pair->customer->error);
  pair->agent = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  reply = join (pair->agent, pair->created->code);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_true (cx_cobrowse_join_reply_parse (reply->json, &id, &error));
  g_assert_cmpstr (id, ==, pair->created->id);
  pair->agent_socket = agent_socket (f, pair->agent, id);
  g_assert_no_error (pair->agent_socket->error);
  joined = cx_test_socket_wait (pair->customer, "joined", NULL);
  g_assert_cmpstr (json_object_get_string_member (joined, "agent"), !=, "");
  return pair;
}

/* Code start and join; page frames to the agent, a click to the customer; a page change (a
 * new snapshot) keeps the session. */
static void
test_start_and_join (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Pair) pair = pair_new (f);
  g_autofree char *first = snapshot_text ("Home", "hello");
  g_autofree char *second = snapshot_text ("Checkout", "world");
  g_autoptr (JsonObject) snapshot = NULL;
  g_autoptr (JsonObject) click = NULL;
  g_autoptr (JsonObject) again = NULL;

  cx_test_socket_send (pair->customer, first);
  snapshot = cx_test_socket_wait (pair->agent_socket, "snapshot", NULL);
  g_assert_cmpstr (json_object_get_string_member (snapshot, "page"), ==, "Home");

  send_node (pair->agent_socket, cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_CLICK, 10, 20));
  click = cx_test_socket_wait (pair->customer, "click", NULL);

  cx_test_socket_send (pair->customer, second);
  again = cx_test_socket_wait (pair->agent_socket, "snapshot", NULL);
  g_assert_cmpstr (json_object_get_string_member (again, "page"), ==, "Checkout");
}

/* Pointer mode: the relay itself refuses the agent's input, whatever the agent's app does. */
static void
test_pointer_mode_refuses_input (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Pair) pair = pair_new (f);
  g_autoptr (JsonObject) refused = NULL;
  g_autoptr (JsonObject) click = NULL;

  send_node (pair->agent_socket, cx_cobrowse_build_input_text (2, "forged"));
  refused = cx_test_socket_wait (pair->agent_socket, "refused", NULL);
  g_assert_cmpstr (json_object_get_string_member (refused, "refused"), ==, "input");
  /* Frames keep their order: the click after it arrives, the input never did. */
  send_node (pair->agent_socket, cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_CLICK, 1, 1));
  click = cx_test_socket_wait (pair->customer, "click", NULL);
  g_assert_null (cx_test_socket_peek (pair->customer, "input", NULL));

  /* A customer cannot accept what was not asked, nor can an agent accept for the customer. */
  send_node (pair->customer,
             cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_ACCEPT, CX_COBROWSE_MODE_WRITE));
  g_clear_pointer (&refused, json_object_unref);
  refused = cx_test_socket_wait (pair->customer, "refused", NULL);
  send_node (pair->agent_socket,
             cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_ACCEPT, CX_COBROWSE_MODE_WRITE));
  g_clear_pointer (&refused, json_object_unref);
  refused = cx_test_socket_wait (pair->agent_socket, "refused", NULL);
  send_node (pair->agent_socket, cx_cobrowse_build_input_text (2, "forged"));
  g_clear_pointer (&refused, json_object_unref);
  refused = cx_test_socket_wait (pair->agent_socket, "refused", NULL);
  g_assert_null (cx_test_socket_peek (pair->customer, "input", NULL));
}

/* Write mode after the customer's consent; then input reaches the customer; taking control
 * back stops it again. */
static void
test_write_mode_after_consent (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Pair) pair = pair_new (f);
  g_autoptr (JsonObject) request = NULL;
  g_autoptr (JsonObject) accept = NULL;
  g_autoptr (JsonObject) input = NULL;
  g_autoptr (JsonObject) revoke = NULL;
  g_autoptr (JsonObject) refused = NULL;

  send_node (pair->agent_socket,
             cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_REQUEST, CX_COBROWSE_MODE_WRITE));
  request = cx_test_socket_wait (pair->customer, "modeRequest", NULL);
  send_node (pair->customer,
             cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_ACCEPT, CX_COBROWSE_MODE_WRITE));
  accept = cx_test_socket_wait (pair->agent_socket, "modeAccept", NULL);

  send_node (pair->agent_socket, cx_cobrowse_build_input_text (2, "typed by the agent"));
  input = cx_test_socket_wait (pair->customer, "input", NULL);
  g_assert_cmpstr (json_object_get_string_member (input, "text"), ==, "typed by the agent");

  send_node (pair->customer,
             cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_REVOKE, CX_COBROWSE_MODE_POINTER));
  revoke = cx_test_socket_wait (pair->agent_socket, "modeRevoke", NULL);
  send_node (pair->agent_socket, cx_cobrowse_build_input_text (2, "too late"));
  refused = cx_test_socket_wait (pair->agent_socket, "refused", NULL);
  g_assert_cmpstr (json_object_get_string_member (refused, "refused"), ==, "input");
}

/* Either side ends it for both; the code cannot be used again. */
static void
end_by (CxTestFixture *f, gboolean agent_ends, gboolean by_closing)
{
  g_autoptr (Pair) pair = pair_new (f);
  CxTestSocket *ender = agent_ends ? pair->agent_socket : pair->customer;
  CxTestSocket *other = agent_ends ? pair->customer : pair->agent_socket;
  g_autoptr (JsonObject) end = NULL;
  g_autoptr (CxTestReply) again = NULL;
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (CxTestReply) rejoin = NULL;
  g_autoptr (CxTestSocket) reopen = NULL;

  if (by_closing)
    soup_websocket_connection_close (ender->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  else
    send_node (ender, cx_cobrowse_build_end ("done"));
  end = cx_test_socket_wait (other, "end", NULL);
  cx_test_socket_wait_closed (other);
  cx_test_socket_wait_closed (ender);

  /* Re-join refused, by anyone; the customer's socket cannot reopen it either. */
  again = join (pair->agent, pair->created->code);
  cx_test_assert_cx_error (again, 404);
  bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  rejoin = join (bob, pair->created->code);
  cx_test_assert_cx_error (rejoin, 404);
  reopen = customer_socket (f, pair->created, pair->created->secret);
  g_assert_nonnull (reopen->error);
  g_assert_null (reopen->conn);
}

static void
test_agent_ends (CxTestFixture *f, gconstpointer data)
{
  end_by (f, TRUE, FALSE);
}

static void
test_customer_ends (CxTestFixture *f, gconstpointer data)
{
  end_by (f, FALSE, FALSE);
}

static void
test_agent_leaves (CxTestFixture *f, gconstpointer data)
{
  end_by (f, TRUE, TRUE);
}

static void
test_customer_leaves (CxTestFixture *f, gconstpointer data)
{
  end_by (f, FALSE, TRUE);
}

/* A wrong code, a malformed one, a wrong secret, a second agent on a joined session, a second
 * session for one agent, the socket of a session one did not join. */
static void
test_refusals (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Pair) pair = pair_new (f);
  g_autoptr (Created) other = create (f);
  g_autoptr (CxTestAgent) bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  g_autofree char *wrong = g_strdup (other->code);
  g_autoptr (CxTestReply) wrong_reply = NULL;
  g_autoptr (CxTestReply) bad_reply = NULL;
  g_autoptr (CxTestReply) used_reply = NULL;
  g_autoptr (CxTestReply) busy_reply = NULL;
  g_autoptr (CxTestReply) anonymous = NULL;
  g_autoptr (CxTestSocket) bad_secret = NULL;
  g_autoptr (CxTestSocket) intruder = NULL;
  g_autofree char *join_url = cx_test_server_url (f->server, "%s", CX_COBROWSE_RELAY_JOIN_PATH);

  wrong[0] = wrong[0] == '9' ? '0' : wrong[0] + 1;
  wrong_reply = join (bob, wrong);
  cx_test_assert_cx_error (wrong_reply, 404);
  bad_reply = join (bob, "12345");
  cx_test_assert_cx_error (bad_reply, 400);
  used_reply = join (bob, pair->created->code);
  cx_test_assert_cx_error (used_reply, 404);
  busy_reply = join (pair->agent, other->code);
  cx_test_assert_cx_error (busy_reply, 409);
  anonymous = cx_test_json (f->session, "POST", join_url, "{\"code\":\"123456789\"}");
  cx_test_assert_cx_error (anonymous, 401);

  bad_secret = customer_socket (f, other, "0000");
  g_assert_null (bad_secret->conn);
  intruder = agent_socket (f, bob, pair->created->id);
  g_assert_null (intruder->conn);

  /* Bob can still join the other session: the refusals did not use its code up. */
  {
    g_autoptr (CxTestReply) fine = join (bob, other->code);

    g_assert_cmpuint (fine->status, ==, 200);
  }
}

/* An expired code is refused, and a customer waiting on it is told. */
static void
test_expired_code (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Created) created = create (f);
  g_autoptr (CxTestSocket) customer = customer_socket (f, created, created->secret);
  g_autoptr (JsonObject) end = NULL;
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestReply) reply = NULL;

  g_assert_no_error (customer->error);
  end = cx_test_socket_wait (customer, "end", NULL);
  cx_test_socket_wait_closed (customer);
  reply = join (ada, created->code);
  cx_test_assert_cx_error (reply, 404);
}

/* Frames the wrong way or of a wrong shape are refused; a flood ends the session. */
static void
test_bad_frames_and_flood (CxTestFixture *f, gconstpointer data)
{
  g_autoptr (Pair) pair = pair_new (f);
  g_autoptr (JsonObject) refused = NULL;
  g_autoptr (JsonObject) end = NULL;

  /* The agent cannot send a page, the customer cannot click. */
  {
    g_autofree char *snapshot = snapshot_text ("Fake", "x");

    cx_test_socket_send (pair->agent_socket, snapshot);
    refused = cx_test_socket_wait (pair->agent_socket, "refused", NULL);
    g_assert_cmpstr (json_object_get_string_member (refused, "refused"), ==, "snapshot");
  }
  send_node (pair->customer, cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_CLICK, 1, 1));
  g_clear_pointer (&refused, json_object_unref);
  refused = cx_test_socket_wait (pair->customer, "refused", NULL);
  cx_test_socket_send (pair->customer, "{\"type\":\"nonsense\"}");
  g_clear_pointer (&refused, json_object_unref);
  refused = cx_test_socket_wait (pair->customer, "refused", NULL);
  g_assert_cmpstr (json_object_get_string_member (refused, "refused"), ==, "invalid");

  /* Far more pointer frames than a second's allowance, at once. */
  for (guint i = 0; i < 1000 && soup_websocket_connection_get_state (pair->customer->conn) ==
                                    SOUP_WEBSOCKET_STATE_OPEN;
       i++)
    send_node (pair->customer, cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_POINTER, i, i));
  cx_test_socket_wait_closed (pair->agent_socket);
  end = cx_test_socket_take (pair->agent_socket, "end", NULL);
  g_assert_nonnull (end);
  g_assert_cmpstr (json_object_get_string_member (end, "reason"), ==, "too much data");
}

/* Session creation is limited per address. */
static void
test_create_rate_limited (CxTestFixture *f, gconstpointer data)
{
  guint created = 0;

  for (;;)
    {
      g_autoptr (CxTestReply) reply = create_reply (f);

      if (reply->status == 429)
        break;
      g_assert_cmpuint (reply->status, ==, 201);
      created++;
      g_assert_cmpuint (created, <=, 10);
    }
  g_assert_cmpuint (created, ==, 10);
}

int
main (int argc, char **argv)
{
  static const CxTestConfigOptions short_codes = { .cobrowse_code_seconds = 1 };

  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/cobrowse/start-and-join", NULL, NULL, test_start_and_join);
  cx_test_add ("/server/cobrowse/pointer-mode-refuses-input", NULL, NULL,
               test_pointer_mode_refuses_input);
  cx_test_add ("/server/cobrowse/write-mode-after-consent", NULL, NULL,
               test_write_mode_after_consent);
  cx_test_add ("/server/cobrowse/agent-ends", NULL, NULL, test_agent_ends);
  cx_test_add ("/server/cobrowse/customer-ends", NULL, NULL, test_customer_ends);
  cx_test_add ("/server/cobrowse/agent-leaves", NULL, NULL, test_agent_leaves);
  cx_test_add ("/server/cobrowse/customer-leaves", NULL, NULL, test_customer_leaves);
  cx_test_add ("/server/cobrowse/refusals", NULL, NULL, test_refusals);
  cx_test_add ("/server/cobrowse/expired-code", &short_codes, NULL, test_expired_code);
  cx_test_add ("/server/cobrowse/bad-frames-and-flood", NULL, NULL, test_bad_frames_and_flood);
  cx_test_add ("/server/cobrowse/create-rate-limited", NULL, NULL, test_create_rate_limited);

  return g_test_run ();
}
