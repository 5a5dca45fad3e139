/* cx-server-agent-session.c: who may use the agent API (API.md "Access rules"): sessions and
 * their cookie, signing in (crypt(3) passwords, throttled per user name and per address) and out,
 * and the origin and content-type rules every /cx/1/agent request passes first. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <crypt.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-api.h"
#include "server/cx-server-private.h"

/* Checked when the user name is unknown, so that a wrong name costs what a wrong password
 * does and the reply time does not tell which names exist. */
#define DUMMY_HASH "$5$cxdeskcxdeskcx$0000000000000000000000000000000000000000000"

/* Sessions */

static char *
session_token (SoupServerMessage *msg)
{
  const char *header =
      soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) cookies = NULL;

  if (header == NULL)
    return NULL;
  cookies = soup_header_parse_semi_param_list (header);
  return g_strdup (g_hash_table_lookup (cookies, CX_AGENT_API_COOKIE));
}

/* The signed-in agent of a request, or NULL; with the hash of its session token. */
CxAgent *
_cx_server_session_agent (CxServer *self, SoupServerMessage *msg, char **token_hash_out)
{
  g_autofree char *token = session_token (msg);
  g_autofree char *hash = NULL;
  g_autofree char *username = NULL;
  g_autoptr (GError) error = NULL;

  if (token == NULL || strlen (token) != 64)
    return NULL;

  hash = _cx_server_hash_token (token);
  username = cx_store_lookup_session (self->store, hash, _cx_server_now (), &error);
  if (username == NULL)
    {
      if (error != NULL)
        g_warning ("Session lookup failed: %s", error->message);
      return NULL;
    }

  if (token_hash_out != NULL)
    *token_hash_out = g_steal_pointer (&hash);
  return cx_store_get_agent (self->store, username, NULL);
}

static void
set_session_cookie (SoupServerMessage *msg, const char *token, gboolean clear)
{
  g_autofree char *header =
      g_strdup_printf ("%s=%s; Path=%s; HttpOnly; SameSite=Strict%s", CX_AGENT_API_COOKIE,
                       clear ? "" : token, CX_AGENT_API_COOKIE_PATH, clear ? "; Max-Age=0" : "");

  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               header);
}

static gboolean
check_password (const char *password, const char *hash)
{
  /* 32 KiB; the main thread's stack has room, and nothing is left on the heap. */
  struct crypt_data data = { 0 };
  gboolean ok = FALSE;

  if (hash == NULL)
    {
      /* Spend the same time on an unknown name, and answer no. */
      crypt_r (password, DUMMY_HASH, &data);
    }
  else
    {
      const char *computed = crypt_r (password, hash, &data);

      ok = computed != NULL && computed[0] == '$' && _cx_server_equal_secret (computed, hash);
    }

  explicit_bzero (&data, sizeof data);
  return ok;
}

/* Sign-in throttling (issue 9, item 11; API.md "Signing in"). Failed attempts are counted per
 * user name (configured agents only, so the table is bounded) and per client address. After
 * limits.signInFreeFailures failures in a row, each further failure blocks the name or address
 * for twice as long as the one before, 1 s, 2 s, 4 s … up to limits.signInMaxDelaySeconds;
 * while blocked, attempts are answered 429 without checking the password (so they cost no
 * hashing and cannot be counted). A count with no failure for SIGN_IN_FORGET_MS is forgotten.
 *
 * The trade-off: a block on a user name also stops the real user, from wherever the
 * failures come. It never lasts longer than the cap at a time, and addresses this user signed
 * in from successfully before (the last SIGN_IN_KNOWN_ADDRESSES, since this process started)
 * are not held back by the user name's block, only by their own address's. */
#define SIGN_IN_FORGET_MS (15 * 60 * G_GINT64_CONSTANT (1000))
#define SIGN_IN_KNOWN_ADDRESSES 8
#define SIGN_IN_MAX_ADDRESSES 65536

typedef struct
{
  guint failures;
  gint64 last_failure;  /* monotonic ms */
  gint64 blocked_until; /* monotonic ms */
  GPtrArray *known;     /* of a user: addresses it signed in from, newest last */
} SignInFailures;

static void
sign_in_failures_free (gpointer data)
{
  SignInFailures *failures = data;

  g_clear_pointer (&failures->known, g_ptr_array_unref);
  g_free (failures);
}

static gint64
monotonic_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* How long @failures still blocks, in ms (0: not blocked). */
static gint64
sign_in_wait (SignInFailures *failures, gint64 now)
{
  return failures != NULL && failures->blocked_until > now ? failures->blocked_until - now : 0;
}

static void
sign_in_count_failure (CxServer *self, GHashTable *table, const char *key, gint64 now)
{
  SignInFailures *failures = g_hash_table_lookup (table, key);
  guint free_failures = self->config->sign_in_free_failures;

  if (failures == NULL)
    {
      /* Bounded: past the limit, forget the addresses that are not blocked now. */
      if (g_hash_table_size (table) >= SIGN_IN_MAX_ADDRESSES)
        {
          GHashTableIter iter;
          SignInFailures *other;

          g_hash_table_iter_init (&iter, table);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
            if (sign_in_wait (other, now) == 0 && other->known == NULL)
              g_hash_table_iter_remove (&iter);
        }
      failures = g_new0 (SignInFailures, 1);
      g_hash_table_insert (table, g_strdup (key), failures);
    }
  if (failures->failures > 0 && now - failures->last_failure > SIGN_IN_FORGET_MS)
    failures->failures = 0;

  failures->failures++;
  failures->last_failure = now;
  if (failures->failures >= free_failures)
    {
      guint doublings = MIN (failures->failures - free_failures, 20);
      gint64 delay = MIN ((G_GINT64_CONSTANT (1000) << doublings),
                          (gint64) self->config->sign_in_max_delay_s * 1000);

      failures->blocked_until = now + delay;
    }
}

static gboolean
sign_in_known_address (SignInFailures *user, const char *address)
{
  for (guint i = 0; user != NULL && user->known != NULL && i < user->known->len; i++)
    if (g_str_equal (g_ptr_array_index (user->known, i), address))
      return TRUE;
  return FALSE;
}

static void
sign_in_succeeded (CxServer *self, const char *username, const char *address)
{
  SignInFailures *user = g_hash_table_lookup (self->sign_in_users, username);

  if (user == NULL)
    {
      user = g_new0 (SignInFailures, 1);
      g_hash_table_insert (self->sign_in_users, g_strdup (username), user);
    }
  user->failures = 0;
  user->blocked_until = 0;
  if (user->known == NULL)
    user->known = g_ptr_array_new_with_free_func (g_free);
  if (!sign_in_known_address (user, address))
    {
      if (user->known->len >= SIGN_IN_KNOWN_ADDRESSES)
        g_ptr_array_remove_index (user->known, 0);
      g_ptr_array_add (user->known, g_strdup (address));
    }
  /* The address's own count is not reset: one account of one's own must not buy unlimited
   * guesses at the others. It is forgotten after SIGN_IN_FORGET_MS. */
}

/* 429 with Retry-After when @username or @address is blocked now. */
static gboolean
sign_in_refuse_if_blocked (CxServer *self, SoupServerMessage *msg, const char *username,
                           const char *address)
{
  gint64 now = monotonic_ms ();
  SignInFailures *user = g_hash_table_lookup (self->sign_in_users, username);
  gint64 wait = sign_in_wait (g_hash_table_lookup (self->sign_in_addresses, address), now);
  g_autofree char *seconds = NULL;

  if (!sign_in_known_address (user, address))
    wait = MAX (wait, sign_in_wait (user, now));
  if (wait == 0)
    return FALSE;

  seconds = g_strdup_printf ("%" G_GINT64_FORMAT, (wait + 999) / 1000);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                seconds);
  _cx_server_reply_error (msg, 429 /* Too Many Requests */,
                          _ ("Too many failed sign-ins: try again in %s s"), seconds);
  return TRUE;
}

/* POST /session */
void
_cx_server_agent_sign_in (CxServer *self, SoupServerMessage *msg)
{
  const char *address = soup_server_message_get_remote_host (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) body = _cx_server_read_json_body (msg, &error);
  g_autoptr (CxAgentSignIn) request = NULL;
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hash = NULL;
  const char *username, *password;

  if (body == NULL || !cx_agent_sign_in_parse (body, &request, &error))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                              _ ("Signing in needs a username and a password: %s"), error->message);
      return;
    }
  username = request->username;
  password = request->password;

  if (address == NULL)
    address = "";
  if (sign_in_refuse_if_blocked (self, msg, username, address))
    return;

  agent = cx_store_get_agent (self->store, username, NULL);
  if (!check_password (password, agent ? agent->password_hash : NULL))
    {
      gint64 now = monotonic_ms ();

      if (agent != NULL)
        sign_in_count_failure (self, self->sign_in_users, agent->username, now);
      sign_in_count_failure (self, self->sign_in_addresses, address, now);
      _cx_server_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, _ ("Wrong user name or password"));
      return;
    }
  sign_in_succeeded (self, agent->username, address);

  token = _cx_server_random_token (32);
  hash = _cx_server_hash_token (token);
  if (!cx_store_create_session (self->store, hash, agent->username,
                                _cx_server_now () + CX_SESSION_LIFETIME_MS, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  /* Signing in makes an agent present, not yet ready for customers. */
  if (agent->state == CX_AGENT_OFFLINE)
    {
      cx_store_set_agent_state (self->store, agent->username, CX_AGENT_NOT_READY, NULL,
                                _cx_server_now (), NULL);
      g_clear_pointer (&agent, cx_agent_free);
      agent = cx_store_get_agent (self->store, username, NULL);
    }

  set_session_cookie (msg, token, FALSE);
  reply = _cx_server_agent_to_json (agent);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

/* DELETE /session */
void
_cx_server_agent_sign_out (CxServer *self, SoupServerMessage *msg, CxAgent *agent,
                           const char *token_hash)
{
  g_autoptr (GError) error = NULL;

  if (!cx_store_delete_session (self->store, token_hash, &error))
    {
      _cx_server_reply_internal (msg, error);
      return;
    }

  /* Only this session's windows sign out. The agent goes offline unless another app is still
   * signed in as them (its sockets are open here). */
  if (!_cx_server_sign_out_sockets (self, agent->username, token_hash))
    {
      g_autoptr (CxAgent) updated = NULL;

      if (!cx_store_set_agent_state (self->store, agent->username, CX_AGENT_OFFLINE, NULL,
                                     _cx_server_now (), &error))
        {
          _cx_server_reply_internal (msg, error);
          return;
        }
      updated = cx_store_get_agent (self->store, agent->username, NULL);
      if (updated != NULL)
        _cx_server_push_agent_state (self, updated);
    }
  set_session_cookie (msg, NULL, TRUE);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* Origin and content type (issue 9, item 10; API.md "Origins"). A browser names the page that
 * makes a cross-site request in Origin: the agent API answers only its own origin and those of
 * agentOrigins. A request without Origin (the native agent app, curl) is not a browser's
 * cross-site request and passes. */

/* "scheme://host:port", lower case, with the scheme's default port filled in; NULL if @scheme
 * is not http(s) or there is no host. */
static char *
origin_key (const char *scheme, const char *host, int port)
{
  g_autofree char *lower_scheme = NULL;
  g_autofree char *lower_host = NULL;

  if (scheme == NULL || host == NULL || *host == '\0')
    return NULL;
  lower_scheme = g_ascii_strdown (scheme, -1);
  if (port < 0 && g_str_equal (lower_scheme, "http"))
    port = 80;
  else if (port < 0 && g_str_equal (lower_scheme, "https"))
    port = 443;
  if (port < 0)
    return NULL;
  lower_host = g_ascii_strdown (host, -1);
  return g_strdup_printf ("%s://%s:%d", lower_scheme, lower_host, port);
}

static char *
origin_key_of (const char *origin)
{
  g_autoptr (GUri) uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_userinfo (uri) != NULL ||
      (*g_uri_get_path (uri) != '\0' && !g_str_equal (g_uri_get_path (uri), "/")))
    return NULL;
  return origin_key (g_uri_get_scheme (uri), g_uri_get_host (uri), g_uri_get_port (uri));
}

static gboolean
origin_allowed (CxServer *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_list (headers, "Origin");
  GUri *own = soup_server_message_get_uri (msg);
  g_autofree char *key = NULL;
  g_autofree char *own_key = NULL;

  if (origin == NULL)
    return TRUE;
  /* "null" (a sandboxed or file: page), several origins, or garbage: not ours. */
  key = origin_key_of (origin);
  if (key == NULL)
    return FALSE;

  /* The server's own origin: the scheme it was reached with, and the request's Host. */
  own_key = origin_key (g_uri_get_scheme (own), g_uri_get_host (own), g_uri_get_port (own));
  if (own_key != NULL && g_str_equal (key, own_key))
    return TRUE;
  for (guint i = 0; self->config->agent_origins[i] != NULL; i++)
    {
      g_autofree char *allowed = origin_key_of (self->config->agent_origins[i]);

      if (allowed != NULL && g_str_equal (key, allowed))
        return TRUE;
    }
  return FALSE;
}

/* A POST or PUT with a body must say it is JSON: a browser's cross-site form or text/plain
 * request cannot. */
gboolean
_cx_server_agent_content_type_allowed (SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method (msg);
  const char *type = NULL;

  if (!g_str_equal (method, "POST") && !g_str_equal (method, "PUT"))
    return TRUE;
  if (soup_server_message_get_request_body (msg)->length == 0)
    return TRUE;
  type =
      soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

/* The origin rule (issue 9): the agent API's, and the callback API's agent-only calls'. */
gboolean
_cx_server_agent_request_allowed (CxServer *self, SoupServerMessage *msg)
{
  return origin_allowed (self, msg);
}

/* The agent as every /cx/1/agent reply describes it. */
JsonNode *
_cx_server_agent_to_json (const CxAgent *agent)
{
  CxAgentInfo info = {
    .username = agent->username,
    .display_name = agent->display_name,
    .state = (CxAgentPresence) agent->state,
    .reason = agent->reason,
    .capacity = agent->capacity,
    .load = agent->load,
    .queues = agent->queues,
  };

  return cx_agent_info_build (&info);
}

/* Sign-in throttling's tables (issue 9). */
void
_cx_server_agent_session_init (CxServer *self)
{
  self->sign_in_users =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sign_in_failures_free);
  self->sign_in_addresses =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, sign_in_failures_free);
}

void
_cx_server_agent_session_free (CxServer *self)
{
  g_clear_pointer (&self->sign_in_users, g_hash_table_unref);
  g_clear_pointer (&self->sign_in_addresses, g_hash_table_unref);
}
