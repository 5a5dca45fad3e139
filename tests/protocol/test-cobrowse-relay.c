/* test-cobrowse-relay.c: the co-browse relay's replies and frames (protocol/cx-cobrowse-relay.c):
 * what the server builds, the clients parse back; what is malformed is refused with a reason. */
#include <string.h>

#include "protocol/cx-cobrowse-relay.h"

static void
test_session_info (void)
{
  CxCobrowseSessionInfo info = { (char *) "abc123", (char *) "012345678", (char *) "s3cr3t",
                                 1700000000000 };
  g_autoptr (JsonNode) node = cx_cobrowse_session_info_build (&info);
  g_autoptr (CxCobrowseSessionInfo) back = NULL;
  g_autoptr (GError) error = NULL;
  const char *const bad[] = {
    "[]",
    "{\"id\":\"a\",\"code\":\"12345678\",\"secret\":\"s\",\"expiresAt\":1}",
    "{\"id\":\"a\",\"code\":\"12345678x\",\"secret\":\"s\",\"expiresAt\":1}",
    "{\"id\":\"a\",\"code\":\"123456789\",\"secret\":\"\",\"expiresAt\":1}",
    "{\"id\":\"a\",\"code\":\"123456789\",\"secret\":\"s\\n\",\"expiresAt\":1}",
    "{\"id\":\"a\",\"code\":\"123456789\",\"secret\":\"s\",\"expiresAt\":-1}",
    "{\"id\":\"\",\"code\":\"123456789\",\"secret\":\"s\",\"expiresAt\":1}",
  };

  g_assert_true (cx_cobrowse_session_info_parse (node, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back->id, ==, "abc123");
  g_assert_cmpstr (back->code, ==, "012345678");
  g_assert_cmpstr (back->secret, ==, "s3cr3t");
  g_assert_cmpint (back->expires_at, ==, 1700000000000);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (JsonNode) parsed = json_from_string (bad[i], NULL);
      g_autoptr (CxCobrowseSessionInfo) none = NULL;
      g_autoptr (GError) refused = NULL;

      g_assert_false (cx_cobrowse_session_info_parse (parsed, &none, &refused));
      g_assert_error (refused, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID);
      g_assert_null (none);
    }
}

static void
test_join (void)
{
  g_autoptr (JsonNode) request = cx_cobrowse_join_request_build ("987654321");
  g_autoptr (JsonNode) reply = cx_cobrowse_join_reply_build ("abc");
  g_autoptr (JsonNode) short_code = json_from_string ("{\"code\":\"98765432\"}", NULL);
  g_autoptr (JsonNode) number = json_from_string ("{\"code\":987654321}", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *id = NULL;
  char *none = NULL;

  g_assert_true (cx_cobrowse_join_request_parse (request, &code, &error));
  g_assert_cmpstr (code, ==, "987654321");
  g_assert_true (cx_cobrowse_join_reply_parse (reply, &id, &error));
  g_assert_cmpstr (id, ==, "abc");
  g_assert_false (cx_cobrowse_join_request_parse (short_code, &none, &error));
  g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cx_cobrowse_join_request_parse (number, &none, &error));
  g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID);
  g_assert_null (none);
  g_assert_false (cx_cobrowse_code_is_valid ("１２３４５６７８９"));
  g_assert_false (cx_cobrowse_code_is_valid ("1234567890"));
  g_assert_true (cx_cobrowse_code_is_valid ("000000000"));
}

static CxCobrowseRelayFrame *
round_trip (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr (GError) error = NULL;
  CxCobrowseRelayFrame *frame = NULL;

  g_assert_true (cx_cobrowse_relay_frame_parse (text, strlen (text), &frame, &error));
  g_assert_no_error (error);
  json_node_unref (node);
  return frame;
}

static void
test_frames (void)
{
  g_autoptr (CxCobrowseRelayFrame) joined = round_trip (cx_cobrowse_relay_build_joined ("Ada"));
  g_autoptr (CxCobrowseRelayFrame) refused =
      round_trip (cx_cobrowse_relay_build_refused ("input", "not allowed"));
  const struct
  {
    const char *text;
    int code;
  } bad[] = {
    { "", CX_PROTOCOL_ERROR_INVALID },
    { "[]", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\"}", CX_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "{\"type\":\"joined\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"joined\",\"agent\":\"\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"joined\",\"agent\":\"A\\u0000\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"refused\",\"refused\":\"input\"}", CX_PROTOCOL_ERROR_INVALID },
  };

  g_assert_cmpstr (joined->type, ==, "joined");
  g_assert_cmpstr (joined->agent, ==, "Ada");
  g_assert_cmpstr (refused->type, ==, "refused");
  g_assert_cmpstr (refused->refused, ==, "input");
  g_assert_cmpstr (refused->reason, ==, "not allowed");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      CxCobrowseRelayFrame *frame = NULL;

      g_assert_false (
          cx_cobrowse_relay_frame_parse (bad[i].text, strlen (bad[i].text), &frame, &error));
      g_assert_nonnull (error);
      g_assert_null (frame);
      if (i >= 2)
        g_assert_error (error, CX_PROTOCOL_ERROR, bad[i].code);
    }

  /* Far too large: refused before it is parsed. */
  {
    g_autoptr (GString) big = g_string_new ("{\"type\":\"joined\",\"agent\":\"");
    g_autoptr (GError) error = NULL;
    CxCobrowseRelayFrame *frame = NULL;

    for (guint i = 0; i < 10000; i++)
      g_string_append_c (big, 'a');
    g_string_append (big, "\"}");
    g_assert_false (cx_cobrowse_relay_frame_parse (big->str, big->len, &frame, &error));
    g_assert_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/cobrowse-relay/session-info", test_session_info);
  g_test_add_func ("/protocol/cobrowse-relay/join", test_join);
  g_test_add_func ("/protocol/cobrowse-relay/frames", test_frames);
  return g_test_run ();
}
