/* fuzz-agent-api.c: the /cx/1 agent REST API's parsers (cx-agent-api.h). The input is parsed as
 * a JSON body and given to every request and reply parser; what one accepts is rebuilt with its
 * builder and must parse back to the same thing. The input is also a request path, through the
 * router, whose path must route back to the same route and id. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-agent-api.h"

/* Enough for every body the fuzzer is likely to grow; the parsers' own limits are what is tested.
 */
#define FUZZ_MAX_BODY (1024 * 1024)

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

/* The tree the other side would get for @node. */
static JsonNode *
reparse (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  JsonNode *back = cx_json_parse (text, strlen (text), G_MAXSIZE, NULL);

  fuzz_check (back != NULL);
  return back;
}

static void
check_error (gboolean ok, GError **error)
{
  if (!ok)
    {
      fuzz_check (*error != NULL && (*error)->domain == CX_PROTOCOL_ERROR);
      g_clear_error (error);
    }
  else
    fuzz_check (*error == NULL);
}

static void
fuzz_requests (JsonNode *root)
{
  g_autoptr (GError) error = NULL;
  gboolean ok;

  {
    g_autoptr (CxAgentSignIn) sign_in = NULL;

    ok = cx_agent_sign_in_parse (root, &sign_in, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_sign_in_build (sign_in->username, sign_in->password);
        g_autoptr (JsonNode) back = reparse (node);
        g_autoptr (CxAgentSignIn) again = NULL;

        fuzz_check (cx_agent_sign_in_parse (back, &again, NULL));
        fuzz_check (g_str_equal (again->username, sign_in->username));
        fuzz_check (g_str_equal (again->password, sign_in->password));
      }
  }
  {
    g_autofree char *reason = NULL;
    CxAgentPresence state;

    ok = cx_agent_state_request_parse (root, &state, &reason, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_state_request_build (state, reason);
        g_autofree char *again_reason = NULL;
        CxAgentPresence again;

        fuzz_check (cx_agent_state_request_parse (node, &again, &again_reason, NULL));
        fuzz_check (again == state && g_strcmp0 (again_reason, reason) == 0);
      }
    else
      fuzz_check (reason == NULL);
  }
  {
    g_autofree char *text = NULL;

    ok = cx_agent_send_parse (root, 4096, &text, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_send_build (text);
        g_autoptr (JsonNode) back = reparse (node);
        g_autofree char *again = NULL;

        fuzz_check (g_utf8_strlen (text, -1) <= 4096);
        fuzz_check (cx_agent_send_parse (back, 4096, &again, NULL));
        fuzz_check (g_str_equal (again, text));
      }
  }
  {
    gboolean typing;

    ok = cx_agent_typing_parse (root, &typing, &error);
    check_error (ok, &error);
  }
  {
    g_autofree char *queue = NULL;
    g_autofree char *agent = NULL;

    ok = cx_agent_transfer_parse (root, &queue, &agent, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_transfer_build (queue, agent);
        g_autofree char *again_queue = NULL;
        g_autofree char *again_agent = NULL;

        fuzz_check ((queue == NULL) != (agent == NULL));
        fuzz_check (cx_agent_transfer_parse (node, &again_queue, &again_agent, NULL));
        fuzz_check (g_strcmp0 (again_queue, queue) == 0 && g_strcmp0 (again_agent, agent) == 0);
      }
    else
      fuzz_check (queue == NULL && agent == NULL);
  }
  {
    gint64 time;

    ok = cx_agent_reschedule_parse (root, &time, &error);
    check_error (ok, &error);
  }
}

static void
fuzz_replies (JsonNode *root)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = cx_agent_api_parse_error (root);
  gboolean ok;

  fuzz_check (message == NULL || g_utf8_validate (message, -1, NULL));
  {
    g_autoptr (CxAgentInfo) agent = NULL;

    ok = cx_agent_info_parse (root, &agent, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_info_build (agent);
        g_autoptr (JsonNode) back = reparse (node);
        g_autoptr (CxAgentInfo) again = NULL;

        fuzz_check (cx_agent_info_parse (back, &again, NULL));
        fuzz_check (g_str_equal (again->username, agent->username));
        fuzz_check (g_str_equal (again->display_name, agent->display_name));
        fuzz_check (again->state == agent->state && again->capacity == agent->capacity);
        fuzz_check (g_strcmp0 (again->reason, agent->reason) == 0);
        fuzz_check (g_strv_equal ((const char *const *) again->queues,
                                  (const char *const *) agent->queues));
      }
  }
  {
    g_autoptr (CxAgentChat) chat = NULL;

    ok = cx_agent_chat_parse (root, &chat, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_chat_build (chat);
        g_autoptr (JsonNode) back = reparse (node);
        g_autoptr (CxAgentChat) again = NULL;

        fuzz_check (cx_agent_chat_parse (back, &again, NULL));
        fuzz_check (g_str_equal (again->chat_id, chat->chat_id));
        fuzz_check (again->state == chat->state);
        fuzz_check (again->next_position == chat->next_position);
        fuzz_check (again->messages->len == chat->messages->len);
        fuzz_check (g_strcmp0 (again->customer.nickname, chat->customer.nickname) == 0);
        fuzz_check (json_node_equal (again->user_data, chat->user_data));
      }
  }
  {
    g_autoptr (GPtrArray) chats = NULL;

    ok = cx_agent_chats_parse (root, &chats, &error);
    check_error (ok, &error);
    if (ok)
      fuzz_check (chats->len <= CX_AGENT_API_MAX_CHATS);
  }
  {
    g_autoptr (GPtrArray) invitations = NULL;

    ok = cx_agent_invitations_parse (root, &invitations, &error);
    check_error (ok, &error);
    for (guint i = 0; ok && i < invitations->len; i++)
      fuzz_check (((CxAgentEvent *) g_ptr_array_index (invitations, i))->type ==
                  CX_AGENT_EVENT_INVITATION);
  }
  {
    g_autoptr (GPtrArray) messages = NULL;
    guint next = 0;

    ok = cx_agent_messages_parse (root, &messages, &next, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_messages_build ("c", messages, next);
        g_autoptr (JsonNode) back = reparse (node);
        g_autoptr (GPtrArray) again = NULL;
        guint again_next = 0;

        fuzz_check (cx_agent_messages_parse (back, &again, &again_next, NULL));
        fuzz_check (again->len == messages->len && again_next == next);
      }
  }
  {
    guint index = 0;

    ok = cx_agent_send_reply_parse (root, &index, &error);
    check_error (ok, &error);
    if (ok)
      fuzz_check (index >= 1);
  }
  {
    g_autoptr (GPtrArray) callbacks = NULL;

    ok = cx_agent_callbacks_parse (root, &callbacks, &error);
    check_error (ok, &error);
  }
  {
    static const char *const queues[] = { "sales", "customer-support", NULL };
    gint64 seconds[2];

    ok = cx_agent_ewt_parse (root, queues, seconds, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_ewt_build (queues, seconds);
        gint64 again[2];

        fuzz_check (cx_agent_ewt_parse (node, queues, again, NULL));
        fuzz_check (again[0] == seconds[0] && again[1] == seconds[1]);
      }
  }
  {
    g_autoptr (GPtrArray) responses = NULL;

    ok = cx_agent_canned_parse (root, &responses, &error);
    check_error (ok, &error);
    if (ok)
      {
        g_autoptr (JsonNode) node = cx_agent_canned_build (responses);
        g_autoptr (JsonNode) back = reparse (node);
        g_autoptr (GPtrArray) again = NULL;

        fuzz_check (cx_agent_canned_parse (back, &again, NULL));
        fuzz_check (again->len == responses->len);
      }
  }
}

/* @text as an EWT query, and the body as its reply for the queues it names. */
static void
fuzz_ewt (JsonNode *root, const char *text)
{
  g_auto (GStrv) queues = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok = cx_agent_ewt_query_parse (text, &queues, &error);

  check_error (ok, &error);
  if (!ok)
    {
      fuzz_check (queues == NULL);
      return;
    }
  fuzz_check (g_strv_length (queues) <= CX_AGENT_API_MAX_QUEUES);

  {
    g_autofree char *query = cx_agent_ewt_query_build ((const char *const *) queues);
    g_auto (GStrv) again = NULL;

    fuzz_check (cx_agent_ewt_query_parse (query, &again, NULL));
    fuzz_check (g_strv_equal ((const char *const *) again, (const char *const *) queues));
  }

  if (root != NULL)
    {
      g_autofree gint64 *seconds = g_new0 (gint64, g_strv_length (queues) + 1);

      ok = cx_agent_ewt_parse (root, (const char *const *) queues, seconds, &error);
      check_error (ok, &error);
      for (guint i = 0; ok && queues[i] != NULL; i++)
        fuzz_check (seconds[i] >= -1 && seconds[i] <= CX_AGENT_API_MAX_EWT_SECONDS);
    }
}

static void
fuzz_route (const char *path)
{
  static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *id = NULL;
      g_autofree char *again_id = NULL;
      g_autofree char *built = NULL;
      CxAgentRoute route, again;

      if (!cx_agent_route_parse (methods[i], path, &route, &id))
        {
          fuzz_check (id == NULL);
          continue;
        }
      fuzz_check (g_str_equal (cx_agent_route_method (route), methods[i]));
      fuzz_check (cx_agent_route_has_id (route) == (id != NULL));
      fuzz_check (id == NULL || cx_id_is_valid (id));
      if (id != NULL && strchr (id, '/') != NULL)
        continue; /* refused on the way back, by design */
      built = cx_agent_route_path (route, id);
      fuzz_check (cx_agent_route_parse (methods[i], built, &again, &again_id));
      fuzz_check (again == route && g_strcmp0 (again_id, id) == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *path = NULL;

  root = cx_json_parse ((const char *) data, size, FUZZ_MAX_BODY, NULL);
  if (root != NULL)
    {
      fuzz_requests (root);
      fuzz_replies (root);
    }

  /* A path is text without NUL; the router sees libsoup's decoded request line. */
  if (size < 4096 && memchr (data, '\0', size) == NULL)
    {
      path = g_strndup ((const char *) data, size);
      fuzz_route (path);
      fuzz_ewt (root, path);
    }

  return 0;
}
