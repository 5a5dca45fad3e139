/* test-agent-api.c: the /cx/1 agent REST API's wire format (src/protocol/cx-agent-api.c): every
 * route's path both ways, every body built and parsed back, and the parsers' refusals of hostile
 * input (wrong types, bad ids, control characters, lengths, counts). */
#include "config.h"

#include <string.h>

#include "protocol/cx-agent-api.h"

/* Helpers */

static JsonNode *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = cx_json_parse (text, strlen (text), CX_AGENT_API_MAX_REPLY_SIZE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* @node serialized and parsed again, as the other side sees it. */
static JsonNode *
over_the_wire (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  return parse (text);
}

static void
assert_invalid (GError *error, const char *needle)
{
  g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static GPtrArray *
two_messages (void)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  CxMessage *first =
      cx_message_new (CX_MESSAGE_TEXT, CX_PARTY_CLIENT, "Jo", "u1", "hello\nthere", 1000, NULL);
  CxMessage *second = cx_message_new (CX_MESSAGE_PARTICIPANT_JOINED, CX_PARTY_AGENT, "Ada",
                                      "agent:ada", NULL, 2000, NULL);

  first->index = 1;
  second->index = 2;
  g_ptr_array_add (messages, first);
  g_ptr_array_add (messages, second);
  return messages;
}

/* Routes */

static void
test_routes (void)
{
  static const struct
  {
    CxAgentRoute route;
    const char *id;
    const char *method;
    const char *path;
  } cases[] = {
    { CX_AGENT_ROUTE_SIGN_IN, NULL, "POST", "/session" },
    { CX_AGENT_ROUTE_SIGN_OUT, NULL, "DELETE", "/session" },
    { CX_AGENT_ROUTE_ME, NULL, "GET", "/me" },
    { CX_AGENT_ROUTE_STATE, NULL, "PUT", "/state" },
    { CX_AGENT_ROUTE_EVENTS, NULL, "GET", "/events" },
    { CX_AGENT_ROUTE_INVITATIONS, NULL, "GET", "/invitations" },
    { CX_AGENT_ROUTE_ACCEPT, "c1", "POST", "/invitations/c1/accept" },
    { CX_AGENT_ROUTE_DECLINE, "c1", "POST", "/invitations/c1/decline" },
    { CX_AGENT_ROUTE_CHATS, NULL, "GET", "/chats" },
    { CX_AGENT_ROUTE_MESSAGES, "c1", "GET", "/chats/c1/messages" },
    { CX_AGENT_ROUTE_SEND, "a b/c", "POST", "/chats/a%20b%2Fc/send" },
    { CX_AGENT_ROUTE_TYPING, "c1", "POST", "/chats/c1/typing" },
    { CX_AGENT_ROUTE_END, "c1", "POST", "/chats/c1/end" },
    { CX_AGENT_ROUTE_TRANSFER, "c1", "POST", "/chats/c1/transfer" },
    { CX_AGENT_ROUTE_CALLBACKS, NULL, "GET", "/callbacks" },
    { CX_AGENT_ROUTE_COMPLETE_CALLBACK, "cb", "POST", "/callbacks/cb/complete" },
    { CX_AGENT_ROUTE_RESCHEDULE_CALLBACK, "cb", "POST", "/callbacks/cb/reschedule" },
    { CX_AGENT_ROUTE_CANNED, NULL, "GET", "/canned" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = cx_agent_route_path (cases[i].route, cases[i].id);
      g_autofree char *id = NULL;
      CxAgentRoute route;

      g_assert_cmpstr (path, ==, cases[i].path);
      g_assert_cmpstr (cx_agent_route_method (cases[i].route), ==, cases[i].method);
      g_assert_cmpint (cx_agent_route_has_id (cases[i].route), ==, cases[i].id != NULL);

      /* Only an escaped "/" is refused in an id: it could not be told from a separator. */
      if (cases[i].id != NULL && strchr (cases[i].id, '/') != NULL)
        {
          g_assert_false (cx_agent_route_parse (cases[i].method, path, &route, &id));
          continue;
        }
      g_assert_true (cx_agent_route_parse (cases[i].method, path, &route, &id));
      g_assert_cmpint (route, ==, cases[i].route);
      g_assert_cmpstr (id, ==, cases[i].id);
    }
}

static void
test_routes_refused (void)
{
  static const struct
  {
    const char *method;
    const char *path;
  } bad[] = {
    { "GET", "" },
    { "GET", "/" },
    { "GET", "me" },
    { "POST", "/me" },
    { "GET", "/me/" },
    { "GET", "/nothing" },
    { "GET", "/session" },
    { "PUT", "/invitations/c1/accept" },
    { "POST", "/invitations/c1/maybe" },
    { "POST", "/invitations//accept" },
    { "POST", "/invitations/c1" },
    { "POST", "/chats/c1/send/more" },
    { "POST", "/chats/a%0Ab/send" }, /* a control character in the id */
    { "POST", "/chats/%ZZ/send" },   /* not an escape */
    { "POST", "/chats/a%2Fb/send" }, /* an escaped "/" */
    { "GET", "/me?x" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *id = NULL;
      CxAgentRoute route;

      if (cx_agent_route_parse (bad[i].method, bad[i].path, &route, &id))
        g_error ("%s %s parsed as route %d", bad[i].method, bad[i].path, route);
      g_assert_null (id);
    }

  {
    g_autofree char *long_id = g_strnfill (CX_ID_MAX_BYTES + 1, 'x');
    g_autofree char *path = g_strdup_printf ("/chats/%s/end", long_id);
    CxAgentRoute route;

    g_assert_false (cx_agent_route_parse ("POST", path, &route, NULL));
  }
}

static void
test_messages_path (void)
{
  g_autoptr (GHashTable) query = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *path = cx_agent_route_messages_path ("c1", 7);
  g_autoptr (GError) error = NULL;
  const char *bad[] = { "0", "-1", "x", "", "4294967296", "1e3", " 1" };
  guint from = 0;

  g_assert_cmpstr (path, ==, "/chats/c1/messages?from=7");

  g_assert_true (cx_agent_route_parse_from (NULL, &from, &error));
  g_assert_cmpuint (from, ==, 1);
  g_hash_table_insert (query, (gpointer) "from", (gpointer) "4294967295");
  g_assert_true (cx_agent_route_parse_from (query, &from, &error));
  g_assert_cmpuint (from, ==, G_MAXUINT);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_hash_table_insert (query, (gpointer) "from", (gpointer) bad[i]);
      g_assert_false (cx_agent_route_parse_from (query, &from, &error));
      assert_invalid (error, "from");
      g_clear_error (&error);
    }
}

/* Errors */

static void
test_error (void)
{
  g_autoptr (JsonNode) node = cx_agent_api_build_error ("Sign in first");
  g_autofree char *text = json_to_string (node, FALSE);
  g_autofree char *message = cx_agent_api_parse_error (node);
  g_autoptr (JsonNode) not_error = parse ("{\"error\":7}");
  g_autofree char *none = cx_agent_api_parse_error (not_error);

  g_assert_cmpstr (text, ==, "{\"error\":\"Sign in first\"}");
  g_assert_cmpstr (message, ==, "Sign in first");
  g_assert_null (none);
  g_assert_null (cx_agent_api_parse_error (NULL));
}

/* Requests */

static void
test_sign_in (void)
{
  g_autoptr (JsonNode) node = cx_agent_sign_in_build ("ada", "p\"w d");
  g_autoptr (JsonNode) back = over_the_wire (node);
  g_autoptr (CxAgentSignIn) sign_in = NULL;
  g_autoptr (GError) error = NULL;
  static const struct
  {
    const char *json;
    const char *needle;
  } bad[] = {
    { "[]", NULL },
    { "{}", "username" },
    { "{\"username\":\"ada\"}", "password" },
    { "{\"username\":1,\"password\":\"x\"}", "username" },
    { "{\"username\":\"\",\"password\":\"x\"}", "username" },
    { "{\"username\":\"a\\u0001\",\"password\":\"x\"}", "username" },
    { "{\"username\":\"ada\",\"password\":null}", "password" },
    { "{\"username\":\"ada\",\"password\":[\"x\"]}", "password" },
  };

  g_assert_true (cx_agent_sign_in_parse (back, &sign_in, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (sign_in->username, ==, "ada");
  g_assert_cmpstr (sign_in->password, ==, "p\"w d");
  g_clear_pointer (&sign_in, cx_agent_sign_in_free);

  /* An empty password is a wrong one, not a malformed request. */
  {
    g_autoptr (JsonNode) empty = parse ("{\"username\":\"ada\",\"password\":\"\"}");

    g_assert_true (cx_agent_sign_in_parse (empty, &sign_in, &error));
    g_assert_cmpstr (sign_in->password, ==, "");
    g_clear_pointer (&sign_in, cx_agent_sign_in_free);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i].json);

      g_assert_false (cx_agent_sign_in_parse (root, &sign_in, &error));
      g_assert_null (sign_in);
      assert_invalid (error, bad[i].needle);
      g_clear_error (&error);
    }

  {
    g_autofree char *long_password = g_strnfill (CX_AGENT_API_MAX_PASSWORD + 1, 'p');
    g_autoptr (JsonNode) root = cx_agent_sign_in_build ("ada", long_password);

    g_assert_false (cx_agent_sign_in_parse (root, &sign_in, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
  }
}

static void
test_state_request (void)
{
  g_autoptr (JsonNode) node = cx_agent_state_request_build (CX_AGENT_PRESENCE_NOT_READY, "lunch");
  g_autoptr (JsonNode) plain = cx_agent_state_request_build (CX_AGENT_PRESENCE_READY, NULL);
  g_autofree char *plain_text = json_to_string (plain, FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *long_reason = g_strnfill (CX_AGENT_API_MAX_REASON + 1, 'r');
  CxAgentPresence state = CX_AGENT_PRESENCE_OFFLINE;
  const char *bad[] = {
    "{}",
    "{\"state\":\"sleeping\"}",
    "{\"state\":\"READY\"}",
    "{\"state\":1}",
    "{\"state\":\"ready\",\"reason\":5}",
    "{\"state\":\"ready\",\"reason\":\"a\\nb\"}",
  };

  g_assert_cmpstr (plain_text, ==, "{\"state\":\"ready\"}");
  g_assert_true (cx_agent_state_request_parse (node, &state, &reason, &error));
  g_assert_cmpint (state, ==, CX_AGENT_PRESENCE_NOT_READY);
  g_assert_cmpstr (reason, ==, "lunch");
  g_clear_pointer (&reason, g_free);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i]);

      g_assert_false (cx_agent_state_request_parse (root, &state, &reason, &error));
      g_assert_null (reason);
      assert_invalid (error, NULL);
      g_clear_error (&error);
    }

  {
    g_autoptr (JsonNode) root =
        cx_agent_state_request_build (CX_AGENT_PRESENCE_NOT_READY, long_reason);

    g_assert_false (cx_agent_state_request_parse (root, &state, &reason, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
  }
}

static void
test_send (void)
{
  g_autoptr (JsonNode) node = cx_agent_send_build ("two\nlines\tand a tab");
  g_autoptr (JsonNode) reply = cx_agent_send_reply_build (42);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint index = 0;
  const char *bad[] = { "{}", "{\"text\":\"\"}", "{\"text\":3}", "{\"text\":\"bell\\u0007\"}" };
  const char *bad_replies[] = { "{}", "{\"index\":0}", "{\"index\":-1}", "{\"index\":\"1\"}",
                                "{\"index\":4294967296}" };

  g_assert_true (cx_agent_send_parse (node, 0, &text, &error));
  g_assert_cmpstr (text, ==, "two\nlines\tand a tab");
  g_clear_pointer (&text, g_free);

  /* The server's limit, in characters, not bytes. */
  {
    g_autoptr (JsonNode) accents = cx_agent_send_build ("ééé");

    g_assert_true (cx_agent_send_parse (accents, 3, &text, &error));
    g_clear_pointer (&text, g_free);
    g_assert_false (cx_agent_send_parse (accents, 2, &text, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i]);

      g_assert_false (cx_agent_send_parse (root, 0, &text, &error));
      g_assert_null (text);
      assert_invalid (error, NULL);
      g_clear_error (&error);
    }

  g_assert_true (cx_agent_send_reply_parse (reply, &index, &error));
  g_assert_cmpuint (index, ==, 42);
  for (guint i = 0; i < G_N_ELEMENTS (bad_replies); i++)
    {
      g_autoptr (JsonNode) root = parse (bad_replies[i]);

      g_assert_false (cx_agent_send_reply_parse (root, &index, &error));
      assert_invalid (error, "index");
      g_clear_error (&error);
    }
}

static void
test_typing_transfer_reschedule (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *queue = NULL;
  g_autofree char *agent = NULL;
  gboolean typing = FALSE;
  gint64 time = 0;

  {
    g_autoptr (JsonNode) node = cx_agent_typing_build (TRUE);
    g_autoptr (JsonNode) bad = parse ("{\"typing\":\"true\"}");

    g_assert_true (cx_agent_typing_parse (node, &typing, &error));
    g_assert_true (typing);
    g_assert_false (cx_agent_typing_parse (bad, &typing, &error));
    assert_invalid (error, "typing");
    g_clear_error (&error);
  }

  {
    g_autoptr (JsonNode) to_queue = cx_agent_transfer_build ("sales", NULL);
    g_autoptr (JsonNode) to_agent = cx_agent_transfer_build (NULL, "bob");
    const char *bad[] = { "{}", "{\"queue\":\"a\",\"agent\":\"b\"}", "{\"queue\":\"\"}",
                          "{\"agent\":7}", "{\"queue\":\"a\\tb\"}" };

    g_assert_true (cx_agent_transfer_parse (to_queue, &queue, &agent, &error));
    g_assert_cmpstr (queue, ==, "sales");
    g_assert_null (agent);
    g_clear_pointer (&queue, g_free);
    g_assert_true (cx_agent_transfer_parse (to_agent, &queue, &agent, &error));
    g_assert_null (queue);
    g_assert_cmpstr (agent, ==, "bob");
    g_clear_pointer (&agent, g_free);

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (JsonNode) root = parse (bad[i]);

        g_assert_false (cx_agent_transfer_parse (root, &queue, &agent, &error));
        g_assert_null (queue);
        g_assert_null (agent);
        assert_invalid (error, NULL);
        g_clear_error (&error);
      }
  }

  {
    g_autoptr (JsonNode) node = cx_agent_reschedule_build (G_GINT64_CONSTANT (1893499200000));
    g_autoptr (JsonNode) bad = parse ("{\"desiredTime\":\"tomorrow\"}");

    g_assert_true (cx_agent_reschedule_parse (node, &time, &error));
    g_assert_cmpint (time, ==, G_GINT64_CONSTANT (1893499200000));
    g_assert_false (cx_agent_reschedule_parse (bad, &time, &error));
    assert_invalid (error, "desiredTime");
  }
}

/* Replies */

static void
test_agent_info (void)
{
  const char *queues[] = { "sales", "support", NULL };
  CxAgentInfo info = {
    (char *) "ada",  (char *) "Ada Lovelace", CX_AGENT_PRESENCE_NOT_READY, NULL, 3, 1,
    (char **) queues
  };
  g_autoptr (JsonNode) node = cx_agent_info_build (&info);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr (JsonNode) back = over_the_wire (node);
  g_autoptr (CxAgentInfo) parsed = NULL;
  g_autoptr (CxAgentInfo) copy = NULL;
  g_autoptr (GError) error = NULL;
#define AGENT_HEAD "{\"username\":\"ada\",\"displayName\":\"Ada\",\"state\":\"ready\""
  static const char *const bad[] = {
    "{\"displayName\":\"Ada\",\"state\":\"ready\"}",
    "{\"username\":\"ada\",\"state\":\"ready\"}",
    "{\"username\":\"ada\",\"displayName\":\"Ada\"}",
    "{\"username\":\"ada\",\"displayName\":\"Ada\",\"state\":\"away\"}",
    "{\"username\":\"a\\u001fb\",\"displayName\":\"Ada\",\"state\":\"ready\"}",
    AGENT_HEAD ",\"capacity\":-1}",
    AGENT_HEAD ",\"capacity\":\"3\"}",
    AGENT_HEAD ",\"reason\":{}}",
    AGENT_HEAD ",\"queues\":\"sales\"}",
    AGENT_HEAD ",\"queues\":[1]}",
    AGENT_HEAD ",\"queues\":[\"\"]}",
    "{\"username\":\"ada\",\"displayName\":\"A\\nda\",\"state\":\"ready\"}",
  };

  g_assert_cmpstr (text, ==,
                   "{\"username\":\"ada\",\"displayName\":\"Ada Lovelace\",\"state\":\"not_ready\","
                   "\"reason\":null,\"capacity\":3,\"load\":1,\"queues\":[\"sales\",\"support\"]}");
  g_assert_true (cx_agent_info_parse (back, &parsed, &error));
  g_assert_cmpstr (parsed->username, ==, "ada");
  g_assert_cmpstr (parsed->display_name, ==, "Ada Lovelace");
  g_assert_cmpint (parsed->state, ==, CX_AGENT_PRESENCE_NOT_READY);
  g_assert_null (parsed->reason);
  g_assert_cmpuint (parsed->capacity, ==, 3);
  g_assert_cmpuint (parsed->load, ==, 1);
  g_assert_cmpstrv (parsed->queues, queues);

  copy = cx_agent_info_copy (parsed);
  g_assert_cmpstr (copy->display_name, ==, "Ada Lovelace");
  g_assert_cmpstrv (copy->queues, queues);

  /* The optional members may be missing; the queues are then empty (every queue). */
  {
    g_autoptr (JsonNode) minimal = parse (AGENT_HEAD "}");
    g_autoptr (CxAgentInfo) agent = NULL;

    g_assert_true (cx_agent_info_parse (minimal, &agent, &error));
    g_assert_nonnull (agent->queues);
    g_assert_null (agent->queues[0]);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i]);
      g_autoptr (CxAgentInfo) agent = NULL;

      if (cx_agent_info_parse (root, &agent, &error))
        g_error ("%s parsed", bad[i]);
      g_assert_nonnull (error);
      g_clear_error (&error);
    }

  /* Too many queues. */
  {
    g_autoptr (GString) json = g_string_new (AGENT_HEAD ",\"queues\":[");
    g_autoptr (JsonNode) root = NULL;
    g_autoptr (CxAgentInfo) agent = NULL;

    for (guint i = 0; i <= CX_AGENT_API_MAX_QUEUES; i++)
      g_string_append_printf (json, "%s\"q%u\"", i > 0 ? "," : "", i);
    g_string_append (json, "]}");
    root = parse (json->str);
    g_assert_false (cx_agent_info_parse (root, &agent, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
  }
#undef AGENT_HEAD
}

static void
test_chat (void)
{
  g_autoptr (GPtrArray) messages = two_messages ();
  g_autoptr (JsonNode) user_data = parse ("{\"order\":\"42\"}");
  CxAgentChat chat = {
    .chat_id = (char *) "c1",
    .service = (char *) "customer-support",
    .queue = (char *) "sales",
    .state = CX_AGENT_CHAT_ACTIVE,
    .customer = { (char *) "Jo", (char *) "Jo", NULL, (char *) "jo@example.com", (char *) "Help" },
    .user_data = user_data,
    .created_at = 1000,
    .accepted_at = 2000,
    .next_position = 3,
    .messages = messages,
  };
  g_autoptr (JsonNode) node = cx_agent_chat_build (&chat);
  g_autoptr (JsonNode) back = over_the_wire (node);
  g_autoptr (CxAgentChat) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (GPtrArray) chats = NULL;

  g_assert_true (cx_agent_chat_parse (back, &parsed, &error));
  g_assert_cmpstr (parsed->chat_id, ==, "c1");
  g_assert_cmpstr (parsed->service, ==, "customer-support");
  g_assert_cmpstr (parsed->queue, ==, "sales");
  g_assert_cmpint (parsed->state, ==, CX_AGENT_CHAT_ACTIVE);
  g_assert_cmpstr (parsed->customer.nickname, ==, "Jo");
  g_assert_null (parsed->customer.last_name);
  g_assert_cmpstr (parsed->customer.email, ==, "jo@example.com");
  g_assert_true (json_node_equal (parsed->user_data, user_data));
  g_assert_cmpint (parsed->created_at, ==, 1000);
  g_assert_cmpint (parsed->accepted_at, ==, 2000);
  g_assert_cmpuint (parsed->next_position, ==, 3);
  g_assert_cmpuint (parsed->messages->len, ==, 2);
  g_assert_cmpstr (((CxMessage *) g_ptr_array_index (parsed->messages, 0))->text, ==,
                   "hello\nthere");

  g_ptr_array_add (nodes, json_node_copy (node));
  g_ptr_array_add (nodes, json_node_copy (node));
  list = cx_agent_chats_build (nodes);
  g_assert_true (cx_agent_chats_parse (list, &chats, &error));
  g_assert_cmpuint (chats->len, ==, 2);
}

static void
test_chat_refused (void)
{
#define CHAT_HEAD "{\"chatId\":\"c1\",\"state\":\"active\",\"nextPosition\":1"
  static const struct
  {
    const char *json;
    const char *needle;
  } bad[] = {
    { "{\"state\":\"active\",\"nextPosition\":1,\"messages\":[]}", "chatId" },
    { "{\"chatId\":\"c1\",\"nextPosition\":1,\"messages\":[]}", "state" },
    { "{\"chatId\":\"c1\",\"state\":\"gone\",\"nextPosition\":1,\"messages\":[]}", "state" },
    { "{\"chatId\":\"c1\",\"state\":\"active\",\"messages\":[]}", "nextPosition" },
    { CHAT_HEAD "}", "messages" },
    { CHAT_HEAD ",\"messages\":{}}", "messages" },
    { CHAT_HEAD ",\"messages\":[7]}", NULL },
    { CHAT_HEAD ",\"messages\":[],\"userData\":[]}", "userData" },
    { CHAT_HEAD ",\"messages\":[],\"customer\":\"Jo\"}", "customer" },
    { CHAT_HEAD ",\"messages\":[],\"customer\":{\"email\":\"a\\rb\"}}", "email" },
    { CHAT_HEAD ",\"messages\":[],\"queue\":\"\"}", "queue" },
    { CHAT_HEAD ",\"messages\":[],\"createdAt\":-5}", "createdAt" },
  };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i].json);
      g_autoptr (CxAgentChat) chat = NULL;

      if (cx_agent_chat_parse (root, &chat, &error))
        g_error ("%s parsed", bad[i].json);
      g_assert_null (chat);
      assert_invalid (error, bad[i].needle);
      g_clear_error (&error);
    }

  /* One bad chat fails the list; a list too long is refused before any chat is read. */
  {
    g_autoptr (JsonNode) root =
        parse ("{\"chats\":[" CHAT_HEAD ",\"messages\":[]},{\"chatId\":\"c2\"}]}");
    g_autoptr (GPtrArray) chats = NULL;
    g_autoptr (GString) json = g_string_new ("{\"chats\":[");
    g_autoptr (JsonNode) many = NULL;

    g_assert_false (cx_agent_chats_parse (root, &chats, &error));
    g_assert_null (chats);
    g_clear_error (&error);

    for (guint i = 0; i <= CX_AGENT_API_MAX_CHATS; i++)
      g_string_append (json, i > 0 ? ",{}" : "{}");
    g_string_append (json, "]}");
    many = parse (json->str);
    g_assert_false (cx_agent_chats_parse (many, &chats, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
  }
#undef CHAT_HEAD
}

static void
test_messages_reply (void)
{
  g_autoptr (GPtrArray) messages = two_messages ();
  g_autoptr (JsonNode) node = cx_agent_messages_build ("c1", messages, 3);
  g_autoptr (JsonNode) back = over_the_wire (node);
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  guint next = 0;

  g_assert_true (cx_agent_messages_parse (back, &parsed, &next, &error));
  g_assert_cmpuint (parsed->len, ==, 2);
  g_assert_cmpuint (next, ==, 3);
  g_clear_pointer (&parsed, g_ptr_array_unref);

  /* An entry of a type a newer server invented is skipped; a broken one fails the reply. */
  {
    g_autoptr (JsonNode) newer =
        parse ("{\"messages\":[{\"index\":1,\"type\":\"Hologram\",\"utcTime\":1,"
               "\"from\":{\"nickname\":\"x\",\"participantId\":\"p\",\"type\":\"Client\"}}],"
               "\"nextPosition\":2}");
    g_autoptr (JsonNode) broken = parse ("{\"messages\":[{\"index\":\"one\"}],\"nextPosition\":2}");
    g_autoptr (JsonNode) no_next = parse ("{\"messages\":[]}");

    g_assert_true (cx_agent_messages_parse (newer, &parsed, &next, &error));
    g_assert_cmpuint (parsed->len, ==, 0);
    g_clear_pointer (&parsed, g_ptr_array_unref);
    g_assert_false (cx_agent_messages_parse (broken, &parsed, &next, &error));
    g_clear_error (&error);
    g_assert_false (cx_agent_messages_parse (no_next, &parsed, &next, &error));
    assert_invalid (error, "nextPosition");
  }
}

static void
test_invitations (void)
{
  CxAgentCustomer customer = { (char *) "Jo", NULL, NULL, NULL, (char *) "Help" };
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) back = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GError) error = NULL;
  CxAgentEvent *first;

  g_ptr_array_add (frames, cx_agent_event_build_invitation ("c1", "sales", &customer, NULL, 5, 6));
  node = cx_agent_invitations_build (frames);
  back = over_the_wire (node);
  g_assert_true (cx_agent_invitations_parse (back, &invitations, &error));
  g_assert_cmpuint (invitations->len, ==, 1);
  first = g_ptr_array_index (invitations, 0);
  g_assert_cmpint (first->type, ==, CX_AGENT_EVENT_INVITATION);
  g_assert_cmpstr (first->chat_id, ==, "c1");
  g_assert_cmpstr (first->customer.subject, ==, "Help");
  g_assert_cmpint (first->expires_at, ==, 6);
  g_clear_pointer (&invitations, g_ptr_array_unref);

  {
    g_autoptr (JsonNode) other = parse ("{\"invitations\":[{\"type\":\"signedOut\"}]}");
    g_autoptr (JsonNode) broken = parse ("{\"invitations\":[{\"type\":\"invitation\"}]}");
    g_autoptr (JsonNode) missing = parse ("{}");

    g_assert_false (cx_agent_invitations_parse (other, &invitations, &error));
    assert_invalid (error, "invitations");
    g_clear_error (&error);
    g_assert_false (cx_agent_invitations_parse (broken, &invitations, &error));
    g_clear_error (&error);
    g_assert_false (cx_agent_invitations_parse (missing, &invitations, &error));
    assert_invalid (error, "invitations");
    g_assert_null (invitations);
  }
}

static void
test_callbacks (void)
{
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) back = NULL;
  g_autoptr (GPtrArray) callbacks = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (nodes,
                   cx_callback_build_object ("cb1", "customer-support", "SCHEDULED", 1893499200000,
                                             1893502800000, "+15551234", NULL));
  node = cx_agent_callbacks_build (nodes);
  back = over_the_wire (node);
  g_assert_true (cx_agent_callbacks_parse (back, &callbacks, &error));
  g_assert_cmpuint (callbacks->len, ==, 1);
  g_assert_cmpstr (((CxCallbackInfo *) g_ptr_array_index (callbacks, 0))->id, ==, "cb1");
  g_clear_pointer (&callbacks, g_ptr_array_unref);

  {
    g_autoptr (JsonNode) no_id = parse ("{\"callbacks\":[{\"_service_name\":\"s\"}]}");
    g_autoptr (JsonNode) not_list = parse ("{\"callbacks\":{}}");

    g_assert_false (cx_agent_callbacks_parse (no_id, &callbacks, &error));
    assert_invalid (error, "callbacks");
    g_clear_error (&error);
    g_assert_false (cx_agent_callbacks_parse (not_list, &callbacks, &error));
    assert_invalid (error, "callbacks");
  }
}

static void
test_canned (void)
{
  CxAgentCanned hello = { (char *) "hello", (char *) "Greeting",
                          (char *) "Hello!\nHow can I help?" };
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) back = NULL;
  g_autoptr (GPtrArray) responses = NULL;
  g_autoptr (GError) error = NULL;
  static const char *const bad[] = {
    "{\"responses\":[{\"title\":\"t\",\"text\":\"x\"}]}",
    "{\"responses\":[{\"id\":\"i\",\"text\":\"x\"}]}",
    "{\"responses\":[{\"id\":\"i\",\"title\":\"t\"}]}",
    "{\"responses\":[{\"id\":\"i\",\"title\":\"a\\nb\",\"text\":\"x\"}]}",
    "{\"responses\":[{\"id\":\"i\",\"title\":\"t\",\"text\":\"\"}]}",
    "{\"responses\":[\"hello\"]}",
    "{\"responses\":null}",
  };

  g_ptr_array_add (list, &hello);
  node = cx_agent_canned_build (list);
  back = over_the_wire (node);
  g_assert_true (cx_agent_canned_parse (back, &responses, &error));
  g_assert_cmpuint (responses->len, ==, 1);
  g_assert_cmpstr (((CxAgentCanned *) g_ptr_array_index (responses, 0))->text, ==,
                   "Hello!\nHow can I help?");
  g_clear_pointer (&responses, g_ptr_array_unref);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) root = parse (bad[i]);

      if (cx_agent_canned_parse (root, &responses, &error))
        g_error ("%s parsed", bad[i]);
      g_assert_null (responses);
      assert_invalid (error, NULL);
      g_clear_error (&error);
    }
}

static void
test_ewt (void)
{
  const char *queues[] = { "sales", "a b&c", NULL };
  const gint64 seconds[] = { 90, -1 };
  g_autofree char *query = cx_agent_ewt_query_build (queues);
  g_auto (GStrv) parsed_queues = NULL;
  g_autoptr (JsonNode) node = cx_agent_ewt_build (queues, seconds);
  g_autoptr (JsonNode) back = over_the_wire (node);
  g_autoptr (GError) error = NULL;
  gint64 parsed[2] = { 0, 0 };

  g_assert_cmpstr (query, ==, "queue=sales&queue=a%20b%26c");
  g_assert_true (cx_agent_ewt_query_parse ("x=1&"
                                           "queue=sales&queue=a%20b%26c",
                                           &parsed_queues, &error));
  g_assert_cmpstrv (parsed_queues, queues);
  g_clear_pointer (&parsed_queues, g_strfreev);
  g_assert_true (cx_agent_ewt_query_parse (NULL, &parsed_queues, &error));
  g_assert_null (parsed_queues[0]);
  g_clear_pointer (&parsed_queues, g_strfreev);
  g_assert_false (cx_agent_ewt_query_parse ("queue=a%0Ab", &parsed_queues, &error));
  assert_invalid (error, "queue");
  g_clear_error (&error);
  g_assert_false (cx_agent_ewt_query_parse ("queue=", &parsed_queues, &error));
  g_clear_error (&error);
  {
    g_autoptr (GString) many = g_string_new (NULL);

    for (guint i = 0; i <= CX_AGENT_API_MAX_QUEUES; i++)
      g_string_append_printf (many, "queue=q%u&", i);
    g_assert_false (cx_agent_ewt_query_parse (many->str, &parsed_queues, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }

  g_assert_true (cx_agent_ewt_parse (back, queues, parsed, &error));
  g_assert_cmpint (parsed[0], ==, 90);
  g_assert_cmpint (parsed[1], ==, -1);
  {
    const char *bad[] = { "{}", "{\"ewt\":[]}", "{\"ewt\":{\"sales\":5}}",
                          "{\"ewt\":{\"sales\":-2,\"a b&c\":1}}",
                          "{\"ewt\":{\"sales\":\"5\",\"a b&c\":1}}" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (JsonNode) root = parse (bad[i]);

        g_assert_false (cx_agent_ewt_parse (root, queues, parsed, &error));
        assert_invalid (error, NULL);
        g_clear_error (&error);
      }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/agent-api/routes", test_routes);
  g_test_add_func ("/agent-api/routes/refused", test_routes_refused);
  g_test_add_func ("/agent-api/routes/messages", test_messages_path);
  g_test_add_func ("/agent-api/error", test_error);
  g_test_add_func ("/agent-api/sign-in", test_sign_in);
  g_test_add_func ("/agent-api/state", test_state_request);
  g_test_add_func ("/agent-api/send", test_send);
  g_test_add_func ("/agent-api/typing-transfer-reschedule", test_typing_transfer_reschedule);
  g_test_add_func ("/agent-api/agent", test_agent_info);
  g_test_add_func ("/agent-api/chat", test_chat);
  g_test_add_func ("/agent-api/chat/refused", test_chat_refused);
  g_test_add_func ("/agent-api/messages", test_messages_reply);
  g_test_add_func ("/agent-api/invitations", test_invitations);
  g_test_add_func ("/agent-api/callbacks", test_callbacks);
  g_test_add_func ("/agent-api/canned", test_canned);
  g_test_add_func ("/agent-api/ewt", test_ewt);

  return g_test_run ();
}
