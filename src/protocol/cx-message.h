/* cx-message.h: one transcript entry of a GMS Chat API v2 chat, shared by the server, its store
 * and the client services. The JSON form is GMS's: {from{nickname, participantId, type}, index,
 * type, text, utcTime, userData}. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  CX_PARTY_CLIENT,
  CX_PARTY_AGENT,
  CX_PARTY_SUPERVISOR,
  CX_PARTY_EXTERNAL,
} CxPartyType;

typedef enum
{
  CX_MESSAGE_TEXT, /* "Message" */
  CX_MESSAGE_PARTICIPANT_JOINED,
  CX_MESSAGE_PARTICIPANT_LEFT,
  CX_MESSAGE_TYPING_STARTED,
  CX_MESSAGE_TYPING_STOPPED,
  CX_MESSAGE_NOTICE,
  CX_MESSAGE_PUSH_URL,
  CX_MESSAGE_FILE_UPLOADED,
  CX_MESSAGE_FILE_DELETED,
  CX_MESSAGE_CUSTOM_NOTICE,
  CX_MESSAGE_IDLE_ALERT,
  CX_MESSAGE_IDLE_CLOSE,
} CxMessageType;

#define CX_TYPE_MESSAGE (cx_message_get_type ())

/**
 * CxMessage:
 * @index: position in the transcript, from 1, assigned by the store
 * @type: what kind of entry
 * @from_type: who sent it
 * @from_nickname: the sender's display name
 * @from_participant_id: the sender's participant id (GMS userId for the client)
 * @text: (nullable): the text, plain UTF-8, never markup
 * @utc_time: milliseconds since the epoch (GMS utcTime)
 * @user_data: (nullable): extra data (file id/name/size/type for FileUploaded; a JSON object)
 *
 * Reference counted, immutable once shared.
 */
typedef struct
{
  guint index;
  CxMessageType type;
  CxPartyType from_type;
  char *from_nickname;
  char *from_participant_id;
  char *text;
  gint64 utc_time;
  JsonNode *user_data;
} CxMessage;

GType cx_message_get_type (void) G_GNUC_CONST;
CxMessage *cx_message_new (CxMessageType type, CxPartyType from_type, const char *from_nickname,
                           const char *from_participant_id, const char *text, gint64 utc_time,
                           JsonNode *user_data);
CxMessage *cx_message_ref (CxMessage *message);
void cx_message_unref (CxMessage *message);

const char *cx_message_type_to_string (CxMessageType type);
gboolean cx_message_type_from_string (const char *string, CxMessageType *type);
const char *cx_party_type_to_string (CxPartyType type);
gboolean cx_party_type_from_string (const char *string, CxPartyType *type);

/* GMS JSON, both ways. from_json validates every field and says what is wrong. */
JsonNode *cx_message_to_json (const CxMessage *message);
CxMessage *cx_message_from_json (JsonNode *node, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxMessage, cx_message_unref)

G_END_DECLS
