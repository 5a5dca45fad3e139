/* fuzz-message-json.c: one GMS message object: cx_json_parse() then cx_message_from_json(); an
 * accepted message must survive to_json → from_json unchanged. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  g_type_ensure (CX_TYPE_MESSAGE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autoptr (JsonNode) reparsed = NULL;
  g_autoptr (CxMessage) message = NULL;
  g_autoptr (CxMessage) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  root = cx_json_parse ((const char *) data, size, 1024 * 1024, &error);
  if (root == NULL)
    return 0;

  message = cx_message_from_json (root, &error);
  if (message == NULL)
    {
      fuzz_check (error->domain == CX_PROTOCOL_ERROR);
      return 0;
    }

  fuzz_check (message->index >= 1);
  fuzz_check (message->utc_time >= 0);
  fuzz_check (message->from_nickname != NULL && message->from_participant_id != NULL);
  fuzz_check (message->text == NULL || g_utf8_validate (message->text, -1, NULL));

  json = cx_message_to_json (message);
  text = json_to_string (json, FALSE);
  reparsed = cx_json_parse (text, strlen (text), G_MAXSIZE, &error);
  fuzz_check (reparsed != NULL);
  back = cx_message_from_json (reparsed, &error);
  fuzz_check (back != NULL);
  fuzz_check (back->index == message->index && back->type == message->type &&
              back->from_type == message->from_type && back->utc_time == message->utc_time);
  fuzz_check (g_str_equal (back->from_nickname, message->from_nickname));
  fuzz_check (g_str_equal (back->from_participant_id, message->from_participant_id));
  fuzz_check (g_strcmp0 (back->text, message->text) == 0);
  fuzz_check ((back->user_data == NULL) == (message->user_data == NULL));
  if (back->user_data != NULL)
    fuzz_check (json_node_equal (back->user_data, message->user_data));

  return 0;
}
