/* cx-gms-chat.c: GMS Chat API v2: request parsing and reply building for the server, reply
 * parsing for the client, and the file limits both sides agree on. Every field is checked for
 * UTF-8, control characters and length before it is copied; text is never escaped or
 * interpreted. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-gms-chat.h"
#include "protocol/cx-protocol-private.h"

#define MESSAGE_TYPE_MAX_CHARS 64
#define ADVICE_MAX_CHARS 1024
#define FILE_NAME_MAX_BYTES 255
#define FILE_TYPE_MAX_CHARS 16
#define FILE_TYPES_MAX 256
#define USER_DATA_PREFIX "userData["

GQuark
cx_gms_error_quark (void)
{
  return g_quark_from_static_string ("cx-gms-error-quark");
}

static const char *const op_names[] = {
  "send",       "refresh",      "startTyping", "stopTyping",  "disconnect",
  "updateData", "customNotice", "file",        "file/limits", "file/download",
};

G_STATIC_ASSERT (G_N_ELEMENTS (op_names) == CX_GMS_OP_FILE_DOWNLOAD + 1);

/**
 * cx_gms_limits_init_default:
 * @limits: (out caller-allocates): limits to fill
 *
 * Fills @limits with the defaults: messages of 4096 characters, nicknames, first and last
 * names of 128, e-mail addresses of 254, subjects of 512, 64 userData entries with keys of 128
 * and values of 2048 characters.
 */
void
cx_gms_limits_init_default (CxGmsLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_message_length = 4096;
  limits->max_nickname_length = 128;
  limits->max_first_name_length = 128;
  limits->max_last_name_length = 128;
  limits->max_email_length = 254;
  limits->max_subject_length = 512;
  limits->max_user_data_keys = 64;
  limits->max_user_data_key_length = 128;
  limits->max_user_data_value_length = 2048;
}

/**
 * cx_gms_op_to_string:
 * @op: an operation
 *
 * Returns: the operation's path segment ("send", "file/limits", ...)
 */
const char *
cx_gms_op_to_string (CxGmsOp op)
{
  g_return_val_if_fail ((guint) op < G_N_ELEMENTS (op_names), NULL);

  return op_names[op];
}

/**
 * cx_gms_op_from_string:
 * @string: (nullable): the path after the chat id
 * @op: (out): the operation
 *
 * Returns: %FALSE if @string is no operation (answer %CX_GMS_ERROR_INVALID_OPERATION)
 */
gboolean
cx_gms_op_from_string (const char *string, CxGmsOp *op)
{
  if (string == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (op_names); i++)
    {
      if (g_str_equal (string, op_names[i]))
        {
          *op = (CxGmsOp) i;
          return TRUE;
        }
    }

  return FALSE;
}

/* Request parsing */

static gboolean
gms_text (const char *field, const char *value, CxTextFlags flags, guint max_chars, GError **error)
{
  return cx_text_validate (field, value, flags, max_chars, CX_GMS_ERROR,
                           CX_GMS_ERROR_INVALID_PARAMETER, CX_GMS_ERROR_TOO_LONG, error);
}

/* An optional field: absent or "" gives NULL. */
static gboolean
optional_field (GHashTable *form, const char *field, CxTextFlags flags, guint max_chars, char **out,
                GError **error)
{
  const char *value = g_hash_table_lookup (form, field);

  *out = NULL;
  if (value == NULL || *value == '\0')
    return TRUE;

  if (!gms_text (field, value, flags, max_chars, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

/* A required field: absent or "" is MISSING_PARAMETER. */
static gboolean
required_field (GHashTable *form, const char *field, CxTextFlags flags, guint max_chars, char **out,
                GError **error)
{
  const char *value = g_hash_table_lookup (form, field);

  *out = NULL;
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER, _ ("“%s” is missing"),
                   field);
      return FALSE;
    }

  if (!gms_text (field, value, flags, max_chars, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

static gboolean
required_id (GHashTable *form, const char *field, char **out, GError **error)
{
  const char *value = g_hash_table_lookup (form, field);

  *out = NULL;
  if (value == NULL || *value == '\0')
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER, _ ("“%s” is missing"),
                   field);
      return FALSE;
    }

  if (!cx_id_validate (field, value, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

/* Deliberately loose (one "@", something on each side, no space): the address is shown to an
 * agent, never used to send mail from here. */
static gboolean
check_email (const char *value, GError **error)
{
  const char *at = strchr (value, '@');

  if (at == NULL || at == value || at[1] == '\0' || strchr (at + 1, '@') != NULL ||
      strpbrk (value, " \t\r\n") != NULL)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                   _ ("“%s” is not an e-mail address"), "emailAddress");
      return FALSE;
    }

  return TRUE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* userData[key]=value fields, in key order so that errors and JSON are deterministic. */
static JsonNode *
parse_user_data (GHashTable *form, const CxGmsLimits *limits, GError **error)
{
  g_autoptr (JsonObject) object = json_object_new ();
  g_autofree const char **keys = NULL;
  JsonNode *node;
  guint n_keys = 0;
  guint count = 0;

  keys = (const char **) g_hash_table_get_keys_as_array (form, &n_keys);
  qsort (keys, n_keys, sizeof (char *), compare_strings);

  for (guint i = 0; i < n_keys; i++)
    {
      const char *field = keys[i];
      const char *value = g_hash_table_lookup (form, field);
      gsize field_length = strlen (field);
      g_autofree char *key = NULL;

      if (!g_str_has_prefix (field, USER_DATA_PREFIX) || field[field_length - 1] != ']')
        continue;

      if (limits->max_user_data_keys > 0 && ++count > limits->max_user_data_keys)
        {
          g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                       g_dngettext (GETTEXT_PACKAGE, "“userData” has more than %u entry",
                                    "“userData” has more than %u entries",
                                    limits->max_user_data_keys),
                       limits->max_user_data_keys);
          return NULL;
        }

      key = g_strndup (field + strlen (USER_DATA_PREFIX),
                       field_length - strlen (USER_DATA_PREFIX) - 1);
      switch (cx_text_check (key, CX_TEXT_SINGLE_LINE, limits->max_user_data_key_length))
        {
          case CX_TEXT_OK:
            if (strpbrk (key, "[]") == NULL)
              break;
            G_GNUC_FALLTHROUGH;
          case CX_TEXT_EMPTY:
          case CX_TEXT_INVALID_UTF8:
          case CX_TEXT_CONTROL:
            g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                         _ ("“userData” has a malformed key"));
            return NULL;
          case CX_TEXT_TOO_LONG:
          default:
            g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_TOO_LONG,
                         g_dngettext (GETTEXT_PACKAGE,
                                      "“userData” has a key longer than %u character",
                                      "“userData” has a key longer than %u characters",
                                      limits->max_user_data_key_length),
                         limits->max_user_data_key_length);
            return NULL;
        }

      /* The key is valid now, so the field name can go into the message. */
      if (!gms_text (field, value, CX_TEXT_MULTI_LINE | CX_TEXT_ALLOW_EMPTY,
                     limits->max_user_data_value_length, error))
        return NULL;

      json_object_set_string_member (object, key, value);
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, object);
  return node;
}

/**
 * cx_gms_start_request_parse:
 * @form: (element-type utf8 utf8): the decoded form of `POST /genesys/2/chat/{serviceName}`
 * @limits: (nullable): what to accept; %NULL for the defaults
 * @error: return location for a %CX_GMS_ERROR
 *
 * Reads a start request: nickname, firstName, lastName (at least one of the three; the
 * nickname defaults to "firstName lastName", which may be longer than the nickname limit since
 * each name is within its own), emailAddress, subject, and userData[key] fields. Empty
 * fields count as absent; other fields are ignored. Names, address and subject must be
 * single-line; userData values may span lines. Everything must be valid UTF-8 without other
 * control characters and within @limits.
 *
 * Returns: (transfer full): the request, or %NULL with @error set
 */
CxGmsStartRequest *
cx_gms_start_request_parse (GHashTable *form, const CxGmsLimits *limits, GError **error)
{
  g_autoptr (CxGmsStartRequest) request = NULL;
  CxGmsLimits defaults;

  g_return_val_if_fail (form != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (limits == NULL)
    {
      cx_gms_limits_init_default (&defaults);
      limits = &defaults;
    }

  request = g_new0 (CxGmsStartRequest, 1);

  if (!optional_field (form, "nickname", CX_TEXT_SINGLE_LINE, limits->max_nickname_length,
                       &request->nickname, error) ||
      !optional_field (form, "firstName", CX_TEXT_SINGLE_LINE, limits->max_first_name_length,
                       &request->first_name, error) ||
      !optional_field (form, "lastName", CX_TEXT_SINGLE_LINE, limits->max_last_name_length,
                       &request->last_name, error) ||
      !optional_field (form, "emailAddress", CX_TEXT_SINGLE_LINE, limits->max_email_length,
                       &request->email_address, error) ||
      !optional_field (form, "subject", CX_TEXT_SINGLE_LINE, limits->max_subject_length,
                       &request->subject, error))
    return NULL;

  if (request->email_address != NULL && !check_email (request->email_address, error))
    return NULL;

  if (request->nickname == NULL)
    {
      if (request->first_name != NULL && request->last_name != NULL)
        request->nickname = g_strdup_printf ("%s %s", request->first_name, request->last_name);
      else if (request->first_name != NULL)
        request->nickname = g_strdup (request->first_name);
      else if (request->last_name != NULL)
        request->nickname = g_strdup (request->last_name);
      else
        {
          g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER,
                       _ ("“nickname”, “firstName” or “lastName” is required"));
          return NULL;
        }
    }

  request->user_data = parse_user_data (form, limits, error);
  if (request->user_data == NULL)
    return NULL;

  return g_steal_pointer (&request);
}

/**
 * cx_gms_start_request_free:
 * @request: (nullable) (transfer full): a request
 */
void
cx_gms_start_request_free (CxGmsStartRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->nickname);
  g_free (request->first_name);
  g_free (request->last_name);
  g_free (request->email_address);
  g_free (request->subject);
  g_clear_pointer (&request->user_data, json_node_unref);
  g_free (request);
}

/* An optional whole number from @min to @max (our extensions to refresh). */
static gboolean
optional_uint (GHashTable *form, const char *name, guint min, guint max, guint *out, GError **error)
{
  const char *text = g_hash_table_lookup (form, name);
  guint64 value;

  *out = 0;
  if (text == NULL)
    return TRUE;

  if (!cx_parse_uint (text, max, &value) || value < min)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                   _ ("“%s” is not an integer from %u to %u"), name, min, max);
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

/**
 * cx_gms_chat_request_parse:
 * @op: the operation, from cx_gms_op_from_string()
 * @form: (element-type utf8 utf8): the decoded form
 * @limits: (nullable): what to accept; %NULL for the defaults
 * @error: return location for a %CX_GMS_ERROR
 *
 * Reads a per-chat request: userId, secureKey and alias (required, at most 256 bytes, single
 * line) and the fields of @op (see #CxGmsOp). "message" is kept exactly as sent; for send it
 * must not be empty. "transcriptPosition" must be decimal digits only and fit in 32 bits.
 *
 * Returns: (transfer full): the request, or %NULL with @error set
 */
CxGmsChatRequest *
cx_gms_chat_request_parse (CxGmsOp op, GHashTable *form, const CxGmsLimits *limits, GError **error)
{
  g_autoptr (CxGmsChatRequest) request = NULL;
  CxGmsLimits defaults;
  const char *position;
  guint64 value;

  g_return_val_if_fail ((guint) op < G_N_ELEMENTS (op_names), NULL);
  g_return_val_if_fail (form != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (limits == NULL)
    {
      cx_gms_limits_init_default (&defaults);
      limits = &defaults;
    }

  request = g_new0 (CxGmsChatRequest, 1);
  request->op = op;

  if (!required_id (form, "userId", &request->user_id, error) ||
      !required_id (form, "secureKey", &request->secure_key, error) ||
      !required_id (form, "alias", &request->alias, error))
    return NULL;

  switch (op)
    {
      case CX_GMS_OP_SEND:
        if (!required_field (form, "message", CX_TEXT_MULTI_LINE, limits->max_message_length,
                             &request->message, error) ||
            !optional_field (form, "messageType", CX_TEXT_SINGLE_LINE, MESSAGE_TYPE_MAX_CHARS,
                             &request->message_type, error))
          return NULL;
        if (request->message_type == NULL)
          request->message_type = g_strdup ("text");
        break;

      case CX_GMS_OP_REFRESH:
        request->transcript_position = 1;
        position = g_hash_table_lookup (form, "transcriptPosition");
        if (position != NULL)
          {
            if (!cx_parse_uint (position, G_MAXUINT, &value))
              {
                g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                             _ ("“%s” is not an integer from 0 to %u"), "transcriptPosition",
                             G_MAXUINT);
                return NULL;
              }
            request->transcript_position = (guint) value;
          }
        if (!optional_uint (form, "limit", 1, CX_GMS_MAX_REPLY_MESSAGES, &request->limit, error) ||
            !optional_uint (form, "before", 1, G_MAXUINT, &request->before, error))
          return NULL;
        G_GNUC_FALLTHROUGH;

      case CX_GMS_OP_START_TYPING:
      case CX_GMS_OP_STOP_TYPING:
      case CX_GMS_OP_CUSTOM_NOTICE:
        if (!optional_field (form, "message", CX_TEXT_MULTI_LINE, limits->max_message_length,
                             &request->message, error))
          return NULL;
        break;

      case CX_GMS_OP_UPDATE_DATA:
        request->user_data = parse_user_data (form, limits, error);
        if (request->user_data == NULL)
          return NULL;
        if (json_object_get_size (json_node_get_object (request->user_data)) == 0)
          {
            g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER, _ ("“%s” is missing"),
                         "userData");
            return NULL;
          }
        break;

      case CX_GMS_OP_DISCONNECT:
      case CX_GMS_OP_FILE_UPLOAD:
      case CX_GMS_OP_FILE_LIMITS:
      case CX_GMS_OP_FILE_DOWNLOAD:
      default:
        break;
    }

  return g_steal_pointer (&request);
}

/**
 * cx_gms_chat_request_free:
 * @request: (nullable) (transfer full): a request
 */
void
cx_gms_chat_request_free (CxGmsChatRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->user_id);
  g_free (request->secure_key);
  g_free (request->alias);
  g_free (request->message);
  g_free (request->message_type);
  g_clear_pointer (&request->user_data, json_node_unref);
  g_free (request);
}

/* Replies, server side */

static void
add_optional_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

/**
 * cx_gms_build_reply:
 * @chat_id: (nullable): the chat
 * @user_id: (nullable): the customer's participant id
 * @secure_key: (nullable): the customer's key: only in the reply to start
 * @alias: (nullable): the alias of the GMS node
 * @chat_ended: whether the chat is over
 * @next_position: the position to refresh from next
 * @messages: (nullable) (element-type CxMessage): the new transcript entries
 *
 * Builds a success reply, members in GMS's order: `{"statusCode":0, "alias", "userId",
 * "secureKey", "chatId", "messages":[...], "chatEnded", "nextPosition"}`; %NULL strings are
 * left out.
 *
 * Returns: (transfer full): the reply
 */
JsonNode *
cx_gms_build_reply (const char *chat_id, const char *user_id, const char *secure_key,
                    const char *alias, gboolean chat_ended, guint next_position,
                    GPtrArray *messages)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "statusCode");
  json_builder_add_int_value (builder, 0);
  add_optional_string (builder, "alias", alias);
  add_optional_string (builder, "userId", user_id);
  add_optional_string (builder, "secureKey", secure_key);
  add_optional_string (builder, "chatId", chat_id);
  cx_json_add_messages (builder, messages);
  json_builder_set_member_name (builder, "chatEnded");
  json_builder_add_boolean_value (builder, chat_ended);
  json_builder_set_member_name (builder, "nextPosition");
  json_builder_add_int_value (builder, next_position);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* What an error becomes on the wire: GMS code, advice and HTTP status. Errors of other domains
 * (the store, I/O) are internal: their messages stay in the server's log. */
static void
error_to_gms (const GError *error, int *code, const char **advice, guint *status)
{
  *advice = error->message;

  if (error->domain == CX_GMS_ERROR)
    {
      *code = error->code;
      switch (error->code)
        {
          case CX_GMS_ERROR_CHAT_NOT_FOUND:
            *status = 404;
            return;
          case CX_GMS_ERROR_INVALID_KEY:
            *status = 403;
            return;
          /* A field over its limit or a file against the chat's file limits is a bad request;
           * 413 is kept for a request body over the server's size limit, which arrives here as
           * CX_PROTOCOL_ERROR_TOO_LARGE. */
          case CX_GMS_ERROR_MISSING_PARAMETER:
          case CX_GMS_ERROR_INVALID_PARAMETER:
          case CX_GMS_ERROR_INVALID_OPERATION:
          case CX_GMS_ERROR_TOO_LONG:
          case CX_GMS_ERROR_FILE_LIMIT:
            *status = 400;
            return;
          case CX_GMS_ERROR_RATE_LIMITED:
            *status = 429;
            return;
          case CX_GMS_ERROR_UNAVAILABLE:
            *status = 503;
            return;
          case CX_GMS_ERROR_INTERNAL:
          default:
            *status = 500;
            return;
        }
    }

  if (error->domain == CX_PROTOCOL_ERROR)
    {
      if (error->code == CX_PROTOCOL_ERROR_TOO_LARGE)
        {
          *code = CX_GMS_ERROR_TOO_LONG;
          *status = 413;
        }
      else
        {
          *code = CX_GMS_ERROR_INVALID_PARAMETER;
          *status = 400;
        }
      return;
    }

  *code = CX_GMS_ERROR_INTERNAL;
  *status = 500;
  *advice = _ ("Internal server error");
}

/**
 * cx_gms_error_to_json:
 * @error: an error of any domain
 *
 * Builds GMS's error reply, `{"statusCode":2, "chatEnded", "errors":[{"code", "advice"}]}`.
 * %CX_GMS_ERROR keeps its code and message; %CX_PROTOCOL_ERROR becomes 202 (or 203 when too
 * large); any other domain becomes 500 with a generic advice, so that internal details do not
 * reach the customer. "chatEnded" is true for %CX_GMS_ERROR_CHAT_NOT_FOUND only, so a client
 * stops polling a chat that is gone.
 *
 * Returns: (transfer full): the reply
 */
JsonNode *
cx_gms_error_to_json (const GError *error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  const char *advice;
  guint status;
  int code;

  g_return_val_if_fail (error != NULL, NULL);

  error_to_gms (error, &code, &advice, &status);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "statusCode");
  json_builder_add_int_value (builder, 2);
  json_builder_set_member_name (builder, "chatEnded");
  json_builder_add_boolean_value (builder, code == CX_GMS_ERROR_CHAT_NOT_FOUND);
  json_builder_set_member_name (builder, "errors");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, code);
  json_builder_set_member_name (builder, "advice");
  json_builder_add_string_value (builder, advice);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * cx_gms_error_to_http_status:
 * @error: an error of any domain
 *
 * Returns: the HTTP status to send with cx_gms_error_to_json(): 400 bad request, 403 wrong
 *   key, 404 unknown chat, 413 a body over the size limit, 429 rate limited, 503 unavailable,
 *   500 otherwise
 */
guint
cx_gms_error_to_http_status (const GError *error)
{
  const char *advice;
  guint status;
  int code;

  g_return_val_if_fail (error != NULL, 500);

  error_to_gms (error, &code, &advice, &status);
  return status;
}

/* Replies, client side */

/**
 * cx_gms_reply_free:
 * @reply: (nullable) (transfer full): a reply
 */
void
cx_gms_reply_free (CxGmsReply *reply)
{
  if (reply == NULL)
    return;

  g_free (reply->chat_id);
  g_free (reply->user_id);
  g_free (reply->secure_key);
  g_free (reply->alias);
  g_clear_pointer (&reply->messages, g_ptr_array_unref);
  g_clear_pointer (&reply->user_data, json_node_unref);
  g_free (reply);
}

static gboolean
reply_id (JsonObject *object, const char *member, char **out, GError **error)
{
  const char *value;

  if (!cx_json_member_string (object, member, FALSE, CX_TEXT_SINGLE_LINE, &value, error))
    return FALSE;

  if (value != NULL && strlen (value) > CX_ID_MAX_BYTES)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is longer than %u bytes"), member, CX_ID_MAX_BYTES);
      return FALSE;
    }

  *out = g_strdup (value);
  return TRUE;
}

/* statusCode other than 0: the error shape, {errors:[{code, advice}]}, as a CX_GMS_ERROR. */
static void
reply_error (JsonObject *object, gint64 status_code, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *advice = NULL;
  JsonArray *errors = NULL;
  JsonObject *first;
  const char *text = NULL;
  gint64 code = status_code;

  if (!cx_json_member_array (object, "errors", FALSE, &errors, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return;
    }

  if (errors != NULL && json_array_get_length (errors) > 0)
    {
      JsonNode *node = json_array_get_element (errors, 0);

      first = cx_json_root_object (node, "errors", &local_error);
      if (first == NULL ||
          !cx_json_member_int (first, "code", FALSE, G_MININT, G_MAXINT, &code, &local_error) ||
          !cx_json_member_string (first, "advice", FALSE, CX_TEXT_MULTI_LINE, &text, &local_error))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return;
        }
    }

  if (text != NULL && *text != '\0')
    advice = g_utf8_substring (text, 0, MIN ((glong) g_utf8_strlen (text, -1), ADVICE_MAX_CHARS));
  else
    advice = g_strdup_printf (_ ("The chat server replied with error %d"), (int) code);

  g_set_error_literal (error, CX_GMS_ERROR, (int) code, advice);
}

/**
 * cx_gms_parse_reply:
 * @root: (nullable): a parsed reply body (use cx_json_parse() with %CX_GMS_MAX_REPLY_SIZE)
 * @out: (out) (transfer full): the reply
 * @error: return location for an error
 *
 * Validates a GMS reply. A statusCode other than 0 is the error shape and gives a %CX_GMS_ERROR
 * whose code is the first error's code and whose message is its advice. A reply that is not
 * what GMS sends (wrong member types, more than %CX_GMS_MAX_REPLY_MESSAGES messages, an invalid
 * message) gives a %CX_PROTOCOL_ERROR. Messages of unknown types are skipped, so a newer server
 * does not break an older client.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_gms_parse_reply (JsonNode *root, CxGmsReply **out, GError **error)
{
  g_autoptr (CxGmsReply) reply = NULL;
  JsonObject *object;
  JsonArray *messages;
  JsonNode *user_data;
  gint64 status_code = 0;
  gint64 next_position = 0;
  gint64 first_position = 0;
  guint length;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;

  object = cx_json_root_object (root, "reply", error);
  if (object == NULL)
    return FALSE;

  if (!cx_json_member_int (object, "statusCode", TRUE, G_MININT, G_MAXINT, &status_code, error))
    return FALSE;

  if (status_code != 0)
    {
      reply_error (object, status_code, error);
      return FALSE;
    }

  reply = g_new0 (CxGmsReply, 1);
  reply->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_message_unref);

  if (!reply_id (object, "chatId", &reply->chat_id, error) ||
      !reply_id (object, "userId", &reply->user_id, error) ||
      !reply_id (object, "secureKey", &reply->secure_key, error) ||
      !reply_id (object, "alias", &reply->alias, error) ||
      !cx_json_member_boolean (object, "chatEnded", FALSE, &reply->chat_ended, error) ||
      !cx_json_member_int (object, "nextPosition", FALSE, 0, G_MAXUINT, &next_position, error) ||
      !cx_json_member_int (object, "firstPosition", FALSE, 0, G_MAXUINT, &first_position, error) ||
      !cx_json_member_array (object, "messages", FALSE, &messages, error) ||
      !cx_json_member_object (object, "userData", FALSE, &user_data, error))
    return FALSE;

  reply->next_position = (guint) next_position;
  reply->first_position = (guint) first_position;
  reply->user_data = user_data ? json_node_copy (user_data) : NULL;

  length = messages ? json_array_get_length (messages) : 0;
  if (length > CX_GMS_MAX_REPLY_MESSAGES)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("The reply has more than %u messages"), CX_GMS_MAX_REPLY_MESSAGES);
      return FALSE;
    }

  for (guint i = 0; i < length; i++)
    {
      g_autoptr (GError) local_error = NULL;
      CxMessage *message =
          cx_message_from_json (json_array_get_element (messages, i), &local_error);

      if (message != NULL)
        {
          g_ptr_array_add (reply->messages, message);
        }
      else if (!g_error_matches (local_error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _ ("Message %u: "),
                                      i + 1);
          return FALSE;
        }
    }

  *out = g_steal_pointer (&reply);
  return TRUE;
}

/* Files */

static char *
format_size (guint64 size)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, size);
}

/**
 * cx_gms_build_file_limits_reply:
 * @limits: the file limits of a chat
 *
 * Builds the reply to file/limits the GMS way: `{"statusCode":0, "chatEnded":false,
 * "messages":[], "userData":{"upload-max-files", "upload-max-file-size",
 * "upload-max-total-size", "upload-file-types"}}`, numbers as decimal strings and the types
 * colon-separated ("png:jpg:pdf"), as GMS sends them. "upload-file-types" is left out when
 * every type is allowed.
 *
 * Returns: (transfer full): the reply
 */
JsonNode *
cx_gms_build_file_limits_reply (const CxGmsFileLimits *limits)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *max_files = NULL;
  g_autofree char *max_file_size = NULL;
  g_autofree char *max_total_size = NULL;

  g_return_val_if_fail (limits != NULL, NULL);

  max_files = format_size (limits->max_files);
  max_file_size = format_size (limits->max_file_size);
  max_total_size = format_size (limits->max_total_size);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "statusCode");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "chatEnded");
  json_builder_add_boolean_value (builder, FALSE);
  cx_json_add_messages (builder, NULL);
  json_builder_set_member_name (builder, "userData");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "upload-max-files");
  json_builder_add_string_value (builder, max_files);
  json_builder_set_member_name (builder, "upload-max-file-size");
  json_builder_add_string_value (builder, max_file_size);
  json_builder_set_member_name (builder, "upload-max-total-size");
  json_builder_add_string_value (builder, max_total_size);
  if (limits->allowed_types != NULL)
    {
      g_autofree char *types = g_strjoinv (":", limits->allowed_types);

      json_builder_set_member_name (builder, "upload-file-types");
      json_builder_add_string_value (builder, types);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* A limit: a decimal string (GMS) or an integer; absent is 0, no limit. */
static gboolean
limit_member (JsonObject *object, const char *member, guint64 max, guint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *text;
  gint64 value;

  *out = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      if (!cx_json_member_int (object, member, TRUE, 0, (gint64) MIN (max, G_MAXINT64), &value,
                               error))
        return FALSE;
      *out = (guint64) value;
      return TRUE;
    }

  if (!cx_json_member_string (object, member, TRUE, CX_TEXT_SINGLE_LINE, &text, error))
    return FALSE;
  if (!cx_parse_uint (text, max, out))
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is not a non-negative integer"), member);
      return FALSE;
    }

  return TRUE;
}

static gboolean
valid_file_type (const char *type)
{
  gsize length = 0;

  for (const char *p = type; *p != '\0'; p++, length++)
    {
      if (!g_ascii_isalnum (*p) || length >= FILE_TYPE_MAX_CHARS)
        return FALSE;
    }

  return length > 0;
}

/**
 * cx_gms_file_limits_parse:
 * @user_data: (nullable): the "userData" of a file/limits reply (#CxGmsReply.user_data)
 * @limits: (out caller-allocates): the limits; clear them with cx_gms_file_limits_clear()
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Reads the limits a server sent, numbers as decimal strings (GMS) or integers, types as a
 * colon-separated list of extensions (letters and digits, lower-cased here). An absent limit
 * is 0 (none); absent types allow every type.
 *
 * Returns: %FALSE with @error set if a member is malformed (@limits is then cleared)
 */
gboolean
cx_gms_file_limits_parse (JsonNode *user_data, CxGmsFileLimits *limits, GError **error)
{
  g_autoptr (GPtrArray) types = NULL;
  g_auto (GStrv) parts = NULL;
  JsonObject *object;
  const char *text;
  guint64 max_files;

  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (limits, 0, sizeof *limits);

  object = cx_json_root_object (user_data, "userData", error);
  if (object == NULL)
    return FALSE;

  if (!limit_member (object, "upload-max-files", G_MAXUINT, &max_files, error) ||
      !limit_member (object, "upload-max-file-size", G_MAXUINT64, &limits->max_file_size, error) ||
      !limit_member (object, "upload-max-total-size", G_MAXUINT64, &limits->max_total_size,
                     error) ||
      !cx_json_member_string (object, "upload-file-types", FALSE, CX_TEXT_SINGLE_LINE, &text,
                              error))
    {
      cx_gms_file_limits_clear (limits);
      return FALSE;
    }
  limits->max_files = (guint) max_files;

  if (text == NULL)
    return TRUE;

  types = g_ptr_array_new_with_free_func (g_free);
  parts = g_strsplit (text, ":", FILE_TYPES_MAX + 1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0')
        continue;
      if (i >= FILE_TYPES_MAX || !valid_file_type (parts[i]))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, _ ("“%s” is malformed"),
                       "upload-file-types");
          cx_gms_file_limits_clear (limits);
          return FALSE;
        }
      g_ptr_array_add (types, g_ascii_strdown (parts[i], -1));
    }
  g_ptr_array_add (types, NULL);
  limits->allowed_types = (char **) g_ptr_array_free (g_steal_pointer (&types), FALSE);

  return TRUE;
}

/**
 * cx_gms_file_limits_clear:
 * @limits: limits filled by cx_gms_file_limits_parse() or by hand with allocated types
 *
 * Frees the types and zeroes @limits.
 */
void
cx_gms_file_limits_clear (CxGmsFileLimits *limits)
{
  g_return_if_fail (limits != NULL);

  g_clear_pointer (&limits->allowed_types, g_strfreev);
  memset (limits, 0, sizeof *limits);
}

/**
 * cx_gms_file_limits_check:
 * @limits: the chat's file limits
 * @file_name: (nullable): the name the customer gave the file
 * @size: its size in bytes
 * @current_count: files the chat has already
 * @current_total: bytes of those files
 * @error: return location for a %CX_GMS_ERROR
 *
 * Checks an upload before it is stored. The name must be valid UTF-8, 1 to 255 bytes, without
 * control characters, "/" or "\\", and not "." or "..": it is %CX_GMS_ERROR_INVALID_PARAMETER
 * otherwise. Its extension (after the last dot; none for ".name") must be in the allowed types,
 * compared without case, and the size, count and total within the limits:
 * %CX_GMS_ERROR_FILE_LIMIT otherwise.
 *
 * Returns: %TRUE if the file may be uploaded
 */
gboolean
cx_gms_file_limits_check (const CxGmsFileLimits *limits, const char *file_name, guint64 size,
                          guint current_count, guint64 current_total, GError **error)
{
  const char *dot;

  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (file_name == NULL || *file_name == '\0')
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_MISSING_PARAMETER, _ ("The file has no name"));
      return FALSE;
    }

  if (strnlen (file_name, FILE_NAME_MAX_BYTES + 1) > FILE_NAME_MAX_BYTES)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                   _ ("The file name is longer than %u bytes"), FILE_NAME_MAX_BYTES);
      return FALSE;
    }

  if (cx_text_check (file_name, CX_TEXT_SINGLE_LINE, 0) != CX_TEXT_OK ||
      strpbrk (file_name, "/\\") != NULL || g_str_equal (file_name, ".") ||
      g_str_equal (file_name, ".."))
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_INVALID_PARAMETER,
                   _ ("The file name is not allowed"));
      return FALSE;
    }

  if (limits->allowed_types != NULL)
    {
      gboolean allowed = FALSE;

      dot = strrchr (file_name, '.');
      if (dot != NULL && dot != file_name && dot[1] != '\0')
        {
          for (guint i = 0; limits->allowed_types[i] != NULL && !allowed; i++)
            allowed = g_ascii_strcasecmp (dot + 1, limits->allowed_types[i]) == 0;
        }

      if (!allowed)
        {
          g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT,
                       _ ("This type of file is not allowed"));
          return FALSE;
        }
    }

  if (limits->max_file_size > 0 && size > limits->max_file_size)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT,
                   g_dngettext (GETTEXT_PACKAGE, "The file is larger than %llu byte",
                                "The file is larger than %llu bytes",
                                (gulong) limits->max_file_size),
                   (unsigned long long) limits->max_file_size);
      return FALSE;
    }

  if (limits->max_files > 0 && current_count >= limits->max_files)
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT,
                   g_dngettext (GETTEXT_PACKAGE, "A chat can have at most %u file",
                                "A chat can have at most %u files", limits->max_files),
                   limits->max_files);
      return FALSE;
    }

  if (limits->max_total_size > 0 &&
      (size > limits->max_total_size || current_total > limits->max_total_size - size))
    {
      g_set_error (error, CX_GMS_ERROR, CX_GMS_ERROR_FILE_LIMIT,
                   g_dngettext (GETTEXT_PACKAGE, "The files of a chat can take at most %llu byte",
                                "The files of a chat can take at most %llu bytes",
                                (gulong) limits->max_total_size),
                   (unsigned long long) limits->max_total_size);
      return FALSE;
    }

  return TRUE;
}
