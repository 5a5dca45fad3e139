/* test-cobrowse-protocol.c: the co-browse frames (src/protocol/cx-cobrowse-protocol.c): every
 * frame type built, parsed and built again to the same text; the builder's masking; and the
 * parser's refusals, each with its reason (size, count, depth, ids, tree order, UTF-8, lengths,
 * ranges, a masked node carrying more than the mask, unknown types).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cobrowse-protocol"

#include "config.h"

#include <string.h>

#include "protocol/cx-cobrowse-protocol.h"

static char *
node_text (JsonNode *node)
{
  char *text = json_to_string (node, FALSE);

  json_node_unref (node);
  return text;
}

/* @text parses, builds back to exactly @text, and the frame is returned. */
static CxCobrowseFrame *
round_trip (const char *text)
{
  g_autoptr (GError) error = NULL;
  CxCobrowseFrame *frame = NULL;
  g_autofree char *again = NULL;

  g_assert_true (cx_cobrowse_frame_parse (text, strlen (text), &frame, &error));
  g_assert_no_error (error);
  again = cx_cobrowse_frame_to_string (frame, NULL);
  g_assert_cmpstr (again, ==, text);
  return frame;
}

static void
assert_refused (const char *text, int code)
{
  g_autoptr (GError) error = NULL;
  CxCobrowseFrame *frame = (CxCobrowseFrame *) 0x1;

  g_assert_false (cx_cobrowse_frame_parse (text, strlen (text), &frame, &error));
  g_assert_error (error, CX_PROTOCOL_ERROR, code);
  g_assert_null (frame);
}

static CxCobrowseNode *
full_node (guint id, guint parent, CxCobrowseKind kind)
{
  CxCobrowseNode *node = cx_cobrowse_node_new (id);

  node->parent = parent;
  node->kind = kind;
  node->fields = CX_COBROWSE_FIELD_KIND | CX_COBROWSE_FIELD_RECT | CX_COBROWSE_FIELD_SELECTED |
                 CX_COBROWSE_FIELD_SENSITIVE | CX_COBROWSE_FIELD_VISIBLE | CX_COBROWSE_FIELD_FOCUS |
                 CX_COBROWSE_FIELD_MASKED | CX_COBROWSE_FIELD_AGENT_DISABLED |
                 CX_COBROWSE_FIELD_SUBMIT;
  node->width = 100;
  node->height = 20;
  return node;
}

static void
test_snapshot_round_trip (void)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_SNAPSHOT);
  g_autoptr (CxCobrowseFrame) parsed = NULL;
  g_autofree char *text = NULL;
  CxCobrowseNode *node;

  frame->page = g_strdup ("Checkout — step 1");
  frame->viewport_width = 800;
  frame->viewport_height = 600;
  g_ptr_array_add (frame->nodes, full_node (1, 0, CX_COBROWSE_KIND_BOX));
  node = full_node (2, 1, CX_COBROWSE_KIND_ENTRY);
  node->fields |= CX_COBROWSE_FIELD_TEXT | CX_COBROWSE_FIELD_LABEL | CX_COBROWSE_FIELD_ROLE;
  node->text = g_strdup ("Alice\twith a tab");
  node->label = g_strdup ("Your name");
  node->role = g_strdup ("text-box");
  node->focus = TRUE;
  node->x = -5;
  node->y = 30;
  g_ptr_array_add (frame->nodes, node);
  node = full_node (3, 1, CX_COBROWSE_KIND_STACK);
  node->fields |= CX_COBROWSE_FIELD_STACK_CHILD;
  node->stack_child = 4;
  g_ptr_array_add (frame->nodes, node);
  node = full_node (4, 3, CX_COBROWSE_KIND_CHECK);
  node->fields |= CX_COBROWSE_FIELD_CHECKED;
  node->checked = TRUE;
  node->sensitive = FALSE;
  node->agent_disabled = TRUE;
  g_ptr_array_add (frame->nodes, node);
  node = full_node (5, 1, CX_COBROWSE_KIND_SCROLLED);
  node->fields |= CX_COBROWSE_FIELD_SCROLL;
  node->scroll_y = 120;
  node->visible = FALSE;
  g_ptr_array_add (frame->nodes, node);
  node = full_node (6, 1, CX_COBROWSE_KIND_BUTTON);
  node->submit = TRUE;
  g_ptr_array_add (frame->nodes, node);

  text = cx_cobrowse_frame_to_string (frame, NULL);
  parsed = round_trip (text);
  g_assert_cmpint (parsed->type, ==, CX_COBROWSE_FRAME_SNAPSHOT);
  g_assert_cmpstr (parsed->page, ==, "Checkout — step 1");
  g_assert_cmpint (parsed->viewport_width, ==, 800);
  g_assert_cmpuint (parsed->nodes->len, ==, 6);
  node = g_ptr_array_index (parsed->nodes, 1);
  g_assert_cmpstr (node->text, ==, "Alice\twith a tab");
  g_assert_cmpstr (node->label, ==, "Your name");
  g_assert_true (node->focus);
  g_assert_cmpint (node->x, ==, -5);
  node = g_ptr_array_index (parsed->nodes, 3);
  g_assert_true (node->checked);
  g_assert_false (node->sensitive);
  g_assert_true (node->agent_disabled);
  node = g_ptr_array_index (parsed->nodes, 4);
  g_assert_false (node->visible);
  g_assert_cmpint (node->scroll_y, ==, 120);
  g_assert_true (((CxCobrowseNode *) g_ptr_array_index (parsed->nodes, 5))->submit);
}

/* The builder never writes a masked node's value or label, whatever it is given. */
static void
test_builder_masks (void)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_SNAPSHOT);
  g_autoptr (CxCobrowseFrame) changes = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_CHANGES);
  g_autoptr (CxCobrowseFrame) parsed = NULL;
  g_autofree char *text = NULL;
  g_autofree char *changes_text = NULL;
  CxCobrowseNode *node;

  frame->page = g_strdup ("p");
  g_ptr_array_add (frame->nodes, full_node (1, 0, CX_COBROWSE_KIND_BOX));
  node = full_node (2, 1, CX_COBROWSE_KIND_PASSWORD);
  node->fields |= CX_COBROWSE_FIELD_TEXT | CX_COBROWSE_FIELD_LABEL;
  node->text = g_strdup ("hunter2");
  node->label = g_strdup ("hunter2 hint");
  node->masked = TRUE;
  g_ptr_array_add (frame->nodes, node);
  text = cx_cobrowse_frame_to_string (frame, NULL);
  g_assert_null (strstr (text, "hunter2"));
  parsed = round_trip (text);
  node = g_ptr_array_index (parsed->nodes, 1);
  g_assert_cmpstr (node->text, ==, CX_COBROWSE_MASK);
  g_assert_null (node->label);

  node = cx_cobrowse_node_new (2);
  node->fields = CX_COBROWSE_FIELD_MASKED | CX_COBROWSE_FIELD_TEXT;
  node->masked = TRUE;
  node->text = g_strdup ("4111111111111111");
  g_ptr_array_add (changes->attributes, node);
  changes->seq = 1;
  changes_text = cx_cobrowse_frame_to_string (changes, NULL);
  g_assert_null (strstr (changes_text, "4111"));
  g_clear_pointer (&parsed, cx_cobrowse_frame_free);
  parsed = round_trip (changes_text);
}

static void
test_changes_round_trip (void)
{
  static const char *const frames[] = {
    "{\"type\":\"changes\",\"seq\":7,\"inputs\":[{\"id\":42,\"text\":\"Alic\"}]}",
    "{\"type\":\"changes\",\"seq\":1,\"viewport\":[1024,768],"
    "\"adds\":[{\"id\":9,\"parent\":1,\"kind\":\"label\",\"text\":\"new\",\"rect\":[0,0,10,"
    "10]},{\"id\":10,\"parent\":9,\"kind\":\"other\",\"visible\":false,\"rect\":[1,2,3,4]}],"
    "\"removes\":[3,4],"
    "\"attributes\":[{\"id\":5,\"sensitive\":false,\"focus\":true,\"rect\":[1,2,3,4]},"
    "{\"id\":6,\"text\":\"\u2022\u2022\u2022\u2022\u2022\u2022\",\"stackChild\":0,\"masked\":true}]"
    ","
    "\"texts\":[{\"id\":7,\"text\":\"Thank you\\nBye\"}],"
    "\"inputs\":[{\"id\":8,\"checked\":true},{\"id\":11,\"text\":\"\",\"checked\":false}],"
    "\"scrolls\":[{\"id\":12,\"x\":0,\"y\":340}]}",
    "{\"type\":\"pointer\",\"x\":10,\"y\":-20}",
    "{\"type\":\"click\",\"x\":100,\"y\":200}",
    "{\"type\":\"annotation\",\"points\":[[1,2],[3,4],[5,6]]}",
    "{\"type\":\"modeRequest\",\"mode\":\"write\"}",
    "{\"type\":\"modeAccept\",\"mode\":\"write\"}",
    "{\"type\":\"modeRefuse\"}",
    "{\"type\":\"modeRevoke\"}",
    "{\"type\":\"input\",\"id\":3,\"text\":\"Bob\"}",
    "{\"type\":\"input\",\"id\":3,\"checked\":false}",
    "{\"type\":\"input\",\"id\":3,\"activate\":true}",
    "{\"type\":\"end\",\"reason\":\"The customer ended the session\"}",
    "{\"type\":\"end\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    {
      g_autoptr (CxCobrowseFrame) frame = round_trip (frames[i]);

      if (frame->type == CX_COBROWSE_FRAME_CHANGES && frame->seq == 1)
        {
          g_assert_cmpuint (frame->nodes->len, ==, 2);
          g_assert_cmpuint (frame->removes->len, ==, 2);
          g_assert_cmpuint (frame->attributes->len, ==, 2);
          g_assert_cmpuint (frame->inputs->len, ==, 2);
          g_assert_true (frame->has_viewport);
        }
    }
}

static void
test_small_builders (void)
{
  g_autofree char *pointer = node_text (cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_CLICK, 1, 2));
  g_autofree char *mode =
      node_text (cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_REQUEST, CX_COBROWSE_MODE_WRITE));
  g_autofree char *revoke =
      node_text (cx_cobrowse_build_mode (CX_COBROWSE_FRAME_MODE_REVOKE, CX_COBROWSE_MODE_POINTER));
  g_autofree char *input = node_text (cx_cobrowse_build_input_text (5, "x"));
  g_autofree char *end = node_text (cx_cobrowse_build_end (NULL));

  g_assert_cmpstr (pointer, ==, "{\"type\":\"click\",\"x\":1,\"y\":2}");
  g_assert_cmpstr (mode, ==, "{\"type\":\"modeRequest\",\"mode\":\"write\"}");
  g_assert_cmpstr (revoke, ==, "{\"type\":\"modeRevoke\"}");
  g_assert_cmpstr (input, ==, "{\"type\":\"input\",\"id\":5,\"text\":\"x\"}");
  g_assert_cmpstr (end, ==, "{\"type\":\"end\"}");

  g_assert_true (cx_cobrowse_frame_type_from_customer (CX_COBROWSE_FRAME_SNAPSHOT));
  g_assert_false (cx_cobrowse_frame_type_from_customer (CX_COBROWSE_FRAME_INPUT));
  g_assert_true (cx_cobrowse_frame_type_from_agent (CX_COBROWSE_FRAME_INPUT));
  g_assert_false (cx_cobrowse_frame_type_from_agent (CX_COBROWSE_FRAME_CHANGES));
  g_assert_false (cx_cobrowse_frame_type_from_agent (CX_COBROWSE_FRAME_MODE_ACCEPT));
}

static void
test_refusals (void)
{
  static const struct
  {
    const char *text;
    int code;
  } cases[] = {
    { "", CX_PROTOCOL_ERROR_INVALID },
    { "[]", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"dance\"}", CX_PROTOCOL_ERROR_UNKNOWN_TYPE },
    { "{\"type\":7}", CX_PROTOCOL_ERROR_INVALID },
    /* snapshot trees */
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"nodes\":[{\"id\":1,\"parent\":0,"
      "\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1,1]},{\"id\":1,\"parent\":1,\"kind\":\"box\","
      "\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1,1]},{\"id\":2,\"parent\":3,\"kind\":\"box\","
      "\"rect\":[0,0,1,1]},{\"id\":3,\"parent\":1,\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1,1]},{\"id\":2,\"parent\":0,\"kind\":\"box\","
      "\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"stack\",\"stackChild\":1,\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"blink\",\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":0,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":"
      "2147483648,\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,-1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[0,0,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"box\",\"rect\":[100001,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    /* a masked node carrying a value or a label */
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"password\",\"masked\":true,\"text\":\"hunter2\",\"rect\":[0,0,1,"
      "1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[{\"id\":1,"
      "\"parent\":0,\"kind\":\"password\",\"masked\":true,\"text\":\"\u2022\u2022\u2022\",\"rect\":"
      "[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"attributes\":[{\"id\":1,\"masked\":true,\"label\":"
      "\"x\"}]}",
      CX_PROTOCOL_ERROR_INVALID },
    /* text */
    { "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":1,\"text\":\"a\\u0001b\"}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":1,\"text\":\"a\\u0000b\"}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":1}]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"inputs\":[{\"id\":1}]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"attributes\":[{\"id\":1}]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"removes\":[0]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"removes\":[\"1\"]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":-1}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"adds\":[{\"id\":2,\"parent\":0,\"kind\":\"box\","
      "\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"adds\":[{\"id\":2,\"parent\":2,\"kind\":\"box\","
      "\"rect\":[0,0,1,1]}]}",
      CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"changes\",\"seq\":1,\"scrolls\":[{\"id\":2,\"x\":0}]}",
      CX_PROTOCOL_ERROR_INVALID },
    /* small frames */
    { "{\"type\":\"pointer\",\"x\":1}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"pointer\",\"x\":1.5,\"y\":1}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"click\",\"x\":1,\"y\":1000000}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"annotation\",\"points\":[]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"annotation\",\"points\":[[1,2,3]]}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"modeRequest\",\"mode\":\"root\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"modeAccept\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"input\",\"id\":3}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"input\",\"id\":3,\"text\":\"a\",\"checked\":true}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"input\",\"id\":3,\"activate\":false}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"input\",\"text\":\"a\"}", CX_PROTOCOL_ERROR_INVALID },
    { "{\"type\":\"end\",\"reason\":\"two\\nlines\"}", CX_PROTOCOL_ERROR_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i].text);
      assert_refused (cases[i].text, cases[i].code);
    }
}

static void
test_limits (void)
{
  g_autoptr (GString) big = g_string_new ("{\"type\":\"end\",\"reason\":\"");
  g_autoptr (GString) many = g_string_new ("{\"type\":\"changes\",\"seq\":1,\"removes\":[");
  g_autoptr (GString) deep = g_string_new (
      "{\"type\":\"snapshot\",\"seq\":0,\"page\":\"p\",\"viewport\":[1,1],\"nodes\":[");
  g_autoptr (GString) text = g_string_new ("{\"type\":\"changes\",\"seq\":1,\"texts\":[{\"id\":1,"
                                           "\"text\":\"");
  g_autoptr (GString) points = g_string_new ("{\"type\":\"annotation\",\"points\":[");
  const char bad_utf8[] = "{\"type\":\"end\",\"reason\":\"\xff\"}";

  /* Larger than a frame may be. */
  while (big->len <= CX_COBROWSE_FRAME_MAX_SIZE)
    g_string_append (big, "xxxxxxxxxxxxxxxx");
  g_string_append (big, "\"}");
  assert_refused (big->str, CX_PROTOCOL_ERROR_TOO_LARGE);

  /* More entries than a list may have. */
  for (guint i = 1; i <= CX_COBROWSE_MAX_NODES + 1; i++)
    g_string_append_printf (many, "%s%u", i > 1 ? "," : "", i);
  g_string_append (many, "]}");
  assert_refused (many->str, CX_PROTOCOL_ERROR_TOO_LARGE);

  /* A parent chain deeper than the cap (flat JSON: only the tree is deep). */
  for (guint i = 1; i <= CX_COBROWSE_MAX_DEPTH + 1; i++)
    g_string_append_printf (deep, "%s{\"id\":%u,\"parent\":%u,\"kind\":\"box\",\"rect\":[0,0,1,1]}",
                            i > 1 ? "," : "", i, i - 1);
  g_string_append (deep, "]}");
  assert_refused (deep->str, CX_PROTOCOL_ERROR_TOO_LARGE);

  /* A text longer than the cap (in characters, not bytes). */
  for (guint i = 0; i <= CX_COBROWSE_TEXT_MAX; i++)
    g_string_append (text, "é");
  g_string_append (text, "\"}]}");
  assert_refused (text->str, CX_PROTOCOL_ERROR_TOO_LARGE);

  for (guint i = 0; i <= CX_COBROWSE_MAX_POINTS; i++)
    g_string_append_printf (points, "%s[%u,%u]", i > 0 ? "," : "", i, i);
  g_string_append (points, "]}");
  assert_refused (points->str, CX_PROTOCOL_ERROR_TOO_LARGE);

  assert_refused (bad_utf8, CX_PROTOCOL_ERROR_INVALID);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cobrowse/protocol/snapshot", test_snapshot_round_trip);
  g_test_add_func ("/cobrowse/protocol/builder-masks", test_builder_masks);
  g_test_add_func ("/cobrowse/protocol/changes", test_changes_round_trip);
  g_test_add_func ("/cobrowse/protocol/small-builders", test_small_builders);
  g_test_add_func ("/cobrowse/protocol/refusals", test_refusals);
  g_test_add_func ("/cobrowse/protocol/limits", test_limits);

  return g_test_run ();
}
