/* fuzz-gms-reply.c: a GMS reply body as the client receives it: cx_json_parse() then
 * cx_gms_parse_reply(), the file limits of its userData, and build → parse round trips of what
 * was accepted. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-gms-chat.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_round_trip (const CxGmsReply *reply)
{
  g_autoptr (JsonNode) built = NULL;
  g_autoptr (JsonNode) reparsed = NULL;
  g_autoptr (CxGmsReply) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  built = cx_gms_build_reply (reply->chat_id, reply->user_id, reply->secure_key, reply->alias,
                              reply->chat_ended, reply->next_position, reply->messages);
  text = json_to_string (built, FALSE);
  reparsed = cx_json_parse (text, strlen (text), CX_GMS_MAX_REPLY_SIZE, &error);
  fuzz_check (reparsed != NULL);
  fuzz_check (cx_gms_parse_reply (reparsed, &back, &error));
  fuzz_check (back->messages->len == reply->messages->len);
  fuzz_check (back->next_position == reply->next_position);
  fuzz_check (back->chat_ended == reply->chat_ended);
  fuzz_check (g_strcmp0 (back->chat_id, reply->chat_id) == 0);
  fuzz_check (g_strcmp0 (back->secure_key, reply->secure_key) == 0);
  for (guint i = 0; i < reply->messages->len; i++)
    {
      const CxMessage *a = g_ptr_array_index (reply->messages, i);
      const CxMessage *b = g_ptr_array_index (back->messages, i);

      fuzz_check (a->index == b->index && a->type == b->type && a->utc_time == b->utc_time);
      fuzz_check (g_strcmp0 (a->text, b->text) == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;

  root = cx_json_parse ((const char *) data, size, CX_GMS_MAX_REPLY_SIZE, &error);
  if (root == NULL)
    return 0;

  if (!cx_gms_parse_reply (root, &reply, &error))
    {
      fuzz_check (reply == NULL);
      fuzz_check (error->domain == CX_GMS_ERROR || error->domain == CX_PROTOCOL_ERROR);
      fuzz_check (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }

  fuzz_check (reply->messages != NULL);
  fuzz_check (reply->messages->len <= CX_GMS_MAX_REPLY_MESSAGES);
  check_round_trip (reply);

  if (reply->user_data != NULL)
    {
      g_auto (CxGmsFileLimits) limits = { 0 };

      if (cx_gms_file_limits_parse (reply->user_data, &limits, &error))
        {
          g_autoptr (JsonNode) built = cx_gms_build_file_limits_reply (&limits);

          fuzz_check (built != NULL);
          cx_gms_file_limits_check (&limits, "a.png", 10, 0, 0, NULL);
        }
      else
        {
          fuzz_check (limits.allowed_types == NULL);
        }
    }

  return 0;
}
