/* cx-server-gms.c: the customer side: GMS Chat API v2 under /genesys/2/chat (reference §4,
 * API.md), and the customer push socket, /cx/1/chat/{service}/{chatId}/socket. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-chat.h"
#include "protocol/cx-http-range.h"
#include "protocol/cx-multipart.h"
#include "server/cx-server-private.h"

/* What every chat's customer gets as alias: the GMS node that serves the chat. */
#define CX_ALIAS "cxdesk"
/* Where a request's Range header is kept once it is off the request (see take_range_cb). */
#define RANGE_KEY "cx-range"
/* How long a push socket may stay silent before it says which chat it wants. */
#define HELLO_TIMEOUT_S 10

typedef struct
{
  SoupWebsocketConnection *conn;
  CxServer *server;
  char *chat_id;
  guint hello_timeout_id;
} CustomerSocket;

void
_cx_server_customer_socket_free (gpointer data)
{
  CustomerSocket *socket = data;

  g_clear_handle_id (&socket->hello_timeout_id, g_source_remove);
  g_clear_object (&socket->conn);
  g_free (socket->chat_id);
  g_free (socket);
}

static void
reply_gms_error (SoupServerMessage *msg, const GError *error)
{
  g_autoptr (JsonNode) node = cx_gms_error_to_json (error);

  if (!g_error_matches (error, CX_GMS_ERROR, CX_GMS_ERROR_INTERNAL))
    g_debug ("%s: %s", g_uri_get_path (soup_server_message_get_uri (msg)), error->message);
  _cx_server_reply_json (msg, cx_gms_error_to_http_status (error), node);
}

static void
reply_gms_internal (SoupServerMessage *msg, const GError *cause)
{
  g_autoptr (GError) error = NULL;

  g_warning ("%s: %s", g_uri_get_path (soup_server_message_get_uri (msg)), cause->message);
  error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INTERNAL,
                               _ ("The server could not complete the request"));
  reply_gms_error (msg, error);
}

static void
limits_from_config (CxServer *self, CxGmsLimits *limits)
{
  cx_gms_limits_init_default (limits);
  limits->max_message_length = self->config->max_message_length;
}

static void
file_limits_from_config (CxServer *self, CxGmsFileLimits *limits)
{
  limits->max_files = self->config->max_files;
  limits->max_file_size = self->config->max_file_size;
  limits->max_total_size = self->config->max_total_size;
  limits->allowed_types = self->config->file_types;
}

/* Replies with the chat's state and, when @from > 0, its messages from that index. With
 * @limit > 0 (refresh's `limit` and `before`, our extension: API.md), only the last @limit of
 * those below @before (0: the newest), and "firstPosition", where that page begins. */
static void
reply_chat_page (CxServer *self, SoupServerMessage *msg, const CxChat *chat, const char *secure_key,
                 guint from, guint limit, guint before, JsonNode *user_data)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  guint end = chat->next_index;

  if (from > 0 && limit > 0)
    {
      if (before > 0)
        end = MIN (before, end);
      from = MAX (from, end > limit ? end - limit : 1);
      if (end > from)
        messages = cx_store_get_messages (self->store, chat->id, from, end - from, &error);
      else
        messages = g_ptr_array_new ();
      if (messages == NULL)
        {
          reply_gms_internal (msg, error);
          return;
        }
    }
  else if (from > 0)
    {
      messages = cx_store_get_messages (self->store, chat->id, from, 0, &error);
      if (messages == NULL)
        {
          reply_gms_internal (msg, error);
          return;
        }
    }
  else
    messages = g_ptr_array_new ();

  reply = cx_gms_build_reply (chat->id, chat->user_id, secure_key, chat->alias,
                              chat->state == CX_CHAT_ENDED, chat->next_index, messages);
  if (user_data != NULL)
    json_object_set_member (json_node_get_object (reply), "userData", json_node_ref (user_data));
  if (from > 0 && limit > 0)
    json_object_set_int_member (json_node_get_object (reply), "firstPosition", from);
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static void
reply_chat (CxServer *self, SoupServerMessage *msg, const CxChat *chat, const char *secure_key,
            guint from, JsonNode *user_data)
{
  reply_chat_page (self, msg, chat, secure_key, from, 0, 0, user_data);
}

static CxMessage *
client_message (const CxChat *chat, CxMessageType type, const char *text, JsonNode *user_data)
{
  return cx_message_new (type, CX_PARTY_CLIENT, chat->nickname, chat->user_id, text,
                         _cx_server_now (), user_data);
}

/* Rate limits (issue 9 item 5): one token bucket per customer operation and chat, and one per
 * client address for chat starts, each a burst of the whole minute's allowance refilled
 * continuously. They live in self->rate_buckets under "operation:subject"; the changed ones are
 * written to the store within BUCKET_FLUSH_S and at shutdown, and read back at start, so that a
 * restart does not refill them. */
typedef enum
{
  LIMIT_SEND,
  LIMIT_NOTICE,
  LIMIT_TYPING,
  LIMIT_UPDATE,
  LIMIT_UPLOAD,
  LIMIT_START,
} LimitKind;

static const char *const limit_names[] = {
  "send", "notice", "typing", "update", "upload", "start"
};

/* A bucket idle this long is full again, the same as no bucket: the sweep drops it. */
#define BUCKET_IDLE_US (60 * G_USEC_PER_SEC)
/* The table is swept of idle buckets when it reaches this size, then at twice what is left. */
#define BUCKET_SWEEP_MIN 1024
/* Changed buckets are written to the store this long after the first change, together. */
#define BUCKET_FLUSH_S 1
#define LIMITS_KEY "cx-gms-limits"

/* What the rate limits keep beside self->rate_buckets, on the server as LIMITS_KEY. */
typedef struct
{
  CxServer *server;
  GHashTable *dirty; /* keys of buckets changed since the last flush */
  guint flush_id;
} LimitsState;

static void
limits_state_free (gpointer data)
{
  LimitsState *state = data;

  g_clear_handle_id (&state->flush_id, g_source_remove);
  g_hash_table_unref (state->dirty);
  g_free (state);
}

/* Writes the changed buckets, and forgets the idle ones, in one transaction. A bucket's
 * monotonic time becomes wall-clock time here, and back in load_buckets. */
static void
flush_buckets (CxServer *self)
{
  LimitsState *state = g_object_get_data (G_OBJECT (self), LIMITS_KEY);
  g_autoptr (GPtrArray) buckets = NULL;
  g_autoptr (GError) error = NULL;
  gint64 mono = g_get_monotonic_time ();
  gint64 real = g_get_real_time ();
  GHashTableIter iter;
  const char *key;

  if (state == NULL || self->store == NULL || g_hash_table_size (state->dirty) == 0)
    return;

  buckets = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_stored_bucket_free);
  g_hash_table_iter_init (&iter, state->dirty);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, NULL))
    {
      const CxRateBucket *bucket = g_hash_table_lookup (self->rate_buckets, key);
      CxStoredBucket *stored;

      if (bucket == NULL) /* forgotten: its chat ended */
        continue;
      stored = g_new0 (CxStoredBucket, 1);
      stored->key = g_strdup (key);
      stored->tokens = bucket->tokens;
      stored->updated_at = real - (mono - bucket->last);
      g_ptr_array_add (buckets, stored);
    }
  g_hash_table_remove_all (state->dirty);
  if (!cx_store_save_rate_buckets (self->store, buckets, real - BUCKET_IDLE_US, &error))
    g_warning ("Could not keep the rate limits: %s", error->message);
}

static gboolean
flush_buckets_cb (gpointer user_data)
{
  LimitsState *state = user_data;

  state->flush_id = 0;
  flush_buckets (state->server);
  return G_SOURCE_REMOVE;
}

static void
bucket_changed (CxServer *self, const char *key)
{
  LimitsState *state = g_object_get_data (G_OBJECT (self), LIMITS_KEY);

  g_hash_table_add (state->dirty, g_strdup (key));
  if (state->flush_id == 0)
    state->flush_id = g_timeout_add_seconds (BUCKET_FLUSH_S, flush_buckets_cb, state);
}

/* At start: the buckets of the last minute, as the store kept them. */
static void
load_buckets (CxServer *self)
{
  g_autoptr (GPtrArray) stored = NULL;
  g_autoptr (GError) error = NULL;
  gint64 mono = g_get_monotonic_time ();
  gint64 real = g_get_real_time ();

  stored = cx_store_load_rate_buckets (self->store, real - BUCKET_IDLE_US, &error);
  if (stored == NULL)
    {
      g_warning ("Could not read the rate limits: %s", error->message);
      return;
    }
  for (guint i = 0; i < stored->len; i++)
    {
      const CxStoredBucket *one = g_ptr_array_index (stored, i);
      CxRateBucket *bucket = g_new0 (CxRateBucket, 1);

      bucket->tokens = MAX (0.0, one->tokens);
      bucket->last = mono - CLAMP (real - one->updated_at, 0, BUCKET_IDLE_US);
      g_hash_table_replace (self->rate_buckets, g_strdup (one->key), bucket);
    }
}

void
_cx_server_gms_shutdown (CxServer *self)
{
  LimitsState *state = g_object_get_data (G_OBJECT (self), LIMITS_KEY);

  if (state == NULL)
    return;
  g_clear_handle_id (&state->flush_id, g_source_remove);
  flush_buckets (self);
}

static guint
limit_per_minute (CxServer *self, LimitKind kind)
{
  switch (kind)
    {
      case LIMIT_SEND:
        return self->config->messages_per_minute;
      case LIMIT_NOTICE:
        return self->config->notices_per_minute;
      case LIMIT_TYPING:
        return self->config->typing_per_minute;
      case LIMIT_UPDATE:
        return self->config->updates_per_minute;
      case LIMIT_UPLOAD:
        return self->config->uploads_per_minute;
      case LIMIT_START:
      default:
        return self->config->chat_starts_per_minute;
    }
}

static void
sweep_buckets (CxServer *self, gint64 now)
{
  static guint sweep_at = BUCKET_SWEEP_MIN; /* one server per process */
  GHashTableIter iter;
  CxRateBucket *bucket;

  if (g_hash_table_size (self->rate_buckets) < sweep_at)
    return;
  g_hash_table_iter_init (&iter, self->rate_buckets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &bucket))
    if (now - bucket->last >= BUCKET_IDLE_US)
      g_hash_table_iter_remove (&iter);
  sweep_at = MAX (BUCKET_SWEEP_MIN, 2 * g_hash_table_size (self->rate_buckets));
}

/* Takes a token for @kind on @subject (a chat id or an address): 0 when there was one, or the
 * seconds until there will be, for Retry-After. */
static guint
rate_limit_take (CxServer *self, LimitKind kind, const char *subject)
{
  double burst = limit_per_minute (self, kind);
  double rate = burst / 60.0;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *key = g_strdup_printf ("%s:%s", limit_names[kind], subject);
  CxRateBucket *bucket = g_hash_table_lookup (self->rate_buckets, key);

  if (bucket == NULL)
    {
      sweep_buckets (self, now);
      bucket = g_new0 (CxRateBucket, 1);
      bucket->tokens = burst;
      bucket->last = now;
      g_hash_table_insert (self->rate_buckets, g_strdup (key), bucket);
    }

  bucket->tokens = MIN (burst, bucket->tokens + (now - bucket->last) / 1e6 * rate);
  bucket->last = now;
  if (bucket->tokens < 1.0)
    return MAX (1, (guint) ((1.0 - bucket->tokens) / rate + 0.999));
  bucket->tokens -= 1.0;
  bucket_changed (self, key);
  return 0;
}

static void
forget_chat_buckets (CxServer *self, const char *chat_id)
{
  for (guint i = 0; i < LIMIT_START; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s:%s", limit_names[i], chat_id);

      g_hash_table_remove (self->rate_buckets, key);
    }
}

/* 429 in the GMS shape, with Retry-After. */
static void
reply_rate_limited (CxServer *self, SoupServerMessage *msg, LimitKind kind, guint retry_after)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *seconds = g_strdup_printf ("%u", retry_after);

  if (kind == LIMIT_SEND)
    error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_RATE_LIMITED,
                         _ ("More than %u messages a minute: slow down"),
                         self->config->messages_per_minute);
  else
    error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_RATE_LIMITED,
                         _ ("More than %u of these requests a minute: try again in %u s"),
                         limit_per_minute (self, kind), retry_after);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                seconds);
  reply_gms_error (msg, error);
}

/* Takes a token, or replies 429 and returns FALSE. */
static gboolean
rate_limit_check (CxServer *self, SoupServerMessage *msg, LimitKind kind, const char *subject)
{
  guint retry_after = rate_limit_take (self, kind, subject);

  if (retry_after == 0)
    return TRUE;
  reply_rate_limited (self, msg, kind, retry_after);
  return FALSE;
}

/* userData of one chat, bounded (issue 9 item 6): keys, bytes of each key and value, and the
 * whole object serialized as JSON. Checked on the merged result, before anything is stored. */
static gboolean
check_user_data (CxServer *self, JsonNode *user_data, GError **error)
{
  const CxServerConfig *config = self->config;
  JsonObject *object = json_node_get_object (user_data);
  g_autofree char *text = NULL;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  if (json_object_get_size (object) > config->user_data_max_keys)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                   _ ("A chat's “userData” has at most %u keys"), config->user_data_max_keys);
      return FALSE;
    }
  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &key, &value))
    {
      const char *string =
          JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING
              ? json_node_get_string (value)
              : NULL;

      if (strlen (key) > config->user_data_max_key_bytes)
        {
          g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                       _ ("A “userData” key is longer than %u bytes"),
                       config->user_data_max_key_bytes);
          return FALSE;
        }
      if (string != NULL && strlen (string) > config->user_data_max_value_bytes)
        {
          g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                       _ ("A “userData” value is longer than %u bytes"),
                       config->user_data_max_value_bytes);
          return FALSE;
        }
    }
  text = json_to_string (user_data, FALSE);
  if (strlen (text) > config->user_data_max_total_bytes)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                   _ ("A chat's “userData” is larger than %u bytes"),
                   config->user_data_max_total_bytes);
      return FALSE;
    }
  return TRUE;
}

static void
start_chat (CxServer *self, SoupServerMessage *msg, const char *service, GHashTable *form)
{
  g_autoptr (CxGmsStartRequest) request = NULL;
  g_autoptr (CxMessage) joined = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secure_key = NULL;
  CxGmsLimits limits;
  CxChat chat = { 0 };
  gboolean ok;

  limits_from_config (self, &limits);
  request = cx_gms_start_request_parse (form, &limits, &error);
  if (request == NULL || !check_user_data (self, request->user_data, &error))
    {
      reply_gms_error (msg, error);
      return;
    }
  /* Per client address: behind a reverse proxy, that is the proxy's (API.md). */
  if (!rate_limit_check (self, msg, LIMIT_START,
                         soup_server_message_get_remote_host (msg)
                             ? soup_server_message_get_remote_host (msg)
                             : "unknown"))
    return;

  secure_key = _cx_server_random_token (16);
  chat.id = _cx_server_random_token (16);
  chat.service = (char *) service;
  chat.queue = (char *) service;
  chat.secure_key = secure_key;
  chat.alias = (char *) CX_ALIAS;
  chat.user_id = _cx_server_random_token (8);
  chat.nickname = request->nickname;
  chat.first_name = request->first_name;
  chat.last_name = request->last_name;
  chat.email = request->email_address;
  chat.subject = request->subject;
  chat.user_data = request->user_data;
  chat.state = CX_CHAT_WAITING;
  chat.created_at = chat.queued_at = _cx_server_now ();
  chat.next_index = 1;

  joined = client_message (&chat, CX_MESSAGE_PARTICIPANT_JOINED, NULL, NULL);
  ok = cx_store_create_chat (self->store, &chat, &error) &&
       _cx_server_append_one (self, &chat, joined, NULL, &error);
  if (!ok)
    {
      reply_gms_internal (msg, error);
      g_free (chat.id);
      g_free (chat.user_id);
      return;
    }
  chat.next_index = joined->index + 1;

  _cx_server_route (self, chat.id);
  _cx_server_queue_changed (self, service);

  reply_chat (self, msg, &chat, secure_key, 0, NULL);
  g_free (chat.id);
  g_free (chat.user_id);
}

static void
end_by_customer (CxServer *self, SoupServerMessage *msg, CxChat *chat, guint from)
{
  g_autoptr (CxChat) update = cx_chat_copy (chat);
  g_autoptr (CxMessage) left = client_message (chat, CX_MESSAGE_PARTICIPANT_LEFT, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) after = NULL;

  if (chat->state != CX_CHAT_ENDED)
    {
      update->state = CX_CHAT_ENDED;
      update->ended_at = _cx_server_now ();
      _cx_server_withdraw_invitation (self, chat->id, "customer left");
      if (!_cx_server_append_one (self, chat, left, update, &error))
        {
          reply_gms_internal (msg, error);
          return;
        }
      _cx_server_close_customer_sockets (self, chat->id);
      forget_chat_buckets (self, chat->id);
      g_hash_table_remove (self->typing_previews, chat->id);
      g_hash_table_remove (self->notified_positions, chat->id);
      _cx_server_queue_changed (self, chat->queue);
      _cx_server_route_all (self);
    }

  after = cx_store_get_chat (self->store, chat->id, NULL);
  reply_chat (self, msg, after ? after : update, NULL, from, NULL);
}

static void
upload_file (CxServer *self, SoupServerMessage *msg, CxChat *chat, GPtrArray *form_parts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (CxMessage) message = NULL;
  const CxMultipartPart *part = form_parts ? cx_multipart_find_file (form_parts, "file") : NULL;
  CxGmsFileLimits limits = { 0 };
  GBytes *part_body;
  const char *name, *type;
  guint64 total = 0;
  guint count = 0;
  CxFile file = { 0 };

  if (part == NULL)
    {
      error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER,
                                   _ ("The upload has no “file” part with a file name"));
      reply_gms_error (msg, error);
      return;
    }
  name = part->filename;
  part_body = part->body;

  if (!cx_store_file_usage (self->store, chat->id, &count, &total, &error))
    {
      reply_gms_internal (msg, error);
      return;
    }
  file_limits_from_config (self, &limits);
  if (!cx_gms_file_limits_check (&limits, name, g_bytes_get_size (part_body), count, total, &error))
    {
      reply_gms_error (msg, error);
      return;
    }

  type = part->content_type;
  file.id = _cx_server_random_token (12);
  file.chat_id = chat->id;
  file.name = (char *) name;
  file.content_type = (char *) (type ? type : "application/octet-stream");
  file.data = part_body;
  file.uploaded_at = _cx_server_now ();
  if (!cx_store_add_file (self->store, &file, &error))
    {
      g_free (file.id);
      reply_gms_internal (msg, error);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "file-id");
  json_builder_add_string_value (builder, file.id);
  json_builder_set_member_name (builder, "file-name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "file-size");
  json_builder_add_int_value (builder, g_bytes_get_size (part_body));
  json_builder_set_member_name (builder, "file-type");
  json_builder_add_string_value (builder, file.content_type);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);
  g_free (file.id);

  message = client_message (chat, CX_MESSAGE_FILE_UPLOADED, name, data);
  if (!_cx_server_append_one (self, chat, message, NULL, &error))
    {
      reply_gms_internal (msg, error);
      return;
    }
  chat->next_index = message->index + 1;
  reply_chat (self, msg, chat, NULL, 0, data);
}

static void
download_file (CxServer *self, SoupServerMessage *msg, CxChat *chat, const char *file_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CxFile) file = cx_store_get_file (self->store, chat->id, file_id, &error);
  g_autofree char *disposition = NULL;
  g_autofree char *escaped = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *range;
  guint64 size, start = 0, end = 0;

  if (file == NULL)
    {
      if (error != NULL)
        reply_gms_internal (msg, error);
      else
        {
          error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_CHAT_NOT_FOUND,
                               _ ("There is no file %s in this chat"), file_id);
          reply_gms_error (msg, error);
        }
      return;
    }

  /* RFC 6266: the name as UTF-8, percent-encoded; never interpreted by the server. */
  escaped = g_uri_escape_string (file->name, NULL, FALSE);
  disposition = g_strdup_printf ("attachment; filename*=UTF-8''%s", escaped);
  soup_message_headers_replace (headers, "Content-Disposition", disposition);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");

  /* At most one range, by our own parser (cx-http-range.c): never a multipart/byteranges reply,
   * never more bytes than the file. Range was taken off the request in got-headers so that
   * libsoup does not apply it again. */
  range = g_object_get_data (G_OBJECT (msg), RANGE_KEY);
  size = g_bytes_get_size (file->data);
  switch (range ? cx_http_range_parse (range, strlen (range), size, &start, &end)
                : CX_HTTP_RANGE_NONE)
    {
      case CX_HTTP_RANGE_OK:
        {
          g_autofree char *content_range = g_strdup_printf (
              "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, start, end,
              size);

          soup_message_headers_replace (headers, "Content-Range", content_range);
          soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
          soup_server_message_set_response (
              msg, file->content_type, SOUP_MEMORY_COPY,
              (const char *) g_bytes_get_data (file->data, NULL) + start, end - start + 1);
          return;
        }
      case CX_HTTP_RANGE_UNSATISFIABLE:
        {
          g_autofree char *content_range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);

          soup_message_headers_remove (headers, "Content-Disposition");
          soup_message_headers_replace (headers, "Content-Range", content_range);
          soup_server_message_set_status (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
          return;
        }
      case CX_HTTP_RANGE_NONE:
      default:
        break;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, file->content_type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (file->data, NULL), size);
}

static void
chat_operation (CxServer *self, SoupServerMessage *msg, const char *service, const char *chat_id,
                CxGmsOp op, const char *file_id, GHashTable *form, GPtrArray *form_parts)
{
  g_autoptr (CxGmsChatRequest) request = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CxMessage) message = NULL;
  g_autoptr (CxChat) update = NULL;
  const char *position_text;
  CxGmsLimits limits;
  guint from = 0;

  limits_from_config (self, &limits);
  request = cx_gms_chat_request_parse (op, form, &limits, &error);
  if (request == NULL)
    {
      g_autoptr (CxGmsChatRequest) keys = NULL;

      /* A missing, empty or malformed userId, secureKey or alias is a refused key (403): say
       * nothing else about the chat. The keys alone are what disconnect reads. */
      keys = cx_gms_chat_request_parse (CX_GMS_OP_DISCONNECT, form, &limits, NULL);
      if (keys == NULL)
        {
          g_clear_error (&error);
          error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_KEY,
                                       _ ("This request needs the chat's userId, secureKey and "
                                          "alias"));
        }
      reply_gms_error (msg, error);
      return;
    }

  chat = cx_store_get_chat (self->store, chat_id, &error);
  if (chat == NULL && error != NULL)
    {
      reply_gms_internal (msg, error);
      return;
    }
  if (chat == NULL || !g_str_equal (chat->service, service))
    {
      error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_CHAT_NOT_FOUND, _ ("There is no chat %s"),
                           chat_id);
      reply_gms_error (msg, error);
      return;
    }
  /* All three are compared, each in constant time, and the answer does not say which failed. */
  if (!(_cx_server_equal_secret (request->secure_key, chat->secure_key) &
        _cx_server_equal_secret (request->user_id, chat->user_id) &
        _cx_server_equal_secret (request->alias, chat->alias)))
    {
      error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_KEY,
                                   _ ("The chat's keys do not match"));
      reply_gms_error (msg, error);
      return;
    }

  /* Every operation may ask for the transcript from a position, as refresh does. */
  position_text = g_hash_table_lookup (form, "transcriptPosition");
  if (op == CX_GMS_OP_REFRESH)
    from = MAX (request->transcript_position, 1);
  else if (position_text != NULL)
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (position_text, 10, 0, G_MAXUINT, &value, NULL))
        {
          error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                                       _ ("“transcriptPosition” must be a whole number"));
          reply_gms_error (msg, error);
          return;
        }
      from = MAX (value, 1);
    }

  switch (op)
    {
      case CX_GMS_OP_REFRESH:
        /* A GMS client may carry what its customer is typing on each refresh: the agent sees
         * it as TypingStarted with the text, once per change, not once per poll. */
        if (request->message != NULL && *request->message != '\0' && chat->state != CX_CHAT_ENDED &&
            g_strcmp0 (g_hash_table_lookup (self->typing_previews, chat->id), request->message) !=
                0)
          {
            g_autoptr (CxMessage) preview = NULL;

            if (!rate_limit_check (self, msg, LIMIT_TYPING, chat->id))
              return;
            preview = client_message (chat, CX_MESSAGE_TYPING_STARTED, request->message, NULL);
            if (!_cx_server_append_one (self, chat, preview, NULL, &error))
              {
                reply_gms_internal (msg, error);
                return;
              }
            chat->next_index = preview->index + 1;
            g_hash_table_replace (self->typing_previews, g_strdup (chat->id),
                                  g_strdup (request->message));
          }
        reply_chat_page (self, msg, chat, NULL, from, request->limit, request->before, NULL);
        return;
      case CX_GMS_OP_FILE_LIMITS:
        {
          CxGmsFileLimits limits_ = { 0 };
          g_autoptr (JsonNode) reply = NULL;

          file_limits_from_config (self, &limits_);
          reply = cx_gms_build_file_limits_reply (&limits_);
          _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
          return;
        }
      case CX_GMS_OP_FILE_DOWNLOAD:
        download_file (self, msg, chat, file_id);
        return;
      case CX_GMS_OP_DISCONNECT:
        end_by_customer (self, msg, chat, from);
        return;
      default:
        break;
    }

  if (chat->state == CX_CHAT_ENDED)
    {
      g_autoptr (JsonNode) node = NULL;

      error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_OPERATION,
                                   _ ("The chat has ended"));
      node = cx_gms_error_to_json (error);
      json_object_set_boolean_member (json_node_get_object (node), "chatEnded", TRUE);
      _cx_server_reply_json (msg, cx_gms_error_to_http_status (error), node);
      return;
    }

  switch (op)
    {
      case CX_GMS_OP_SEND:
        if (!rate_limit_check (self, msg, LIMIT_SEND, chat->id))
          return;
        message = client_message (chat, CX_MESSAGE_TEXT, request->message, NULL);
        break;
      case CX_GMS_OP_START_TYPING:
        if (!rate_limit_check (self, msg, LIMIT_TYPING, chat->id))
          return;
        message = client_message (chat, CX_MESSAGE_TYPING_STARTED, request->message, NULL);
        break;
      case CX_GMS_OP_STOP_TYPING:
        if (!rate_limit_check (self, msg, LIMIT_TYPING, chat->id))
          return;
        message = client_message (chat, CX_MESSAGE_TYPING_STOPPED, NULL, NULL);
        break;
      case CX_GMS_OP_CUSTOM_NOTICE:
        if (!rate_limit_check (self, msg, LIMIT_NOTICE, chat->id))
          return;
        message = client_message (chat, CX_MESSAGE_CUSTOM_NOTICE, request->message, NULL);
        break;
      case CX_GMS_OP_UPDATE_DATA:
        {
          JsonObject *merged;
          JsonObjectIter iter;
          const char *key;
          JsonNode *value;

          if (!rate_limit_check (self, msg, LIMIT_UPDATE, chat->id))
            return;
          update = cx_chat_copy (chat);
          merged = json_node_get_object (update->user_data);
          json_object_iter_init (&iter, json_node_get_object (request->user_data));
          while (json_object_iter_next (&iter, &key, &value))
            json_object_set_member (merged, key, json_node_copy (value));
          /* Over a bound: refused whole, nothing of it applied (update is only a copy). */
          if (!check_user_data (self, update->user_data, &error))
            {
              reply_gms_error (msg, error);
              return;
            }
          break;
        }
      case CX_GMS_OP_FILE_UPLOAD:
        if (!rate_limit_check (self, msg, LIMIT_UPLOAD, chat->id))
          return;
        upload_file (self, msg, chat, form_parts);
        return;
      default:
        error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_OPERATION,
                                     _ ("Unknown operation"));
        reply_gms_error (msg, error);
        return;
    }

  if (message != NULL)
    {
      if (!_cx_server_append_one (self, chat, message, update, &error))
        {
          reply_gms_internal (msg, error);
          return;
        }
      chat->next_index = message->index + 1;
    }
  else if (update != NULL)
    {
      g_autoptr (GPtrArray) none = g_ptr_array_new ();

      if (!_cx_server_append (self, chat, none, update, &error))
        {
          reply_gms_internal (msg, error);
          return;
        }
    }

  reply_chat (self, msg, chat, NULL, from, NULL);
}

/* The request's form: urlencoded (body, or the query when the body is empty), or
 * multipart/form-data, read by our own parser (cx-multipart.c), never by libsoup's. A multipart
 * form's text fields are the form; all its parts are returned in @parts for the file upload. */
static GHashTable *
read_gms_form (SoupServerMessage *msg, GPtrArray **parts, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *type =
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Content-Type");
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));

  /* A multipart upload carries its key fields as parts; they are read the same way. */
  if (type != NULL && g_ascii_strncasecmp (type, "multipart/", strlen ("multipart/")) == 0)
    {
      g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
      g_autofree char *boundary = cx_multipart_boundary (type, error);
      GHashTable *form;

      if (boundary == NULL)
        return NULL;
      *parts = cx_multipart_parse (bytes, boundary, NULL, error);
      if (*parts == NULL)
        return NULL;
      form = cx_multipart_form_fields (*parts, error);
      if (form == NULL)
        g_clear_pointer (parts, g_ptr_array_unref);
      return form;
    }

  if (body->length == 0)
    return cx_form_decode (query ? query : "", query ? strlen (query) : 0, error);
  return cx_form_decode (body->data, body->length, error);
}

static void
gms_handler_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  CxServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto (GStrv) parts = g_strsplit (path + strlen ("/genesys/2/chat"), "/", 0);
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (GPtrArray) form_parts = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *op_name = NULL;
  const char *file_id = NULL;
  guint n = g_strv_length (parts);
  CxGmsOp op;

  if (n < 2 || parts[0][0] != '\0' ||
      cx_server_config_find_service (self->config, parts[1]) == NULL)
    {
      error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_CHAT_NOT_FOUND, _ ("There is no service %s"),
                           n >= 2 ? parts[1] : "");
      reply_gms_error (msg, error);
      return;
    }

  form = read_gms_form (msg, &form_parts, &error);
  if (form == NULL)
    {
      g_autoptr (GError) gms =
          g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER, "%s", error->message);
      reply_gms_error (msg, gms);
      return;
    }

  if (n == 2 && g_str_equal (method, "POST"))
    {
      start_chat (self, msg, parts[1], form);
      return;
    }

  /* …/{chatId}/{op}, …/{chatId}/file/limits, …/{chatId}/file/{fileId}/download */
  if (n == 6 && g_str_equal (parts[3], "file") && g_str_equal (parts[5], "download"))
    {
      op_name = g_strdup ("file/download");
      file_id = parts[4];
    }
  else if (n == 5 && g_str_equal (parts[3], "file") && g_str_equal (parts[4], "limits"))
    op_name = g_strdup ("file/limits");
  else if (n == 4)
    op_name = g_strdup (parts[3]);

  if (op_name == NULL || !cx_gms_op_from_string (op_name, &op) ||
      (!g_str_equal (method, "POST") &&
       !(op == CX_GMS_OP_FILE_DOWNLOAD && g_str_equal (method, "GET"))))
    {
      error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_INVALID_OPERATION,
                           _ ("There is no operation %s %s"), method, path);
      reply_gms_error (msg, error);
      return;
    }

  chat_operation (self, msg, parts[1], parts[2], op, file_id, form, form_parts);
}

/* The customer push socket */

static void
send_frame (SoupWebsocketConnection *conn, JsonNode *frame)
{
  g_autofree char *text = json_to_string (frame, FALSE);

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn, text);
}

void
_cx_server_push_to_customers (CxServer *self, const CxChat *chat, GPtrArray *messages)
{
  GPtrArray *sockets = g_hash_table_lookup (self->customer_sockets, chat->id);
  g_autoptr (JsonNode) frame = NULL;
  g_autoptr (JsonNode) ended = NULL;

  if (sockets == NULL || sockets->len == 0)
    return;

  frame = cx_agent_event_build_messages (
      chat->id, messages,
      ((CxMessage *) g_ptr_array_index (messages, messages->len - 1))->index + 1);
  if (chat->state == CX_CHAT_ENDED)
    ended = cx_agent_event_build_chat_ended (chat->id);

  for (guint i = 0; i < sockets->len; i++)
    {
      CustomerSocket *socket = g_ptr_array_index (sockets, i);

      send_frame (socket->conn, frame);
      if (ended != NULL)
        send_frame (socket->conn, ended);
    }
}

void
_cx_server_close_customer_sockets (CxServer *self, const char *chat_id)
{
  if (_cx_server_commit_defer_close (self, chat_id)) /* group commit: after the pushes */
    return;
  _cx_server_close_customer_sockets_here (self, chat_id);
  _cx_server_cluster_note (self, "c", chat_id, NULL);
}

void
_cx_server_close_customer_sockets_here (CxServer *self, const char *chat_id)
{
  GPtrArray *sockets = g_hash_table_lookup (self->customer_sockets, chat_id);

  for (guint i = 0; sockets && i < sockets->len; i++)
    {
      CustomerSocket *socket = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (socket->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (socket->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, "chat ended");
    }
}

/* Shutdown (issue 9 item 15, cx_server_shutdown): every customer socket, before its first
 * frame or after, with a reference each, so that they can all be closed with 1001. */
void
_cx_server_collect_customer_sockets (CxServer *self, GPtrArray *out)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->pending_customer_sockets);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (out, g_object_ref (key));

  g_hash_table_iter_init (&iter, self->customer_sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *sockets = value;

      for (guint i = 0; i < sockets->len; i++)
        g_ptr_array_add (out,
                         g_object_ref (((CustomerSocket *) g_ptr_array_index (sockets, i))->conn));
    }
}

static void
customer_socket_closed_cb (SoupWebsocketConnection *conn, CxServer *self)
{
  CustomerSocket *socket = g_hash_table_lookup (self->pending_customer_sockets, conn);
  const char *chat_id = g_object_get_data (G_OBJECT (conn), "cx-chat");
  GPtrArray *sockets = chat_id ? g_hash_table_lookup (self->customer_sockets, chat_id) : NULL;

  if (socket != NULL)
    {
      g_hash_table_remove (self->pending_customer_sockets, conn);
      return;
    }

  for (guint i = 0; sockets && i < sockets->len; i++)
    if (((CustomerSocket *) g_ptr_array_index (sockets, i))->conn == conn)
      {
        g_ptr_array_remove_index_fast (sockets, i);
        break;
      }
  if (sockets != NULL && sockets->len == 0)
    g_hash_table_remove (self->customer_sockets, chat_id);
}

static gboolean
hello_timeout_cb (gpointer user_data)
{
  CustomerSocket *socket = user_data;

  socket->hello_timeout_id = 0;
  soup_websocket_connection_close (socket->conn, 4408, "no hello");
  return G_SOURCE_REMOVE;
}

static void
customer_message_cb (SoupWebsocketConnection *conn, int type, GBytes *message, CxServer *self)
{
  CustomerSocket *socket = g_hash_table_lookup (self->pending_customer_sockets, conn);
  g_autoptr (CxPushHello) hello = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CxChat) chat = NULL;
  g_autoptr (GPtrArray) backlog = NULL;
  g_autoptr (JsonNode) frame = NULL;
  GPtrArray *sockets;
  gsize length;
  const char *data;

  /* After the hello the customer has nothing to say here; it talks through the GMS API. */
  if (socket == NULL)
    return;
  _cx_server_commit_flush (self); /* group commit: the backlog is read committed, pushed once */

  data = g_bytes_get_data (message, &length);
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    cx_push_hello_parse (data, length, &hello, &error);
  chat = hello ? cx_store_get_chat (self->store, socket->chat_id, NULL) : NULL;
  if (chat == NULL || !(_cx_server_equal_secret (hello->secure_key, chat->secure_key) &
                        _cx_server_equal_secret (hello->user_id, chat->user_id) &
                        _cx_server_equal_secret (hello->alias, chat->alias)))
    {
      soup_websocket_connection_close (conn, 4403, "wrong key");
      return;
    }

  g_clear_handle_id (&socket->hello_timeout_id, g_source_remove);
  g_hash_table_steal (self->pending_customer_sockets, conn);

  sockets = g_hash_table_lookup (self->customer_sockets, chat->id);
  if (sockets == NULL)
    {
      sockets = g_ptr_array_new_with_free_func (_cx_server_customer_socket_free);
      g_hash_table_insert (self->customer_sockets, g_strdup (chat->id), sockets);
    }
  g_ptr_array_add (sockets, socket);
  g_object_set_data_full (G_OBJECT (conn), "cx-chat", g_strdup (chat->id), g_free);

  /* The backlog and every later push are sent from this thread in commit order, so the
   * client sees each index exactly once. */
  backlog =
      cx_store_get_messages (self->store, chat->id, MAX (hello->transcript_position, 1), 0, NULL);
  frame = cx_agent_event_build_messages (chat->id, backlog ? backlog : g_ptr_array_new (),
                                         chat->next_index);
  send_frame (conn, frame);
  if (chat->state == CX_CHAT_ENDED)
    {
      g_autoptr (JsonNode) ended = cx_agent_event_build_chat_ended (chat->id);

      send_frame (conn, ended);
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, "chat ended");
    }
}

static void
customer_socket_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                    SoupWebsocketConnection *conn, gpointer user_data)
{
  CxServer *self = user_data;
  g_auto (GStrv) parts = g_strsplit (path + strlen ("/cx/1/chat"), "/", 0);
  CustomerSocket *socket;

  if (g_strv_length (parts) != 4 || !g_str_equal (parts[3], "socket"))
    {
      soup_websocket_connection_close (conn, 4404, "no such chat socket");
      return;
    }

  socket = g_new0 (CustomerSocket, 1);
  socket->conn = g_object_ref (conn);
  socket->server = self;
  socket->chat_id = g_strdup (parts[2]);
  socket->hello_timeout_id = g_timeout_add_seconds (HELLO_TIMEOUT_S, hello_timeout_cb, socket);
  g_hash_table_insert (self->pending_customer_sockets, conn, socket);

  soup_websocket_connection_set_keepalive_interval (conn, 30);
  g_signal_connect_object (conn, "message", G_CALLBACK (customer_message_cb), self, 0);
  g_signal_connect_object (conn, "closed", G_CALLBACK (customer_socket_closed_cb), self, 0);
}

/* Range off every request, before any handler runs: libsoup 3.2.3 applies a Range itself to
 * any 200 reply to a GET (handle_partial_get), several ranges included, in a multipart reply
 * that can be many times the resource (issue 9 item 3). The download path reads it back from
 * RANGE_KEY; every other reply ignores it, as RFC 9110 allows. Several Range headers are kept
 * joined by commas, that is as several ranges, which download_file ignores. */
static void
take_range_cb (SoupServerMessage *msg, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *range = soup_message_headers_get_list (headers, "Range");

  if (range == NULL)
    return;
  g_object_set_data_full (G_OBJECT (msg), RANGE_KEY, g_strdup (range), g_free);
  soup_message_headers_remove (headers, "Range");
  soup_message_headers_remove (headers, "If-Range");
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (take_range_cb), NULL);
}

void
_cx_server_gms_init (CxServer *self)
{
  LimitsState *limits = g_new0 (LimitsState, 1);

  limits->server = self;
  limits->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_object_set_data_full (G_OBJECT (self), LIMITS_KEY, limits, limits_state_free);
  load_buckets (self);

  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), NULL);
  soup_server_add_handler (self->soup, "/genesys/2/chat", gms_handler_cb, self, NULL);
  soup_server_add_websocket_handler (self->soup, "/cx/1/chat", NULL, NULL, customer_socket_cb, self,
                                     NULL);
}
