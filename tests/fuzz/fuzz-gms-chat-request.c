/* fuzz-gms-chat-request.c: an urlencoded form body, decoded with cx_form_decode() as the server
 * does, through the start request and every per-chat operation, then the error replies. */
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
check_error (const GError *error)
{
  g_autoptr (JsonNode) reply = cx_gms_error_to_json (error);
  g_autofree char *text = json_to_string (reply, FALSE);
  guint status = cx_gms_error_to_http_status (error);

  fuzz_check (error->domain == CX_GMS_ERROR);
  fuzz_check (g_utf8_validate (error->message, -1, NULL));
  fuzz_check (status >= 400 && status < 600);
  fuzz_check (text != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GHashTable) form = NULL;
  g_autoptr (CxGmsStartRequest) start = NULL;
  g_autoptr (GError) error = NULL;
  CxGmsLimits limits;
  const char *file_name;

  form = cx_form_decode ((const char *) data, size, &error);
  if (form == NULL)
    return 0;

  /* Small limits reach the length checks with small inputs. */
  cx_gms_limits_init_default (&limits);
  if (size > 0 && data[0] == 's')
    {
      limits.max_message_length = 8;
      limits.max_nickname_length = 4;
      limits.max_user_data_keys = 2;
      limits.max_user_data_key_length = 3;
      limits.max_user_data_value_length = 5;
    }

  start = cx_gms_start_request_parse (form, &limits, &error);
  if (start == NULL)
    {
      check_error (error);
      g_clear_error (&error);
    }
  else
    {
      fuzz_check (start->nickname != NULL && *start->nickname != '\0');
      fuzz_check (g_utf8_validate (start->nickname, -1, NULL));
      fuzz_check (JSON_NODE_HOLDS_OBJECT (start->user_data));
    }

  for (CxGmsOp op = CX_GMS_OP_SEND; op <= CX_GMS_OP_FILE_DOWNLOAD; op++)
    {
      g_autoptr (CxGmsChatRequest) request = cx_gms_chat_request_parse (op, form, &limits, &error);

      if (request == NULL)
        {
          check_error (error);
          g_clear_error (&error);
          continue;
        }
      fuzz_check (request->op == op);
      fuzz_check (request->user_id != NULL && request->secure_key != NULL &&
                  request->alias != NULL);
      if (op == CX_GMS_OP_SEND)
        fuzz_check (request->message != NULL && *request->message != '\0');
      if (request->message != NULL)
        fuzz_check (g_utf8_validate (request->message, -1, NULL));
    }

  file_name = g_hash_table_lookup (form, "fileName");
  if (file_name != NULL)
    {
      g_auto (GStrv) types = g_strsplit ("png:pdf:jpg", ":", -1);
      CxGmsFileLimits file_limits = { 3, 1000, 2000, types };

      if (!cx_gms_file_limits_check (&file_limits, file_name, size, 1, 500, &error))
        {
          check_error (error);
          g_clear_error (&error);
        }
      else
        {
          fuzz_check (strchr (file_name, '/') == NULL && strchr (file_name, '\\') == NULL);
        }
    }

  return 0;
}
