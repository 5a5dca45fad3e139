/* cx-cobrowse-protocol.h: the JSON frames of a co-browse session, shaped like rrweb's: a full
 * snapshot of the customer's page (a flat, pre-order list of nodes, every node a stable id and
 * its parent's id), then incremental "changes" (adds, removes, attributes, texts, inputs,
 * scrolls, viewport), the pointers, the agent's clicks and annotations, and the control frames
 * (mode request/accept/refuse/revoke, agent input, end). Every frame is a JSON object with a
 * "type" member. Parsing is strict and bounded (frame size, node count, depth, string lengths).
 *
 * Invariant: a masked node's text is CX_COBROWSE_MASK and it has no label. The builder writes a
 * masked node that way whatever it is given, and the parser refuses anything else, so a
 * length-dependent mask or a leaked value can neither be sent nor be shown by a mirror. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

/* A frame larger than this is refused. */
#define CX_COBROWSE_FRAME_MAX_SIZE (1024 * 1024)
/* A page, or the nodes one changes frame adds, removes or changes per list. */
#define CX_COBROWSE_MAX_NODES 5000
/* Parent chains longer than this are refused (GTK pages are a few dozen levels deep). */
#define CX_COBROWSE_MAX_DEPTH 128
/* Characters of a node's text or value, of its label, of a page name or an end reason. */
#define CX_COBROWSE_TEXT_MAX 4096
#define CX_COBROWSE_LABEL_MAX 512
#define CX_COBROWSE_ROLE_MAX 48
/* Points of one annotation stroke. */
#define CX_COBROWSE_MAX_POINTS 512
/* Page coordinates and sizes lie within ±this. */
#define CX_COBROWSE_COORD_MAX 100000
/* Node ids are 1 .. this. */
#define CX_COBROWSE_ID_MAX G_MAXINT32

/* What a masked value always is: the same six bullets whatever the secret and its length. */
#define CX_COBROWSE_MASK "\u2022\u2022\u2022\u2022\u2022\u2022"

/**
 * CxCobrowseFrameType:
 * @CX_COBROWSE_FRAME_SNAPSHOT: "snapshot": customer to agent, the whole page
 * @CX_COBROWSE_FRAME_CHANGES: "changes": customer to agent, what changed since the last frame
 * @CX_COBROWSE_FRAME_POINTER: "pointer": either side's pointer moved
 * @CX_COBROWSE_FRAME_CLICK: "click": the agent clicked (the customer sees a red circle)
 * @CX_COBROWSE_FRAME_ANNOTATION: "annotation": the agent drew a short-lived stroke
 * @CX_COBROWSE_FRAME_MODE_REQUEST: "modeRequest": the agent asks for a mode
 * @CX_COBROWSE_FRAME_MODE_ACCEPT: "modeAccept": the customer agreed
 * @CX_COBROWSE_FRAME_MODE_REFUSE: "modeRefuse": the customer said no
 * @CX_COBROWSE_FRAME_MODE_REVOKE: "modeRevoke": the customer took control back (pointer mode)
 * @CX_COBROWSE_FRAME_INPUT: "input": the agent operates a node (write mode only)
 * @CX_COBROWSE_FRAME_END: "end": either side ended the session
 */
typedef enum
{
  CX_COBROWSE_FRAME_SNAPSHOT,
  CX_COBROWSE_FRAME_CHANGES,
  CX_COBROWSE_FRAME_POINTER,
  CX_COBROWSE_FRAME_CLICK,
  CX_COBROWSE_FRAME_ANNOTATION,
  CX_COBROWSE_FRAME_MODE_REQUEST,
  CX_COBROWSE_FRAME_MODE_ACCEPT,
  CX_COBROWSE_FRAME_MODE_REFUSE,
  CX_COBROWSE_FRAME_MODE_REVOKE,
  CX_COBROWSE_FRAME_INPUT,
  CX_COBROWSE_FRAME_END,
} CxCobrowseFrameType;

/**
 * CxCobrowseKind:
 *
 * The kind of widget a node is, on the wire as its lowercase name ("entry", "check", ...).
 */
typedef enum
{
  CX_COBROWSE_KIND_WINDOW,
  CX_COBROWSE_KIND_BOX,
  CX_COBROWSE_KIND_GRID,
  CX_COBROWSE_KIND_STACK,
  CX_COBROWSE_KIND_SCROLLED,
  CX_COBROWSE_KIND_FRAME,
  CX_COBROWSE_KIND_LIST,
  CX_COBROWSE_KIND_ROW,
  CX_COBROWSE_KIND_LABEL,
  CX_COBROWSE_KIND_ENTRY,
  CX_COBROWSE_KIND_PASSWORD,
  CX_COBROWSE_KIND_TEXTVIEW,
  CX_COBROWSE_KIND_SPIN,
  CX_COBROWSE_KIND_CHECK,
  CX_COBROWSE_KIND_TOGGLE,
  CX_COBROWSE_KIND_SWITCH,
  CX_COBROWSE_KIND_BUTTON,
  CX_COBROWSE_KIND_IMAGE,
  CX_COBROWSE_KIND_OTHER,
} CxCobrowseKind;

/**
 * CxCobrowseMode:
 * @CX_COBROWSE_MODE_POINTER: "pointer": the agent sees and points
 * @CX_COBROWSE_MODE_WRITE: "write": the agent may also type and toggle, with consent
 */
typedef enum
{
  CX_COBROWSE_MODE_POINTER,
  CX_COBROWSE_MODE_WRITE,
} CxCobrowseMode;

/**
 * CxCobrowseField:
 *
 * Which members of a #CxCobrowseNode a frame carries. In a snapshot or an add every node has
 * KIND, RECT and the flags; in an "attributes" entry only what changed.
 */
typedef enum
{
  CX_COBROWSE_FIELD_KIND = 1 << 0,
  CX_COBROWSE_FIELD_ROLE = 1 << 1,
  CX_COBROWSE_FIELD_LABEL = 1 << 2,
  CX_COBROWSE_FIELD_TEXT = 1 << 3,
  CX_COBROWSE_FIELD_CHECKED = 1 << 4,
  CX_COBROWSE_FIELD_SELECTED = 1 << 5,
  CX_COBROWSE_FIELD_SENSITIVE = 1 << 6,
  CX_COBROWSE_FIELD_VISIBLE = 1 << 7,
  CX_COBROWSE_FIELD_FOCUS = 1 << 8,
  CX_COBROWSE_FIELD_RECT = 1 << 9,
  CX_COBROWSE_FIELD_STACK_CHILD = 1 << 10,
  CX_COBROWSE_FIELD_SCROLL = 1 << 11,
  CX_COBROWSE_FIELD_MASKED = 1 << 12,
  CX_COBROWSE_FIELD_AGENT_DISABLED = 1 << 13,
  CX_COBROWSE_FIELD_SUBMIT = 1 << 14,
} CxCobrowseField;

/**
 * CxCobrowseNode:
 * @id: 1 .. %CX_COBROWSE_ID_MAX, unique in the page
 * @parent: the parent's id, 0 for the root (snapshot and adds only)
 * @fields: which members are set (#CxCobrowseField)
 * @role: (nullable): the accessible role's nick ("button", "text-box")
 * @label: (nullable): what the widget says it is (a button's label); never on a masked node
 * @text: (nullable): its text or value; CX_COBROWSE_MASK on a masked node
 * @checked: the state of a check, toggle or switch (with %CX_COBROWSE_FIELD_CHECKED)
 * @stack_child: a stack's visible child's id, 0 for none
 */
typedef struct
{
  guint id;
  guint parent;
  guint fields;
  CxCobrowseKind kind;
  char *role;
  char *label;
  char *text;
  gboolean checked;
  gboolean selected;
  gboolean sensitive;
  gboolean visible;
  gboolean focus;
  gboolean masked;
  gboolean agent_disabled;
  gboolean submit;
  int x, y, width, height;
  guint stack_child;
  int scroll_x, scroll_y;
} CxCobrowseNode;

/**
 * CxCobrowsePoint:
 *
 * A point in page coordinates.
 */
typedef struct
{
  int x, y;
} CxCobrowsePoint;

/**
 * CxCobrowseInputAction:
 * @CX_COBROWSE_INPUT_TEXT: set an editable's text ("text")
 * @CX_COBROWSE_INPUT_CHECKED: set a check, toggle or switch ("checked")
 * @CX_COBROWSE_INPUT_ACTIVATE: press a button ("activate": true)
 */
typedef enum
{
  CX_COBROWSE_INPUT_TEXT,
  CX_COBROWSE_INPUT_CHECKED,
  CX_COBROWSE_INPUT_ACTIVATE,
} CxCobrowseInputAction;

/**
 * CxCobrowseFrame:
 * @type: which frame
 * @seq: snapshot, changes: the sequence number (a snapshot restarts it, each changes frame is
 *   one more than the frame before)
 * @page: snapshot: the page's name
 * @has_viewport: snapshot (always), changes (on a resize)
 * @nodes: (element-type CxCobrowseNode): snapshot: every node, pre-order; changes: the adds
 * @removes: (element-type guint): changes: removed ids (with their subtrees)
 * @attributes: (element-type CxCobrowseNode): changes: id + the fields that changed
 * @texts: (element-type CxCobrowseNode): changes: id + text, for labels
 * @inputs: (element-type CxCobrowseNode): changes: id + text or checked, for inputs
 * @scrolls: (element-type CxCobrowseNode): changes: id + scroll position
 * @x: pointer, click: where
 * @points: (element-type CxCobrowsePoint): annotation: the stroke
 * @mode: modeRequest, modeAccept: which mode
 * @target: input: the node operated
 * @action: input: what to do to it
 * @text: input with %CX_COBROWSE_INPUT_TEXT: the new text
 * @checked: input with %CX_COBROWSE_INPUT_CHECKED: the new state
 * @reason: (nullable): end: why
 *
 * A parsed frame; the members a type does not use are 0 or %NULL. The list members of a
 * changes frame are never %NULL (maybe empty).
 */
typedef struct
{
  CxCobrowseFrameType type;
  guint64 seq;
  char *page;
  gboolean has_viewport;
  int viewport_width, viewport_height;
  GPtrArray *nodes;
  GArray *removes;
  GPtrArray *attributes;
  GPtrArray *texts;
  GPtrArray *inputs;
  GPtrArray *scrolls;
  int x, y;
  GArray *points;
  CxCobrowseMode mode;
  guint target;
  CxCobrowseInputAction action;
  char *text;
  gboolean checked;
  char *reason;
} CxCobrowseFrame;

const char *cx_cobrowse_frame_type_to_string (CxCobrowseFrameType type);
const char *cx_cobrowse_kind_to_string (CxCobrowseKind kind);
gboolean cx_cobrowse_kind_from_string (const char *string, CxCobrowseKind *kind);
const char *cx_cobrowse_mode_to_string (CxCobrowseMode mode);
gboolean cx_cobrowse_frame_type_from_customer (CxCobrowseFrameType type);
gboolean cx_cobrowse_frame_type_from_agent (CxCobrowseFrameType type);

CxCobrowseNode *cx_cobrowse_node_new (guint id);
CxCobrowseNode *cx_cobrowse_node_copy (const CxCobrowseNode *node);
void cx_cobrowse_node_free (CxCobrowseNode *node);

CxCobrowseFrame *cx_cobrowse_frame_new (CxCobrowseFrameType type);
gboolean cx_cobrowse_frame_changes_is_empty (const CxCobrowseFrame *frame);
void cx_cobrowse_frame_free (CxCobrowseFrame *frame);

JsonNode *cx_cobrowse_frame_build (const CxCobrowseFrame *frame);
char *cx_cobrowse_frame_to_string (const CxCobrowseFrame *frame, gsize *length);
gboolean cx_cobrowse_frame_parse (const char *text, gsize length, CxCobrowseFrame **out,
                                  GError **error);

/* Shortcuts for the small frames. */
JsonNode *cx_cobrowse_build_pointer (CxCobrowseFrameType type, int x, int y);
JsonNode *cx_cobrowse_build_mode (CxCobrowseFrameType type, CxCobrowseMode mode);
JsonNode *cx_cobrowse_build_input_text (guint target, const char *text);
JsonNode *cx_cobrowse_build_input_checked (guint target, gboolean checked);
JsonNode *cx_cobrowse_build_input_activate (guint target);
JsonNode *cx_cobrowse_build_end (const char *reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCobrowseNode, cx_cobrowse_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCobrowseFrame, cx_cobrowse_frame_free)

G_END_DECLS
