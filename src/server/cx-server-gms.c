/* cx-server-gms.c: the customer side: GMS Chat API v2 under /genesys/2/chat (reference §4,
 * API.md), and the customer push socket, /cx/1/chat/{service}/{chatId}/socket. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "protocol/cx-agent-protocol.h"
#include "protocol/cx-gms-chat.h"
#include "server/cx-server-private.h"

/* What every chat's customer gets as alias: the GMS node that serves the chat. */
#define CX_ALIAS "cxdesk"
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

/* Replies with the chat's state and, when @from > 0, its messages from that index. */
static void
reply_chat (CxServer *self, SoupServerMessage *msg, const CxChat *chat, const char *secure_key,
            guint from, JsonNode *user_data)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (from > 0)
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
  _cx_server_reply_json (msg, SOUP_STATUS_OK, reply);
}

static CxMessage *
client_message (const CxChat *chat, CxMessageType type, const char *text, JsonNode *user_data)
{
  return cx_message_new (type, CX_PARTY_CLIENT, chat->nickname, chat->user_id, text,
                         _cx_server_now (), user_data);
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
  if (request == NULL)
    {
      reply_gms_error (msg, error);
      return;
    }

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

/* Token bucket per chat: a burst of the whole minute's allowance, refilled continuously. */
static gboolean
rate_limited (CxServer *self, const char *chat_id)
{
  double rate = self->config->messages_per_minute / 60.0;
  double burst = self->config->messages_per_minute;
  gint64 now = g_get_monotonic_time ();
  CxRateBucket *bucket = g_hash_table_lookup (self->rate_buckets, chat_id);

  if (bucket == NULL)
    {
      bucket = g_new0 (CxRateBucket, 1);
      bucket->tokens = burst;
      bucket->last = now;
      g_hash_table_insert (self->rate_buckets, g_strdup (chat_id), bucket);
    }

  bucket->tokens = MIN (burst, bucket->tokens + (now - bucket->last) / 1e6 * rate);
  bucket->last = now;
  if (bucket->tokens < 1.0)
    return TRUE;
  bucket->tokens -= 1.0;
  return FALSE;
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
      g_hash_table_remove (self->rate_buckets, chat->id);
      g_hash_table_remove (self->typing_previews, chat->id);
      g_hash_table_remove (self->notified_positions, chat->id);
      _cx_server_queue_changed (self, chat->queue);
      _cx_server_route_all (self);
    }

  after = cx_store_get_chat (self->store, chat->id, NULL);
  reply_chat (self, msg, after ? after : update, NULL, from, NULL);
}

static void
upload_file (CxServer *self, SoupServerMessage *msg, CxChat *chat)
{
  g_autoptr (SoupMultipart) multipart = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (CxMessage) message = NULL;
  g_autofree char *disposition = NULL;
  CxGmsFileLimits limits = { 0 };
  SoupMessageHeaders *part_headers = NULL;
  GBytes *part_body = NULL;
  const char *name = NULL, *type;
  guint64 total = 0;
  guint count = 0;
  CxFile file = { 0 };

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  multipart = soup_multipart_new_from_message (soup_server_message_get_request_headers (msg), body);
  for (int i = 0; multipart && i < soup_multipart_get_length (multipart); i++)
    {
      SoupMessageHeaders *headers;
      GBytes *part;
      g_autofree char *disp = NULL;
      g_autoptr (GHashTable) disp_params = NULL;

      if (!soup_multipart_get_part (multipart, i, &headers, &part) ||
          !soup_message_headers_get_content_disposition (headers, &disp, &disp_params))
        continue;
      if (g_strcmp0 (g_hash_table_lookup (disp_params, "name"), "file") == 0)
        {
          part_headers = headers;
          part_body = part;
          g_free (disposition);
          disposition = g_strdup (g_hash_table_lookup (disp_params, "filename"));
        }
    }
  if (part_body == NULL || disposition == NULL)
    {
      error = g_error_new_literal (CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER,
                                   _ ("The upload has no “file” part with a file name"));
      reply_gms_error (msg, error);
      return;
    }
  name = disposition;

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

  type = soup_message_headers_get_content_type (part_headers, NULL);
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
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, file->content_type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (file->data, NULL),
                                    g_bytes_get_size (file->data));
}

static void
chat_operation (CxServer *self, SoupServerMessage *msg, const char *service, const char *chat_id,
                CxGmsOp op, const char *file_id, GHashTable *form)
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
      /* A missing or malformed key is a refused key: say nothing else about the chat. */
      if (g_hash_table_lookup (form, "secureKey") == NULL)
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
            g_autoptr (CxMessage) preview =
                client_message (chat, CX_MESSAGE_TYPING_STARTED, request->message, NULL);

            if (!_cx_server_append_one (self, chat, preview, NULL, &error))
              {
                reply_gms_internal (msg, error);
                return;
              }
            chat->next_index = preview->index + 1;
            g_hash_table_replace (self->typing_previews, g_strdup (chat->id),
                                  g_strdup (request->message));
          }
        reply_chat (self, msg, chat, NULL, from, NULL);
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
        if (rate_limited (self, chat->id))
          {
            error = g_error_new (CX_GMS_ERROR, CX_GMS_ERROR_RATE_LIMITED,
                                 _ ("More than %u messages a minute: slow down"),
                                 self->config->messages_per_minute);
            reply_gms_error (msg, error);
            return;
          }
        message = client_message (chat, CX_MESSAGE_TEXT, request->message, NULL);
        break;
      case CX_GMS_OP_START_TYPING:
        message = client_message (chat, CX_MESSAGE_TYPING_STARTED, request->message, NULL);
        break;
      case CX_GMS_OP_STOP_TYPING:
        message = client_message (chat, CX_MESSAGE_TYPING_STOPPED, NULL, NULL);
        break;
      case CX_GMS_OP_CUSTOM_NOTICE:
        message = client_message (chat, CX_MESSAGE_CUSTOM_NOTICE, request->message, NULL);
        break;
      case CX_GMS_OP_UPDATE_DATA:
        {
          JsonObject *merged;
          JsonObjectIter iter;
          const char *key;
          JsonNode *value;

          update = cx_chat_copy (chat);
          merged = json_node_get_object (update->user_data);
          json_object_iter_init (&iter, json_node_get_object (request->user_data));
          while (json_object_iter_next (&iter, &key, &value))
            json_object_set_member (merged, key, json_node_copy (value));
          break;
        }
      case CX_GMS_OP_FILE_UPLOAD:
        upload_file (self, msg, chat);
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

static GHashTable *
read_gms_form (SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *type =
      soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));

  /* A multipart upload carries its key fields as parts; they are read the same way. */
  if (g_strcmp0 (type, "multipart/form-data") == 0)
    {
      g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
      g_autoptr (SoupMultipart) multipart =
          soup_multipart_new_from_message (soup_server_message_get_request_headers (msg), bytes);
      GHashTable *form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      for (int i = 0; multipart && i < soup_multipart_get_length (multipart); i++)
        {
          SoupMessageHeaders *headers;
          GBytes *part;
          g_autofree char *disp = NULL;
          g_autoptr (GHashTable) params = NULL;
          const char *name;

          if (!soup_multipart_get_part (multipart, i, &headers, &part) ||
              !soup_message_headers_get_content_disposition (headers, &disp, &params))
            continue;
          name = g_hash_table_lookup (params, "name");
          if (name == NULL || g_str_equal (name, "file"))
            continue;
          g_hash_table_replace (form, g_strdup (name),
                                g_strndup (g_bytes_get_data (part, NULL), g_bytes_get_size (part)));
        }
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

  form = read_gms_form (msg, &error);
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

  chat_operation (self, msg, parts[1], parts[2], op, file_id, form);
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

void
_cx_server_gms_init (CxServer *self)
{
  soup_server_add_handler (self->soup, "/genesys/2/chat", gms_handler_cb, self, NULL);
  soup_server_add_websocket_handler (self->soup, "/cx/1/chat", NULL, NULL, customer_socket_cb, self,
                                     NULL);
}
