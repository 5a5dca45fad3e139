/* cx-cobrowse-protocol.c: the co-browse frames' names, nodes and frames, and their builders
 * (cx-cobrowse-protocol.h; the parser is cx-cobrowse-protocol-parse.c). The builder writes a
 * masked node as the mask and nothing else, whatever it is given. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include "protocol/cx-cobrowse-protocol.h"

static const char *const frame_types[] = {
  "snapshot",   "changes",    "pointer",    "click", "annotation", "modeRequest",
  "modeAccept", "modeRefuse", "modeRevoke", "input", "end",
};

static const char *const kinds[] = {
  "window", "box",    "grid",   "stack",    "scrolled", "frame", "list",
  "row",    "label",  "entry",  "password", "textview", "spin",  "check",
  "toggle", "switch", "button", "image",    "other",
};

static const char *const modes[] = {
  "pointer",
  "write",
};

G_STATIC_ASSERT (G_N_ELEMENTS (frame_types) == CX_COBROWSE_FRAME_END + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (kinds) == CX_COBROWSE_KIND_OTHER + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (modes) == CX_COBROWSE_MODE_WRITE + 1);

const char *
cx_cobrowse_frame_type_to_string (CxCobrowseFrameType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (frame_types), NULL);
  return frame_types[type];
}

const char *
cx_cobrowse_kind_to_string (CxCobrowseKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kinds), NULL);
  return kinds[kind];
}

gboolean
cx_cobrowse_kind_from_string (const char *string, CxCobrowseKind *kind)
{
  for (guint i = 0; string != NULL && i < G_N_ELEMENTS (kinds); i++)
    {
      if (g_str_equal (string, kinds[i]))
        {
          *kind = (CxCobrowseKind) i;
          return TRUE;
        }
    }
  return FALSE;
}

const char *
cx_cobrowse_mode_to_string (CxCobrowseMode mode)
{
  g_return_val_if_fail ((guint) mode < G_N_ELEMENTS (modes), NULL);
  return modes[mode];
}

/**
 * cx_cobrowse_frame_type_from_customer:
 * @type: a frame type
 *
 * Returns: whether the customer's side may send @type (the relay drops the others)
 */
gboolean
cx_cobrowse_frame_type_from_customer (CxCobrowseFrameType type)
{
  switch (type)
    {
      case CX_COBROWSE_FRAME_SNAPSHOT:
      case CX_COBROWSE_FRAME_CHANGES:
      case CX_COBROWSE_FRAME_POINTER:
      case CX_COBROWSE_FRAME_MODE_ACCEPT:
      case CX_COBROWSE_FRAME_MODE_REFUSE:
      case CX_COBROWSE_FRAME_MODE_REVOKE:
      case CX_COBROWSE_FRAME_END:
        return TRUE;
      case CX_COBROWSE_FRAME_CLICK:
      case CX_COBROWSE_FRAME_ANNOTATION:
      case CX_COBROWSE_FRAME_MODE_REQUEST:
      case CX_COBROWSE_FRAME_INPUT:
      default:
        return FALSE;
    }
}

/**
 * cx_cobrowse_frame_type_from_agent:
 * @type: a frame type
 *
 * Returns: whether the agent's side may send @type
 */
gboolean
cx_cobrowse_frame_type_from_agent (CxCobrowseFrameType type)
{
  switch (type)
    {
      case CX_COBROWSE_FRAME_POINTER:
      case CX_COBROWSE_FRAME_CLICK:
      case CX_COBROWSE_FRAME_ANNOTATION:
      case CX_COBROWSE_FRAME_MODE_REQUEST:
      case CX_COBROWSE_FRAME_INPUT:
      case CX_COBROWSE_FRAME_END:
        return TRUE;
      case CX_COBROWSE_FRAME_SNAPSHOT:
      case CX_COBROWSE_FRAME_CHANGES:
      case CX_COBROWSE_FRAME_MODE_ACCEPT:
      case CX_COBROWSE_FRAME_MODE_REFUSE:
      case CX_COBROWSE_FRAME_MODE_REVOKE:
      default:
        return FALSE;
    }
}

/* Nodes and frames */

/**
 * cx_cobrowse_node_new:
 * @id: the node's id
 *
 * Returns: (transfer full): a node with no fields set, sensitive and visible
 */
CxCobrowseNode *
cx_cobrowse_node_new (guint id)
{
  CxCobrowseNode *node = g_new0 (CxCobrowseNode, 1);

  node->id = id;
  node->sensitive = TRUE;
  node->visible = TRUE;
  return node;
}

CxCobrowseNode *
cx_cobrowse_node_copy (const CxCobrowseNode *node)
{
  CxCobrowseNode *copy = g_memdup2 (node, sizeof *node);

  copy->role = g_strdup (node->role);
  copy->label = g_strdup (node->label);
  copy->text = g_strdup (node->text);
  return copy;
}

void
cx_cobrowse_node_free (CxCobrowseNode *node)
{
  if (node == NULL)
    return;

  g_free (node->role);
  g_free (node->label);
  g_free (node->text);
  g_free (node);
}

/**
 * cx_cobrowse_frame_new:
 * @type: the frame's type
 *
 * Returns: (transfer full): an empty frame; a snapshot or changes frame has its lists
 */
CxCobrowseFrame *
cx_cobrowse_frame_new (CxCobrowseFrameType type)
{
  CxCobrowseFrame *frame = g_new0 (CxCobrowseFrame, 1);

  frame->type = type;
  if (type == CX_COBROWSE_FRAME_SNAPSHOT || type == CX_COBROWSE_FRAME_CHANGES)
    {
      frame->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_node_free);
      frame->removes = g_array_new (FALSE, FALSE, sizeof (guint));
      frame->attributes = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_node_free);
      frame->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_node_free);
      frame->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_node_free);
      frame->scrolls = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_cobrowse_node_free);
    }
  if (type == CX_COBROWSE_FRAME_ANNOTATION)
    frame->points = g_array_new (FALSE, FALSE, sizeof (CxCobrowsePoint));
  return frame;
}

/**
 * cx_cobrowse_frame_changes_is_empty:
 * @frame: a changes frame
 *
 * Returns: whether @frame changes nothing
 */
gboolean
cx_cobrowse_frame_changes_is_empty (const CxCobrowseFrame *frame)
{
  g_return_val_if_fail (frame->type == CX_COBROWSE_FRAME_CHANGES, TRUE);

  return frame->nodes->len == 0 && frame->removes->len == 0 && frame->attributes->len == 0 &&
         frame->texts->len == 0 && frame->inputs->len == 0 && frame->scrolls->len == 0 &&
         !frame->has_viewport;
}

void
cx_cobrowse_frame_free (CxCobrowseFrame *frame)
{
  if (frame == NULL)
    return;

  g_free (frame->page);
  g_clear_pointer (&frame->nodes, g_ptr_array_unref);
  g_clear_pointer (&frame->removes, g_array_unref);
  g_clear_pointer (&frame->attributes, g_ptr_array_unref);
  g_clear_pointer (&frame->texts, g_ptr_array_unref);
  g_clear_pointer (&frame->inputs, g_ptr_array_unref);
  g_clear_pointer (&frame->scrolls, g_ptr_array_unref);
  g_clear_pointer (&frame->points, g_array_unref);
  g_free (frame->text);
  g_free (frame->reason);
  g_free (frame);
}

/* Building */

static void
add_string (JsonBuilder *builder, const char *member, const char *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}

static void
add_boolean (JsonBuilder *builder, const char *member, gboolean value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, value);
}

static void
add_pair (JsonBuilder *builder, const char *member, int a, int b)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, a);
  json_builder_add_int_value (builder, b);
  json_builder_end_array (builder);
}

/* A node's members. @full: a snapshot node or an add, whose flags are written only when they
 * differ from the defaults; otherwise an "attributes" entry, whose fields are all written. A
 * masked node never gets its label, and its text is always the mask. */
static void
add_node_members (JsonBuilder *builder, const CxCobrowseNode *node, gboolean full)
{
  guint f = node->fields;
  gboolean masked = (f & CX_COBROWSE_FIELD_MASKED) && node->masked;

  add_int (builder, "id", node->id);
  if (full)
    add_int (builder, "parent", node->parent);
  if (f & CX_COBROWSE_FIELD_KIND)
    add_string (builder, "kind", cx_cobrowse_kind_to_string (node->kind));
  if ((f & CX_COBROWSE_FIELD_ROLE) && node->role != NULL)
    add_string (builder, "role", node->role);
  if ((f & CX_COBROWSE_FIELD_LABEL) && node->label != NULL && !masked)
    add_string (builder, "label", node->label);
  if ((f & CX_COBROWSE_FIELD_TEXT) && node->text != NULL)
    add_string (builder, "text", masked ? CX_COBROWSE_MASK : node->text);
  if (f & CX_COBROWSE_FIELD_CHECKED)
    add_boolean (builder, "checked", node->checked);
  if ((f & CX_COBROWSE_FIELD_SELECTED) && (!full || node->selected))
    add_boolean (builder, "selected", node->selected);
  if ((f & CX_COBROWSE_FIELD_SENSITIVE) && (!full || !node->sensitive))
    add_boolean (builder, "sensitive", node->sensitive);
  if ((f & CX_COBROWSE_FIELD_VISIBLE) && (!full || !node->visible))
    add_boolean (builder, "visible", node->visible);
  if ((f & CX_COBROWSE_FIELD_FOCUS) && (!full || node->focus))
    add_boolean (builder, "focus", node->focus);
  if (f & CX_COBROWSE_FIELD_RECT)
    {
      json_builder_set_member_name (builder, "rect");
      json_builder_begin_array (builder);
      json_builder_add_int_value (builder, node->x);
      json_builder_add_int_value (builder, node->y);
      json_builder_add_int_value (builder, node->width);
      json_builder_add_int_value (builder, node->height);
      json_builder_end_array (builder);
    }
  if (f & CX_COBROWSE_FIELD_STACK_CHILD)
    add_int (builder, "stackChild", node->stack_child);
  if (f & CX_COBROWSE_FIELD_SCROLL)
    add_pair (builder, "scroll", node->scroll_x, node->scroll_y);
  if ((f & CX_COBROWSE_FIELD_MASKED) && (!full || node->masked))
    add_boolean (builder, "masked", node->masked);
  if ((f & CX_COBROWSE_FIELD_AGENT_DISABLED) && (!full || node->agent_disabled))
    add_boolean (builder, "agentDisabled", node->agent_disabled);
  if ((f & CX_COBROWSE_FIELD_SUBMIT) && (!full || node->submit))
    add_boolean (builder, "submit", node->submit);
}

static void
add_node_list (JsonBuilder *builder, const char *member, GPtrArray *nodes, gboolean full)
{
  if (nodes == NULL || nodes->len == 0)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < nodes->len; i++)
    {
      json_builder_begin_object (builder);
      add_node_members (builder, g_ptr_array_index (nodes, i), full);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* texts, inputs and scrolls: id plus the one or two values they carry. */
static void
add_value_list (JsonBuilder *builder, const char *member, GPtrArray *nodes)
{
  if (nodes == NULL || nodes->len == 0)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < nodes->len; i++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (nodes, i);

      json_builder_begin_object (builder);
      add_int (builder, "id", node->id);
      if ((node->fields & CX_COBROWSE_FIELD_TEXT) && node->text != NULL)
        add_string (builder, "text", node->text);
      if (node->fields & CX_COBROWSE_FIELD_CHECKED)
        add_boolean (builder, "checked", node->checked);
      if (node->fields & CX_COBROWSE_FIELD_SCROLL)
        {
          add_int (builder, "x", node->scroll_x);
          add_int (builder, "y", node->scroll_y);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/**
 * cx_cobrowse_frame_build:
 * @frame: a frame
 *
 * Writes @frame as JSON. Masked nodes are written with the mask and no label, whatever @frame
 * holds (see the file's invariant).
 *
 * Returns: (transfer full): the frame's JSON object
 */
JsonNode *
cx_cobrowse_frame_build (const CxCobrowseFrame *frame)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail ((guint) frame->type < G_N_ELEMENTS (frame_types), NULL);

  json_builder_begin_object (builder);
  add_string (builder, "type", frame_types[frame->type]);

  switch (frame->type)
    {
      case CX_COBROWSE_FRAME_SNAPSHOT:
      case CX_COBROWSE_FRAME_CHANGES:
        add_int (builder, "seq", (gint64) frame->seq);
        if (frame->type == CX_COBROWSE_FRAME_SNAPSHOT)
          add_string (builder, "page", frame->page != NULL ? frame->page : "");
        if (frame->has_viewport || frame->type == CX_COBROWSE_FRAME_SNAPSHOT)
          add_pair (builder, "viewport", frame->viewport_width, frame->viewport_height);
        add_node_list (builder, frame->type == CX_COBROWSE_FRAME_SNAPSHOT ? "nodes" : "adds",
                       frame->nodes, TRUE);
        if (frame->removes != NULL && frame->removes->len > 0)
          {
            json_builder_set_member_name (builder, "removes");
            json_builder_begin_array (builder);
            for (guint i = 0; i < frame->removes->len; i++)
              json_builder_add_int_value (builder, g_array_index (frame->removes, guint, i));
            json_builder_end_array (builder);
          }
        add_node_list (builder, "attributes", frame->attributes, FALSE);
        add_value_list (builder, "texts", frame->texts);
        add_value_list (builder, "inputs", frame->inputs);
        add_value_list (builder, "scrolls", frame->scrolls);
        break;

      case CX_COBROWSE_FRAME_POINTER:
      case CX_COBROWSE_FRAME_CLICK:
        add_int (builder, "x", frame->x);
        add_int (builder, "y", frame->y);
        break;

      case CX_COBROWSE_FRAME_ANNOTATION:
        json_builder_set_member_name (builder, "points");
        json_builder_begin_array (builder);
        for (guint i = 0; frame->points != NULL && i < frame->points->len; i++)
          {
            const CxCobrowsePoint *point = &g_array_index (frame->points, CxCobrowsePoint, i);

            json_builder_begin_array (builder);
            json_builder_add_int_value (builder, point->x);
            json_builder_add_int_value (builder, point->y);
            json_builder_end_array (builder);
          }
        json_builder_end_array (builder);
        break;

      case CX_COBROWSE_FRAME_MODE_REQUEST:
      case CX_COBROWSE_FRAME_MODE_ACCEPT:
        add_string (builder, "mode", cx_cobrowse_mode_to_string (frame->mode));
        break;

      case CX_COBROWSE_FRAME_INPUT:
        add_int (builder, "id", frame->target);
        if (frame->action == CX_COBROWSE_INPUT_TEXT)
          add_string (builder, "text", frame->text != NULL ? frame->text : "");
        else if (frame->action == CX_COBROWSE_INPUT_CHECKED)
          add_boolean (builder, "checked", frame->checked);
        else
          add_boolean (builder, "activate", TRUE);
        break;

      case CX_COBROWSE_FRAME_END:
        if (frame->reason != NULL)
          add_string (builder, "reason", frame->reason);
        break;

      case CX_COBROWSE_FRAME_MODE_REFUSE:
      case CX_COBROWSE_FRAME_MODE_REVOKE:
      default:
        break;
    }

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * cx_cobrowse_frame_to_string:
 * @frame: a frame
 * @length: (out) (optional): its length in bytes
 *
 * Returns: (transfer full): @frame as compact JSON text, what goes on the wire
 */
char *
cx_cobrowse_frame_to_string (const CxCobrowseFrame *frame, gsize *length)
{
  g_autoptr (JsonNode) node = cx_cobrowse_frame_build (frame);
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, length);
}

JsonNode *
cx_cobrowse_build_pointer (CxCobrowseFrameType type, int x, int y)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;

  g_return_val_if_fail (type == CX_COBROWSE_FRAME_POINTER || type == CX_COBROWSE_FRAME_CLICK, NULL);
  frame = cx_cobrowse_frame_new (type);
  frame->x = x;
  frame->y = y;
  return cx_cobrowse_frame_build (frame);
}

JsonNode *
cx_cobrowse_build_mode (CxCobrowseFrameType type, CxCobrowseMode mode)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;

  g_return_val_if_fail (
      type >= CX_COBROWSE_FRAME_MODE_REQUEST && type <= CX_COBROWSE_FRAME_MODE_REVOKE, NULL);
  frame = cx_cobrowse_frame_new (type);
  frame->mode = mode;
  return cx_cobrowse_frame_build (frame);
}

JsonNode *
cx_cobrowse_build_input_text (guint target, const char *text)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_INPUT);

  frame->target = target;
  frame->action = CX_COBROWSE_INPUT_TEXT;
  frame->text = g_strdup (text);
  return cx_cobrowse_frame_build (frame);
}

JsonNode *
cx_cobrowse_build_input_checked (guint target, gboolean checked)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_INPUT);

  frame->target = target;
  frame->action = CX_COBROWSE_INPUT_CHECKED;
  frame->checked = checked;
  return cx_cobrowse_frame_build (frame);
}

JsonNode *
cx_cobrowse_build_input_activate (guint target)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_INPUT);

  frame->target = target;
  frame->action = CX_COBROWSE_INPUT_ACTIVATE;
  return cx_cobrowse_frame_build (frame);
}

JsonNode *
cx_cobrowse_build_end (const char *reason)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_END);

  frame->reason = g_strdup (reason);
  return cx_cobrowse_frame_build (frame);
}
