/* fuzz-cobrowse-relay.c: what the co-browse relay's clients and server read from the network
 * besides page frames (protocol/cx-cobrowse-relay.c): the relay's own frames ("joined",
 * "refused"), the session-creation reply, the join request and reply. The first byte picks the
 * parser. What is accepted is rebuilt and must parse again to the same values. */
#include "config.h"

#include "fuzz-common.h"
#include "protocol/cx-cobrowse-relay.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
relay_frame (const char *text, gsize size)
{
  g_autoptr (CxCobrowseRelayFrame) frame = NULL;
  g_autoptr (GError) error = NULL;

  if (cx_cobrowse_relay_frame_parse (text, size, &frame, &error))
    {
      g_autoptr (JsonNode) built =
          g_str_equal (frame->type, "joined")
              ? cx_cobrowse_relay_build_joined (frame->agent)
              : cx_cobrowse_relay_build_refused (frame->refused, frame->reason);
      g_autofree char *again = json_to_string (built, FALSE);
      g_autoptr (CxCobrowseRelayFrame) back = NULL;

      fuzz_check (cx_cobrowse_relay_frame_parse (again, strlen (again), &back, NULL));
      fuzz_check (g_str_equal (back->type, frame->type));
      fuzz_check (g_strcmp0 (back->agent, frame->agent) == 0);
      fuzz_check (g_strcmp0 (back->reason, frame->reason) == 0);
    }
  else
    {
      fuzz_check (frame == NULL);
      fuzz_check (error != NULL && error->domain == CX_PROTOCOL_ERROR);
    }
}

static void
json_bodies (const char *text, gsize size, guint8 which)
{
  g_autoptr (JsonNode) node = cx_json_parse (text, size, 64 * 1024, NULL);
  g_autoptr (GError) error = NULL;

  if (node == NULL)
    return;
  if (which == 1)
    {
      g_autoptr (CxCobrowseSessionInfo) info = NULL;

      if (cx_cobrowse_session_info_parse (node, &info, &error))
        {
          g_autoptr (JsonNode) built = cx_cobrowse_session_info_build (info);
          g_autoptr (CxCobrowseSessionInfo) back = NULL;

          fuzz_check (cx_cobrowse_code_is_valid (info->code));
          fuzz_check (cx_cobrowse_session_info_parse (built, &back, NULL));
          fuzz_check (g_str_equal (back->secret, info->secret));
        }
      else
        fuzz_check (error != NULL);
    }
  else
    {
      g_autofree char *value = NULL;

      if (which == 2 ? cx_cobrowse_join_request_parse (node, &value, &error)
                     : cx_cobrowse_join_reply_parse (node, &value, &error))
        fuzz_check (value != NULL && (which != 2 || cx_cobrowse_code_is_valid (value)));
      else
        fuzz_check (error != NULL && value == NULL);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 which;

  if (size == 0)
    return 0;
  which = data[0] % 4;
  if (which == 0)
    relay_frame ((const char *) data + 1, size - 1);
  else
    json_bodies ((const char *) data + 1, size - 1, which);
  return 0;
}
