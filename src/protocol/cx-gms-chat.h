/* cx-gms-chat.h: the GMS Chat API v2 wire format (reference §4). The server parses requests
 * (decoded forms) and builds replies; the client parses replies. No I/O here. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

#define CX_GMS_ERROR (cx_gms_error_quark ())

/**
 * CxGmsError:
 * @CX_GMS_ERROR_CHAT_NOT_FOUND: 102, no such chat (or it is over and gone); HTTP 404
 * @CX_GMS_ERROR_INVALID_KEY: 161, userId, secureKey or alias do not match the chat; HTTP 403
 * @CX_GMS_ERROR_MISSING_PARAMETER: 201, a required field is absent or empty; HTTP 400
 * @CX_GMS_ERROR_INVALID_PARAMETER: 202, a field is malformed: invalid UTF-8, a control
 *   character, not a number, out of range; HTTP 400
 * @CX_GMS_ERROR_TOO_LONG: 203, a field is longer than its limit, or too many userData keys;
 *   HTTP 400 (a request body over the server's limit is a %CX_PROTOCOL_ERROR_TOO_LARGE: 413)
 * @CX_GMS_ERROR_INVALID_OPERATION: 204, unknown operation, or not allowed now (the chat has
 *   ended); HTTP 400
 * @CX_GMS_ERROR_FILE_LIMIT: 240, a file upload breaks the file limits (type, size, count);
 *   HTTP 400
 * @CX_GMS_ERROR_RATE_LIMITED: 364, too many requests; HTTP 429
 * @CX_GMS_ERROR_INTERNAL: 500, the server failed; HTTP 500
 * @CX_GMS_ERROR_UNAVAILABLE: 503, the service is not available (no agents, shutting down);
 *   HTTP 503
 *
 * The codes are GMS's error codes, as sent in `errors[].code`. A reply parsed by
 * cx_gms_parse_reply() may carry a code not listed here: the error's code is then the code the
 * server sent.
 */
typedef enum
{
  CX_GMS_ERROR_CHAT_NOT_FOUND = 102,
  CX_GMS_ERROR_INVALID_KEY = 161,
  CX_GMS_ERROR_MISSING_PARAMETER = 201,
  CX_GMS_ERROR_INVALID_PARAMETER = 202,
  CX_GMS_ERROR_TOO_LONG = 203,
  CX_GMS_ERROR_INVALID_OPERATION = 204,
  CX_GMS_ERROR_FILE_LIMIT = 240,
  CX_GMS_ERROR_RATE_LIMITED = 364,
  CX_GMS_ERROR_INTERNAL = 500,
  CX_GMS_ERROR_UNAVAILABLE = 503,
} CxGmsError;

GQuark cx_gms_error_quark (void);

/* A reply with more messages than this is refused. */
#define CX_GMS_MAX_REPLY_MESSAGES 10000
/* What a client should accept as a reply body, for cx_json_parse(). */
#define CX_GMS_MAX_REPLY_SIZE (64 * 1024 * 1024)

/**
 * CxGmsLimits:
 * @max_message_length: characters of a message (send, customNotice, typing preview); 4096
 * @max_nickname_length: characters; 128
 * @max_first_name_length: characters; 128
 * @max_last_name_length: characters; 128
 * @max_email_length: characters; 254
 * @max_subject_length: characters; 512
 * @max_user_data_keys: userData entries in one request; 64
 * @max_user_data_key_length: characters of a userData key; 128
 * @max_user_data_value_length: characters of a userData value; 2048
 *
 * What the server accepts. 0 means no limit. Identifiers (userId, secureKey, alias) are always
 * capped at 256 bytes.
 */
typedef struct
{
  guint max_message_length;
  guint max_nickname_length;
  guint max_first_name_length;
  guint max_last_name_length;
  guint max_email_length;
  guint max_subject_length;
  guint max_user_data_keys;
  guint max_user_data_key_length;
  guint max_user_data_value_length;
} CxGmsLimits;

void cx_gms_limits_init_default (CxGmsLimits *limits);

/* Requests (server side) */

/**
 * CxGmsStartRequest:
 * @nickname: never %NULL: as sent, or "firstName lastName"
 * @first_name: (nullable):
 * @last_name: (nullable):
 * @email_address: (nullable):
 * @subject: (nullable):
 * @user_data: a JSON object of string values, never %NULL (maybe empty)
 */
typedef struct
{
  char *nickname;
  char *first_name;
  char *last_name;
  char *email_address;
  char *subject;
  JsonNode *user_data;
} CxGmsStartRequest;

CxGmsStartRequest *cx_gms_start_request_parse (GHashTable *form, const CxGmsLimits *limits,
                                               GError **error);
void cx_gms_start_request_free (CxGmsStartRequest *request);

/**
 * CxGmsOp:
 * @CX_GMS_OP_SEND: "send": message (required), messageType (default "text")
 * @CX_GMS_OP_REFRESH: "refresh": transcriptPosition (default 1), message (typing preview);
 *   our extension: limit (at most that many entries, the newest), before (only entries below
 *   that index)
 * @CX_GMS_OP_START_TYPING: "startTyping": message (optional preview)
 * @CX_GMS_OP_STOP_TYPING: "stopTyping": message (optional)
 * @CX_GMS_OP_DISCONNECT: "disconnect"
 * @CX_GMS_OP_UPDATE_DATA: "updateData": userData[key] (at least one)
 * @CX_GMS_OP_CUSTOM_NOTICE: "customNotice": message (optional)
 * @CX_GMS_OP_FILE_UPLOAD: "file": the fields of the multipart upload besides the file
 * @CX_GMS_OP_FILE_LIMITS: "file/limits"
 * @CX_GMS_OP_FILE_DOWNLOAD: "file/{fileId}/download": the router extracts the file id
 *
 * The per-chat operations, `POST .../{chatId}/{op}`. Every one needs userId, secureKey and
 * alias.
 */
typedef enum
{
  CX_GMS_OP_SEND,
  CX_GMS_OP_REFRESH,
  CX_GMS_OP_START_TYPING,
  CX_GMS_OP_STOP_TYPING,
  CX_GMS_OP_DISCONNECT,
  CX_GMS_OP_UPDATE_DATA,
  CX_GMS_OP_CUSTOM_NOTICE,
  CX_GMS_OP_FILE_UPLOAD,
  CX_GMS_OP_FILE_LIMITS,
  CX_GMS_OP_FILE_DOWNLOAD,
} CxGmsOp;

const char *cx_gms_op_to_string (CxGmsOp op);
gboolean cx_gms_op_from_string (const char *string, CxGmsOp *op);

/**
 * CxGmsChatRequest:
 * @op: the operation
 * @user_id: never %NULL
 * @secure_key: never %NULL; compare it in constant time
 * @alias: never %NULL
 * @message: (nullable): the text (send, customNotice) or typing preview (refresh, typing)
 * @message_type: (nullable): send only: as sent, or "text"
 * @transcript_position: refresh only: first index wanted (0 and 1 both mean everything)
 * @limit: refresh only, our extension: at most this many entries, the last ones of what is
 *   asked (1 to %CX_GMS_MAX_REPLY_MESSAGES); 0: all of them (plain GMS)
 * @before: refresh only, our extension: only entries below this index; 0: up to the newest
 * @user_data: (nullable): updateData only: a JSON object of string values, not empty
 */
typedef struct
{
  CxGmsOp op;
  char *user_id;
  char *secure_key;
  char *alias;
  char *message;
  char *message_type;
  guint transcript_position;
  guint limit;
  guint before;
  JsonNode *user_data;
} CxGmsChatRequest;

CxGmsChatRequest *cx_gms_chat_request_parse (CxGmsOp op, GHashTable *form,
                                             const CxGmsLimits *limits, GError **error);
void cx_gms_chat_request_free (CxGmsChatRequest *request);

/* Replies (server side) */

JsonNode *cx_gms_build_reply (const char *chat_id, const char *user_id, const char *secure_key,
                              const char *alias, gboolean chat_ended, guint next_position,
                              GPtrArray *messages);
JsonNode *cx_gms_error_to_json (const GError *error);
guint cx_gms_error_to_http_status (const GError *error);

/* Replies (client side) */

/**
 * CxGmsReply:
 * @chat_id: (nullable):
 * @user_id: (nullable):
 * @secure_key: (nullable): only in the reply to start
 * @alias: (nullable):
 * @chat_ended: whether the chat is over
 * @next_position: the transcript position to refresh from next; 0 if the reply had none
 * @first_position: our extension: the index the reply's page of the transcript begins at, when
 *   the request asked for a limit and the server honours it; 0 from a plain GMS server (the
 *   messages are then every entry from the position asked)
 * @messages: (element-type CxMessage): never %NULL; entries of unknown types are skipped
 * @user_data: (nullable): the reply's "userData" object (file/limits replies carry it)
 */
typedef struct
{
  char *chat_id;
  char *user_id;
  char *secure_key;
  char *alias;
  gboolean chat_ended;
  guint next_position;
  guint first_position;
  GPtrArray *messages;
  JsonNode *user_data;
} CxGmsReply;

gboolean cx_gms_parse_reply (JsonNode *root, CxGmsReply **out, GError **error);
void cx_gms_reply_free (CxGmsReply *reply);

/* Files */

/**
 * CxGmsFileLimits:
 * @max_files: files per chat; 0 = no limit
 * @max_file_size: bytes per file; 0 = no limit
 * @max_total_size: bytes of all files of a chat; 0 = no limit
 * @allowed_types: (nullable) (array zero-terminated=1): lower-case extensions ("png", "pdf");
 *   %NULL allows every type, an empty array none
 */
typedef struct
{
  guint max_files;
  guint64 max_file_size;
  guint64 max_total_size;
  char **allowed_types;
} CxGmsFileLimits;

JsonNode *cx_gms_build_file_limits_reply (const CxGmsFileLimits *limits);
gboolean cx_gms_file_limits_parse (JsonNode *user_data, CxGmsFileLimits *limits, GError **error);
void cx_gms_file_limits_clear (CxGmsFileLimits *limits);
gboolean cx_gms_file_limits_check (const CxGmsFileLimits *limits, const char *file_name,
                                   guint64 size, guint current_count, guint64 current_total,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxGmsStartRequest, cx_gms_start_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxGmsChatRequest, cx_gms_chat_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxGmsReply, cx_gms_reply_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CxGmsFileLimits, cx_gms_file_limits_clear)

G_END_DECLS
