/* test-server-chat.c: a whole chat against the real cxdesk-server (GMS customer, /cx/1 agents),
 * files, transfer, and the customer push socket agreeing with refresh.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-server-chat"

#include "config.h"

#include <string.h>

#include "cx-test-server.h"

typedef CxTestFixture Fixture;

static JsonObject *
object_member (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_error ("expected an object member “%s”", member);
  return json_node_get_object (node);
}

static CxTestReply *
upload (CxTestCustomer *customer, const char *filename, const char *content_type, GBytes *bytes)
{
  g_autofree char *url = cx_test_server_url (customer->server, "/genesys/2/chat/%s/%s/file",
                                             customer->service, customer->chat_id);
  g_autoptr (SoupMultipart) multipart = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  g_autoptr (SoupMessage) msg = NULL;

  soup_multipart_append_form_string (multipart, "userId", customer->user_id);
  soup_multipart_append_form_string (multipart, "secureKey", customer->secure_key);
  soup_multipart_append_form_string (multipart, "alias", customer->alias);
  soup_multipart_append_form_file (multipart, "file", filename, content_type, bytes);
  msg = soup_message_new_from_multipart (url, multipart);
  return cx_test_send (customer->session, msg);
}

static void
assert_same_bytes (CxTestReply *reply, GBytes *expected)
{
  g_assert_no_error (reply->error);
  if (reply->status != 200)
    g_error ("download: expected 200, got %u “%s”", reply->status, cx_test_reply_text (reply));
  g_assert_nonnull (reply->body);
  g_assert_cmpmem (g_bytes_get_data (reply->body, NULL), g_bytes_get_size (reply->body),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static GBytes *
make_file (gsize size)
{
  guint8 *data = g_malloc (size);

  /* Every byte value, NULs included: the download must be byte-exact. */
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) ((i * 7 + 3) & 0xff);
  return g_bytes_new_take (data, size);
}

static gboolean
string_list_contains (JsonNode *node, const char *item)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (g_strcmp0 (json_array_get_string_element (array, i), item) == 0)
          return TRUE;
      return FALSE;
    }
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      /* GMS writes the list as one string ("png:jpg:…" or "png,jpg,…"). */
      g_auto (GStrv) items = g_strsplit_set (json_node_get_string (node), ":,; ", -1);

      return g_strv_contains ((const char *const *) items, item);
    }
  return FALSE;
}

static gboolean
agent_has_chat (CxTestAgent *agent, const char *chat_id)
{
  g_autoptr (CxTestReply) reply = cx_test_agent_call (agent, "GET", "/cx/1/agent/chats", NULL);
  JsonArray *chats;

  g_assert_cmpuint (reply->status, ==, 200);
  chats = json_object_get_array_member (cx_test_reply_object (reply), "chats");
  g_assert_nonnull (chats);
  for (guint i = 0; i < json_array_get_length (chats); i++)
    {
      g_autofree char *id =
          cx_test_object_loose_string (json_array_get_object_element (chats, i), "chatId");

      if (g_str_equal (id, chat_id))
        return TRUE;
    }
  return FALSE;
}

/* 1. A whole chat: queue, invitation, messages and typing both ways, a file, a transfer, the
 * end. */
static void
test_whole_chat (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = NULL;
  g_autoptr (CxTestAgent) ada = NULL;
  g_autoptr (CxTestAgent) bob = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) bob_invitation = NULL;
  g_autoptr (JsonObject) bob_chat = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  g_autoptr (GBytes) file = make_file (3000);
  g_autoptr (GBytes) big_file = make_file (CX_TEST_MAX_FILE_SIZE + 1);
  g_autofree char *file_id = NULL;
  g_autofree char *download_url = NULL;
  g_autofree char *download_query = NULL;
  g_autofree char *queue = NULL;
  JsonObject *message;
  JsonObject *from;
  JsonObject *user_data;
  JsonObject *customer_info;
  gint64 index;
  gint64 ada_joined;
  gint64 bob_joined;

  customer = cx_test_customer_start (f->server, "customer-support", "Carol");

  /* Waiting: ParticipantJoined (Client) at index 1, then the queue position. */
  cx_test_customer_poll (customer);
  message = cx_test_customer_poll_until (customer, 1, "ParticipantJoined", "Client", NULL);
  g_assert_cmpint (cx_test_object_int (message, "index"), ==, 1);
  from = object_member (message, "from");
  g_assert_cmpstr (cx_test_object_string (from, "nickname"), ==, "Carol");
  message = cx_test_customer_poll_until (customer, 2, "Notice", "External", NULL);
  from = object_member (message, "from");
  g_assert_cmpstr (cx_test_object_string (from, "nickname"), ==, "System");
  g_assert_cmpstr (cx_test_object_string (from, "participantId"), ==, "system");
  g_assert_cmpint (cx_test_customer_queue_position (message), ==, 1);
  /* GMS sends utcTime as milliseconds since the epoch; API.md does not fix the type. */
  g_assert_true (json_object_has_member (message, "utcTime"));

  /* Bob (sales only) is ready from now on: idle longer than Ada will be after the transfer. */
  bob = cx_test_agent_sign_in (f->server, "bob", CX_TEST_BOB_PASSWORD);
  cx_test_agent_connect_events (bob);
  cx_test_agent_set_state (bob, "ready");

  /* Ada signs in, goes ready and is invited. */
  ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (invitation, "queue"), ==, "customer-support");
  customer_info = object_member (invitation, "customer");
  g_assert_cmpstr (cx_test_object_string (customer_info, "nickname"), ==, "Carol");
  user_data = object_member (invitation, "userData");
  g_assert_cmpstr (cx_test_object_string (user_data, "source"), ==, "integration-test");
  g_assert_true (json_object_has_member (invitation, "waitingSince"));
  g_assert_true (json_object_has_member (invitation, "expiresAt"));

  chat = cx_test_agent_accept (ada, customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (chat, "state"), ==, "active");
  g_assert_cmpstr (cx_test_object_string (chat, "service"), ==, "customer-support");
  customer_info = object_member (chat, "customer");
  g_assert_cmpstr (cx_test_object_string (customer_info, "nickname"), ==, "Carol");
  g_assert_cmpstr (cx_test_object_string (customer_info, "subject"), ==, "Integration test");
  g_assert_cmpstr (cx_test_object_string (customer_info, "email"), ==, "customer@example.com");
  g_assert_true (agent_has_chat (ada, customer->chat_id));

  message = cx_test_customer_poll_until (customer, 1, "ParticipantJoined", "Agent", NULL);
  ada_joined = cx_test_object_int (message, "index");

  /* Bob, ready all along, was never offered this customer-support chat. (The barrier makes him
   * not_ready; he is ready again well before the transfer below, which must reach him.) */
  cx_test_agent_barrier (bob);
  g_assert_null (cx_test_socket_peek (bob->events, "invitation", customer->chat_id));
  cx_test_agent_set_state (bob, "ready");

  /* Messages both ways. */
  cx_test_customer_send (customer, "Hello, my order #1234 is late");
  message = cx_test_agent_wait_message (ada, customer->chat_id, "Message",
                                        "Hello, my order #1234 is late");
  g_assert_cmpstr (cx_test_message_from_type (message), ==, "Client");

  index = cx_test_agent_send (ada, customer->chat_id, "Sorry to hear that, let me check.");
  message = cx_test_customer_poll_until (customer, 1, "Message", "Agent",
                                         "Sorry to hear that, let me check.");
  g_assert_cmpint (cx_test_object_int (message, "index"), ==, index);

  /* Typing both ways; the customer's carries the preview. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "startTyping", "message", "Where is my parc", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  message =
      cx_test_agent_wait_message (ada, customer->chat_id, "TypingStarted", "Where is my parc");
  g_assert_cmpstr (cx_test_message_from_type (message), ==, "Client");
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "stopTyping", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  cx_test_agent_wait_message (ada, customer->chat_id, "TypingStopped", NULL);

  g_clear_pointer (&reply, cx_test_reply_free);
  {
    g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/typing", customer->chat_id);

    reply = cx_test_agent_call (ada, "POST", path, "{\"typing\":true}");
    g_assert_cmpuint (reply->status, ==, 204);
    cx_test_customer_poll_until (customer, ada_joined, "TypingStarted", "Agent", NULL);
    g_clear_pointer (&reply, cx_test_reply_free);
    reply = cx_test_agent_call (ada, "POST", path, "{\"typing\":false}");
    g_assert_cmpuint (reply->status, ==, 204);
    cx_test_customer_poll_until (customer, ada_joined, "TypingStopped", "Agent", NULL);
  }

  /* Files: limits, an upload, the same bytes back, refusals. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "file/limits", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  user_data = object_member (cx_test_reply_object (reply), "userData");
  g_assert_cmpint (cx_test_object_loose_int (user_data, "upload-max-files"), ==, 10);
  g_assert_cmpint (cx_test_object_loose_int (user_data, "upload-max-file-size"), ==,
                   CX_TEST_MAX_FILE_SIZE);
  g_assert_cmpint (cx_test_object_loose_int (user_data, "upload-max-total-size"), ==, 512 * 1024);
  g_assert_true (json_object_has_member (user_data, "upload-file-types"));
  g_assert_true (
      string_list_contains (json_object_get_member (user_data, "upload-file-types"), "txt"));
  g_assert_false (
      string_list_contains (json_object_get_member (user_data, "upload-file-types"), "exe"));

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = upload (customer, "notes.txt", "text/plain", file);
  if (reply->status != 200)
    g_error ("upload: HTTP %u “%s”", reply->status, cx_test_reply_text (reply));
  g_assert_cmpint (cx_test_object_int (cx_test_reply_object (reply), "statusCode"), ==, 0);
  user_data = object_member (cx_test_reply_object (reply), "userData");
  file_id = cx_test_object_loose_string (user_data, "file-id");
  cx_test_customer_poll_until (customer, 1, "FileUploaded", "Client", NULL);
  cx_test_agent_wait_message (ada, customer->chat_id, "FileUploaded", NULL);

  download_url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/file/%s/download",
                                     customer->service, customer->chat_id, file_id);
  {
    const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                   "alias",  customer->alias,   NULL };
    const char *const wrong[] = { "userId", customer->user_id, "secureKey", "not-the-key",
                                  "alias",  customer->alias,   NULL };
    g_autofree char *form = cx_test_form_encode (fields);
    g_autofree char *wrong_form = cx_test_form_encode (wrong);
    g_autofree char *get_url = g_strconcat (download_url, "?", form, NULL);
    g_autofree char *wrong_url = g_strconcat (download_url, "?", wrong_form, NULL);
    g_autoptr (CxTestReply) got = cx_test_get (customer->session, get_url);
    g_autoptr (CxTestReply) posted = cx_test_post_formv (customer->session, download_url, fields);
    g_autoptr (CxTestReply) refused = cx_test_get (customer->session, wrong_url);

    assert_same_bytes (posted, file);
    assert_same_bytes (got, file);
    cx_test_assert_gms_error (refused, 403);
  }

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = upload (customer, "setup.exe", "application/octet-stream", file);
  cx_test_assert_gms_error (reply, 400);

  /* Over the configured file size but far under the 1 MiB body limit. 400 (bad input) or 413
   * (too large) both fit API.md. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = upload (customer, "big.txt", "text/plain", big_file);
  if (reply->status != 400 && reply->status != 413)
    g_error ("oversized file: expected HTTP 400 or 413, got %u “%s”", reply->status,
             cx_test_reply_text (reply));
  cx_test_assert_gms_error (reply, reply->status);

  /* Transfer to the sales queue: Bob (ready, serving sales only) is invited, Ada leaves. */
  g_assert_null (cx_test_socket_peek (bob->events, "invitation", customer->chat_id));
  g_clear_pointer (&reply, cx_test_reply_free);
  {
    g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/transfer", customer->chat_id);

    reply = cx_test_agent_call (ada, "POST", path, "{\"queue\":\"sales\"}");
    g_assert_cmpuint (reply->status, ==, 204);
  }
  bob_invitation = cx_test_agent_wait_invitation (bob, customer->chat_id);
  queue = g_strdup (cx_test_object_string (bob_invitation, "queue"));
  g_assert_cmpstr (queue, ==, "sales");
  g_assert_false (agent_has_chat (ada, customer->chat_id));

  bob_chat = cx_test_agent_accept (bob, customer->chat_id);
  g_assert_cmpstr (cx_test_object_string (bob_chat, "queue"), ==, "sales");
  message =
      cx_test_customer_poll_until (customer, ada_joined + 1, "ParticipantJoined", "Agent", NULL);
  bob_joined = cx_test_object_int (message, "index");
  index = cx_test_agent_send (bob, customer->chat_id, "Bob here, from sales.");
  message = cx_test_customer_poll_until (customer, bob_joined, "Message", "Agent",
                                         "Bob here, from sales.");
  g_assert_cmpint (cx_test_object_int (message, "index"), ==, index);
  cx_test_customer_send (customer, "Thanks Bob");
  cx_test_agent_wait_message (bob, customer->chat_id, "Message", "Thanks Bob");

  /* The agent ends the chat. */
  g_clear_pointer (&reply, cx_test_reply_free);
  {
    g_autofree char *path = g_strdup_printf ("/cx/1/agent/chats/%s/end", customer->chat_id);

    reply = cx_test_agent_call (bob, "POST", path, NULL);
    g_assert_cmpuint (reply->status, ==, 204);
  }
  cx_test_customer_poll_until_ended (customer);
  g_assert_nonnull (cx_test_customer_find (customer, bob_joined, "ParticipantLeft", "Agent", NULL));
  g_assert_false (agent_has_chat (bob, customer->chat_id));

  /* The whole transcript, as refresh gave it, has no gaps. */
  cx_test_assert_contiguous (customer->transcript, 1);
}

/* The customer leaves: the agent sees ParticipantLeft (Client) and chatEnded. */
static void
test_customer_disconnect (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Dan");
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (JsonObject) ended = NULL;
  g_autoptr (CxTestReply) reply = NULL;

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);

  reply = cx_test_customer_call (customer, "disconnect", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpint (cx_test_object_int (cx_test_reply_object (reply), "statusCode"), ==, 0);

  cx_test_agent_wait_message (ada, customer->chat_id, "ParticipantLeft", NULL);
  /* Everything pushed for the disconnect is on the socket after the barrier. */
  cx_test_agent_barrier (ada);
  ended = cx_test_socket_take (ada->events, "chatEnded", customer->chat_id);
  if (ended == NULL)
    g_error ("the customer disconnected but the agent got no chatEnded frame");
  cx_test_customer_poll_until_ended (customer);
  g_assert_nonnull (cx_test_customer_find (customer, 1, "ParticipantLeft", "Client", NULL));
}

/* Every per-chat call takes transcriptPosition and then answers like refresh; updateData merges
 * into the user data the agent sees. */
static void
test_positions_and_user_data (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Hana");
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (CxTestReply) reply = NULL;
  JsonObject *object;
  JsonArray *messages;
  JsonObject *user_data;
  JsonObject *last;

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);

  reply = cx_test_customer_call (customer, "send", "message", "with a position",
                                 "transcriptPosition", "1", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  object = cx_test_reply_object (reply);
  messages = json_object_get_array_member (object, "messages");
  g_assert_nonnull (messages);
  g_assert_cmpuint (json_array_get_length (messages), >=, 3);
  g_assert_cmpint (cx_test_object_int (json_array_get_object_element (messages, 0), "index"), ==,
                   1);
  last = json_array_get_object_element (messages, json_array_get_length (messages) - 1);
  g_assert_cmpstr (cx_test_message_text (last), ==, "with a position");
  g_assert_cmpint (cx_test_object_int (object, "nextPosition"), ==,
                   cx_test_object_int (last, "index") + 1);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "updateData", "userData[plan]", "gold",
                                 "userData[source]", "updated", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpint (cx_test_object_int (cx_test_reply_object (reply), "statusCode"), ==, 0);

  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_agent_call (ada, "GET", "/cx/1/agent/chats", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  messages = json_object_get_array_member (cx_test_reply_object (reply), "chats");
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  user_data =
      json_object_get_object_member (json_array_get_object_element (messages, 0), "userData");
  g_assert_nonnull (user_data);
  g_assert_cmpstr (cx_test_object_string (user_data, "plan"), ==, "gold");
  g_assert_cmpstr (cx_test_object_string (user_data, "source"), ==, "updated");

  /* A CustomNotice goes into the transcript with its text. */
  g_clear_pointer (&reply, cx_test_reply_free);
  reply = cx_test_customer_call (customer, "customNotice", "message", "page: /checkout", NULL);
  g_assert_cmpuint (reply->status, ==, 200);
  cx_test_customer_poll_until (customer, 1, "CustomNotice", "Client", "page: /checkout");
  cx_test_agent_wait_message (ada, customer->chat_id, "CustomNotice", "page: /checkout");
}

static void
assert_ended_last (CxTestSocket *socket)
{
  JsonObject *last;

  g_assert_cmpuint (socket->all_frames->len, >, 0);
  last = g_ptr_array_index (socket->all_frames, socket->all_frames->len - 1);
  g_assert_cmpstr (cx_test_object_string (last, "type"), ==, "chatEnded");
  for (guint i = 0; i + 1 < socket->all_frames->len; i++)
    g_assert_cmpstr (cx_test_object_string (g_ptr_array_index (socket->all_frames, i), "type"), ==,
                     "messages");
}

static void
assert_same_transcripts (GPtrArray *expected, GPtrArray *actual)
{
  g_autoptr (GPtrArray) want = cx_test_transcript_summaries (expected);
  g_autoptr (GPtrArray) got = cx_test_transcript_summaries (actual);

  for (guint i = 0; i < MIN (want->len, got->len); i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (want, i));
  g_assert_cmpuint (got->len, ==, want->len);
}

/* 2. A push client and a polling client see the same transcript; a push socket opened in the
 * middle with transcriptPosition N starts exactly at N. */
static void
test_push_and_poll_agree (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer =
      cx_test_customer_start (f->server, "customer-support", "Erin");
  g_autoptr (CxTestCustomer) poller = cx_test_customer_copy_keys (customer);
  g_autoptr (CxTestAgent) ada = cx_test_agent_sign_in (f->server, "ada", CX_TEST_ADA_PASSWORD);
  g_autoptr (CxTestSocket) push = cx_test_customer_push_socket (customer, 1);
  g_autoptr (CxTestSocket) late_push = NULL;
  g_autoptr (JsonObject) invitation = NULL;
  g_autoptr (JsonObject) chat = NULL;
  g_autoptr (JsonObject) ended = NULL;
  g_autoptr (JsonObject) late_ended = NULL;
  g_autoptr (GPtrArray) pushed = NULL;
  g_autoptr (GPtrArray) late_pushed = NULL;
  g_autoptr (GPtrArray) polled_tail = g_ptr_array_new ();
  g_autofree char *typing_path = NULL;
  g_autofree char *end_path = NULL;
  gint64 late_position = 0;

  cx_test_agent_connect_events (ada);
  cx_test_agent_set_state (ada, "ready");
  invitation = cx_test_agent_wait_invitation (ada, customer->chat_id);
  chat = cx_test_agent_accept (ada, customer->chat_id);
  typing_path = g_strdup_printf ("/cx/1/agent/chats/%s/typing", customer->chat_id);
  end_path = g_strdup_printf ("/cx/1/agent/chats/%s/end", customer->chat_id);

  for (int i = 0; i < 6; i++)
    {
      g_autofree char *from_customer = g_strdup_printf ("customer line %d", i);
      g_autofree char *from_agent = g_strdup_printf ("agent line %d", i);
      g_autoptr (CxTestReply) typing = NULL;
      g_autoptr (CxTestReply) notice = NULL;

      typing = cx_test_customer_call (customer, "startTyping", "message", "prev", NULL);
      g_assert_cmpuint (typing->status, ==, 200);
      cx_test_customer_send (customer, from_customer);
      g_clear_pointer (&typing, cx_test_reply_free);
      typing = cx_test_agent_call (ada, "POST", typing_path, "{\"typing\":true}");
      g_assert_cmpuint (typing->status, ==, 204);
      cx_test_agent_send (ada, customer->chat_id, from_agent);
      notice = cx_test_customer_call (customer, "customNotice", "message", "a custom notice", NULL);
      g_assert_cmpuint (notice->status, ==, 200);
      cx_test_customer_poll (poller);

      if (i == 2)
        {
          /* Somewhere in the middle, not at a frame boundary of the first socket. */
          late_position = poller->next_position - 3;
          late_push = cx_test_customer_push_socket (customer, late_position);
        }
    }

  {
    g_autoptr (CxTestReply) reply = cx_test_agent_call (ada, "POST", end_path, NULL);

    g_assert_cmpuint (reply->status, ==, 204);
  }

  ended = cx_test_socket_wait (push, "chatEnded", customer->chat_id);
  late_ended = cx_test_socket_wait (late_push, "chatEnded", customer->chat_id);
  cx_test_customer_poll_until_ended (poller);
  cx_test_customer_poll (poller);

  /* The push sockets' frames are "messages" then one "chatEnded": nothing after the end. */
  assert_ended_last (push);
  assert_ended_last (late_push);

  pushed = cx_test_push_transcript (push);
  late_pushed = cx_test_push_transcript (late_push);
  cx_test_assert_contiguous (poller->transcript, 1);
  cx_test_assert_contiguous (pushed, 1);
  cx_test_assert_contiguous (late_pushed, late_position);
  assert_same_transcripts (poller->transcript, pushed);

  for (guint i = 0; i < poller->transcript->len; i++)
    {
      JsonObject *message = g_ptr_array_index (poller->transcript, i);

      if (cx_test_object_int (message, "index") >= late_position)
        g_ptr_array_add (polled_tail, message);
    }
  assert_same_transcripts (polled_tail, late_pushed);
}

/* A wrong key on the push socket closes it with 4403 and reveals nothing. */
static void
test_push_wrong_key (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Frank");
  g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
  g_autofree char *url = cx_test_server_url (f->server, "/cx/1/chat/%s/%s/socket",
                                             customer->service, customer->chat_id);
  g_autoptr (CxTestSocket) socket = cx_test_socket_connect (session, url);
  g_autofree char *user_id = json_to_string (customer->user_id_node, FALSE);
  g_autofree char *alias = json_to_string (customer->alias_node, FALSE);
  g_autofree char *first = g_strdup_printf (
      "{\"secureKey\":\"wrong-key\",\"userId\":%s,\"alias\":%s,\"transcriptPosition\":1}", user_id,
      alias);

  g_assert_no_error (socket->error);
  cx_test_socket_send (socket, first);
  cx_test_socket_wait_closed (socket);
  g_assert_cmpuint (socket->close_code, ==, 4403);
  g_assert_null (cx_test_socket_peek (socket, "messages", NULL));
}

/* No first frame within 10 s: closed with 4408. */
static void
test_push_no_first_frame (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Gina");
  g_autoptr (SoupSession) session = cx_test_session_new (FALSE);
  g_autofree char *url = cx_test_server_url (f->server, "/cx/1/chat/%s/%s/socket",
                                             customer->service, customer->chat_id);
  g_autoptr (CxTestSocket) socket = cx_test_socket_connect (session, url);

  g_assert_no_error (socket->error);
  cx_test_socket_wait_closed (socket);
  g_assert_cmpuint (socket->close_code, ==, 4408);
  g_assert_null (cx_test_socket_peek (socket, "messages", NULL));
}

/* A plain GMS client carries the typing preview on refresh: the agent sees TypingStarted with
 * the text once per change, not once per poll. */
static void
test_refresh_typing_preview (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Iris");
  const char *previews[] = { "Hel", "Hel", "Hello", "Hello" };
  guint typing = 0;

  for (guint i = 0; i < G_N_ELEMENTS (previews); i++)
    {
      g_autoptr (CxTestReply) reply =
          cx_test_customer_call (customer, "refresh", "message", previews[i], NULL);

      g_assert_cmpuint (reply->status, ==, 200);
    }

  cx_test_customer_poll (customer);
  for (guint i = 0; i < customer->transcript->len; i++)
    {
      JsonObject *message = g_ptr_array_index (customer->transcript, i);

      if (g_strcmp0 (cx_test_object_string (message, "type"), "TypingStarted") != 0)
        continue;
      g_assert_cmpstr (cx_test_message_from_type (message), ==, "Client");
      g_assert_cmpstr (cx_test_message_text (message), ==, typing == 0 ? "Hel" : "Hello");
      typing++;
    }
  g_assert_cmpuint (typing, ==, 2);
  cx_test_assert_contiguous (customer->transcript, 1);
}

static CxTestReply *
get_with_range (CxTestCustomer *customer, const char *url, const char *const *ranges)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  for (guint i = 0; ranges[i] != NULL; i++)
    soup_message_headers_append (headers, "Range", ranges[i]);
  return cx_test_send (customer->session, msg);
}

/* issue 9 item 3: Range on a download. 200 ranges are ignored (the whole file, never a
 * multi-range reply larger than it); one range is served as 206 with Content-Range; a range
 * past the end is 416. Other paths ignore Range. */
static void
test_download_range (Fixture *f, gconstpointer data)
{
  g_autoptr (CxTestCustomer) customer = cx_test_customer_start (f->server, "sales", "Rhea");
  g_autoptr (GBytes) file = make_file (60 * 1024);
  g_autoptr (CxTestReply) reply = upload (customer, "data.txt", "text/plain", file);
  g_autoptr (GString) many = g_string_new ("bytes=0-");
  const char *const fields[] = { "userId", customer->user_id, "secureKey", customer->secure_key,
                                 "alias",  customer->alias,   NULL };
  g_autofree char *form = cx_test_form_encode (fields);
  g_autofree char *url = NULL;
  g_autofree char *health = cx_test_server_url (f->server, "/cx/1/health");
  g_autofree char *file_id = NULL;
  gsize size = g_bytes_get_size (file);

  if (reply->status != 200)
    g_error ("upload: HTTP %u “%s”", reply->status, cx_test_reply_text (reply));
  file_id = cx_test_object_loose_string (object_member (cx_test_reply_object (reply), "userData"),
                                         "file-id");
  url = cx_test_server_url (f->server, "/genesys/2/chat/%s/%s/file/%s/download?%s",
                            customer->service, customer->chat_id, file_id, form);
  for (guint i = 1; i < 200; i++)
    g_string_append (many, ",0-");

  {
    const char *const ranges[] = { many->str, NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, url, ranges);

    g_printerr ("note: 200 ranges on a %" G_GSIZE_FORMAT "-byte file: HTTP %u, %" G_GSIZE_FORMAT
                " bytes\n",
                size, got->status, got->body ? g_bytes_get_size (got->body) : 0);
    g_assert_nonnull (got->body);
    g_assert_cmpuint (g_bytes_get_size (got->body), <=, size);
    assert_same_bytes (got, file);
  }
  {
    /* Two Range headers are two ranges: ignored too. */
    const char *const ranges[] = { "bytes=0-9", "bytes=20-29", NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, url, ranges);

    assert_same_bytes (got, file);
  }
  {
    const char *const ranges[] = { "bytes=100-199", NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, url, ranges);
    g_autofree char *expected = g_strdup_printf ("bytes 100-199/%" G_GSIZE_FORMAT, size);
    g_autoptr (GBytes) slice = g_bytes_new_from_bytes (file, 100, 100);

    g_assert_cmpuint (got->status, ==, 206);
    g_assert_cmpstr (soup_message_headers_get_one (got->headers, "Content-Range"), ==, expected);
    g_assert_cmpmem (g_bytes_get_data (got->body, NULL), g_bytes_get_size (got->body),
                     g_bytes_get_data (slice, NULL), g_bytes_get_size (slice));
  }
  {
    const char *const ranges[] = { "bytes=-10", NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, url, ranges);

    g_assert_cmpuint (got->status, ==, 206);
    g_assert_cmpuint (g_bytes_get_size (got->body), ==, 10);
  }
  {
    g_autofree char *past = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", size);
    const char *const ranges[] = { past, NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, url, ranges);
    g_autofree char *expected = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, size);

    g_assert_cmpuint (got->status, ==, 416);
    g_assert_cmpstr (soup_message_headers_get_one (got->headers, "Content-Range"), ==, expected);
  }
  {
    /* A path that is not a download: the whole reply, as if there were no Range. */
    const char *const ranges[] = { "bytes=0-0,0-0,0-0", NULL };
    g_autoptr (CxTestReply) got = get_with_range (customer, health, ranges);

    g_assert_cmpuint (got->status, ==, 200);
    g_assert_null (soup_message_headers_get_one (got->headers, "Content-Range"));
  }
  cx_test_assert_healthy (f->server);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  cx_test_add ("/server/chat/whole-chat", NULL, NULL, test_whole_chat);
  cx_test_add ("/server/chat/customer-disconnect", NULL, NULL, test_customer_disconnect);
  cx_test_add ("/server/chat/positions-and-user-data", NULL, NULL, test_positions_and_user_data);
  cx_test_add ("/server/chat/push-and-poll-agree", NULL, NULL, test_push_and_poll_agree);
  cx_test_add ("/server/chat/push-wrong-key", NULL, NULL, test_push_wrong_key);
  cx_test_add ("/server/chat/push-no-first-frame", NULL, NULL, test_push_no_first_frame);
  cx_test_add ("/server/chat/refresh-typing-preview", NULL, NULL, test_refresh_typing_preview);
  cx_test_add ("/server/chat/download-range", NULL, NULL, test_download_range);

  return g_test_run ();
}
