/* test-server-bad-input.c: what the server refuses, with the exact status and error shape of
 * API.md, and what it keeps byte-for-byte; after each, the server still answers
 * /cx/1/health.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-server-bad-input"

#include "config.h"

#include <string.h>

#include "cx-test-json.h"
#include "cx-test-server.h"

#define BIG_BODY (1024 * 1024 + 4096)

typedef CxTestFixture Fixture;

static void
assert_gms_refused (CxTestServer *server, CxTestReply *reply, guint status)
{
  cx_test_assert_gms_error (reply, status);
  cx_test_assert_healthy (server);
}

static void
assert_cx_refused (CxTestServer *server, CxTestReply *reply, guint status)
{
  cx_test_assert_cx_error (reply, status);
  cx_test_assert_healthy (server);
}

static guint
count_messages (CxTestCustomer *customer, const char *from_type)
{
  guint count = 0;

  for (guint i = 0; i < customer->transcript->len; i++)
    {
      JsonObject *message = g_ptr_array_index (customer->transcript, i);

      if (g_str_equal (cx_test_object_string (message, "type"), "Message") &&
          g_str_equal (cx_test_message_from_type (message), from_type))
        count++;
    }
  return count;
}

static CxTestAgent *
agent_with_chat (Fixture *f, CxTestCustomer *customer)
{
  CxTestAgent *ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);
  return ada;
}

static CxTestReply *
agent_send_raw (CxTestAgent *agent, const char *chat_id, const char *body, gsize size)
{
  g_autofree char *url = cx_test_server_url (agent->server, "/cx/1/agent/chats/%s/send", chat_id);
  g_autoptr (GBytes) bytes = g_bytes_new (body, size);

  return cx_test_request (agent->session, "POST", url, "application/json", bytes);
}

/* A body over 1 MiB: 413 on GMS paths (GMS shape) and on /cx/1 ({"error"}). */
static void
test_body_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Quinn");
  g_autofree char *huge = cx_test_repeat ("a", BIG_BODY);
  g_autofree char *start_url = cx_test_server_url (f->server, "/genesys/2/chat/sales");
  g_autofree char *session_url = cx_test_server_url (f->server, "/cx/1/agent/session");
  g_autofree char *json = g_strdup_printf ("{\"username\":\"ada\",\"password\":\"%s\"}", huge);
  g_autoptr (CxTestReply) reply = NULL;

  reply = cx_test_post_form (f->session, start_url, "nickname", "Big", "subject", huge, NULL);
  assert_gms_refused (f->server, reply, 413);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "send", "message", huge, NULL);
  assert_gms_refused (f->server, reply, 413);

  /* Chunked, so that the size is only known while reading. */
  g_clear_pointer (&reply, cx_test_reply_free);
  {
    g_autofree char *send_url =
        cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/send", customer->chat_id);
    const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                   "alias",  customer->alias,   "message",   huge,
                                   NULL };
    g_autofree char *form = cx_test_form_encode (fields);
    g_autoptr (GBytes) bytes = g_bytes_new (form, strlen (form));
    g_autoptr (GInputStream) stream = g_memory_input_stream_new_from_bytes (bytes);
    g_autoptr (SoupMessage) msg = soup_message_new ("POST", send_url);

    soup_message_set_request_body (msg, "application/x-www-form-urlencoded", stream, -1);
    reply = cx_test_send (f->session, msg);
    assert_gms_refused (f->server, reply, 413);
  }

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_json (f->session, "POST", session_url, json);
  assert_cx_refused (f->server, reply, 413);

  /* An agent path behind the cookie. */
  {
    g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
    g_autofree char *text = g_strdup_printf ("{\"state\":\"ready\",\"reason\":\"%s\"}", huge);

    g_clear_pointer (&reply, cx_test_reply_free);
    reply = cx_test_agent_call (ada, "PUT", "/cx/1/agent/state", text);
    assert_cx_refused (f->server, reply, 413);
  }

  cx_test_customer_poll (customer);
  g_assert_cmpuint (count_messages (customer, "Client"), ==, 0);
}

/* Invalid UTF-8 anywhere: 400. */
static void
test_invalid_utf8 (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Rosa");
  g_autoptr (CxTestAgent) ada = agent_with_chat (f, customer);
  g_autofree char *start_url = cx_test_server_url (f->server, "/genesys/2/chat/sales");
  g_autoptr (CxTestReply) reply = NULL;
  static const char bad_json[] = "{\"text\":\"caf\xc3\x28 \xff\"}";
  static const char overlong[] = "{\"text\":\"\xc0\xaf\"}";

  reply = cx_test_customer_call (customer, "send", "message", "bad \xff\xfe bytes", NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "send", "message", "truncated \xe2\x82", NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply =
      cx_test_customer_call (customer, "startTyping", "message", "\xed\xa0\x80 surrogate", NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_post_form (f->session, start_url, "nickname", "Bad\xc3", NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = agent_send_raw (ada, customer->chat_id, bad_json, sizeof bad_json - 1);
  assert_cx_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = agent_send_raw (ada, customer->chat_id, overlong, sizeof overlong - 1);
  assert_cx_refused (f->server, reply, 400);

  cx_test_customer_poll (customer);
  g_assert_cmpuint (count_messages (customer, "Client"), ==, 0);
  g_assert_cmpuint (count_messages (customer, "Agent"), ==, 0);
}

/* Text over 4096 characters: 400. Characters, not bytes: 4096 two-byte characters pass. */
static void
test_too_long (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Sam");
  g_autoptr (CxTestAgent) ada = agent_with_chat (f, customer);
  g_autofree char *five_thousand = cx_test_repeat ("a", 5000);
  g_autofree char *limit = cx_test_repeat ("\xc3\xa9", 4096);
  g_autofree char *over_limit = cx_test_repeat ("\xc3\xa9", 4097);
  g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/send", customer->chat_id);
  g_autofree char *agent_body = g_strdup_printf ("{\"text\":\"%s\"}", five_thousand);
  g_autoptr (CxTestReply) reply = NULL;

  reply = cx_test_customer_call (customer, "send", "message", five_thousand, NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "send", "message", over_limit, NULL);
  assert_gms_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_agent_call (ada, "POST", path, agent_body);
  assert_cx_refused (f->server, reply, 400);

  cx_test_customer_send (customer, limit);
  cx_test_customer_poll (customer);
  g_assert_nonnull (cx_test_customer_find (customer, 1, "Message", "Client", limit));
  g_assert_cmpuint (count_messages (customer, "Client"), ==, 1);
  g_assert_cmpuint (count_messages (customer, "Agent"), ==, 0);
}

/* A form whose only message field does not decode, and JSON that does not parse or has the
 * wrong shape: 400. */
static void
test_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Tao");
  g_autoptr (CxTestAgent) ada = agent_with_chat (f, customer);
  g_autofree char *send_url =
      cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/send", customer->chat_id);
  g_autofree char *session_url = cx_test_server_url (f->server, "/cx/1/agent/session");
  g_autofree char *callback_url =
      cx_test_server_url (f->server, "/genesys/1/service/callback/customer-support");
  g_autofree char *key_fields = NULL;
  g_autofree char *bad_form = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (GBytes) body = NULL;
  const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                 "alias",  customer->alias,   NULL };
  static const char *const bad_json[] = { "{\"username\": ", "not json at all", "[1, 2, 3]",
                                          "{\"username\": 5, \"password\": []}", "" };
  static const char *const bad_agent_json[] = { "{\"text\": ", "{\"text\": 42}", "[\"text\"]",
                                                "{}" };

  key_fields = cx_test_form_encode (fields);
  bad_form = g_strconcat (key_fields, "&message=%ZZ%", NULL);
  body = g_bytes_new (bad_form, strlen (bad_form));
  reply = cx_test_request (f->session, "POST", send_url, "application/x-www-form-urlencoded", body);
  assert_gms_refused (f->server, reply, 400);

  for (guint i = 0; i < G_N_ELEMENTS (bad_json); i++)
    {
      g_clear_pointer (&reply, cx_test_reply_free);
      reply = cx_test_json (f->session, "POST", session_url, bad_json[i]);
      if (reply->status != 400)
        g_error ("POST /cx/1/agent/session “%s”: expected 400, got %u “%s”", bad_json[i],
                 reply->status, cx_test_reply_text (reply));
      assert_cx_refused (f->server, reply, 400);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad_agent_json); i++)
    {
      g_clear_pointer (&reply, cx_test_reply_free);
      reply =
          agent_send_raw (ada, customer->chat_id, bad_agent_json[i], strlen (bad_agent_json[i]));
      if (reply->status != 400)
        g_error ("agent send “%s”: expected 400, got %u “%s”", bad_agent_json[i], reply->status,
                 cx_test_reply_text (reply));
      assert_cx_refused (f->server, reply, 400);
    }

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_agent_call (ada, "PUT", "/cx/1/agent/state", "{\"state\": [");
  assert_cx_refused (f->server, reply, 400);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_json (f->session, "POST", callback_url, "{\"_customer_number\": ");
  g_assert_cmpuint (reply->status, ==, 400);
  cx_test_assert_healthy (f->server);

  cx_test_customer_poll (customer);
  g_assert_cmpuint (count_messages (customer, "Client"), ==, 0);
  g_assert_cmpuint (count_messages (customer, "Agent"), ==, 0);
}

/* An unknown chat or service: 404 in the GMS shape. */
static void
test_unknown_chat (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Uma");
  g_autofree char *unknown_chat =
      cx_test_server_url (f->server, "/genesys/2/chat/sales/no-such-chat-0000/refresh");
  g_autofree char *unknown_service =
      cx_test_server_url (f->server, "/genesys/2/chat/no-such-service");
  g_autofree char *wrong_service = cx_test_server_url (
      f->server, "/genesys/2/chat/no-such-service/%s/refresh", customer->chat_id);
  g_autoptr (CxTestReply) reply = NULL;

  reply = cx_test_post_form (f->session, unknown_chat, "userId", customer->user_id, "secureKey",
                             customer->secure_key, "alias", customer->alias, "transcriptPosition",
                             "1", NULL);
  assert_gms_refused (f->server, reply, 404);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_post_form (f->session, unknown_service, "nickname", "Nobody", NULL);
  assert_gms_refused (f->server, reply, 404);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_post_form (f->session, wrong_service, "userId", customer->user_id, "secureKey",
                             customer->secure_key, "alias", customer->alias, NULL);
  assert_gms_refused (f->server, reply, 404);
}

static void
assert_reveals_nothing (CxTestReply *reply, CxTestCustomer *customer, const char *secret)
{
  const char *text = cx_test_reply_text (reply);
  JsonObject *object = cx_test_reply_object (reply);

  g_assert_null (strstr (text, secret));
  g_assert_null (strstr (text, "Vera")); /* the nickname */
  g_assert_null (strstr (text, customer->secure_key));
  if (json_object_has_member (object, "messages"))
    {
      JsonNode *messages = json_object_get_member (object, "messages");

      g_assert_true (JSON_NODE_HOLDS_ARRAY (messages));
      g_assert_cmpuint (json_array_get_length (json_node_get_array (messages)), ==, 0);
    }
  g_assert_false (json_object_has_member (object, "nextPosition"));
}

/* A wrong or missing secureKey: refused, without transcript data, and without effect. */
static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Vera");
  g_autoptr (CxTestCustomer) intruder = cx_test_customer_copy_keys (customer);
  g_autoptr (CxTestReply) reply = NULL;
  g_autofree char *refresh_url =
      cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/refresh", customer->chat_id);
  static const char *const ops[] = { "refresh",      "send",       "startTyping", "stopTyping",
                                     "customNotice", "updateData", "file/limits", "disconnect" };
  const char *secret = "my card number is 4111-1111";

  cx_test_customer_send (customer, secret);

  g_free (intruder->secure_key);
  intruder->secure_key = g_strdup ("0000000000000000");
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_clear_pointer (&reply, cx_test_reply_free);
      reply = cx_test_customer_call (intruder, ops[i], "transcriptPosition", "1", "message",
                                     "intruder", "userData[x]", "y", NULL);
      if (reply->status != 403)
        g_error ("%s with a wrong key: expected 403, got %u “%s”", ops[i], reply->status,
                 cx_test_reply_text (reply));
      cx_test_assert_gms_error (reply, 403);
      assert_reveals_nothing (reply, customer, secret);
    }
  cx_test_assert_healthy (f->server);

  /* Without a secureKey at all: 403 or 400, same shape, same silence. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_post_form (f->session, refresh_url, "userId", customer->user_id, "alias",
                             customer->alias, "transcriptPosition", "1", NULL);
  g_assert_true (reply->status == 403 || reply->status == 400);
  assert_gms_refused (f->server, reply, reply->status);
  assert_reveals_nothing (reply, customer, secret);

  /* Nothing the intruder did happened. */
  cx_test_customer_poll (customer);
  g_assert_false (customer->ended);
  g_assert_null (cx_test_customer_find (customer, 1, NULL, NULL, "intruder"));
  g_assert_null (cx_test_customer_find (customer, 1, "ParticipantLeft", NULL, NULL));
}

/* Markup is text: stored and returned byte-for-byte, to the customer and to the agent. Control
 * characters other than tab and newlines may be refused (400) or kept as they are. */
static void
test_markup_and_control (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "<i>Wes</i>");
  g_autoptr (CxTestAgent) ada = agent_with_chat (f, customer);
  static const char *const kept[] = {
    "<b>x</b> &amp;",
    "<script>alert('x')</script> \"quoted\" \\ back\\slash &lt; &#x41; %41 %%",
    "tab\there\nnew line\r\nand CRLF",
    "\xe2\x80\xae right-to-left override \xe2\x80\x8b zero width",
  };
  static const char *const maybe[] = { "bell\x07 escape\x1b[31m red del\x7f",
                                       "start of heading\x01" };
  const char *agent_text = "<a href=\"javascript:x\">agent &amp; markup</a>";
  JsonObject *message;
  gint64 index;

  /* The nickname is text too. */
  cx_test_customer_poll (customer);
  message = cx_test_customer_find (customer, 1, "ParticipantJoined", "Client", NULL);
  g_assert_nonnull (message);
  g_assert_cmpstr (
      cx_test_object_string (json_object_get_object_member (message, "from"), "nickname"), ==,
      "<i>Wes</i>");

  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      cx_test_customer_send (customer, kept[i]);
      g_assert_nonnull (cx_test_customer_poll_until (customer, 1, "Message", "Client", kept[i]));
      g_assert_nonnull (cx_test_agent_wait_message (ada, customer->chat_id, "Message", kept[i]));
      cx_test_assert_healthy (f->server);
    }

  for (guint i = 0; i < G_N_ELEMENTS (maybe); i++)
    {
      g_autoptr (CxTestReply) reply =
          cx_test_customer_call (customer, "send", "message", maybe[i], NULL);

      g_printerr ("note: a message with control characters: HTTP %u\n", reply->status);
      if (reply->status == 400)
        {
          assert_gms_refused (f->server, reply, 400);
          continue;
        }
      g_assert_cmpuint (reply->status, ==, 200);
      g_assert_nonnull (cx_test_customer_poll_until (customer, 1, "Message", "Client", maybe[i]));
      cx_test_assert_healthy (f->server);
    }

  index = cx_test_agent_send (ada, customer->chat_id, agent_text);
  message = cx_test_customer_poll_until (customer, 1, "Message", "Agent", agent_text);
  g_assert_cmpint (cx_test_object_int (message, "index"), ==, index);
}

/* More than 60 sends per chat per minute: 429 (GMS shape). The first 60 pass; a 429 comes by
 * the 120th even if a fixed one-minute window rolled over during the loop. Other chats are not
 * affected, and refused sends are not in the transcript. */
static void
test_rate_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Xena");
  g_autoptr (CxTestCustomer) other = cx_test_customer_start (f->server, "sales", "Yann");
  guint accepted = 0;
  guint first_refused = 0;

  for (guint i = 1; i <= 120 && first_refused == 0; i++)
    {
      g_autofree char *text = g_strdup_printf ("flood %u", i);
      g_autoptr (CxTestReply) reply =
          cx_test_customer_call (customer, "send", "message", text, NULL);

      if (reply->status == 429)
        {
          cx_test_assert_gms_error (reply, 429);
          first_refused = i;
        }
      else
        {
          if (reply->status != 200)
            g_error ("send %u: expected 200 or 429, got %u “%s”", i, reply->status,
                     cx_test_reply_text (reply));
          accepted++;
        }
    }
  g_printerr ("note: first 429 at send %u\n", first_refused);
  g_assert_cmpuint (first_refused, >, 60);
  g_assert_cmpuint (first_refused, <=, 120);
  cx_test_assert_healthy (f->server);

  cx_test_customer_send (other, "a different chat is not limited");

  cx_test_customer_poll (customer);
  g_assert_cmpuint (count_messages (customer, "Client"), ==, accepted);
}

/* issue 9 item 1: multipart bodies that libsoup 3.2.3's parser mishandled (the first one made
 * it compute a part length of -1 and abort the server): 400 in the GMS shape, on the start
 * path and on the file path, and the server still answers. */
static void
test_malformed_multipart (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Mia");
  g_autofree char *start_url = cx_test_server_url (f->server, "/genesys/2/chat/sales");
  g_autofree char *file_url =
      cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/file", customer->chat_id);
  g_autofree char *keys =
      g_strdup_printf ("--B\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n%s\r\n"
                       "--B\r\nContent-Disposition: form-data; name=\"secureKey\"\r\n\r\n%s\r\n"
                       "--B\r\nContent-Disposition: form-data; name=\"alias\"\r\n\r\n%s\r\n",
                       customer->user_id, customer->secure_key, customer->alias);
  static const char *const bodies[] = {
    "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--B--\r\n",
    "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n--B--\r\n",
    "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno close delimiter",
    "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n",
    "--B\r\n\r\n\r\n--B--\r\n",
    "--B",
    "",
  };
  static const char *const types[] = {
    "multipart/form-data; boundary=B",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=\"" /* unterminated */,
  };

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
      {
        g_autoptr (GBytes) body = g_bytes_new_static (bodies[i], strlen (bodies[i]));
        g_autoptr (CxTestReply) reply =
            cx_test_request (f->session, "POST", start_url, types[t], body);

        if (reply->status != 400)
          g_error ("start with “%s” “%s”: expected 400, got %u “%s”", types[t], bodies[i],
                   reply->status, cx_test_reply_text (reply));
        assert_gms_refused (f->server, reply, 400);
      }

  /* The file path, with the right keys before the bad part. */
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autofree char *text = g_strconcat (keys, bodies[i], NULL);
      g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));
      g_autoptr (CxTestReply) reply =
          cx_test_request (f->session, "POST", file_url, "multipart/form-data; boundary=B", body);

      if (reply->status != 400)
        g_error ("file with “%s”: expected 400, got %u “%s”", bodies[i], reply->status,
                 cx_test_reply_text (reply));
      assert_gms_refused (f->server, reply, 400);
    }

  /* A well-formed multipart start still works. */
  {
    static const char good[] = "--B\r\nContent-Disposition: form-data; name=\"nickname\"\r\n\r\n"
                               "Mia\r\n--B--\r\n";
    g_autoptr (GBytes) body = g_bytes_new_static (good, sizeof good - 1);
    g_autoptr (CxTestReply) reply =
        cx_test_request (f->session, "POST", start_url, "multipart/form-data; boundary=B", body);

    g_assert_cmpuint (reply->status, ==, 200);
  }
  cx_test_assert_healthy (f->server);
}

/* issue 9 item 12: an empty or missing userId, secureKey or alias on every per-chat call is a
 * refused key: 403 in the GMS shape, as API.md says (it was 400 "userId is missing"). The push
 * socket's first frame likewise closes with 4403. */
static void
test_missing_key_403 (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Kai");
  static const char *const ops[] = { "refresh",     "send",         "startTyping",
                                     "stopTyping",  "customNotice", "updateData",
                                     "file/limits", "disconnect",   "file" };
  static const char *const keys[] = { "userId", "secureKey", "alias" };

  for (guint o = 0; o < G_N_ELEMENTS (ops); o++)
    for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
      for (guint empty = 0; empty < 2; empty++)
        {
          g_autofree char *url = cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/%s",
                                                     customer->chat_id, ops[o]);
          const char *values[] = { customer->user_id, customer->secure_key, customer->alias };
          g_autoptr (GPtrArray) fields = g_ptr_array_new ();
          g_autoptr (CxTestReply) reply = NULL;

          for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
            if (i != k || empty)
              {
                g_ptr_array_add (fields, (gpointer) keys[i]);
                g_ptr_array_add (fields, (gpointer) (i == k ? "" : values[i]));
              }
          g_ptr_array_add (fields, (gpointer) "message");
          g_ptr_array_add (fields, (gpointer) "hello");
          g_ptr_array_add (fields, NULL);
          reply = cx_test_post_formv (f->session, url, (const char *const *) fields->pdata);
          if (reply->status != 403)
            g_error ("%s with %s %s: expected 403, got %u “%s”", ops[o], keys[k],
                     empty ? "empty" : "missing", reply->status, cx_test_reply_text (reply));
          cx_test_assert_gms_error (reply, 403);
        }
  cx_test_assert_healthy (f->server);

  /* The push socket: a first frame with an empty or missing key. */
  {
    g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
    g_autofree char *url = cx_test_server_url (f->server, "/cx/1/chat/%s/%s/socket",
                                               customer->service, customer->chat_id);
    g_autofree char *user_id = json_to_string (customer->user_id_node, FALSE);
    g_autofree char *alias = json_to_string (customer->alias_node, FALSE);
    g_autofree char *empty_key = g_strdup_printf (
        "{\"secureKey\":\"\",\"userId\":%s,\"alias\":%s,\"transcriptPosition\":1}", user_id, alias);
    g_autofree char *no_user =
        g_strdup_printf ("{\"secureKey\":\"%s\",\"alias\":%s}", customer->secure_key, alias);
    const char *const frames[] = { empty_key, no_user };

    for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
      {
        g_autoptr (CxTestSocket) socket = cx_test_socket_connect (session, url);

        g_assert_no_error (socket->error);
        cx_test_socket_send (socket, frames[i]);
        cx_test_socket_wait_closed (socket);
        g_assert_cmpuint (socket->close_code, ==, 4403);
        g_assert_null (cx_test_socket_peek (socket, "messages", NULL));
      }
  }

  /* Nothing happened to the chat. */
  cx_test_customer_poll (customer);
  g_assert_false (customer->ended);
  g_assert_null (cx_test_customer_find (customer, 1, NULL, NULL, "hello"));
}

static guint
count_type (CxTestCustomer *customer, const char *type)
{
  guint count = 0;

  for (guint i = 0; i < customer->transcript->len; i++)
    if (g_str_equal (cx_test_object_string (g_ptr_array_index (customer->transcript, i), "type"),
                     type))
      count++;
  return count;
}

/* Sends @op @times times as fast as it can; returns how many were accepted and the first
 * refusal (0 when none), which must be a 429 in the GMS shape with a Retry-After. */
static guint
flood (CxTestCustomer *customer, const char *op, guint times, guint *first_refused)
{
  guint accepted = 0;

  *first_refused = 0;
  for (guint i = 1; i <= times; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s %u", op, i);
      g_autofree char *key = g_strdup_printf ("userData[k%u]", i % 8);
      g_autoptr (CxTestReply) reply =
          cx_test_customer_call (customer, op, "message", text, key, "v", NULL);

      if (reply->status == 200)
        {
          accepted++;
          continue;
        }
      if (reply->status != 429)
        g_error ("%s %u: expected 200 or 429, got %u “%s”", op, i, reply->status,
                 cx_test_reply_text (reply));
      cx_test_assert_gms_error (reply, 429);
      if (*first_refused == 0)
        {
          const char *retry = soup_message_headers_get_one (reply->headers, "Retry-After");
          guint64 seconds = 0;

          *first_refused = i;
          g_assert_nonnull (retry);
          g_assert_true (g_ascii_string_to_unsigned (retry, 10, 1, 3600, &seconds, NULL));
        }
    }
  g_printerr ("note: %u × %s: %u accepted, first 429 at %u\n", times, op, accepted, *first_refused);
  return accepted;
}

/* issue 9 item 5: every customer operation is rate-limited, not only send. A burst of 300
 * customNotice: refused past the limit (30 a minute), and the transcript (what the agent sees)
 * holds only the accepted ones. Likewise typing, refresh with a preview, and updateData;
 * the bounds allow for the buckets refilling while a loaded machine runs the loop. A burst of
 * 100 typing events, far more than a person types, passes whole. */
static void
test_rate_limit_every_operation (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Zoe");
  g_autoptr (CxTestCustomer) typist = cx_test_customer_start (f->server, "sales", "Tia");
  g_autoptr (CxTestAgent) ada = agent_with_chat (f, customer);
  guint first_refused, accepted;

  accepted = flood (customer, "customNotice", 300, &first_refused);
  g_assert_cmpuint (first_refused, >, 30);
  g_assert_cmpuint (first_refused, <=, 60);
  g_assert_cmpuint (accepted, <=, 60);
  cx_test_customer_poll (customer);
  g_assert_cmpuint (count_type (customer, "CustomNotice"), ==, accepted);
  cx_test_assert_healthy (f->server);

  accepted = flood (typist, "startTyping", 100, &first_refused);
  g_assert_cmpuint (first_refused, ==, 0);
  accepted = flood (typist, "startTyping", 500, &first_refused);
  g_assert_cmpuint (first_refused, >, 200);
  g_assert_cmpuint (first_refused, <=, 400);
  /* refresh with a new preview each time takes from the same bucket */
  accepted = flood (typist, "refresh", 10, &first_refused);
  g_assert_cmpuint (first_refused, ==, 1);

  accepted = flood (customer, "updateData", 100, &first_refused);
  g_assert_cmpuint (first_refused, >, 30);
  g_assert_cmpuint (first_refused, <=, 60);

  /* Another chat, and send, have their own buckets. */
  cx_test_customer_send (customer, "send is still allowed");
  g_assert_nonnull (
      cx_test_agent_wait_message (ada, customer->chat_id, "Message", "send is still allowed"));
  cx_test_assert_healthy (f->server);
}

/* issue 9 item 5: chat starts per client address (20 a minute): a flood from one address is
 * refused with 429 and a Retry-After, and creates no chat past the limit. */
static void
test_rate_limit_chat_start (Fixture *f, gconstpointer data)
{
  g_autofree char *start_url = cx_test_server_url (f->server, "/genesys/2/chat/sales");
  guint first_refused = 0, accepted = 0;

  for (guint i = 1; i <= 100; i++)
    {
      g_autofree char *nickname = g_strdup_printf ("flood %u", i);
      g_autoptr (CxTestReply) reply =
          cx_test_post_form (f->session, start_url, "nickname", nickname, NULL);

      if (reply->status == 200)
        {
          accepted++;
          continue;
        }
      if (reply->status != 429)
        g_error ("start %u: expected 200 or 429, got %u “%s”", i, reply->status,
                 cx_test_reply_text (reply));
      cx_test_assert_gms_error (reply, 429);
      g_assert_nonnull (soup_message_headers_get_one (reply->headers, "Retry-After"));
      if (first_refused == 0)
        first_refused = i;
    }
  g_printerr ("note: 100 chat starts from one address: %u accepted, first 429 at %u\n", accepted,
              first_refused);
  g_assert_cmpuint (first_refused, >, 20);
  g_assert_cmpuint (first_refused, <=, 40);
  g_assert_cmpuint (accepted, <=, 40);
  cx_test_assert_healthy (f->server);
}

static guint
start_chats (Fixture *f, guint times, guint *first_refused)
{
  g_autofree char *start_url = cx_test_server_url (f->server, "/genesys/2/chat/sales");
  guint accepted = 0;

  *first_refused = 0;
  for (guint i = 1; i <= times; i++)
    {
      g_autoptr (CxTestReply) reply =
          cx_test_post_form (f->session, start_url, "nickname", "again", NULL);

      if (reply->status == 200)
        accepted++;
      else
        {
          cx_test_assert_gms_error (reply, 429);
          if (*first_refused == 0)
            *first_refused = i;
        }
    }
  return accepted;
}

/* issue 9 item 5: a restart does not refill the buckets: after a flood of customNotice and of
 * chat starts, and a restart, the same client is still refused (the buckets refill by a
 * fraction of a token a second, so at most a few pass however slow the restart). */
static void
test_rate_limit_survives_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Ivy");
  guint first_refused, accepted;

  accepted = flood (customer, "customNotice", 40, &first_refused);
  g_assert_cmpuint (first_refused, >, 0);
  accepted = start_chats (f, 30, &first_refused);
  g_assert_cmpuint (first_refused, >, 0);

  cx_test_server_restart (f->server);

  accepted = flood (customer, "customNotice", 10, &first_refused);
  g_assert_cmpuint (first_refused, >, 0);
  g_assert_cmpuint (first_refused, <=, 5);
  g_assert_cmpuint (accepted, <=, 5);
  accepted = start_chats (f, 10, &first_refused);
  g_printerr ("note: after a restart, 10 more chat starts: %u accepted\n", accepted);
  g_assert_cmpuint (first_refused, >, 0);
  g_assert_cmpuint (first_refused, <=, 5);
  g_assert_cmpuint (accepted, <=, 5);
  cx_test_assert_healthy (f->server);
}

static char *
user_data_form (guint call, guint keys, gsize value_bytes)
{
  GString *form = g_string_new (NULL);
  g_autofree char *value = g_strnfill (value_bytes, 'v');

  for (guint k = 0; k < keys; k++)
    g_string_append_printf (form, "%suserData%%5Bc%u-k%u%%5D=%s", k ? "&" : "", call, k, value);
  return g_string_free (form, FALSE);
}

static CxTestReply *
update_data (Fixture *f, CxTestCustomer *customer, const char *user_data_form)
{
  g_autofree char *url =
      cx_test_server_url (f->server, "/genesys/2/chat/sales/%s/updateData", customer->chat_id);
  const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                 "alias",  customer->alias,   NULL };
  g_autofree char *keys = cx_test_form_encode (fields);
  g_autofree char *text = g_strconcat (keys, "&", user_data_form, NULL);
  g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));

  return cx_test_request (f->session, "POST", url, "application/x-www-form-urlencoded", body);
}

/* issue 9 item 6: userData is bounded per chat (64 keys, 128-byte keys, 4 KiB values, 32 KiB in
 * all): 100 updateData calls of 64 new keys each leave the chat at most 64 keys, a merge over a
 * bound is refused whole (400, GMS shape), and the agent's invitations reply stays small. */
static void
test_user_data_bounded (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Ugo");
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (CxTestReply) list = NULL;
  g_autofree char *too_big = user_data_form (1000, 60, 600);
  g_autofree char *wide_value = NULL;
  guint refused = 0;
  JsonObject *user_data;

  /* 60 keys of 600 bytes: 36 KB, over the 32 KiB total: nothing of it applied. */
  {
    g_autoptr (CxTestReply) reply = update_data (f, customer, too_big);

    cx_test_assert_gms_error (reply, 400);
  }
  /* A value of 1,500 four-byte characters: 6,000 bytes, over 4 KiB. */
  {
    GString *wide = g_string_new ("userData%5Bwide%5D=");

    for (guint i = 0; i < 1500; i++)
      g_string_append (wide, "%F0%9F%98%80");
    wide_value = g_string_free (wide, FALSE);
  }
  {
    g_autoptr (CxTestReply) reply = update_data (f, customer, wide_value);

    cx_test_assert_gms_error (reply, 400);
  }

  /* 32 keys fit beside what the start gave. */
  {
    g_autofree char *form = user_data_form (500, 32, 100);
    g_autoptr (CxTestReply) reply = update_data (f, customer, form);

    g_assert_cmpuint (reply->status, ==, 200);
  }

  for (guint call = 0; call < 100; call++)
    {
      g_autofree char *form = user_data_form (call, 64, 100);
      g_autoptr (CxTestReply) reply = update_data (f, customer, form);

      if (reply->status == 400 || reply->status == 429)
        {
          cx_test_assert_gms_error (reply, reply->status);
          refused++;
        }
      else if (reply->status != 200)
        g_error ("updateData %u: expected 200, 400 or 429, got %u “%s”", call, reply->status,
                 cx_test_reply_text (reply));
    }
  g_printerr ("note: 100 updateData calls of 64 keys: %u refused\n", refused);
  g_assert_cmpuint (refused, ==, 100);

  ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  user_data = json_object_get_object_member (invitation, "userData");
  g_assert_nonnull (user_data);
  g_assert_cmpuint (json_object_get_size (user_data), <=, 64);
  g_assert_true (json_object_has_member (user_data, "c500-k31"));
  g_assert_false (json_object_has_member (user_data, "c0-k0"));
  g_assert_false (json_object_has_member (user_data, "c1000-k0"));
  g_assert_false (json_object_has_member (user_data, "wide"));

  list = cx_test_agent_call (ada, "GET", "/cx/1/agent/invitations", NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_printerr ("note: the invitations reply: %" G_GSIZE_FORMAT " bytes\n",
              g_bytes_get_size (list->body));
  g_assert_cmpuint (g_bytes_get_size (list->body), <, 64 * 1024);
  cx_test_assert_healthy (f->server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/bad-input/body-too-large", NULL, NULL, test_body_too_large);
  cx_test_add ("/server/bad-input/invalid-utf8", NULL, NULL, test_invalid_utf8);
  cx_test_add ("/server/bad-input/too-long", NULL, NULL, test_too_long);
  cx_test_add ("/server/bad-input/malformed", NULL, NULL, test_malformed);
  cx_test_add ("/server/bad-input/unknown-chat", NULL, NULL, test_unknown_chat);
  cx_test_add ("/server/bad-input/wrong-key", NULL, NULL, test_wrong_key);
  cx_test_add ("/server/bad-input/markup-and-control", NULL, NULL, test_markup_and_control);
  cx_test_add ("/server/bad-input/rate-limit", NULL, NULL, test_rate_limit);
  cx_test_add ("/server/bad-input/malformed-multipart", NULL, NULL, test_malformed_multipart);
  cx_test_add ("/server/bad-input/missing-key-403", NULL, NULL, test_missing_key_403);
  cx_test_add ("/server/bad-input/rate-limit-every-operation", NULL, NULL,
               test_rate_limit_every_operation);
  cx_test_add ("/server/bad-input/rate-limit-chat-start", NULL, NULL, test_rate_limit_chat_start);
  cx_test_add ("/server/bad-input/user-data-bounded", NULL, NULL, test_user_data_bounded);
  cx_test_add ("/server/bad-input/rate-limit-survives-restart", NULL, NULL,
               test_rate_limit_survives_restart);

  return g_test_run ();
}
