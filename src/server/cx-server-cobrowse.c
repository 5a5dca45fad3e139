/* cx-server-cobrowse.c: the co-browse relay (issue 11; API.md "Co-browse"). The customer
 * creates a session and gets a code (CX_COBROWSE_CODE_DIGITS digits from the kernel's CSPRNG,
 * single use, expiring after limits.cobrowseCodeSeconds, creations limited per address) and a
 * secret that authenticates its WebSocket; a signed-in agent joins by code (the agent API's
 * origin and content-type rules) and opens its own WebSocket. The relay forwards page frames
 * from the customer and control frames from the agent, parsing each with the protocol's parser
 * only to check its type, direction and size (caps per frame and per second, each side). It
 * tracks the mode from the mode frames it relays, and refuses the agent's "input" frames unless
 * the customer accepted write mode: a forged frame cannot get past it. An "end" frame or either
 * socket closing ends the session for both; an ended session cannot be joined again.
 *
 * The store keeps each session's audit record (who, when, mode changes, how it ended; never a
 * frame's content). The relay itself (the two sockets, the mode) lives in this process: both
 * sockets of a session must reach the same process. One session at a time per agent. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-cobrowse-protocol.h"
#include "protocol/cx-cobrowse-relay.h"
#include "server/cx-server-private.h"

#define STATE_KEY "cx-cobrowse"
/* The secret: 32 random bytes, as hex. */
#define SECRET_BYTES 32
/* After a join, both sockets must be open within this long, or the session ends. */
#define CONNECT_SECONDS 60
/* Failed joins per agent and minute: a code is guessed one try at a time. */
#define JOIN_FAILURES_PER_MINUTE 10
/* Close codes of our own (4000-4999): the peer sees why. */
#define CLOSE_ENDED SOUP_WEBSOCKET_CLOSE_NORMAL
#define CLOSE_NO_SESSION 4404
#define CLOSE_RATE 4429

typedef struct
{
  double tokens;
  gint64 last; /* monotonic µs */
} Bucket;

typedef struct
{
  char *id;
  char *secret_hash;
  char *agent;      /* the agent's user name, once joined */
  char *agent_name; /* what the customer is told */
  SoupWebsocketConnection *customer;
  SoupWebsocketConnection *agent_conn;
  CxCobrowseMode mode;
  gboolean write_requested;
  guint expiry_id;
  Bucket bytes[2]; /* [0] customer, [1] agent */
  Bucket frames[2];
} Session;

typedef struct
{
  CxServer *server;
  GHashTable *sessions; /* id -> Session */
  GHashTable *agents;   /* user name -> id of its session */
  GHashTable *starts;   /* address -> Bucket */
  GHashTable *joins;    /* user name -> Bucket (failed joins) */
} Relay;

static Relay *
relay_of (CxServer *self)
{
  return g_object_get_data (G_OBJECT (self), STATE_KEY);
}

static void
drop_socket (SoupWebsocketConnection **conn)
{
  if (*conn == NULL)
    return;
  g_signal_handlers_disconnect_matched (*conn, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                        g_object_get_data (G_OBJECT (*conn), "cx-cobrowse-relay"));
  if (soup_websocket_connection_get_state (*conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (*conn, CLOSE_ENDED, "ended");
  g_clear_object (conn);
}

static void
session_free (gpointer data)
{
  Session *session = data;

  g_clear_handle_id (&session->expiry_id, g_source_remove);
  drop_socket (&session->customer);
  drop_socket (&session->agent_conn);
  g_free (session->id);
  g_free (session->secret_hash);
  g_free (session->agent);
  g_free (session->agent_name);
  g_free (session);
}

/* A token bucket: a burst of @burst, refilled at @rate per second. Takes @cost if it can. */
static gboolean
bucket_take (Bucket *bucket, double burst, double rate, double cost)
{
  gint64 now = g_get_monotonic_time ();

  if (bucket->last == 0)
    bucket->tokens = burst;
  else
    bucket->tokens = MIN (burst, bucket->tokens + (now - bucket->last) / 1e6 * rate);
  bucket->last = now;
  if (bucket->tokens < cost)
    return FALSE;
  bucket->tokens -= cost;
  return TRUE;
}

static Bucket *
bucket_in (GHashTable *table, const char *key)
{
  Bucket *bucket = g_hash_table_lookup (table, key);

  if (bucket == NULL)
    {
      /* A table of hostile keys stays bounded: full buckets are the same as none. */
      if (g_hash_table_size (table) >= 4096)
        g_hash_table_remove_all (table);
      bucket = g_new0 (Bucket, 1);
      g_hash_table_insert (table, g_strdup (key), bucket);
    }
  return bucket;
}

/* A uniform code of CX_COBROWSE_CODE_DIGITS digits from the kernel's CSPRNG. */
static char *
new_code (void)
{
  const guint32 limit = 4000000000u; /* the largest multiple of 10^9 below 2^32 */

  for (;;)
    {
      g_autofree char *hex = _cx_server_random_token (4);
      guint32 value = (guint32) g_ascii_strtoull (hex, NULL, 16);

      if (value < limit)
        return g_strdup_printf ("%09u", value % 1000000000u);
    }
}

/* Ending */

static void
record_end (CxServer *self, const char *id, const char *by, const char *reason)
{
  g_autoptr (GError) error = NULL;

  if (!cx_store_end_cobrowse (self->store, id, _cx_server_now (), by, reason, &error) &&
      !g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT))
    g_warning ("Co-browse session %s: could not record its end: %s", id, error->message);
}

/* Ends @session for both sides: the other side gets an "end" frame (unless it sent one, or the
 * socket is gone), both sockets close, the audit record says who and why. */
static void
session_end (Relay *relay, Session *session, const char *by, const char *reason,
             SoupWebsocketConnection *from)
{
  g_autoptr (JsonNode) frame = cx_cobrowse_build_end (reason);
  g_autofree char *text = json_to_string (frame, FALSE);
  SoupWebsocketConnection *sides[] = { session->customer, session->agent_conn };

  for (guint i = 0; i < G_N_ELEMENTS (sides); i++)
    if (sides[i] != NULL && sides[i] != from &&
        soup_websocket_connection_get_state (sides[i]) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text (sides[i], text);

  record_end (relay->server, session->id, by, reason);
  if (session->agent != NULL)
    g_hash_table_remove (relay->agents, session->agent);
  g_hash_table_remove (relay->sessions, session->id); /* closes both sockets */
}

static gboolean
expiry_cb (gpointer user_data)
{
  Relay *relay = g_object_get_data (G_OBJECT (user_data), STATE_KEY);
  const char *id = g_object_get_data (G_OBJECT (user_data), "cx-cobrowse-id");
  Session *session = relay && id ? g_hash_table_lookup (relay->sessions, id) : NULL;

  if (session == NULL)
    return G_SOURCE_REMOVE;
  session->expiry_id = 0;
  if (session->agent == NULL)
    session_end (relay, session, "expired", "the code expired", NULL);
  else if (session->customer == NULL || session->agent_conn == NULL)
    session_end (relay, session, "server", "a side did not connect", NULL);
  return G_SOURCE_REMOVE;
}

/* The session's one timer: the code's expiry, then the deadline for both sockets. */
static void
arm_timer (Relay *relay, Session *session, guint seconds)
{
  /* The timer finds the session by id: it may have ended before. */
  GObject *key = g_object_new (G_TYPE_OBJECT, NULL);

  g_clear_handle_id (&session->expiry_id, g_source_remove);
  g_object_set_data (key, STATE_KEY, relay);
  g_object_set_data_full (key, "cx-cobrowse-id", g_strdup (session->id), g_free);
  session->expiry_id =
      g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, seconds, expiry_cb, key, g_object_unref);
}

/* Relaying */

static void
send_refused (SoupWebsocketConnection *conn, const char *type, const char *reason)
{
  g_autoptr (JsonNode) frame = cx_cobrowse_relay_build_refused (type, reason);
  g_autofree char *text = json_to_string (frame, FALSE);

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn, text);
}

static void
record_mode (Relay *relay, Session *session, CxCobrowseMode mode, const char *by)
{
  g_autoptr (GError) error = NULL;

  session->mode = mode;
  if (!cx_store_cobrowse_mode (relay->server->store, session->id, _cx_server_now (),
                               cx_cobrowse_mode_to_string (mode), by, &error))
    g_warning ("Co-browse session %s: could not record a mode change: %s", session->id,
               error->message);
}

static void
message_cb (SoupWebsocketConnection *conn, int type, GBytes *message, gpointer user_data)
{
  Relay *relay = user_data;
  /* Ending the session drops the relay's reference while this handler runs. */
  g_autoptr (SoupWebsocketConnection) hold = g_object_ref (conn);
  const char *id = g_object_get_data (G_OBJECT (conn), "cx-cobrowse-id");
  Session *session = g_hash_table_lookup (relay->sessions, id);
  CxServerConfig *config = relay->server->config;
  g_autoptr (CxCobrowseFrame) frame = NULL;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *to;
  gboolean from_agent;
  const char *data;
  gsize length;

  if (session == NULL)
    return;
  from_agent = conn == session->agent_conn;
  to = from_agent ? session->customer : session->agent_conn;

  data = g_bytes_get_data (message, &length);
  if (!bucket_take (&session->frames[from_agent], 2.0 * config->cobrowse_frames_per_second,
                    config->cobrowse_frames_per_second, 1) ||
      !bucket_take (&session->bytes[from_agent],
                    MAX (2.0 * config->cobrowse_bytes_per_second, config->cobrowse_frame_max_bytes),
                    config->cobrowse_bytes_per_second, length))
    {
      /* A mirror that missed a frame is wrong: the session ends rather than skip one. */
      session_end (relay, session, "server", "too much data", NULL);
      return;
    }
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      send_refused (conn, "binary", _ ("Frames are JSON text"));
      return;
    }
  if (!cx_cobrowse_frame_parse (data, length, &frame, &error))
    {
      send_refused (conn, "invalid", error->message);
      return;
    }
  if (from_agent ? !cx_cobrowse_frame_type_from_agent (frame->type)
                 : !cx_cobrowse_frame_type_from_customer (frame->type))
    {
      send_refused (conn, cx_cobrowse_frame_type_to_string (frame->type),
                    from_agent ? _ ("The agent cannot send this frame")
                               : _ ("The customer cannot send this frame"));
      return;
    }

  switch (frame->type)
    {
      case CX_COBROWSE_FRAME_END:
        /* session_end tells the other side, with this reason. */
        session_end (relay, session, from_agent ? "agent" : "customer",
                     frame->reason ? frame->reason : "ended", conn);
        return;
      case CX_COBROWSE_FRAME_INPUT:
        if (session->mode != CX_COBROWSE_MODE_WRITE)
          {
            send_refused (conn, "input", _ ("The customer has not allowed control"));
            return;
          }
        break;
      case CX_COBROWSE_FRAME_MODE_REQUEST:
        session->write_requested = frame->mode == CX_COBROWSE_MODE_WRITE;
        break;
      case CX_COBROWSE_FRAME_MODE_ACCEPT:
        if (frame->mode == CX_COBROWSE_MODE_WRITE && !session->write_requested)
          {
            send_refused (conn, "modeAccept", _ ("The agent has not asked for control"));
            return;
          }
        session->write_requested = FALSE;
        if (frame->mode != session->mode)
          record_mode (relay, session, frame->mode, "customer");
        break;
      case CX_COBROWSE_FRAME_MODE_REFUSE:
        session->write_requested = FALSE;
        break;
      case CX_COBROWSE_FRAME_MODE_REVOKE:
        session->write_requested = FALSE;
        if (session->mode != CX_COBROWSE_MODE_POINTER)
          record_mode (relay, session, CX_COBROWSE_MODE_POINTER, "customer");
        break;
      case CX_COBROWSE_FRAME_SNAPSHOT:
      case CX_COBROWSE_FRAME_CHANGES:
      case CX_COBROWSE_FRAME_POINTER:
      case CX_COBROWSE_FRAME_CLICK:
      case CX_COBROWSE_FRAME_ANNOTATION:
      default:
        break;
    }

  /* Before the agent joins, the customer's frames go nowhere: it sends a snapshot when told
   * an agent joined. */
  if (to != NULL && soup_websocket_connection_get_state (to) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (to, SOUP_WEBSOCKET_DATA_TEXT, message);
}

static void
closed_cb (SoupWebsocketConnection *conn, gpointer user_data)
{
  Relay *relay = user_data;
  g_autoptr (SoupWebsocketConnection) hold = g_object_ref (conn);
  const char *id = g_object_get_data (G_OBJECT (conn), "cx-cobrowse-id");
  Session *session = g_hash_table_lookup (relay->sessions, id);
  gboolean agent;

  if (session == NULL || (conn != session->customer && conn != session->agent_conn))
    return;
  agent = conn == session->agent_conn;
  session_end (relay, session, agent ? "agent" : "customer",
               agent ? "the agent left" : "the customer left", conn);
}

static void
tell_joined (Session *session)
{
  g_autoptr (JsonNode) frame = NULL;
  g_autofree char *text = NULL;

  if (session->customer == NULL || session->agent_conn == NULL)
    return;
  frame = cx_cobrowse_relay_build_joined (session->agent_name);
  text = json_to_string (frame, FALSE);
  soup_websocket_connection_send_text (session->customer, text);
}

/* The requests */

static const char *
bearer (SoupServerMessage *msg)
{
  const char *header =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    return NULL;
  return header + 7;
}

/* The session and side of a socket path ("/<id>/customer"), or NULL. */
static Session *
socket_session (Relay *relay, const char *path, gboolean *agent)
{
  const char *rest = path + strlen (CX_COBROWSE_RELAY_SESSIONS_PATH);
  g_auto (GStrv) parts = g_strsplit (rest, "/", 4);

  if (g_strv_length (parts) != 3 || parts[0][0] != '\0')
    return NULL;
  if (g_str_equal (parts[2], CX_COBROWSE_RELAY_CUSTOMER))
    *agent = FALSE;
  else if (g_str_equal (parts[2], CX_COBROWSE_RELAY_AGENT))
    *agent = TRUE;
  else
    return NULL;
  return g_hash_table_lookup (relay->sessions, parts[1]);
}

/* Replies with an error, before the handshake; after it, the caller closes the socket. */
static gboolean
refuse (SoupServerMessage *msg, gboolean reply, guint status, const char *message)
{
  if (reply)
    _cx_server_reply_error (msg, status, "%s", message);
  return FALSE;
}

/* Whether @msg may open the socket of @path; with @reply, replies with the error if not. */
static gboolean
socket_allowed (Relay *relay, SoupServerMessage *msg, const char *path, gboolean reply,
                Session **out)
{
  CxServer *self = relay->server;
  gboolean agent_side = FALSE;
  Session *session = socket_session (relay, path, &agent_side);

  if (session == NULL)
    {
      return refuse (msg, reply, SOUP_STATUS_NOT_FOUND,
                     _ ("There is no such co-browse session, or it has ended"));
    }
  if (agent_side)
    {
      g_autoptr (CxAgent) agent = NULL;

      if (!_cx_server_agent_request_allowed (self, msg))
        {
          return refuse (msg, reply, SOUP_STATUS_FORBIDDEN,
                         _ ("Requests from this origin are not allowed"));
        }
      agent = _cx_server_session_agent (self, msg, NULL);
      if (agent == NULL)
        {
          return refuse (msg, reply, SOUP_STATUS_UNAUTHORIZED, _ ("Sign in first"));
        }
      if (g_strcmp0 (session->agent, agent->username) != 0)
        {
          return refuse (msg, reply, SOUP_STATUS_FORBIDDEN,
                         _ ("Join this co-browse session with its code first"));
        }
      if (session->agent_conn != NULL)
        {
          return refuse (msg, reply, SOUP_STATUS_CONFLICT,
                         _ ("This co-browse session already has its agent"));
        }
    }
  else
    {
      const char *secret = bearer (msg);
      g_autofree char *hash = secret ? _cx_server_hash_token (secret) : NULL;

      if (hash == NULL || !_cx_server_equal_secret (hash, session->secret_hash))
        {
          return refuse (msg, reply, SOUP_STATUS_UNAUTHORIZED,
                         _ ("The co-browse session's secret is missing or wrong"));
        }
      if (session->customer != NULL)
        {
          return refuse (msg, reply, SOUP_STATUS_CONFLICT,
                         _ ("This co-browse session already has its customer"));
        }
    }
  if (out != NULL)
    *out = session;
  return TRUE;
}

static void
create_session (Relay *relay, SoupServerMessage *msg)
{
  CxServer *self = relay->server;
  const char *address = soup_server_message_get_remote_host (msg);
  g_autoptr (CxCobrowseRecord) record = g_new0 (CxCobrowseRecord, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autofree char *secret = NULL;
  CxCobrowseSessionInfo info;
  Session *session;

  if (!bucket_take (bucket_in (relay->starts, address ? address : ""),
                    self->config->cobrowse_starts_per_minute,
                    self->config->cobrowse_starts_per_minute / 60.0, 1))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                    "60");
      _cx_server_reply_error (msg, 429 /* Too Many Requests */,
                              _ ("Too many co-browse sessions from this address; try later"));
      return;
    }

  secret = _cx_server_random_token (SECRET_BYTES);
  record->id = _cx_server_random_token (16);
  record->secret_hash = _cx_server_hash_token (secret);
  record->address = g_strdup (address);
  record->created_at = _cx_server_now ();
  record->expires_at = record->created_at + self->config->cobrowse_code_seconds * 1000;
  /* A code already live is drawn again: with 10^9 codes, a few tries at most. */
  for (guint tries = 0;; tries++)
    {
      g_clear_pointer (&record->code, g_free);
      g_clear_error (&error);
      record->code = new_code ();
      if (cx_store_create_cobrowse (self->store, record, &error))
        break;
      if (tries >= 8 || !g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_CONFLICT))
        {
          _cx_server_reply_internal (msg, error);
          return;
        }
    }

  session = g_new0 (Session, 1);
  session->id = g_strdup (record->id);
  session->secret_hash = g_strdup (record->secret_hash);
  session->mode = CX_COBROWSE_MODE_POINTER;
  g_hash_table_insert (relay->sessions, session->id, session);
  arm_timer (relay, session, self->config->cobrowse_code_seconds);

  info = (CxCobrowseSessionInfo){ record->id, record->code, secret, record->expires_at };
  reply = cx_cobrowse_session_info_build (&info);
  _cx_server_reply_json (msg, SOUP_STATUS_CREATED, reply);
}

static void
join_session (Relay *relay, SoupServerMessage *msg)
{
  CxServer *self = relay->server;
  g_autoptr (CxAgent) agent = NULL;
  g_autoptr (JsonNode) body = NULL;
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *id = NULL;
  Session *session;

  if (!_cx_server_agent_request_allowed (self, msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_FORBIDDEN,
                              _ ("Requests from this origin are not allowed"));
      return;
    }
  if (!_cx_server_agent_content_type_allowed (msg))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                              _ ("The body must be application/json"));
      return;
    }
  agent = _cx_server_session_agent (self, msg, NULL);
  if (agent == NULL)
    {
      _cx_server_reply_error (msg, SOUP_STATUS_UNAUTHORIZED, _ ("Sign in first"));
      return;
    }
  body = _cx_server_read_json_body (msg, &error);
  if (body == NULL || !cx_cobrowse_join_request_parse (body, &code, &error))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
      return;
    }
  if (g_hash_table_contains (relay->agents, agent->username))
    {
      _cx_server_reply_error (msg, SOUP_STATUS_CONFLICT,
                              _ ("You are already in a co-browse session; end it first"));
      return;
    }
  /* Guessing codes costs tries, and tries are few. */
  {
    Bucket *bucket = bucket_in (relay->joins, agent->username);

    if (!bucket_take (bucket, JOIN_FAILURES_PER_MINUTE, JOIN_FAILURES_PER_MINUTE / 60.0, 0) ||
        bucket->tokens < 1.0)
      {
        soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                      "60");
        _cx_server_reply_error (msg, 429 /* Too Many Requests */,
                                _ ("Too many wrong codes; try again in a minute"));
        return;
      }
  }

  id = cx_store_join_cobrowse (self->store, code, agent->username, _cx_server_now (), &error);
  session = id ? g_hash_table_lookup (relay->sessions, id) : NULL;
  if (id != NULL && session == NULL)
    {
      /* Joined in the store, but its customer is on another process or gone. */
      record_end (self, id, "server", "the session is not on this server");
      g_set_error (&error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND, "gone");
    }
  if (session == NULL)
    {
      if (!g_error_matches (error, CX_STORE_ERROR, CX_STORE_ERROR_NOT_FOUND))
        {
          _cx_server_reply_internal (msg, error);
          return;
        }
      bucket_take (bucket_in (relay->joins, agent->username), JOIN_FAILURES_PER_MINUTE,
                   JOIN_FAILURES_PER_MINUTE / 60.0, 1);
      _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND,
                              _ ("No co-browse session has this code: it may be wrong, expired "
                                 "or already used"));
      return;
    }

  arm_timer (relay, session, CONNECT_SECONDS);
  session->agent = g_strdup (agent->username);
  session->agent_name = g_strdup (agent->display_name && *agent->display_name ? agent->display_name
                                                                              : agent->username);
  g_hash_table_insert (relay->agents, g_strdup (agent->username), g_strdup (session->id));
  reply = cx_cobrowse_join_reply_build (session->id);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
cobrowse_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer user_data)
{
  Relay *relay = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, CX_COBROWSE_RELAY_SESSIONS_PATH) && g_str_equal (method, "POST"))
    create_session (relay, msg);
  else if (g_str_equal (path, CX_COBROWSE_RELAY_JOIN_PATH) && g_str_equal (method, "POST"))
    join_session (relay, msg);
  else if (g_str_has_prefix (path, CX_COBROWSE_RELAY_SESSIONS_PATH "/") &&
           g_str_equal (method, "GET"))
    socket_allowed (relay, msg, path, TRUE, NULL); /* allowed: the WebSocket handler takes it */
  else
    _cx_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, _ ("There is nothing at %s"), path);
}

static void
socket_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
           SoupWebsocketConnection *conn, gpointer user_data)
{
  Relay *relay = user_data;
  Session *session = NULL;

  /* Checked again: the session may have ended between the check and the handshake. */
  if (!socket_allowed (relay, msg, path, FALSE, &session))
    {
      soup_websocket_connection_close (conn, CLOSE_NO_SESSION, "no such session");
      return;
    }

  g_object_set_data_full (G_OBJECT (conn), "cx-cobrowse-id", g_strdup (session->id), g_free);
  g_object_set_data (G_OBJECT (conn), "cx-cobrowse-relay", relay);
  soup_websocket_connection_set_max_incoming_payload_size (
      conn, relay->server->config->cobrowse_frame_max_bytes);
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  g_signal_connect (conn, "message", G_CALLBACK (message_cb), relay);
  g_signal_connect (conn, "closed", G_CALLBACK (closed_cb), relay);
  if (g_str_has_suffix (path, "/" CX_COBROWSE_RELAY_AGENT))
    session->agent_conn = g_object_ref (conn);
  else
    session->customer = g_object_ref (conn);
  if (session->customer != NULL && session->agent_conn != NULL)
    g_clear_handle_id (&session->expiry_id, g_source_remove);
  tell_joined (session);
}

static void
relay_free (gpointer data)
{
  Relay *relay = data;

  g_hash_table_unref (relay->sessions);
  g_hash_table_unref (relay->agents);
  g_hash_table_unref (relay->starts);
  g_hash_table_unref (relay->joins);
  g_free (relay);
}

void
_cx_server_cobrowse_init (CxServer *self)
{
  Relay *relay = g_new0 (Relay, 1);

  relay->server = self;
  relay->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
  relay->agents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  relay->starts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  relay->joins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_object_set_data_full (G_OBJECT (self), STATE_KEY, relay, relay_free);

  soup_server_add_handler (self->soup, CX_COBROWSE_RELAY_PREFIX, cobrowse_handler_cb, relay, NULL);
  /* The same handler on the sockets' path: it refuses a handshake before it happens. */
  soup_server_add_handler (self->soup, CX_COBROWSE_RELAY_SESSIONS_PATH, cobrowse_handler_cb, relay,
                           NULL);
  soup_server_add_websocket_handler (self->soup, CX_COBROWSE_RELAY_SESSIONS_PATH, NULL, NULL,
                                     socket_cb, relay, NULL);
}

/* Shutting down: every session ends, recorded as the server's doing. */
void
_cx_server_cobrowse_shutdown (CxServer *self)
{
  Relay *relay = relay_of (self);
  g_autoptr (GPtrArray) ids = NULL;

  if (relay == NULL)
    return;
  ids = g_ptr_array_new_with_free_func (g_free);
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, relay->sessions);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (ids, g_strdup (key));
  }
  for (guint i = 0; i < ids->len; i++)
    {
      Session *session = g_hash_table_lookup (relay->sessions, g_ptr_array_index (ids, i));

      if (session != NULL)
        session_end (relay, session, "server", "the server stopped", NULL);
    }
}
