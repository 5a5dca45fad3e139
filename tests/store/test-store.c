/* test-store.c: the CxStore contract, every call, on SQLite (":memory:" and a file) and on
 * PostgreSQL (a fresh schema per test in the database CXDESK_TEST_PG_URL names; skipped, not
 * passed, without it). The SQLite file's own concerns (migration, reopening, versions, bad files,
 * surviving a kill -9, syncing to disk) on a file only; PostgreSQL's (two nodes racing to route
 * the same chats, reconnecting to a migrated schema) on PostgreSQL only. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libpq-fe.h>

#include "server/cx-store-pg.h"
#include "server/cx-store-sqlite.h"

/* Syncs to disk: this program's fsync and fdatasync take the place of libc's for libsqlite3's
 * calls too (the executable comes first in symbol lookup); they count, then do the real
 * system call. */
static int sync_calls;

int
fsync (int fd)
{
  g_atomic_int_inc (&sync_calls);
  return syscall (SYS_fsync, fd);
}

int
fdatasync (int fd)
{
  g_atomic_int_inc (&sync_calls);
  return syscall (SYS_fdatasync, fd);
}

typedef struct
{
  char *dir;  /* NULL for ":memory:" and PostgreSQL */
  char *path; /* the file, ":memory:", or the PostgreSQL URL (with the test's schema) */
  CxStore *store;
  PGconn *admin;   /* PostgreSQL: makes and drops the schema */
  char *pg_schema; /* PostgreSQL: this test's schema */
} Fixture;

/* Each test of the table runs on each backend its entry allows. */
typedef struct
{
  const char *backend; /* ":memory:", "file" or "pg" */
  void (*func) (Fixture *f, gconstpointer data);
} Case;

static CxStore *
open_store (const char *path)
{
  g_autoptr (GError) error = NULL;
  CxStore *store = cx_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_true (CX_IS_STORE (store));
  return store;
}

static PGresult *
admin_exec (Fixture *f, const char *sql)
{
  PGresult *res = PQexec (f->admin, sql);

  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    g_error ("%s: %s", sql, PQerrorMessage (f->admin));
  return res;
}

/* A schema of its own for each test, in the database the environment names. */
static void
pg_setup (Fixture *f)
{
  static guint serial;
  const char *url = g_getenv ("CXDESK_TEST_PG_URL");
  g_autofree char *sql = NULL;

  if (url == NULL || *url == '\0')
    {
      g_test_skip ("CXDESK_TEST_PG_URL is not set: no PostgreSQL to test on");
      return;
    }

  f->admin = PQconnectdb (url);
  if (PQstatus (f->admin) != CONNECTION_OK)
    g_error ("Could not connect to CXDESK_TEST_PG_URL: %s", PQerrorMessage (f->admin));
  /* Digits and letters only: safe to write into the DDL. */
  f->pg_schema = g_strdup_printf ("cx_test_%d_%u", (int) getpid (), serial++);
  sql = g_strdup_printf ("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE; "
                         "CREATE SCHEMA %s",
                         f->pg_schema, f->pg_schema);
  PQclear (admin_exec (f, sql));
  /* The schema names the connections too, so that a test can find its store's. */
  f->path = g_strdup_printf ("%s%soptions=-csearch_path%%3D%s&application_name=%s", url,
                             strchr (url, '?') != NULL ? "&" : "?", f->pg_schema, f->pg_schema);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  const Case *test_case = data;

  data = test_case->backend;
  if (g_str_equal (data, "pg"))
    {
      pg_setup (f);
      if (f->path == NULL)
        return;
    }
  else if (g_str_equal (data, "file"))
    {
      g_autoptr (GError) error = NULL;

      f->dir = g_dir_make_tmp ("cxdesk-store-XXXXXX", &error);
      g_assert_no_error (error);
      f->path = g_build_filename (f->dir, "cxdesk.db", NULL);
    }
  else
    {
      f->path = g_strdup (":memory:");
    }

  f->store = open_store (f->path);
}

static void
remove_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_dir (child);
      else
        g_assert_cmpint (g_remove (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->store != NULL)
    g_assert_finalize_object (f->store);
  if (f->admin != NULL)
    {
      g_autofree char *sql = g_strdup_printf (
          "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", f->pg_schema);

      PQclear (admin_exec (f, sql));
      PQfinish (f->admin);
      g_free (f->pg_schema);
    }
  if (f->dir != NULL)
    remove_dir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* Builders */

static JsonNode *
json (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static char *
to_text (JsonNode *node)
{
  return node != NULL ? json_to_string (node, FALSE) : g_strdup ("NULL");
}

static CxChat *
chat_new (const char *id, const char *queue, gint64 queued_at)
{
  CxChat *chat = g_new0 (CxChat, 1);

  chat->id = g_strdup (id);
  chat->service = g_strdup ("support");
  chat->queue = g_strdup (queue);
  chat->secure_key = g_strdup ("secret");
  chat->nickname = g_strdup ("Ann");
  chat->user_data = json ("{\"origin\":\"site\"}");
  chat->state = CX_CHAT_WAITING;
  chat->created_at = queued_at;
  chat->queued_at = queued_at;
  return chat;
}

static void
add_chat (CxStore *store, const char *id, const char *queue, gint64 queued_at)
{
  g_autoptr (CxChat) chat = chat_new (id, queue, queued_at);
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_store_create_chat (store, chat, &error));
  g_assert_no_error (error);
}

static CxChat *
get_chat (CxStore *store, const char *id)
{
  g_autoptr (GError) error = NULL;
  CxChat *chat = cx_store_get_chat (store, id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (chat);
  return chat;
}

static CxMessage *
text_message (const char *text, gint64 time)
{
  return cx_message_new (CX_MESSAGE_TEXT, CX_PARTY_CLIENT, "Ann", "client-1", text, time, NULL);
}

static GPtrArray *
text_messages (guint n, const char *prefix, gint64 time)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s %u", prefix, i);

      g_ptr_array_add (messages, text_message (text, time + i));
    }
  return messages;
}

static void
append_texts (CxStore *store, const char *chat_id, guint n, const char *prefix, gint64 time)
{
  g_autoptr (GPtrArray) messages = text_messages (n, prefix, time);
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_store_append (store, chat_id, messages, NULL, &error));
  g_assert_no_error (error);
}

static GPtrArray *
get_messages (CxStore *store, const char *chat_id, guint from, guint limit)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *messages = cx_store_get_messages (store, chat_id, from, limit, &error);

  g_assert_no_error (error);
  g_assert_nonnull (messages);
  return messages;
}

/* Asserts that @messages are exactly the indices first..last, in order. */
static void
assert_window (GPtrArray *messages, guint first, guint last)
{
  g_assert_cmpuint (messages->len, ==, last >= first ? last - first + 1 : 0);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpuint (((CxMessage *) g_ptr_array_index (messages, i))->index, ==, first + i);
}

static void
add_agent (CxStore *store, const char *username, guint capacity, const char *queues,
           CxAgentState state, gint64 since)
{
  g_auto (GStrv) queue_list = queues != NULL ? g_strsplit (queues, ",", -1) : NULL;
  g_autoptr (GError) error = NULL;
  CxAgent agent = {
    .username = (char *) username,
    .display_name = (char *) "Agent",
    .password_hash = (char *) "$6$salt$hash",
    .capacity = capacity,
    .queues = queue_list,
  };

  g_assert_true (cx_store_put_agent (store, &agent, &error));
  g_assert_no_error (error);
  g_assert_true (cx_store_set_agent_state (store, username, state, NULL, since, &error));
  g_assert_no_error (error);
}

static CxAgent *
get_agent (CxStore *store, const char *username)
{
  g_autoptr (GError) error = NULL;
  CxAgent *agent = cx_store_get_agent (store, username, &error);

  g_assert_no_error (error);
  g_assert_nonnull (agent);
  return agent;
}

static gint64
idle_since (CxStore *store, const char *username)
{
  g_autoptr (CxAgent) agent = get_agent (store, username);

  return agent->idle_since;
}

static guint
load_of (CxStore *store, const char *username)
{
  g_autoptr (CxAgent) agent = get_agent (store, username);

  return agent->load;
}

/* The agent offer_chat picks, or NULL; asserts the invitation it returns. */
static char *
offer (CxStore *store, const char *chat_id, gint64 now, gint64 skip_since)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxInvitation) invitation = NULL;

  invitation = cx_store_offer_chat (store, chat_id, now, now + 30000, skip_since, &error);
  g_assert_no_error (error);
  if (invitation == NULL)
    return NULL;

  g_assert_cmpstr (invitation->chat_id, ==, chat_id);
  g_assert_cmpint (invitation->state, ==, CX_INVITATION_PENDING);
  g_assert_cmpint (invitation->offered_at, ==, now);
  g_assert_cmpint (invitation->expires_at, ==, now + 30000);
  return g_strdup (invitation->agent);
}

static void
answer (CxStore *store, const char *chat_id, const char *agent, CxInvitationState state, gint64 now)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (cx_store_answer_invitation (store, chat_id, agent, state, now, &error));
  g_assert_no_error (error);
}

static void
end_chat (CxStore *store, const char *chat_id, gint64 now)
{
  g_autoptr (CxChat) chat = get_chat (store, chat_id);
  g_autoptr (GError) error = NULL;

  chat->state = CX_CHAT_ENDED;
  chat->ended_at = now;
  g_assert_true (cx_store_append (store, chat_id, NULL, chat, &error));
  g_assert_no_error (error);
}

/* Chats */

static void
test_chats (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = chat_new ("c1", "sales", 1000);
  g_autoptr (CxChat) read = NULL;
  g_autoptr (GPtrArray) open = NULL;
  g_autofree char *user_data = NULL;

  chat->alias = g_strdup ("alias");
  chat->user_id = g_strdup ("user-1");
  chat->first_name = g_strdup ("Ann");
  chat->last_name = g_strdup ("Lee");
  chat->email = g_strdup ("ann@example.com");
  chat->subject = g_strdup ("Billing");
  g_assert_true (cx_store_create_chat (f->store, chat, &error));
  g_assert_no_error (error);

  read = get_chat (f->store, "c1");
  g_assert_cmpstr (read->id, ==, "c1");
  g_assert_cmpstr (read->service, ==, "support");
  g_assert_cmpstr (read->queue, ==, "sales");
  g_assert_cmpstr (read->secure_key, ==, "secret");
  g_assert_cmpstr (read->alias, ==, "alias");
  g_assert_cmpstr (read->user_id, ==, "user-1");
  g_assert_cmpstr (read->nickname, ==, "Ann");
  g_assert_cmpstr (read->first_name, ==, "Ann");
  g_assert_cmpstr (read->last_name, ==, "Lee");
  g_assert_cmpstr (read->email, ==, "ann@example.com");
  g_assert_cmpstr (read->subject, ==, "Billing");
  user_data = to_text (read->user_data);
  g_assert_cmpstr (user_data, ==, "{\"origin\":\"site\"}");
  g_assert_cmpint (read->state, ==, CX_CHAT_WAITING);
  g_assert_null (read->agent);
  g_assert_cmpint (read->created_at, ==, 1000);
  g_assert_cmpint (read->queued_at, ==, 1000);
  g_assert_cmpint (read->accepted_at, ==, 0);
  g_assert_cmpint (read->ended_at, ==, 0);
  g_assert_cmpuint (read->next_index, ==, 1);

  /* The same id twice */
  g_assert_false (cx_store_create_chat (f->store, chat, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* Not found is NULL without an error */
  g_assert_null (cx_store_get_chat (f->store, "nope", &error));
  g_assert_no_error (error);

  /* A chat without user_data reads back with an empty object */
  g_clear_pointer (&chat, cx_chat_free);
  chat = chat_new ("c0", "sales", 900);
  g_clear_pointer (&chat->user_data, json_node_unref);
  g_assert_true (cx_store_create_chat (f->store, chat, &error));
  g_assert_no_error (error);
  g_clear_pointer (&read, cx_chat_free);
  read = get_chat (f->store, "c0");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (read->user_data));
  g_assert_cmpuint (json_object_get_size (json_node_get_object (read->user_data)), ==, 0);

  /* cx_chat_copy is deep */
  {
    g_autoptr (CxChat) copy = cx_chat_copy (read);

    g_assert_cmpstr (copy->id, ==, "c0");
    g_assert_true (copy->id != read->id);
    g_assert_true (copy->user_data != read->user_data);
  }

  add_chat (f->store, "c2", "support", 1100);
  add_chat (f->store, "c3", "sales", 1200);

  /* Open chats, oldest queued first, filtered */
  open = cx_store_list_open_chats (f->store, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (open->len, ==, 4);
  g_assert_cmpstr (((CxChat *) open->pdata[0])->id, ==, "c0");
  g_assert_cmpstr (((CxChat *) open->pdata[1])->id, ==, "c1");
  g_assert_cmpstr (((CxChat *) open->pdata[2])->id, ==, "c2");
  g_assert_cmpstr (((CxChat *) open->pdata[3])->id, ==, "c3");
  g_clear_pointer (&open, g_ptr_array_unref);

  open = cx_store_list_open_chats (f->store, "sales", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (open->len, ==, 3);
  g_clear_pointer (&open, g_ptr_array_unref);

  end_chat (f->store, "c0", 2000);
  open = cx_store_list_open_chats (f->store, "sales", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (open->len, ==, 2);
  g_assert_cmpstr (((CxChat *) open->pdata[0])->id, ==, "c1");
  g_clear_pointer (&open, g_ptr_array_unref);

  add_agent (f->store, "alice", 2, NULL, CX_AGENT_READY, 10);
  {
    g_autofree char *agent = offer (f->store, "c3", 3000, 0);

    g_assert_cmpstr (agent, ==, "alice");
    answer (f->store, "c3", "alice", CX_INVITATION_ACCEPTED, 3100);
  }
  open = cx_store_list_open_chats (f->store, NULL, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (open->len, ==, 1);
  g_assert_cmpstr (((CxChat *) open->pdata[0])->id, ==, "c3");
  g_clear_pointer (&open, g_ptr_array_unref);
  open = cx_store_list_open_chats (f->store, "support", "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (open->len, ==, 0);
}

static void
test_queue_position_and_stats (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint position = 99;
  guint waiting = 99;
  gint64 mean = 0;

  add_chat (f->store, "a", "sales", 100);
  add_chat (f->store, "b", "sales", 200);
  add_chat (f->store, "b2", "sales", 200); /* same time: the id breaks the tie */
  add_chat (f->store, "other", "support", 50);
  add_chat (f->store, "c", "sales", 300);

  g_assert_true (cx_store_queue_position (f->store, "a", &position, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (position, ==, 0);
  g_assert_true (cx_store_queue_position (f->store, "b", &position, &error));
  g_assert_cmpuint (position, ==, 1);
  g_assert_true (cx_store_queue_position (f->store, "b2", &position, &error));
  g_assert_cmpuint (position, ==, 2);
  g_assert_true (cx_store_queue_position (f->store, "c", &position, &error));
  g_assert_cmpuint (position, ==, 3);
  g_assert_true (cx_store_queue_position (f->store, "other", &position, &error));
  g_assert_cmpuint (position, ==, 0);

  /* The chats ahead leave the queue */
  end_chat (f->store, "a", 400);
  g_assert_true (cx_store_queue_position (f->store, "c", &position, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (position, ==, 2);

  g_assert_false (cx_store_queue_position (f->store, "nope", &position, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Handle times: 300 and 600 ms; "a" ended without being accepted and does not count */
  {
    g_autoptr (CxChat) done1 = chat_new ("done1", "sales", 10);
    g_autoptr (CxChat) done2 = chat_new ("done2", "sales", 20);

    done1->state = done2->state = CX_CHAT_ENDED;
    done1->accepted_at = 100;
    done1->ended_at = 400;
    done2->accepted_at = 200;
    done2->ended_at = 800;
    g_assert_true (cx_store_create_chat (f->store, done1, &error));
    g_assert_true (cx_store_create_chat (f->store, done2, &error));
    g_assert_no_error (error);
  }

  g_assert_true (cx_store_queue_stats (f->store, "sales", 0, &waiting, &mean, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (waiting, ==, 3);
  g_assert_cmpint (mean, ==, 450);

  g_assert_true (cx_store_queue_stats (f->store, "sales", 500, &waiting, &mean, &error));
  g_assert_cmpint (mean, ==, 600);

  g_assert_true (cx_store_queue_stats (f->store, "sales", 900, &waiting, &mean, &error));
  g_assert_cmpint (mean, ==, -1);

  g_assert_true (cx_store_queue_stats (f->store, "empty", 0, &waiting, &mean, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (waiting, ==, 0);
  g_assert_cmpint (mean, ==, -1);
}

/* Messages */

static void
test_messages_indices (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) first = text_messages (3, "first", 1000);
  g_autoptr (GPtrArray) second = NULL;
  g_autoptr (GPtrArray) read = NULL;
  g_autoptr (CxChat) chat = NULL;

  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1000);

  g_assert_true (cx_store_append (f->store, "c1", first, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < first->len; i++)
    g_assert_cmpuint (((CxMessage *) first->pdata[i])->index, ==, i + 1);

  /* Another chat has its own numbering */
  append_texts (f->store, "c2", 2, "other", 1000);

  second = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);
  g_ptr_array_add (second, cx_message_new (CX_MESSAGE_PARTICIPANT_JOINED, CX_PARTY_AGENT, "Bob",
                                           "agent-1", NULL, 2000, NULL));
  g_ptr_array_add (second,
                   cx_message_new (CX_MESSAGE_FILE_UPLOADED, CX_PARTY_CLIENT, "Ann", "client-1",
                                   "a.png", 2001, json ("{\"file-id\":\"f1\",\"file-size\":3}")));
  g_assert_true (cx_store_append (f->store, "c1", second, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (((CxMessage *) second->pdata[0])->index, ==, 4);
  g_assert_cmpuint (((CxMessage *) second->pdata[1])->index, ==, 5);

  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 6);

  /* Nothing to append changes nothing */
  g_assert_true (cx_store_append (f->store, "c1", NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&chat, cx_chat_free);
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 6);

  /* Windows: all, from the middle, limited, past the end */
  read = get_messages (f->store, "c1", 1, 0);
  assert_window (read, 1, 5);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 0, 0);
  assert_window (read, 1, 5);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 3, 0);
  assert_window (read, 3, 5);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 2, 2);
  assert_window (read, 2, 3);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 5, 10);
  assert_window (read, 5, 5);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 6, 0);
  g_assert_cmpuint (read->len, ==, 0);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c1", 1000, 0);
  g_assert_cmpuint (read->len, ==, 0);
  g_clear_pointer (&read, g_ptr_array_unref);
  read = get_messages (f->store, "c2", 1, 0);
  assert_window (read, 1, 2);
  g_clear_pointer (&read, g_ptr_array_unref);

  /* Every field comes back */
  read = get_messages (f->store, "c1", 1, 0);
  {
    CxMessage *text = read->pdata[1];
    CxMessage *joined = read->pdata[3];
    CxMessage *file = read->pdata[4];
    g_autofree char *user_data = to_text (file->user_data);

    g_assert_cmpint (text->type, ==, CX_MESSAGE_TEXT);
    g_assert_cmpint (text->from_type, ==, CX_PARTY_CLIENT);
    g_assert_cmpstr (text->from_nickname, ==, "Ann");
    g_assert_cmpstr (text->from_participant_id, ==, "client-1");
    g_assert_cmpstr (text->text, ==, "first 1");
    g_assert_cmpint (text->utc_time, ==, 1001);
    g_assert_null (text->user_data);

    g_assert_cmpint (joined->type, ==, CX_MESSAGE_PARTICIPANT_JOINED);
    g_assert_cmpint (joined->from_type, ==, CX_PARTY_AGENT);
    g_assert_cmpstr (joined->from_nickname, ==, "Bob");
    g_assert_null (joined->text);

    g_assert_cmpint (file->type, ==, CX_MESSAGE_FILE_UPLOADED);
    g_assert_cmpstr (user_data, ==, "{\"file-id\":\"f1\",\"file-size\":3}");
  }
  g_clear_pointer (&read, g_ptr_array_unref);

  /* An unknown chat: NULL, no error */
  g_assert_null (cx_store_get_messages (f->store, "nope", 1, 0, &error));
  g_assert_no_error (error);
}

static void
test_messages_atomic (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = text_messages (3, "hello", 5000);
  g_autoptr (GPtrArray) read = NULL;
  g_autoptr (CxChat) update = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *user_data = NULL;

  add_chat (f->store, "c1", "sales", 1000);
  append_texts (f->store, "c1", 2, "before", 2000);
  add_agent (f->store, "alice", 1, NULL, CX_AGENT_READY, 10);

  /* An unknown chat: NOT_FOUND, the messages keep index 0, nothing written */
  g_assert_false (cx_store_append (f->store, "nope", messages, NULL, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpuint (((CxMessage *) messages->pdata[i])->index, ==, 0);
  g_assert_null (cx_store_get_chat (f->store, "nope", &error));
  g_assert_no_error (error);

  /* An update that cannot be written (no such agent) takes the messages back with it */
  update = get_chat (f->store, "c1");
  update->state = CX_CHAT_ACTIVE;
  g_free (update->agent);
  update->agent = g_strdup ("ghost");
  update->accepted_at = 6000;
  g_assert_false (cx_store_append (f->store, "c1", messages, update, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpuint (((CxMessage *) messages->pdata[i])->index, ==, 0);
  chat = get_chat (f->store, "c1");
  g_assert_cmpint (chat->state, ==, CX_CHAT_WAITING);
  g_assert_null (chat->agent);
  g_assert_cmpuint (chat->next_index, ==, 3);
  read = get_messages (f->store, "c1", 1, 0);
  assert_window (read, 1, 2);
  g_clear_pointer (&read, g_ptr_array_unref);
  g_clear_pointer (&chat, cx_chat_free);

  /* The same with a real agent: messages and update land together */
  g_free (update->agent);
  update->agent = g_strdup ("alice");
  g_clear_pointer (&update->user_data, json_node_unref);
  update->user_data = json ("{\"topic\":\"refund\"}");
  g_assert_true (cx_store_append (f->store, "c1", messages, update, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpuint (((CxMessage *) messages->pdata[i])->index, ==, 3 + i);
  chat = get_chat (f->store, "c1");
  g_assert_cmpint (chat->state, ==, CX_CHAT_ACTIVE);
  g_assert_cmpstr (chat->agent, ==, "alice");
  g_assert_cmpint (chat->accepted_at, ==, 6000);
  g_assert_cmpuint (chat->next_index, ==, 6);
  user_data = to_text (chat->user_data);
  g_assert_cmpstr (user_data, ==, "{\"topic\":\"refund\"}");
  g_assert_cmpuint (load_of (f->store, "alice"), ==, 1);
  read = get_messages (f->store, "c1", 1, 0);
  assert_window (read, 1, 5);
  g_clear_pointer (&read, g_ptr_array_unref);

  /* An update alone; NULL user_data keeps what is there */
  g_clear_pointer (&update->user_data, json_node_unref);
  update->state = CX_CHAT_ENDED;
  update->ended_at = 9000;
  g_assert_true (cx_store_append (f->store, "c1", NULL, update, &error));
  g_assert_no_error (error);
  g_clear_pointer (&chat, cx_chat_free);
  chat = get_chat (f->store, "c1");
  g_assert_cmpint (chat->state, ==, CX_CHAT_ENDED);
  g_assert_cmpint (chat->ended_at, ==, 9000);
  g_assert_cmpuint (chat->next_index, ==, 6);
  g_clear_pointer (&user_data, g_free);
  user_data = to_text (chat->user_data);
  g_assert_cmpstr (user_data, ==, "{\"topic\":\"refund\"}");

  /* Its agent has nothing left: idle from the end of the chat */
  g_assert_cmpuint (load_of (f->store, "alice"), ==, 0);
  g_assert_cmpint (idle_since (f->store, "alice"), ==, 9000);
}

/* Files */

static void
test_files (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxFile) read = NULL;
  guint count = 99;
  guint64 size = 99;
  CxFile file = {
    .id = (char *) "f1",
    .chat_id = (char *) "c1",
    .name = (char *) "photo.png",
    .content_type = (char *) "image/png",
    .uploaded_at = 1234,
  };

  add_chat (f->store, "c1", "sales", 1000);

  g_assert_true (cx_store_file_usage (f->store, "c1", &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpuint (size, ==, 0);

  file.data = g_bytes_new_static ("\x89PNG\0data", 9);
  g_assert_true (cx_store_add_file (f->store, &file, &error));
  g_assert_no_error (error);

  /* The same id again */
  g_assert_false (cx_store_add_file (f->store, &file, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* A chat that does not exist */
  file.chat_id = (char *) "nope";
  g_assert_false (cx_store_add_file (f->store, &file, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  file.chat_id = (char *) "c1";

  /* An empty file is a file */
  g_bytes_unref (file.data);
  file.data = g_bytes_new_static ("", 0);
  file.id = (char *) "f2";
  g_assert_true (cx_store_add_file (f->store, &file, &error));
  g_assert_no_error (error);
  g_bytes_unref (file.data);

  read = cx_store_get_file (f->store, "c1", "f1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (read);
  g_assert_cmpstr (read->id, ==, "f1");
  g_assert_cmpstr (read->chat_id, ==, "c1");
  g_assert_cmpstr (read->name, ==, "photo.png");
  g_assert_cmpstr (read->content_type, ==, "image/png");
  g_assert_cmpint (read->uploaded_at, ==, 1234);
  g_assert_cmpmem (g_bytes_get_data (read->data, NULL), g_bytes_get_size (read->data),
                   "\x89PNG\0data", 9);
  g_clear_pointer (&read, cx_file_free);

  read = cx_store_get_file (f->store, "c1", "f2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (read->data), ==, 0);
  g_clear_pointer (&read, cx_file_free);

  /* Not found, and not found in another chat */
  g_assert_null (cx_store_get_file (f->store, "c1", "f3", &error));
  g_assert_no_error (error);
  g_assert_null (cx_store_get_file (f->store, "c2", "f1", &error));
  g_assert_no_error (error);

  g_assert_true (cx_store_file_usage (f->store, "c1", &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 9);
}

/* Agents and sessions */

static void
test_agents (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  CxAgent *listed;
  const char *queues[] = { "sales", "billing", "sales", NULL };
  CxAgent config = {
    .username = (char *) "bob",
    .display_name = (char *) "Bob",
    .password_hash = (char *) "$6$a$b",
    .capacity = 3,
    .queues = (char **) queues,
  };

  g_assert_true (cx_store_put_agent (f->store, &config, &error));
  g_assert_no_error (error);

  agent = get_agent (f->store, "bob");
  g_assert_cmpstr (agent->username, ==, "bob");
  g_assert_cmpstr (agent->display_name, ==, "Bob");
  g_assert_cmpstr (agent->password_hash, ==, "$6$a$b");
  g_assert_cmpuint (agent->capacity, ==, 3);
  g_assert_nonnull (agent->queues);
  g_assert_cmpuint (g_strv_length (agent->queues), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) agent->queues, "sales"));
  g_assert_true (g_strv_contains ((const char *const *) agent->queues, "billing"));
  g_assert_cmpint (agent->state, ==, CX_AGENT_OFFLINE);
  g_assert_cmpuint (agent->load, ==, 0);
  g_clear_pointer (&agent, cx_agent_free);

  g_assert_null (cx_store_get_agent (f->store, "nobody", &error));
  g_assert_no_error (error);

  /* State: ready sets idle_since, ready again does not move it */
  g_assert_true (cx_store_set_agent_state (f->store, "bob", CX_AGENT_READY, NULL, 100, &error));
  g_assert_no_error (error);
  g_assert_true (cx_store_set_agent_state (f->store, "bob", CX_AGENT_READY, NULL, 200, &error));
  agent = get_agent (f->store, "bob");
  g_assert_cmpint (agent->state, ==, CX_AGENT_READY);
  g_assert_cmpint (agent->state_since, ==, 100);
  g_assert_cmpint (agent->idle_since, ==, 100);
  g_clear_pointer (&agent, cx_agent_free);

  g_assert_true (
      cx_store_set_agent_state (f->store, "bob", CX_AGENT_NOT_READY, "Lunch", 300, &error));
  agent = get_agent (f->store, "bob");
  g_assert_cmpint (agent->state, ==, CX_AGENT_NOT_READY);
  g_assert_cmpstr (agent->reason, ==, "Lunch");
  g_assert_cmpint (agent->state_since, ==, 300);
  g_assert_cmpint (agent->idle_since, ==, 100);
  g_clear_pointer (&agent, cx_agent_free);

  g_assert_false (cx_store_set_agent_state (f->store, "nobody", CX_AGENT_READY, NULL, 1, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The configuration changes, the state stays; no queues = every queue */
  config.display_name = (char *) "Robert";
  config.capacity = 5;
  config.queues = NULL;
  config.state = CX_AGENT_OFFLINE;
  g_assert_true (cx_store_put_agent (f->store, &config, &error));
  g_assert_no_error (error);
  agent = get_agent (f->store, "bob");
  g_assert_cmpstr (agent->display_name, ==, "Robert");
  g_assert_cmpuint (agent->capacity, ==, 5);
  g_assert_null (agent->queues);
  g_assert_cmpint (agent->state, ==, CX_AGENT_NOT_READY);
  g_assert_cmpstr (agent->reason, ==, "Lunch");
  g_clear_pointer (&agent, cx_agent_free);

  /* Load: active chats plus pending invitations, whatever the state */
  add_agent (f->store, "amy", 2, "sales", CX_AGENT_READY, 50);
  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1001);
  {
    g_autofree char *first = offer (f->store, "c1", 2000, 0);
    g_autofree char *second = NULL;

    g_assert_cmpstr (first, ==, "amy");
    answer (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2100);
    second = offer (f->store, "c2", 2200, 0);
    g_assert_cmpstr (second, ==, "amy");
  }
  g_assert_true (cx_store_set_agent_state (f->store, "amy", CX_AGENT_OFFLINE, NULL, 2300, &error));
  g_assert_no_error (error);

  agents = cx_store_list_agents (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agents->len, ==, 2);
  listed = agents->pdata[0];
  g_assert_cmpstr (listed->username, ==, "amy");
  g_assert_cmpint (listed->state, ==, CX_AGENT_OFFLINE);
  g_assert_cmpuint (listed->load, ==, 2);
  g_assert_cmpstr (listed->queues[0], ==, "sales");
  g_assert_null (listed->queues[1]);
  listed = agents->pdata[1];
  g_assert_cmpstr (listed->username, ==, "bob");
  g_assert_cmpuint (listed->load, ==, 0);
  g_assert_null (listed->queues);

  /* Going offline kept the chat */
  {
    g_autoptr (CxChat) chat = get_chat (f->store, "c1");

    g_assert_cmpint (chat->state, ==, CX_CHAT_ACTIVE);
    g_assert_cmpstr (chat->agent, ==, "amy");
  }
}

static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  char *username;

  add_agent (f->store, "alice", 1, NULL, CX_AGENT_OFFLINE, 0);

  g_assert_true (cx_store_create_session (f->store, "hash-1", "alice", 5000, &error));
  g_assert_no_error (error);

  username = cx_store_lookup_session (f->store, "hash-1", 4999, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (username, ==, "alice");
  g_free (username);

  /* Expired at expires_at */
  g_assert_null (cx_store_lookup_session (f->store, "hash-1", 5000, &error));
  g_assert_no_error (error);
  g_assert_null (cx_store_lookup_session (f->store, "hash-2", 0, &error));
  g_assert_no_error (error);

  g_assert_false (cx_store_create_session (f->store, "hash-1", "alice", 9000, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (cx_store_create_session (f->store, "hash-3", "nobody", 9000, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (cx_store_delete_session (f->store, "hash-1", &error));
  g_assert_no_error (error);
  g_assert_null (cx_store_lookup_session (f->store, "hash-1", 0, &error));
  g_assert_no_error (error);
  /* Signing out twice is fine */
  g_assert_true (cx_store_delete_session (f->store, "hash-1", &error));
  g_assert_no_error (error);
}

/* Routing */

static void
test_routing_longest_idle (Fixture *f, gconstpointer data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autofree char *fourth = NULL;

  add_agent (f->store, "carol", 1, NULL, CX_AGENT_READY, 300);
  add_agent (f->store, "bob", 1, NULL, CX_AGENT_READY, 100);
  add_agent (f->store, "amy", 1, NULL, CX_AGENT_READY, 100); /* same idle time: by name */
  add_agent (f->store, "dave", 1, NULL, CX_AGENT_READY, 200);
  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1001);
  add_chat (f->store, "c3", "sales", 1002);
  add_chat (f->store, "c4", "sales", 1003);

  first = offer (f->store, "c1", 2000, 0);
  second = offer (f->store, "c2", 2000, 0);
  third = offer (f->store, "c3", 2000, 0);
  fourth = offer (f->store, "c4", 2000, 0);
  g_assert_cmpstr (first, ==, "amy");
  g_assert_cmpstr (second, ==, "bob");
  g_assert_cmpstr (third, ==, "dave");
  g_assert_cmpstr (fourth, ==, "carol");
}

static void
test_routing_capacity (Fixture *f, gconstpointer data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autofree char *fourth = NULL;

  add_agent (f->store, "amy", 2, NULL, CX_AGENT_READY, 100);
  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1001);
  add_chat (f->store, "c3", "sales", 1002);

  /* Two pending invitations fill a capacity of two */
  first = offer (f->store, "c1", 2000, 0);
  second = offer (f->store, "c2", 2000, 0);
  g_assert_cmpstr (first, ==, "amy");
  g_assert_cmpstr (second, ==, "amy");
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 2);
  g_assert_null (offer (f->store, "c3", 2000, 0));

  /* Accepted chats count the same */
  answer (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2100);
  answer (f->store, "c2", "amy", CX_INVITATION_ACCEPTED, 2100);
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 2);
  g_assert_null (offer (f->store, "c3", 2200, 0));

  /* One ends: room again, but the agent is not idle */
  end_chat (f->store, "c1", 3000);
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 1);
  g_assert_cmpint (idle_since (f->store, "amy"), ==, 100);
  third = offer (f->store, "c3", 3100, 0);
  g_assert_cmpstr (third, ==, "amy");

  /* A capacity of zero takes nothing */
  add_agent (f->store, "zed", 0, NULL, CX_AGENT_READY, 1);
  add_chat (f->store, "c4", "sales", 1003);
  fourth = offer (f->store, "c4", 3200, 0);
  g_assert_null (fourth);
}

static void
test_routing_queues (Fixture *f, gconstpointer data)
{
  g_autofree char *sales = NULL;
  g_autofree char *billing = NULL;
  g_autofree char *other = NULL;

  add_agent (f->store, "amy", 5, "billing", CX_AGENT_READY, 100);
  add_agent (f->store, "bob", 5, "sales,billing", CX_AGENT_READY, 200);
  add_agent (f->store, "carol", 5, NULL, CX_AGENT_READY, 300);
  add_chat (f->store, "s", "sales", 1000);
  add_chat (f->store, "b", "billing", 1000);
  add_chat (f->store, "o", "other", 1000);

  sales = offer (f->store, "s", 2000, 0);
  billing = offer (f->store, "b", 2000, 0);
  other = offer (f->store, "o", 2000, 0);
  g_assert_cmpstr (sales, ==, "bob");
  g_assert_cmpstr (billing, ==, "amy");
  g_assert_cmpstr (other, ==, "carol");
}

static void
test_routing_skip (Fixture *f, gconstpointer data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autofree char *fourth = NULL;

  add_agent (f->store, "amy", 1, NULL, CX_AGENT_READY, 100);
  add_agent (f->store, "bob", 1, NULL, CX_AGENT_READY, 200);
  add_chat (f->store, "c1", "sales", 1000);

  first = offer (f->store, "c1", 2000, 0);
  g_assert_cmpstr (first, ==, "amy");
  answer (f->store, "c1", "amy", CX_INVITATION_DECLINED, 2500);
  /* Declining with nothing else left makes amy idle from then */
  g_assert_cmpint (idle_since (f->store, "amy"), ==, 2500);

  /* Skipped while her decline (offered at 2000) is at or after skip_since... */
  second = offer (f->store, "c1", 3000, 2000);
  g_assert_cmpstr (second, ==, "bob");
  answer (f->store, "c1", "bob", CX_INVITATION_EXPIRED, 33000);
  g_assert_cmpint (idle_since (f->store, "bob"), ==, 33000);
  /* ...nobody is left for this chat... */
  g_assert_null (offer (f->store, "c1", 34000, 1000));

  /* ...and each counts again once skip_since is after the offer it declined or missed */
  third = offer (f->store, "c1", 35000, 2001);
  g_assert_cmpstr (third, ==, "amy");
  answer (f->store, "c1", "amy", CX_INVITATION_WITHDRAWN, 35500);
  fourth = offer (f->store, "c1", 36000, 3001);
  g_assert_cmpstr (fourth, ==, "bob"); /* idle since 33000, amy since 35500 */

  /* Skipping is per chat: bob is full, amy takes another one */
  add_chat (f->store, "c2", "sales", 1000);
  {
    g_autofree char *other = offer (f->store, "c2", 36100, 0);

    g_assert_cmpstr (other, ==, "amy");
  }
}

static void
test_routing_pending (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autofree char *first = NULL;
  g_autofree char *next = NULL;

  add_chat (f->store, "c1", "sales", 1000);

  /* Nobody ready */
  g_assert_null (offer (f->store, "c1", 1500, 0));
  add_agent (f->store, "amy", 3, NULL, CX_AGENT_NOT_READY, 100);
  add_agent (f->store, "off", 3, NULL, CX_AGENT_OFFLINE, 100);
  g_assert_null (offer (f->store, "c1", 1600, 0));

  add_agent (f->store, "bob", 3, NULL, CX_AGENT_READY, 200);
  add_agent (f->store, "carol", 3, NULL, CX_AGENT_READY, 300);
  first = offer (f->store, "c1", 2000, 0);
  g_assert_cmpstr (first, ==, "bob");

  /* Not twice while pending */
  g_assert_null (offer (f->store, "c1", 2001, 0));
  invitations = cx_store_list_invitations (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invitations->len, ==, 1);
  {
    CxInvitation *invitation = invitations->pdata[0];

    g_assert_cmpstr (invitation->chat_id, ==, "c1");
    g_assert_cmpstr (invitation->agent, ==, "bob");
    g_assert_cmpint (invitation->state, ==, CX_INVITATION_PENDING);
    g_assert_cmpint (invitation->offered_at, ==, 2000);
    g_assert_cmpint (invitation->expires_at, ==, 32000);
  }
  g_clear_pointer (&invitations, g_ptr_array_unref);

  /* An unknown chat: NULL, no error */
  g_assert_null (offer (f->store, "nope", 2002, 0));

  /* Expired: the next agent gets it */
  answer (f->store, "c1", "bob", CX_INVITATION_EXPIRED, 32000);
  next = offer (f->store, "c1", 32001, 2000);
  g_assert_cmpstr (next, ==, "carol");
  answer (f->store, "c1", "carol", CX_INVITATION_ACCEPTED, 32500);

  /* Not waiting any more */
  g_assert_null (offer (f->store, "c1", 33000, 0));

  /* Pending invitations of one agent, oldest first */
  add_chat (f->store, "c2", "sales", 1000);
  add_chat (f->store, "c3", "sales", 1000);
  {
    g_autoptr (CxInvitation) i2 = NULL;
    g_autoptr (CxInvitation) i3 = NULL;

    i3 = cx_store_invite_agent (f->store, "c3", "amy", 40000, 50000, &error);
    g_assert_no_error (error);
    i2 = cx_store_invite_agent (f->store, "c2", "amy", 41000, 50000, &error);
    g_assert_no_error (error);
  }
  invitations = cx_store_list_invitations (f->store, "amy", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invitations->len, ==, 2);
  g_assert_cmpstr (((CxInvitation *) invitations->pdata[0])->chat_id, ==, "c3");
  g_assert_cmpstr (((CxInvitation *) invitations->pdata[1])->chat_id, ==, "c2");
  g_clear_pointer (&invitations, g_ptr_array_unref);
  invitations = cx_store_list_invitations (f->store, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invitations->len, ==, 0);
}

static void
test_routing_answer (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *agent = NULL;

  add_agent (f->store, "amy", 2, NULL, CX_AGENT_READY, 100);
  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1000);

  /* Never offered */
  g_assert_false (
      cx_store_answer_invitation (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 1500, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  agent = offer (f->store, "c1", 2000, 0);
  g_assert_cmpstr (agent, ==, "amy");
  answer (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2100);
  chat = get_chat (f->store, "c1");
  g_assert_cmpint (chat->state, ==, CX_CHAT_ACTIVE);
  g_assert_cmpstr (chat->agent, ==, "amy");
  g_assert_cmpint (chat->accepted_at, ==, 2100);

  /* Not pending any more, whatever the answer */
  g_assert_false (
      cx_store_answer_invitation (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2200, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (
      cx_store_answer_invitation (f->store, "c1", "amy", CX_INVITATION_DECLINED, 2200, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* Declining with a chat still open does not make the agent idle */
  g_clear_pointer (&agent, g_free);
  agent = offer (f->store, "c2", 3000, 0);
  g_assert_cmpstr (agent, ==, "amy");
  answer (f->store, "c2", "amy", CX_INVITATION_DECLINED, 3100);
  g_assert_cmpint (idle_since (f->store, "amy"), ==, 100);
  g_clear_pointer (&chat, cx_chat_free);
  chat = get_chat (f->store, "c2");
  g_assert_cmpint (chat->state, ==, CX_CHAT_WAITING);
  g_assert_null (chat->agent);
}

static void
test_routing_invite (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxInvitation) invitation = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *agent = NULL;

  add_agent (f->store, "amy", 1, NULL, CX_AGENT_READY, 100);
  add_agent (f->store, "bob", 0, "elsewhere", CX_AGENT_NOT_READY, 200);
  add_chat (f->store, "c1", "sales", 1000);

  agent = offer (f->store, "c1", 2000, 0);
  g_assert_cmpstr (agent, ==, "amy");

  /* One invitation at a time */
  invitation = cx_store_invite_agent (f->store, "c1", "bob", 2100, 3000, &error);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_assert_null (invitation);
  g_clear_error (&error);

  answer (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2200);

  /* Not to the agent who has it, not to nobody, not for no chat */
  invitation = cx_store_invite_agent (f->store, "c1", "amy", 2300, 3000, &error);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  invitation = cx_store_invite_agent (f->store, "c1", "ghost", 2300, 3000, &error);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  invitation = cx_store_invite_agent (f->store, "nope", "bob", 2300, 3000, &error);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A transfer to an agent who is not ready, has no room and does not serve the queue */
  invitation = cx_store_invite_agent (f->store, "c1", "bob", 2400, 3000, &error);
  g_assert_no_error (error);
  g_assert_nonnull (invitation);
  g_assert_cmpstr (invitation->chat_id, ==, "c1");
  g_assert_cmpstr (invitation->agent, ==, "bob");
  g_assert_cmpint (invitation->state, ==, CX_INVITATION_PENDING);
  g_assert_cmpint (invitation->offered_at, ==, 2400);
  g_assert_cmpint (invitation->expires_at, ==, 3000);
  g_assert_cmpuint (load_of (f->store, "bob"), ==, 1);

  /* Accepted: the chat moves, amy has nothing left and is idle from then */
  answer (f->store, "c1", "bob", CX_INVITATION_ACCEPTED, 2500);
  chat = get_chat (f->store, "c1");
  g_assert_cmpint (chat->state, ==, CX_CHAT_ACTIVE);
  g_assert_cmpstr (chat->agent, ==, "bob");
  g_assert_cmpint (chat->accepted_at, ==, 2500);
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 0);
  g_assert_cmpint (idle_since (f->store, "amy"), ==, 2500);

  /* An ended chat cannot be offered */
  end_chat (f->store, "c1", 2600);
  g_clear_pointer (&invitation, cx_invitation_free);
  invitation = cx_store_invite_agent (f->store, "c1", "amy", 2700, 3000, &error);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_assert_null (invitation);
}

static void
test_routing_withdraw (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (CxChat) update = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  add_agent (f->store, "amy", 1, NULL, CX_AGENT_READY, 100);
  add_agent (f->store, "bob", 1, "billing", CX_AGENT_READY, 200);
  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1000);

  /* The customer leaves while the chat is offered */
  first = offer (f->store, "c1", 2000, 0);
  g_assert_cmpstr (first, ==, "amy");
  end_chat (f->store, "c1", 2500);
  invitations = cx_store_list_invitations (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invitations->len, ==, 0);
  g_clear_pointer (&invitations, g_ptr_array_unref);
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 0);
  g_assert_cmpint (idle_since (f->store, "amy"), ==, 2500);
  g_assert_false (
      cx_store_answer_invitation (f->store, "c1", "amy", CX_INVITATION_ACCEPTED, 2600, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  /* The chat moves to another queue while offered */
  second = offer (f->store, "c2", 3000, 0);
  g_assert_cmpstr (second, ==, "amy");
  update = get_chat (f->store, "c2");
  g_free (update->queue);
  update->queue = g_strdup ("billing");
  update->queued_at = 3100;
  g_assert_true (cx_store_append (f->store, "c2", NULL, update, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (load_of (f->store, "amy"), ==, 0);
  g_clear_pointer (&second, g_free);
  second = offer (f->store, "c2", 3200, 0);
  g_assert_cmpstr (second, ==, "bob");
}

/* Callbacks */

static CxCallback *
callback_new (const char *id, const char *number, gint64 desired_time)
{
  CxCallback *callback = g_new0 (CxCallback, 1);

  callback->id = g_strdup (id);
  callback->service = g_strdup ("callback-us");
  callback->customer_number = g_strdup (number);
  callback->state = g_strdup ("SCHEDULED");
  callback->desired_time = desired_time;
  callback->expiration_time = desired_time + 3600000;
  callback->created_at = 1000;
  callback->properties = json ("{\"_customer_name\":\"Ann\",\"subject\":\"refund\","
                               "\"priority\":2,\"vip\":true}");
  return callback;
}

static gboolean
create_callback (CxStore *store, const char *id, const char *number, gint64 desired_time,
                 GError **error)
{
  g_autoptr (CxCallback) callback = callback_new (id, number, desired_time);

  /* Slots are one hour from 0, two callbacks each */
  return cx_store_create_callback (store, callback, desired_time / 3600000 * 3600000,
                                   desired_time / 3600000 * 3600000 + 3600000, 2, error);
}

static void
assert_ids (GPtrArray *callbacks, const char *ids)
{
  g_autoptr (GString) found = g_string_new (NULL);

  for (guint i = 0; i < callbacks->len; i++)
    {
      if (i > 0)
        g_string_append_c (found, ',');
      g_string_append (found, ((CxCallback *) callbacks->pdata[i])->id);
    }
  g_assert_cmpstr (found->str, ==, ids);
}

static void
assert_find (CxStore *store, const char *service, const char *key, const char *value,
             const char *ids)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) callbacks = cx_store_find_callbacks (store, service, key, value, &error);

  g_assert_no_error (error);
  g_assert_nonnull (callbacks);
  assert_ids (callbacks, ids);
}

static void
test_callbacks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxCallback) callback = NULL;
  g_autofree char *properties = NULL;
  const gint64 hour = 3600000;
  guint count = 99;

  /* Slot [hour, 2 hours) holds two */
  g_assert_true (create_callback (f->store, "cb1", "+15550001", hour + 10, &error));
  g_assert_no_error (error);
  g_assert_true (create_callback (f->store, "cb2", "+15550002", hour + 20, &error));
  g_assert_no_error (error);
  g_assert_false (create_callback (f->store, "cb3", "+15550003", hour + 30, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL);
  g_clear_error (&error);
  g_assert_null (cx_store_get_callback (f->store, "cb3", &error));
  g_assert_no_error (error);

  /* Another slot, another service, and no capacity at all are not this slot */
  g_assert_true (create_callback (f->store, "cb4", "+15550001", 2 * hour + 10, &error));
  g_assert_no_error (error);
  callback = callback_new ("cb5", "+15550005", hour + 40);
  g_free (callback->service);
  callback->service = g_strdup ("callback-eu");
  g_assert_true (cx_store_create_callback (f->store, callback, hour, 2 * hour, 2, &error));
  g_assert_no_error (error);
  g_clear_pointer (&callback, cx_callback_free);

  /* The same id twice */
  g_assert_false (create_callback (f->store, "cb4", "+15550001", 5 * hour, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  g_assert_true (
      cx_store_count_callbacks (f->store, "callback-us", hour, 2 * hour, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);

  /* Read back */
  callback = cx_store_get_callback (f->store, "cb1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (callback);
  g_assert_cmpstr (callback->id, ==, "cb1");
  g_assert_cmpstr (callback->service, ==, "callback-us");
  g_assert_cmpstr (callback->customer_number, ==, "+15550001");
  g_assert_cmpstr (callback->state, ==, "SCHEDULED");
  g_assert_cmpint (callback->desired_time, ==, hour + 10);
  g_assert_cmpint (callback->expiration_time, ==, 2 * hour + 10);
  g_assert_cmpint (callback->created_at, ==, 1000);
  properties = to_text (callback->properties);
  g_assert_cmpstr (properties, ==,
                   "{\"_customer_name\":\"Ann\",\"subject\":\"refund\",\"priority\":2,"
                   "\"vip\":true}");
  {
    g_autoptr (CxCallback) copy = cx_callback_copy (callback);

    g_assert_cmpstr (copy->id, ==, "cb1");
    g_assert_true (copy->properties != callback->properties);
  }
  g_clear_pointer (&callback, cx_callback_free);

  /* Cancelled ones leave room */
  callback = cx_store_get_callback (f->store, "cb2", &error);
  g_free (callback->state);
  callback->state = g_strdup ("CANCELLED");
  g_assert_true (cx_store_update_callback (f->store, callback, hour, 2 * hour, 2, &error));
  g_assert_no_error (error);
  g_clear_pointer (&callback, cx_callback_free);
  g_assert_true (create_callback (f->store, "cb3", "+15550003", hour + 30, &error));
  g_assert_no_error (error);

  /* Without a capacity, no check: a third one in the full slot */
  callback = callback_new ("cb6", "+15550006", hour + 50);
  g_assert_true (cx_store_create_callback (f->store, callback, hour, 2 * hour, 0, &error));
  g_assert_no_error (error);
  g_clear_pointer (&callback, cx_callback_free);

  /* Rescheduling into the full slot fails and changes nothing */
  callback = cx_store_get_callback (f->store, "cb4", &error);
  callback->desired_time = hour + 5;
  json_object_set_string_member (json_node_get_object (callback->properties), "subject", "changed");
  g_assert_false (cx_store_update_callback (f->store, callback, hour, 2 * hour, 2, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FULL);
  g_clear_error (&error);
  g_clear_pointer (&callback, cx_callback_free);
  callback = cx_store_get_callback (f->store, "cb4", &error);
  g_assert_cmpint (callback->desired_time, ==, 2 * hour + 10);
  g_assert_cmpstr (
      json_object_get_string_member (json_node_get_object (callback->properties), "subject"), ==,
      "refund");
  assert_find (f->store, NULL, "subject", "changed", "");

  /* Moving within its own slot: itself not counted */
  callback->desired_time = 2 * hour + 50;
  json_object_set_string_member (json_node_get_object (callback->properties), "subject", "moved");
  g_assert_true (cx_store_update_callback (f->store, callback, 2 * hour, 3 * hour, 1, &error));
  g_assert_no_error (error);
  g_clear_pointer (&callback, cx_callback_free);
  callback = cx_store_get_callback (f->store, "cb4", &error);
  g_assert_cmpint (callback->desired_time, ==, 2 * hour + 50);
  g_clear_pointer (&callback, cx_callback_free);

  /* Without a capacity, no check */
  callback = cx_store_get_callback (f->store, "cb6", &error);
  callback->desired_time = hour + 60;
  g_assert_true (cx_store_update_callback (f->store, callback, hour, 2 * hour, 0, &error));
  g_assert_no_error (error);
  g_clear_pointer (&callback, cx_callback_free);

  /* Unknown */
  callback = callback_new ("nope", "+1", hour);
  g_assert_false (cx_store_update_callback (f->store, callback, hour, 2 * hour, 2, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&callback, cx_callback_free);

  /* Finding them: by desired time, by phone, by state, by id, by a property, by any value */
  assert_find (f->store, NULL, NULL, NULL, "cb1,cb2,cb3,cb5,cb6,cb4");
  assert_find (f->store, "callback-us", NULL, NULL, "cb1,cb2,cb3,cb6,cb4");
  assert_find (f->store, "callback-us", "_customer_number", "+15550001", "cb1,cb4");
  assert_find (f->store, NULL, "_customer_number", "+15550005", "cb5");
  assert_find (f->store, "callback-us", "_customer_number", "+15550005", "");
  assert_find (f->store, NULL, "_callback_state", "CANCELLED", "cb2");
  assert_find (f->store, "callback-us", "_callback_state", "SCHEDULED", "cb1,cb3,cb6,cb4");
  assert_find (f->store, NULL, "_id", "cb3", "cb3");
  assert_find (f->store, NULL, "subject", "moved", "cb4");
  assert_find (f->store, NULL, "subject", NULL, "cb1,cb2,cb3,cb5,cb6,cb4");
  assert_find (f->store, NULL, "priority", "2", "cb1,cb2,cb3,cb5,cb6,cb4");
  assert_find (f->store, NULL, "vip", "true", "cb1,cb2,cb3,cb5,cb6,cb4");
  assert_find (f->store, NULL, "missing", NULL, "");
  assert_find (f->store, NULL, NULL, "+15550002", "cb2");
  assert_find (f->store, NULL, NULL, "CANCELLED", "cb2");
  assert_find (f->store, NULL, NULL, "moved", "cb4");

  g_assert_true (
      cx_store_count_callbacks (f->store, "callback-us", hour, 2 * hour, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3); /* cb1, cb3, cb6; cb2 is cancelled */
  g_assert_true (cx_store_count_callbacks (f->store, "callback-us", 0, hour, &count, &error));
  g_assert_cmpuint (count, ==, 0);
}

/* The file itself */

static int
raw_user_version (const char *path, int set)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (set >= 0)
    {
      g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d", set);

      g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
    }
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  return version;
}

static void
test_file_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (CxAgent) agent = NULL;
  g_autofree char *empty = g_build_filename (f->dir, "empty.db", NULL);
  CxStore *store;

  /* An empty file is migrated to the current schema */
  g_assert_true (g_file_set_contents (empty, "", 0, &error));
  g_assert_no_error (error);
  store = open_store (empty);
  g_assert_cmpstr (cx_store_sqlite_get_path (CX_STORE_SQLITE (store)), ==, empty);
  g_assert_finalize_object (store);
  g_assert_cmpint (raw_user_version (empty, -1), ==, CX_STORE_SQLITE_SCHEMA_VERSION);

  /* So was the fixture's new file; write, close, reopen */
  add_chat (f->store, "c1", "sales", 1000);
  append_texts (f->store, "c1", 4, "kept", 2000);
  add_agent (f->store, "amy", 2, "sales", CX_AGENT_READY, 100);
  g_assert_finalize_object (f->store);
  f->store = NULL;
  g_assert_cmpint (raw_user_version (f->path, -1), ==, CX_STORE_SQLITE_SCHEMA_VERSION);

  f->store = open_store (f->path);
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 5);
  messages = get_messages (f->store, "c1", 1, 0);
  assert_window (messages, 1, 4);
  agent = get_agent (f->store, "amy");
  g_assert_cmpint (agent->state, ==, CX_AGENT_READY);
  g_assert_cmpstr (agent->queues[0], ==, "sales");

  /* And keeps numbering where it was */
  append_texts (f->store, "c1", 1, "after", 3000);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = get_messages (f->store, "c1", 5, 0);
  assert_window (messages, 5, 5);
}

static void
test_file_future_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  CxStore *store;

  g_assert_finalize_object (f->store);
  f->store = NULL;
  raw_user_version (f->path, CX_STORE_SQLITE_SCHEMA_VERSION + 1);

  store = cx_store_sqlite_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, "newer"));
  g_test_message ("%s", error->message);

  /* Left as it was */
  g_assert_cmpint (raw_user_version (f->path, -1), ==, CX_STORE_SQLITE_SCHEMA_VERSION + 1);
}

static void
test_file_bad (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *garbage = g_build_filename (f->dir, "garbage.db", NULL);
  g_autofree char *subdir = g_build_filename (f->dir, "a-directory", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "no", "such", "dir.db", NULL);
  g_autofree char *text = g_strnfill (8192, 'x');
  CxStore *store;

  /* Not a database */
  g_assert_true (g_file_set_contents (garbage, text, -1, &error));
  g_assert_no_error (error);
  store = cx_store_sqlite_open (garbage, &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, garbage));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* A directory */
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  store = cx_store_sqlite_open (subdir, &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* Nowhere to create it */
  store = cx_store_sqlite_open (missing, &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* Not writable (root can write anything: skip the check then) */
  if (geteuid () != 0)
    {
      g_assert_finalize_object (f->store);
      f->store = NULL;
      g_assert_cmpint (g_chmod (f->path, 0400), ==, 0);
      store = cx_store_sqlite_open (f->path, &error);
      g_assert_null (store);
      g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
      g_test_message ("%s", error->message);
      g_clear_error (&error);
      g_assert_cmpint (g_chmod (f->path, 0600), ==, 0);
    }
}

/* What a call returned TRUE for survives the process being killed right after. */

#define CHILD_APPENDS 200

static void
child_writes (const char *path, int fd)
{
  g_autoptr (GError) error = NULL;
  CxStore *store = cx_store_sqlite_open (path, &error);
  CxAgent agent = { .username = (char *) "kid", .capacity = 1 };

  /* No assertions here: this process reports through @fd and then dies. */
  if (store == NULL)
    _exit (10);
  if (!cx_store_put_agent (store, &agent, NULL))
    _exit (11);

  for (guint i = 0; i < CHILD_APPENDS; i++)
    {
      g_autoptr (GPtrArray) messages = text_messages (1, "child", 10000 + i);
      guint index;

      if (!cx_store_append (store, "c1", messages, NULL, NULL))
        _exit (12);
      index = ((CxMessage *) messages->pdata[0])->index;
      if (write (fd, &index, sizeof index) != sizeof index)
        _exit (13);
    }

  /* Like kill -9: no close, no checkpoint, no atexit. */
  kill (getpid (), SIGKILL);
  _exit (14);
}

static void
test_file_durability (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GArray) acknowledged = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (CxAgent) agent = NULL;
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  int fds[2];
  int status;
  pid_t pid;
  guint index;
  ssize_t n;

  /* The parent writes, and closes before forking: no SQLite connection crosses a fork. */
  add_chat (f->store, "c1", "sales", 1000);
  append_texts (f->store, "c1", 10, "parent", 2000);
  g_assert_finalize_object (f->store);
  f->store = NULL;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      child_writes (f->path, fds[1]);
    }
  close (fds[1]);

  while ((n = read (fds[0], &index, sizeof index)) == sizeof index)
    g_array_append_val (acknowledged, index);
  g_assert_cmpint (n, ==, 0);
  close (fds[0]);

  while (waitpid (pid, &status, 0) < 0)
    g_assert_cmpint (errno, ==, EINTR);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  g_assert_cmpuint (acknowledged->len, ==, CHILD_APPENDS);

  /* The child's commits are in the WAL it never checkpointed */
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));

  f->store = open_store (f->path);
  messages = get_messages (f->store, "c1", 1, 0);
  assert_window (messages, 1, 10 + CHILD_APPENDS);
  for (guint i = 0; i < acknowledged->len; i++)
    {
      CxMessage *message = messages->pdata[g_array_index (acknowledged, guint, i) - 1];
      g_autofree char *text = g_strdup_printf ("child %u", 0);

      g_assert_cmpuint (message->index, ==, 11 + i);
      g_assert_cmpstr (message->text, ==, text);
      g_assert_cmpint (message->utc_time, ==, 10000 + i);
    }
  agent = get_agent (f->store, "kid");
  g_assert_cmpuint (agent->capacity, ==, 1);
}

/* Group commit: a batch is one transaction, each call in it a savepoint. A call that fails in
 * the middle of its writes is undone alone; reads in the batch see its writes; the commit keeps
 * the rest, a rollback drops all of it. */
static void
test_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = text_messages (3, "lost", 5000);
  g_autoptr (GPtrArray) read = NULL;
  g_autoptr (CxChat) update = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (CxChat) duplicate = chat_new ("c2", "sales", 1);

  add_chat (f->store, "c1", "sales", 1000);
  add_chat (f->store, "c2", "sales", 1000);
  add_agent (f->store, "alice", 1, NULL, CX_AGENT_READY, 10);

  g_assert_false (cx_store_in_batch (f->store));
  g_assert_true (cx_store_begin_batch (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (cx_store_in_batch (f->store));

  append_texts (f->store, "c1", 2, "kept", 2000);

  /* Messages written, then an update that cannot be (no such agent): this call alone is undone */
  update = get_chat (f->store, "c1");
  update->state = CX_CHAT_ACTIVE;
  g_free (update->agent);
  update->agent = g_strdup ("ghost");
  g_assert_false (cx_store_append (f->store, "c1", messages, update, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A conflict, then the batch goes on */
  g_assert_false (cx_store_create_chat (f->store, duplicate, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  append_texts (f->store, "c2", 1, "also kept", 3000);

  /* Reads inside the batch see its writes */
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 3);
  g_assert_cmpint (chat->state, ==, CX_CHAT_WAITING);
  g_clear_pointer (&chat, cx_chat_free);
  read = get_messages (f->store, "c1", 1, 0);
  assert_window (read, 1, 2);
  g_clear_pointer (&read, g_ptr_array_unref);

  g_assert_true (cx_store_commit_batch (f->store, &error));
  g_assert_no_error (error);
  g_assert_false (cx_store_in_batch (f->store));

  /* A batch rolled back leaves nothing */
  g_assert_true (cx_store_begin_batch (f->store, &error));
  g_assert_no_error (error);
  append_texts (f->store, "c2", 5, "dropped", 4000);
  cx_store_rollback_batch (f->store);
  g_assert_false (cx_store_in_batch (f->store));

  /* What the batch committed is there (after a reopen, on a file) */
  if (f->dir != NULL)
    {
      g_assert_finalize_object (f->store);
      f->store = open_store (f->path);
    }
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 3);
  g_assert_null (chat->agent);
  g_clear_pointer (&chat, cx_chat_free);
  read = get_messages (f->store, "c1", 1, 0);
  assert_window (read, 1, 2);
  g_assert_cmpstr (((CxMessage *) read->pdata[0])->text, ==, "kept 0");
  g_clear_pointer (&read, g_ptr_array_unref);
  chat = get_chat (f->store, "c2");
  g_assert_cmpuint (chat->next_index, ==, 2);
  read = get_messages (f->store, "c2", 1, 0);
  assert_window (read, 1, 1);
  g_assert_cmpstr (((CxMessage *) read->pdata[0])->text, ==, "also kept 0");
}

#define SYNC_WRITES 40

/* Durable against power loss: every commit syncs the WAL (synchronous=FULL), and a batch of
 * writes syncs once, at its commit, not once per write. */
static void
test_file_sync (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int before, per_write, in_batch, at_commit;

  add_chat (f->store, "c1", "sales", 1000);

  before = g_atomic_int_get (&sync_calls);
  for (guint i = 0; i < SYNC_WRITES; i++)
    append_texts (f->store, "c1", 1, "alone", 2000 + i);
  per_write = g_atomic_int_get (&sync_calls) - before;
  g_test_message ("%d syncs for %d writes, each its own transaction", per_write, SYNC_WRITES);
  g_assert_cmpint (per_write, >=, SYNC_WRITES);

  g_assert_true (cx_store_begin_batch (f->store, &error));
  g_assert_no_error (error);
  before = g_atomic_int_get (&sync_calls);
  for (guint i = 0; i < SYNC_WRITES; i++)
    append_texts (f->store, "c1", 1, "batched", 3000 + i);
  in_batch = g_atomic_int_get (&sync_calls) - before;
  g_assert_cmpint (in_batch, ==, 0);
  g_assert_true (cx_store_commit_batch (f->store, &error));
  g_assert_no_error (error);
  at_commit = g_atomic_int_get (&sync_calls) - before - in_batch;
  g_test_message ("%d syncs during a batch of %d writes, %d at its commit", in_batch, SYNC_WRITES,
                  at_commit);
  g_assert_cmpint (in_batch, ==, 0);
  /* The WAL, and its header when the WAL starts over */
  g_assert_cmpint (at_commit, >=, 1);
  g_assert_cmpint (at_commit, <=, 2);
}

/* PostgreSQL: several nodes on one database */

#define RACE_CHATS 200
#define RACE_AGENTS 10
#define RACE_CAPACITY 15 /* 150 places for 200 chats: the capacity check races too */

typedef struct
{
  CxStore *store;
  gboolean backwards;
  guint offered;
} Racer;

static gpointer
race_cb (gpointer data)
{
  Racer *racer = data;

  for (guint i = 0; i < RACE_CHATS; i++)
    {
      guint n = racer->backwards ? RACE_CHATS - 1 - i : i;
      g_autofree char *id = g_strdup_printf ("race%03u", n);
      g_autoptr (GError) error = NULL;
      g_autoptr (CxInvitation) invitation = NULL;

      invitation = cx_store_offer_chat (racer->store, id, 5000, 65000, 0, &error);
      g_assert_no_error (error);
      if (invitation != NULL)
        racer->offered++;
    }
  return NULL;
}

/* Two connections (two nodes) route the same 200 chats at once, one from each end: each chat
 * goes to one agent at most, no agent over its capacity, and every invitation made is one that
 * exactly one of them reported. */
static void
test_pg_routing_race (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxStore) second = open_store (f->path);
  g_autoptr (GPtrArray) invitations = NULL;
  g_autoptr (GHashTable) chats = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) loads = g_hash_table_new (g_str_hash, g_str_equal);
  Racer racers[2] = { { f->store, FALSE, 0 }, { second, TRUE, 0 } };
  GThread *threads[2];
  guint swept = 0;

  for (guint i = 0; i < RACE_AGENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent%02u", i);

      add_agent (f->store, name, RACE_CAPACITY, NULL, CX_AGENT_READY, 100 + i);
    }
  for (guint i = 0; i < RACE_CHATS; i++)
    {
      g_autofree char *id = g_strdup_printf ("race%03u", i);

      add_chat (f->store, id, "sales", 1000 + i);
    }

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("racer", race_cb, &racers[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  g_test_message ("node A offered %u chats, node B %u", racers[0].offered, racers[1].offered);

  invitations = cx_store_list_invitations (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invitations->len, ==, racers[0].offered + racers[1].offered);
  g_assert_cmpuint (invitations->len, <=, RACE_AGENTS * RACE_CAPACITY);
  for (guint i = 0; i < invitations->len; i++)
    {
      CxInvitation *invitation = g_ptr_array_index (invitations, i);
      guint load = GPOINTER_TO_UINT (g_hash_table_lookup (loads, invitation->agent)) + 1;

      g_assert_false (g_hash_table_contains (chats, invitation->chat_id));
      g_hash_table_add (chats, invitation->chat_id);
      g_assert_cmpuint (load, <=, RACE_CAPACITY);
      g_hash_table_insert (loads, invitation->agent, GUINT_TO_POINTER (load));
    }

  /* Nothing was lost to the race: one more pass fills every place left, and no more. */
  for (guint i = 0; i < RACE_CHATS; i++)
    {
      g_autofree char *id = g_strdup_printf ("race%03u", i);
      g_autoptr (CxInvitation) invitation =
          cx_store_offer_chat (second, id, 6000, 66000, 0, &error);

      g_assert_no_error (error);
      swept += invitation != NULL;
    }
  g_assert_cmpuint (invitations->len + swept, ==, RACE_AGENTS * RACE_CAPACITY);
  for (guint i = 0; i < RACE_AGENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("agent%02u", i);

      g_assert_cmpuint (load_of (f->store, name), ==, RACE_CAPACITY);
    }
}

/* Reconnecting finds the schema migrated and the data there; a schema of a newer version is
 * refused, naming no password. */
static void
test_pg_reopen_and_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autofree char *sql = NULL;
  CxStore *store;

  add_chat (f->store, "c1", "sales", 1000);
  append_texts (f->store, "c1", 3, "kept", 2000);
  g_assert_finalize_object (f->store);
  f->store = open_store (f->path);
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 4);

  sql = g_strdup_printf ("UPDATE %s.cx_schema SET version = version + 1", f->pg_schema);
  PQclear (admin_exec (f, sql));
  store = cx_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, "newer"));
  g_test_message ("%s", error->message);
}

/* The database drops the store's connection (a restart, an administrator): the call in flight
 * fails, the next one connects again and finds everything. */
static void
terminate_store_connection (Fixture *f)
{
  /* The name is the schema's: letters, digits and _ only. */
  g_autofree char *sql =
      g_strdup_printf ("SELECT pg_terminate_backend (pid) FROM pg_stat_activity "
                       "WHERE application_name = '%s' AND pid <> pg_backend_pid ()",
                       f->pg_schema);
  PGresult *res = admin_exec (f, sql);

  g_assert_cmpint (PQntuples (res), ==, 1);
  PQclear (res);
}

static void
test_pg_reconnect (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (GPtrArray) messages = text_messages (1, "lost", 3000);

  add_chat (f->store, "c1", "sales", 1000);
  terminate_store_connection (f);
  chat = cx_store_get_chat (f->store, "c1", &error);
  g_assert_null (chat);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  append_texts (f->store, "c1", 2, "after", 2000);
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 3);
  g_clear_pointer (&chat, cx_chat_free);

  /* A batch whose connection is lost fails as a whole, and the store carries on after it. */
  g_assert_true (cx_store_begin_batch (f->store, &error));
  g_assert_no_error (error);
  terminate_store_connection (f);
  g_assert_false (cx_store_append (f->store, "c1", messages, NULL, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (cx_store_commit_batch (f->store, &error));
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_clear_error (&error);
  append_texts (f->store, "c1", 1, "later", 4000);
  chat = get_chat (f->store, "c1");
  g_assert_cmpuint (chat->next_index, ==, 4);
}

/* A database written by an older server (schema version 1) is brought up to date, its rows
 * kept. */
static void
test_file_upgrade (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old = g_build_filename (f->dir, "v1.db", NULL);
  g_autofree char *script = NULL;
  g_autoptr (CxCallback) callback = NULL;
  g_autoptr (GPtrArray) buckets = g_ptr_array_new ();
  sqlite3 *db = NULL;
  CxStore *store;

  g_assert_true (
      g_file_get_contents (CX_STORE_SQL_DIR "/sqlite/001-initial.sql", &script, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (old, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, script, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "INSERT INTO callbacks (id, service, customer_number, state, "
                                 "desired_time, expiration_time, created_at, properties) VALUES "
                                 "('cb1', 'callback-us', '555', 'SCHEDULED', 10, 20, 5, '{}');"
                                 "PRAGMA user_version = 1",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  store = open_store (old);
  callback = cx_store_get_callback (store, "cb1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (callback);
  g_assert_cmpstr (callback->customer_number, ==, "555");
  g_assert_null (callback->secret_hash);
  /* Version 3's table is there */
  g_assert_true (cx_store_save_rate_buckets (store, buckets, 0, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (store);
  g_assert_cmpint (raw_user_version (old, -1), ==, CX_STORE_SQLITE_SCHEMA_VERSION);
}

/* --db picks the store by its form; a PostgreSQL store that cannot connect fails with an error
 * that names the database, not the password. Needs no PostgreSQL: port 1 refuses. */
static void
test_open_location (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxStore) memory = cx_store_open (":memory:", &error);
  CxStore *store;

  g_assert_no_error (error);
  g_assert_true (CX_IS_STORE_SQLITE (memory));
  g_assert_true (cx_store_pg_is_url ("postgresql://db.example.org/cx"));
  g_assert_true (cx_store_pg_is_url ("postgres://db.example.org/cx"));
  g_assert_false (cx_store_pg_is_url ("postgresql.db"));
  g_assert_false (cx_store_pg_is_url (":memory:"));

  store = cx_store_open ("postgresql://cxdesk:hunter2@127.0.0.1:1/nodb?connect_timeout=5", &error);
  g_assert_null (store);
  g_assert_error (error, CX_STORE_ERROR, CX_STORE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "nodb"));
  g_assert_null (strstr (error->message, "hunter2"));
  g_test_message ("%s", error->message);
}

/* Runs the test, unless its setup skipped it (no PostgreSQL). */
static void
run_case (Fixture *f, gconstpointer data)
{
  const Case *test_case = data;

  if (f->store != NULL)
    test_case->func (f, test_case->backend);
}

enum
{
  ALL = 0,
  FILE_ONLY = 1,
  PG_ONLY = 2,
};

static GPtrArray *cases;
static gboolean on_pg; /* --pg: the PostgreSQL cases, else the SQLite ones */

static void
add_test (const char *name, void (*func) (Fixture *, gconstpointer), int where)
{
  static const char *const backends[] = { ":memory:", "file", "pg" };
  static const char *const paths[] = { "memory", "file", "pg" };

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_autofree char *path = g_strconcat ("/store/", paths[i], "/", name, NULL);
      Case *test_case;

      if ((where == FILE_ONLY && i != 1) || (where == PG_ONLY && i != 2) || on_pg != (i == 2))
        continue;
      test_case = g_new0 (Case, 1);
      test_case->backend = backends[i];
      test_case->func = func;
      g_ptr_array_add (cases, test_case);
      g_test_add (path, Fixture, test_case, fixture_setup, run_case, fixture_teardown);
    }
}

int
main (int argc, char *argv[])
{
  int status;

  /* Two meson tests of one program: test-store (SQLite) and test-store-pg (--pg), which meson
   * reports as skipped as a whole when there is no PostgreSQL to test on. */
  if (argc > 1 && g_str_equal (argv[argc - 1], "--pg"))
    {
      on_pg = TRUE;
      argv[--argc] = NULL;
    }
  g_test_init (&argc, &argv, NULL);
  cases = g_ptr_array_new_with_free_func (g_free);

  add_test ("chats", test_chats, ALL);
  add_test ("queue-position-and-stats", test_queue_position_and_stats, ALL);
  add_test ("messages/indices", test_messages_indices, ALL);
  add_test ("messages/atomic", test_messages_atomic, ALL);
  add_test ("files", test_files, ALL);
  add_test ("agents", test_agents, ALL);
  add_test ("sessions", test_sessions, ALL);
  add_test ("routing/longest-idle", test_routing_longest_idle, ALL);
  add_test ("routing/capacity", test_routing_capacity, ALL);
  add_test ("routing/queues", test_routing_queues, ALL);
  add_test ("routing/skip", test_routing_skip, ALL);
  add_test ("routing/pending", test_routing_pending, ALL);
  add_test ("routing/answer", test_routing_answer, ALL);
  add_test ("routing/invite", test_routing_invite, ALL);
  add_test ("routing/withdraw", test_routing_withdraw, ALL);
  add_test ("callbacks", test_callbacks, ALL);
  add_test ("reopen", test_file_reopen, FILE_ONLY);
  add_test ("future-version", test_file_future_version, FILE_ONLY);
  add_test ("bad-files", test_file_bad, FILE_ONLY);
  add_test ("durability", test_file_durability, FILE_ONLY);
  /* Group commit and power loss (issue 9 item 13) */
  add_test ("batch", test_batch, ALL);
  add_test ("sync", test_file_sync, FILE_ONLY);
  add_test ("upgrade", test_file_upgrade, FILE_ONLY);
  if (!on_pg)
    g_test_add_func ("/store/open-location", test_open_location);
  /* Several nodes on one PostgreSQL (issue 13) */
  add_test ("routing/race", test_pg_routing_race, PG_ONLY);
  add_test ("reopen-and-version", test_pg_reopen_and_version, PG_ONLY);
  add_test ("reconnect", test_pg_reconnect, PG_ONLY);

  status = g_test_run ();
  g_ptr_array_unref (cases);
  return status;
}
