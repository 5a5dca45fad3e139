/* cx-cobrowse-protocol-parse.c: the strict parser of the co-browse frames
 * (cx-cobrowse-protocol.h; the builders are in cx-cobrowse-protocol.c). It takes raw WebSocket
 * text, so the size, UTF-8 and nesting checks of cx_json_parse() come first; then every member
 * is checked for type, range and length, ids for uniqueness and parent order, and masked nodes
 * for the one allowed value. */
#define G_LOG_DOMAIN "cx-protocol"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "protocol/cx-cobrowse-protocol.h"
#include "protocol/cx-protocol-private.h"

/* Sequence numbers stay exact in a JavaScript number too. */
#define SEQ_MAX ((gint64) 1 << 53)

/* Parsing */

static gboolean
member_text (JsonObject *object, const char *member, gboolean required, CxTextFlags flags,
             gsize max_chars, char **out, GError **error)
{
  const char *value = NULL;

  if (!cx_json_member_string (object, member, required, flags, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  if (!cx_text_validate (member, value, flags | CX_TEXT_ALLOW_EMPTY, max_chars, CX_PROTOCOL_ERROR,
                         CX_PROTOCOL_ERROR_INVALID, CX_PROTOCOL_ERROR_TOO_LARGE, error))
    return FALSE;

  *out = g_strdup (value);
  return TRUE;
}

static gboolean
member_id (JsonObject *object, const char *member, gint64 min, guint *out, GError **error)
{
  gint64 value = 0;

  if (!cx_json_member_int (object, member, TRUE, min, CX_COBROWSE_ID_MAX, &value, error))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

/* An array of exactly @count integers within ±CX_COBROWSE_COORD_MAX (sizes: 0 and up). */
static gboolean
int_tuple (JsonNode *node, const char *member, guint count, guint first_size, int *values,
           GError **error)
{
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length ((array = json_node_get_array (node))) != count)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                   _ ("“%s” is not an array of %u integers"), member, count);
      return FALSE;
    }

  for (guint i = 0; i < count; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      gint64 value;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” is not an array of %u integers"), member, count);
          return FALSE;
        }
      value = json_node_get_int (element);
      if (value > CX_COBROWSE_COORD_MAX || value < (i >= first_size ? 0 : -CX_COBROWSE_COORD_MAX))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” is out of range"), member);
          return FALSE;
        }
      values[i] = (int) value;
    }
  return TRUE;
}

static gboolean
member_tuple (JsonObject *object, const char *member, gboolean required, guint count,
              guint first_size, int *values, gboolean *present, GError **error)
{
  JsonNode *node = cx_json_get_member (object, member);

  *present = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID, _ ("“%s” is missing"),
                       member);
          return FALSE;
        }
      return TRUE;
    }
  if (!int_tuple (node, member, count, first_size, values, error))
    return FALSE;
  *present = TRUE;
  return TRUE;
}

static gboolean
member_coord (JsonObject *object, const char *member, int *out, GError **error)
{
  gint64 value = 0;

  if (!cx_json_member_int (object, member, TRUE, -CX_COBROWSE_COORD_MAX, CX_COBROWSE_COORD_MAX,
                           &value, error))
    return FALSE;
  *out = (int) value;
  return TRUE;
}

/* An optional boolean: sets @field in @node->fields when present, else @fallback if @full. */
static gboolean
member_flag (JsonObject *object, const char *member, CxCobrowseNode *node, CxCobrowseField field,
             gboolean *out, gboolean full, gboolean fallback, GError **error)
{
  gboolean value = fallback;

  if (!cx_json_member_boolean (object, member, FALSE, &value, error))
    return FALSE;
  if (full || !cx_json_is_null_or_absent (object, member))
    {
      node->fields |= field;
      *out = value;
    }
  return TRUE;
}

/* One node of a snapshot or an add (@full), or an "attributes" entry. */
static CxCobrowseNode *
parse_node (JsonNode *element, gboolean full, GError **error)
{
  g_autoptr (CxCobrowseNode) node = NULL;
  JsonObject *object;
  g_autofree char *kind = NULL;
  gboolean present;
  int rect[4] = { 0 }, scroll[2] = { 0 };
  guint id;

  object = cx_json_root_object (element, "node", error);
  if (object == NULL || !member_id (object, "id", 1, &id, error))
    return NULL;

  node = cx_cobrowse_node_new (id);
  if (full && !member_id (object, "parent", 0, &node->parent, error))
    return NULL;

  if (!member_text (object, "kind", full, CX_TEXT_SINGLE_LINE, 32, &kind, error))
    return NULL;
  if (kind != NULL)
    {
      if (!cx_cobrowse_kind_from_string (kind, &node->kind))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” is not a known widget kind"), "kind");
          return NULL;
        }
      node->fields |= CX_COBROWSE_FIELD_KIND;
    }

  if (!member_text (object, "role", FALSE, CX_TEXT_SINGLE_LINE, CX_COBROWSE_ROLE_MAX, &node->role,
                    error) ||
      !member_text (object, "label", FALSE, CX_TEXT_MULTI_LINE, CX_COBROWSE_LABEL_MAX, &node->label,
                    error) ||
      !member_text (object, "text", FALSE, CX_TEXT_MULTI_LINE, CX_COBROWSE_TEXT_MAX, &node->text,
                    error))
    return NULL;
  if (node->role != NULL)
    node->fields |= CX_COBROWSE_FIELD_ROLE;
  if (node->label != NULL)
    node->fields |= CX_COBROWSE_FIELD_LABEL;
  if (node->text != NULL)
    node->fields |= CX_COBROWSE_FIELD_TEXT;

  if (!member_flag (object, "checked", node, CX_COBROWSE_FIELD_CHECKED, &node->checked, FALSE,
                    FALSE, error) ||
      !member_flag (object, "selected", node, CX_COBROWSE_FIELD_SELECTED, &node->selected, full,
                    FALSE, error) ||
      !member_flag (object, "sensitive", node, CX_COBROWSE_FIELD_SENSITIVE, &node->sensitive, full,
                    TRUE, error) ||
      !member_flag (object, "visible", node, CX_COBROWSE_FIELD_VISIBLE, &node->visible, full, TRUE,
                    error) ||
      !member_flag (object, "focus", node, CX_COBROWSE_FIELD_FOCUS, &node->focus, full, FALSE,
                    error) ||
      !member_flag (object, "masked", node, CX_COBROWSE_FIELD_MASKED, &node->masked, full, FALSE,
                    error) ||
      !member_flag (object, "agentDisabled", node, CX_COBROWSE_FIELD_AGENT_DISABLED,
                    &node->agent_disabled, full, FALSE, error) ||
      !member_flag (object, "submit", node, CX_COBROWSE_FIELD_SUBMIT, &node->submit, full, FALSE,
                    error))
    return NULL;

  if (!member_tuple (object, "rect", full, 4, 2, rect, &present, error))
    return NULL;
  if (present)
    {
      node->fields |= CX_COBROWSE_FIELD_RECT;
      node->x = rect[0];
      node->y = rect[1];
      node->width = rect[2];
      node->height = rect[3];
    }

  if (!cx_json_is_null_or_absent (object, "stackChild"))
    {
      gint64 child = 0;

      if (!cx_json_member_int (object, "stackChild", TRUE, 0, CX_COBROWSE_ID_MAX, &child, error))
        return NULL;
      node->stack_child = (guint) child;
      node->fields |= CX_COBROWSE_FIELD_STACK_CHILD;
    }

  if (!member_tuple (object, "scroll", FALSE, 2, 2, scroll, &present, error))
    return NULL;
  if (present)
    {
      node->fields |= CX_COBROWSE_FIELD_SCROLL;
      node->scroll_x = scroll[0];
      node->scroll_y = scroll[1];
    }

  /* The invariant: nothing of a masked node's content but the mask. */
  if ((node->fields & CX_COBROWSE_FIELD_MASKED) && node->masked &&
      ((node->text != NULL && !g_str_equal (node->text, CX_COBROWSE_MASK)) || node->label != NULL))
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("A masked node carries more than the mask"));
      return NULL;
    }

  if (!full && node->fields == 0)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("An attribute change changes nothing"));
      return NULL;
    }

  return g_steal_pointer (&node);
}

static gboolean
member_list (JsonObject *object, const char *member, JsonArray **out, GError **error)
{
  if (!cx_json_member_array (object, member, FALSE, out, error))
    return FALSE;
  if (*out != NULL && json_array_get_length (*out) > CX_COBROWSE_MAX_NODES)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("“%s” has more than %u entries"), member, CX_COBROWSE_MAX_NODES);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_nodes (JsonObject *object, const char *member, gboolean full, GPtrArray *out, GError **error)
{
  JsonArray *array = NULL;

  if (!member_list (object, member, &array, error))
    return FALSE;
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      CxCobrowseNode *node = parse_node (json_array_get_element (array, i), full, error);

      if (node == NULL)
        return FALSE;
      g_ptr_array_add (out, node);
    }
  return TRUE;
}

/* texts ({id, text}), inputs ({id, text and/or checked}), scrolls ({id, x, y}). */
static gboolean
parse_values (JsonObject *object, const char *member, CxCobrowseField kind, GPtrArray *out,
              GError **error)
{
  JsonArray *array = NULL;

  if (!member_list (object, member, &array, error))
    return FALSE;
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      g_autoptr (CxCobrowseNode) node = NULL;
      JsonObject *entry = cx_json_root_object (json_array_get_element (array, i), member, error);
      guint id;

      if (entry == NULL || !member_id (entry, "id", 1, &id, error))
        return FALSE;
      node = cx_cobrowse_node_new (id);

      if (kind == CX_COBROWSE_FIELD_SCROLL)
        {
          if (!member_coord (entry, "x", &node->scroll_x, error) ||
              !member_coord (entry, "y", &node->scroll_y, error))
            return FALSE;
          node->fields = CX_COBROWSE_FIELD_SCROLL;
        }
      else
        {
          if (!member_text (entry, "text", kind == CX_COBROWSE_FIELD_TEXT, CX_TEXT_MULTI_LINE,
                            CX_COBROWSE_TEXT_MAX, &node->text, error))
            return FALSE;
          if (node->text != NULL)
            node->fields |= CX_COBROWSE_FIELD_TEXT;
          if (kind == CX_COBROWSE_FIELD_CHECKED &&
              !member_flag (entry, "checked", node, CX_COBROWSE_FIELD_CHECKED, &node->checked,
                            FALSE, FALSE, error))
            return FALSE;
          if (node->fields == 0)
            {
              g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("An entry of “%s” has neither “text” nor “checked”"), member);
              return FALSE;
            }
        }
      g_ptr_array_add (out, g_steal_pointer (&node));
    }
  return TRUE;
}

/* Ids unique, the root first and alone, every other parent before its child, the depth
 * bounded, a stack's visible child one of its children. */
static gboolean
check_tree (GPtrArray *nodes, GError **error)
{
  g_autoptr (GHashTable) depth = g_hash_table_new (NULL, NULL);
  g_autoptr (GHashTable) parents = g_hash_table_new (NULL, NULL);

  if (nodes->len == 0)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("The snapshot has no nodes"));
      return FALSE;
    }

  for (guint i = 0; i < nodes->len; i++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (nodes, i);
      guint level = 1;

      if (g_hash_table_contains (depth, GUINT_TO_POINTER (node->id)))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("Node %u appears twice"), node->id);
          return FALSE;
        }
      if ((i == 0) != (node->parent == 0))
        {
          g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                               _ ("The snapshot does not have exactly one root, first"));
          return FALSE;
        }
      if (i > 0)
        {
          gpointer parent_depth;

          if (!g_hash_table_lookup_extended (depth, GUINT_TO_POINTER (node->parent), NULL,
                                             &parent_depth))
            {
              g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("Node %u comes before its parent"), node->id);
              return FALSE;
            }
          level = GPOINTER_TO_UINT (parent_depth) + 1;
          if (level > CX_COBROWSE_MAX_DEPTH)
            {
              g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                           _ ("The page is nested deeper than %u levels"), CX_COBROWSE_MAX_DEPTH);
              return FALSE;
            }
        }
      g_hash_table_insert (depth, GUINT_TO_POINTER (node->id), GUINT_TO_POINTER (level));
      g_hash_table_insert (parents, GUINT_TO_POINTER (node->id), GUINT_TO_POINTER (node->parent));
    }

  for (guint i = 0; i < nodes->len; i++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (nodes, i);

      if ((node->fields & CX_COBROWSE_FIELD_STACK_CHILD) && node->stack_child != 0 &&
          GPOINTER_TO_UINT (g_hash_table_lookup (parents, GUINT_TO_POINTER (node->stack_child))) !=
              node->id)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("Node %u's visible child is not its child"), node->id);
          return FALSE;
        }
    }
  return TRUE;
}

/* Adds: new ids, unique, under a parent (not a second root), nested no deeper than the cap
 * within the frame (the mirror checks the depth in its page). */
static gboolean
check_adds (GPtrArray *nodes, GError **error)
{
  g_autoptr (GHashTable) depth = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < nodes->len; i++)
    {
      const CxCobrowseNode *node = g_ptr_array_index (nodes, i);
      guint level = GPOINTER_TO_UINT (g_hash_table_lookup (depth, GUINT_TO_POINTER (node->parent)));

      if (node->parent == 0 || node->parent == node->id ||
          g_hash_table_contains (depth, GUINT_TO_POINTER (node->id)))
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("Node %u cannot be added there"), node->id);
          return FALSE;
        }
      if (++level > CX_COBROWSE_MAX_DEPTH)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_TOO_LARGE,
                       _ ("The page is nested deeper than %u levels"), CX_COBROWSE_MAX_DEPTH);
          return FALSE;
        }
      g_hash_table_insert (depth, GUINT_TO_POINTER (node->id), GUINT_TO_POINTER (level));
    }
  return TRUE;
}

static gboolean
parse_page (JsonObject *object, CxCobrowseFrame *frame, GError **error)
{
  gint64 seq = 0;
  int viewport[2] = { 0 };
  JsonArray *removes = NULL;
  gboolean snapshot = frame->type == CX_COBROWSE_FRAME_SNAPSHOT;

  if (!cx_json_member_int (object, "seq", TRUE, 0, SEQ_MAX, &seq, error))
    return FALSE;
  frame->seq = (guint64) seq;

  if (!member_tuple (object, "viewport", snapshot, 2, 0, viewport, &frame->has_viewport, error))
    return FALSE;
  frame->viewport_width = viewport[0];
  frame->viewport_height = viewport[1];

  if (snapshot)
    {
      if (!member_text (object, "page", TRUE, CX_TEXT_SINGLE_LINE, CX_COBROWSE_LABEL_MAX,
                        &frame->page, error) ||
          !parse_nodes (object, "nodes", TRUE, frame->nodes, error))
        return FALSE;
      return check_tree (frame->nodes, error);
    }

  if (!parse_nodes (object, "adds", TRUE, frame->nodes, error) ||
      !check_adds (frame->nodes, error) || !member_list (object, "removes", &removes, error))
    return FALSE;
  for (guint i = 0; removes != NULL && i < json_array_get_length (removes); i++)
    {
      JsonNode *element = json_array_get_element (removes, i);
      gint64 id;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64 ||
          (id = json_node_get_int (element)) < 1 || id > CX_COBROWSE_ID_MAX)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” is not a list of node ids"), "removes");
          return FALSE;
        }
      g_array_append_val (frame->removes, (guint){ (guint) id });
    }

  return parse_nodes (object, "attributes", FALSE, frame->attributes, error) &&
         parse_values (object, "texts", CX_COBROWSE_FIELD_TEXT, frame->texts, error) &&
         parse_values (object, "inputs", CX_COBROWSE_FIELD_CHECKED, frame->inputs, error) &&
         parse_values (object, "scrolls", CX_COBROWSE_FIELD_SCROLL, frame->scrolls, error);
}

static gboolean
parse_annotation (JsonObject *object, CxCobrowseFrame *frame, GError **error)
{
  JsonArray *array = NULL;
  guint length;

  if (!cx_json_member_array (object, "points", TRUE, &array, error))
    return FALSE;
  length = json_array_get_length (array);
  if (length == 0 || length > CX_COBROWSE_MAX_POINTS)
    {
      g_set_error (error, CX_PROTOCOL_ERROR,
                   length == 0 ? CX_PROTOCOL_ERROR_INVALID : CX_PROTOCOL_ERROR_TOO_LARGE,
                   _ ("“%s” must have 1 to %u points"), "points", CX_COBROWSE_MAX_POINTS);
      return FALSE;
    }
  for (guint i = 0; i < length; i++)
    {
      int xy[2];
      CxCobrowsePoint point;

      if (!int_tuple (json_array_get_element (array, i), "points", 2, 2, xy, error))
        return FALSE;
      point.x = xy[0];
      point.y = xy[1];
      g_array_append_val (frame->points, point);
    }
  return TRUE;
}

static gboolean
parse_mode (JsonObject *object, CxCobrowseFrame *frame, GError **error)
{
  const char *mode = NULL;

  if (!cx_json_member_string (object, "mode", TRUE, CX_TEXT_SINGLE_LINE, &mode, error))
    return FALSE;
  for (guint i = 0; i <= CX_COBROWSE_MODE_WRITE; i++)
    {
      if (g_str_equal (mode, cx_cobrowse_mode_to_string ((CxCobrowseMode) i)))
        {
          frame->mode = (CxCobrowseMode) i;
          return TRUE;
        }
    }
  g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
               _ ("“%s” is not a known co-browse mode"), "mode");
  return FALSE;
}

static gboolean
parse_input (JsonObject *object, CxCobrowseFrame *frame, GError **error)
{
  gboolean activate = FALSE;
  guint actions = 0;

  if (!member_id (object, "id", 1, &frame->target, error) ||
      !member_text (object, "text", FALSE, CX_TEXT_MULTI_LINE, CX_COBROWSE_TEXT_MAX, &frame->text,
                    error) ||
      !cx_json_member_boolean (object, "checked", FALSE, &frame->checked, error) ||
      !cx_json_member_boolean (object, "activate", FALSE, &activate, error))
    return FALSE;

  if (frame->text != NULL)
    {
      frame->action = CX_COBROWSE_INPUT_TEXT;
      actions++;
    }
  if (!cx_json_is_null_or_absent (object, "checked"))
    {
      frame->action = CX_COBROWSE_INPUT_CHECKED;
      actions++;
    }
  if (!cx_json_is_null_or_absent (object, "activate"))
    {
      if (!activate)
        {
          g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                       _ ("“%s” can only be true"), "activate");
          return FALSE;
        }
      frame->action = CX_COBROWSE_INPUT_ACTIVATE;
      actions++;
    }
  if (actions != 1)
    {
      g_set_error_literal (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_INVALID,
                           _ ("An input frame needs exactly one of “text”, “checked” and "
                              "“activate”"));
      return FALSE;
    }
  return TRUE;
}

/**
 * cx_cobrowse_frame_parse:
 * @text: a WebSocket text frame, not necessarily nul-terminated
 * @length: its length in bytes
 * @out: (out) (transfer full): the frame
 * @error: return location for a %CX_PROTOCOL_ERROR
 *
 * Validates a co-browse frame: at most %CX_COBROWSE_FRAME_MAX_SIZE bytes of JSON; a known
 * "type"; ids from 1 to %CX_COBROWSE_ID_MAX; a snapshot's nodes a tree in pre-order (one root,
 * first; parents before children; at most %CX_COBROWSE_MAX_NODES, %CX_COBROWSE_MAX_DEPTH deep);
 * kinds and modes from the known lists; texts valid UTF-8 without control characters other than
 * tab and newlines, within their length caps; coordinates within ±%CX_COBROWSE_COORD_MAX, sizes
 * not negative; a masked node nothing but the mask. Whether the ids of a changes or input frame
 * exist is for the page they apply to.
 *
 * Returns: %TRUE with @out set, or %FALSE with @error set
 */
gboolean
cx_cobrowse_frame_parse (const char *text, gsize length, CxCobrowseFrame **out, GError **error)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  const char *type = NULL;
  gboolean ok = TRUE;
  gint known = -1;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;

  root = cx_json_parse (text, length, CX_COBROWSE_FRAME_MAX_SIZE, error);
  if (root == NULL)
    return FALSE;
  object = cx_json_root_object (root, "frame", error);
  if (object == NULL ||
      !cx_json_member_string (object, "type", TRUE, CX_TEXT_SINGLE_LINE, &type, error))
    return FALSE;

  for (guint i = 0; i <= CX_COBROWSE_FRAME_END && known < 0; i++)
    {
      if (g_str_equal (type, cx_cobrowse_frame_type_to_string ((CxCobrowseFrameType) i)))
        known = (gint) i;
    }
  if (known < 0)
    {
      g_set_error (error, CX_PROTOCOL_ERROR, CX_PROTOCOL_ERROR_UNKNOWN_TYPE,
                   _ ("“%.64s” is not a known frame type"), type);
      return FALSE;
    }

  frame = cx_cobrowse_frame_new ((CxCobrowseFrameType) known);
  switch (frame->type)
    {
      case CX_COBROWSE_FRAME_SNAPSHOT:
      case CX_COBROWSE_FRAME_CHANGES:
        ok = parse_page (object, frame, error);
        break;
      case CX_COBROWSE_FRAME_POINTER:
      case CX_COBROWSE_FRAME_CLICK:
        ok = member_coord (object, "x", &frame->x, error) &&
             member_coord (object, "y", &frame->y, error);
        break;
      case CX_COBROWSE_FRAME_ANNOTATION:
        ok = parse_annotation (object, frame, error);
        break;
      case CX_COBROWSE_FRAME_MODE_REQUEST:
      case CX_COBROWSE_FRAME_MODE_ACCEPT:
        ok = parse_mode (object, frame, error);
        break;
      case CX_COBROWSE_FRAME_INPUT:
        ok = parse_input (object, frame, error);
        break;
      case CX_COBROWSE_FRAME_END:
        ok = member_text (object, "reason", FALSE, CX_TEXT_SINGLE_LINE, CX_COBROWSE_LABEL_MAX,
                          &frame->reason, error);
        break;
      case CX_COBROWSE_FRAME_MODE_REFUSE:
      case CX_COBROWSE_FRAME_MODE_REVOKE:
      default:
        break;
    }
  if (!ok)
    return FALSE;

  *out = g_steal_pointer (&frame);
  return TRUE;
}
