/* cx-page-mirror.c: the agent's read-only rendering of a customer's page (cx-page-mirror.h).
 *
 * Every leaf node (label, entry, check, toggle, switch, button, image) is a real GTK widget on
 * a GtkFixed "canvas" at the node's page geometry; containers only contribute their geometry
 * and visibility (a stack shows only its visible child), but for scrolled windows, which clip
 * what is inside them (on a GtkFixed of their own). The canvas is as large as the
 * customer's viewport and is allocated with a scale transform so that it fits the mirror. It
 * takes no input: the agent's clicks and input are made by the agent window, as frames.
 *
 * Invariants: the node table is bounded as the protocol is (nodes, depth); a changes frame is
 * checked whole before any of it is applied, and a frame that does not follow the last one is
 * refused until a new snapshot; a node once masked shows CX_COBROWSE_MASK and nothing else,
 * whatever a later frame says. */
#define G_LOG_DOMAIN "cx-page-mirror"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets/cx-page-mirror.h"

/* GNOME's blue, for the pointer and the focus ring. */
#define MIRROR_ACCENT "#3584e4"
#define POINTER_RADIUS 7.0f

typedef struct
{
  CxCobrowseNode *state; /* every field of a snapshot node */
  GtkWidget *widget;     /* on the canvas; NULL for containers */
  GtkWidget *inner;      /* a scrolled node's GtkFixed, where what it clips goes */
  GArray *children;      /* guint ids */
  guint depth;
} MirrorNode;

struct _CxPageMirror
{
  GtkWidget parent_instance;

  GtkWidget *canvas;
  GHashTable *nodes; /* id -> MirrorNode */
  char *page;
  gboolean have_snapshot;
  guint64 seq;
  int viewport_width, viewport_height;
  guint focus_id;
  gboolean pointer_set;
  int pointer_x, pointer_y;
};

G_DEFINE_FINAL_TYPE (CxPageMirror, cx_page_mirror, GTK_TYPE_WIDGET)

GQuark
cx_page_mirror_error_quark (void)
{
  return g_quark_from_static_string ("cx-page-mirror-error-quark");
}

static void
set_str (char **where, const char *value)
{
  char *copy = g_strdup (value);

  g_free (*where);
  *where = copy;
}

static void
mirror_node_free (gpointer data)
{
  MirrorNode *node = data;

  cx_cobrowse_node_free (node->state);
  g_array_unref (node->children);
  g_free (node);
}

static MirrorNode *
lookup (CxPageMirror *self, guint id)
{
  return g_hash_table_lookup (self->nodes, GUINT_TO_POINTER (id));
}

/* What a node shows: never a masked value. */
static const char *
shown_text (const CxCobrowseNode *state)
{
  if (state->masked)
    return CX_COBROWSE_MASK;
  return state->text != NULL ? state->text : "";
}

static const char *
shown_label (const CxCobrowseNode *state)
{
  if (state->masked)
    return CX_COBROWSE_MASK;
  if (state->label != NULL)
    return state->label;
  return state->text != NULL ? state->text : "";
}

static GtkWidget *
create_widget (const CxCobrowseNode *state)
{
  GtkWidget *widget;

  switch (state->kind)
    {
      case CX_COBROWSE_KIND_LABEL:
      case CX_COBROWSE_KIND_TEXTVIEW:
        /* GTK's default alignment, centred, as the customer's labels most often are. */
        widget = gtk_label_new (NULL);
        gtk_label_set_ellipsize (GTK_LABEL (widget), PANGO_ELLIPSIZE_END);
        if (state->kind == CX_COBROWSE_KIND_TEXTVIEW)
          {
            gtk_label_set_xalign (GTK_LABEL (widget), 0.0f);
            gtk_label_set_yalign (GTK_LABEL (widget), 0.0f);
            gtk_widget_add_css_class (widget, "view");
          }
        break;
      case CX_COBROWSE_KIND_ENTRY:
      case CX_COBROWSE_KIND_PASSWORD:
      case CX_COBROWSE_KIND_SPIN:
        widget = gtk_entry_new ();
        gtk_editable_set_editable (GTK_EDITABLE (widget), FALSE);
        gtk_editable_set_width_chars (GTK_EDITABLE (widget), 1);
        break;
      case CX_COBROWSE_KIND_CHECK:
        widget = gtk_check_button_new ();
        break;
      case CX_COBROWSE_KIND_TOGGLE:
        widget = gtk_toggle_button_new ();
        break;
      case CX_COBROWSE_KIND_SWITCH:
        widget = gtk_switch_new ();
        break;
      case CX_COBROWSE_KIND_BUTTON:
        widget = gtk_button_new ();
        break;
      case CX_COBROWSE_KIND_IMAGE:
        widget = gtk_frame_new (NULL);
        break;
      case CX_COBROWSE_KIND_SCROLLED:
        /* What it shows is clipped to it, as on the customer's page; a scrolled window with
         * external scrolling clips without asking for its content's size. */
        widget = gtk_scrolled_window_new ();
        gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (widget), GTK_POLICY_EXTERNAL,
                                        GTK_POLICY_EXTERNAL);
        gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (widget), gtk_fixed_new ());
        break;
      default:
        return NULL;
    }
  gtk_widget_set_can_focus (widget, FALSE);
  gtk_widget_set_can_target (widget, FALSE);
  return widget;
}

/* The widget's content from the node's state (geometry and visibility are relayout()'s). */
static void
update_widget (MirrorNode *node)
{
  const CxCobrowseNode *state = node->state;
  GtkWidget *widget = node->widget;

  if (widget == NULL)
    return;

  if (GTK_IS_LABEL (widget))
    gtk_label_set_text (GTK_LABEL (widget), shown_text (state));
  else if (GTK_IS_EDITABLE (widget))
    gtk_editable_set_text (GTK_EDITABLE (widget), shown_text (state));
  else if (GTK_IS_CHECK_BUTTON (widget))
    {
      gtk_check_button_set_label (GTK_CHECK_BUTTON (widget), shown_label (state));
      gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), state->checked);
    }
  else if (GTK_IS_SWITCH (widget))
    gtk_switch_set_active (GTK_SWITCH (widget), state->checked);
  else if (GTK_IS_BUTTON (widget))
    {
      gtk_button_set_label (GTK_BUTTON (widget), shown_label (state));
      if (GTK_IS_TOGGLE_BUTTON (widget))
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (widget), state->checked);
    }

  if (state->masked)
    gtk_widget_add_css_class (widget, "cx-mirror-masked");
  if (state->agent_disabled || state->submit)
    gtk_widget_add_css_class (widget, "cx-mirror-agent-disabled");
  else
    gtk_widget_remove_css_class (widget, "cx-mirror-agent-disabled");
}

/* The scrolled node that clips @node (its widget is where @node's widget goes), or NULL for
 * the canvas. */
static MirrorNode *
clipping_ancestor (CxPageMirror *self, const CxCobrowseNode *state)
{
  for (MirrorNode *n = state->parent ? lookup (self, state->parent) : NULL; n != NULL;
       n = n->state->parent ? lookup (self, n->state->parent) : NULL)
    {
      if (n->inner != NULL)
        return n;
    }
  return NULL;
}

static gboolean
effective (CxPageMirror *self, MirrorNode *node, gboolean sensitive)
{
  for (MirrorNode *n = node; n != NULL;)
    {
      MirrorNode *parent = n->state->parent ? lookup (self, n->state->parent) : NULL;

      if (!(sensitive ? n->state->sensitive : n->state->visible))
        return FALSE;
      if (!sensitive && parent != NULL && parent->state->kind == CX_COBROWSE_KIND_STACK &&
          parent->state->stack_child != n->state->id)
        return FALSE;
      n = parent;
    }
  return TRUE;
}

static void
relayout (CxPageMirror *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MirrorNode *node = value;
      const CxCobrowseNode *state = node->state;
      gboolean visible;

      if (node->widget == NULL)
        continue;
      visible = state->width > 0 && state->height > 0 && effective (self, node, FALSE);
      gtk_widget_set_visible (node->widget, visible);
      gtk_widget_set_sensitive (node->widget, effective (self, node, TRUE));
      if (visible)
        {
          MirrorNode *clip = clipping_ancestor (self, state);
          int x = state->x - (clip != NULL ? clip->state->x : 0);
          int y = state->y - (clip != NULL ? clip->state->y : 0);

          gtk_fixed_move (GTK_FIXED (gtk_widget_get_parent (node->widget)), node->widget, x, y);
          gtk_widget_set_size_request (node->widget, state->width, state->height);
        }
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
remove_subtree (CxPageMirror *self, guint id)
{
  MirrorNode *node = lookup (self, id);

  if (node == NULL)
    return;
  for (guint i = 0; i < node->children->len; i++)
    remove_subtree (self, g_array_index (node->children, guint, i));
  if (node->widget != NULL)
    gtk_fixed_remove (GTK_FIXED (gtk_widget_get_parent (node->widget)), node->widget);
  if (self->focus_id == id)
    self->focus_id = 0;
  g_hash_table_remove (self->nodes, GUINT_TO_POINTER (id));
}

static void
clear (CxPageMirror *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->canvas)) != NULL)
    gtk_fixed_remove (GTK_FIXED (self->canvas), child);
  g_hash_table_remove_all (self->nodes);
  self->focus_id = 0;
  self->pointer_set = FALSE;
}

/* @state is a full node whose parent exists (or 0 for the root). */
static void
add_node (CxPageMirror *self, const CxCobrowseNode *state)
{
  MirrorNode *node = g_new0 (MirrorNode, 1);
  MirrorNode *parent = state->parent ? lookup (self, state->parent) : NULL;

  node->state = cx_cobrowse_node_copy (state);
  node->children = g_array_new (FALSE, FALSE, sizeof (guint));
  node->depth = parent != NULL ? parent->depth + 1 : 1;
  if (parent != NULL)
    g_array_append_val (parent->children, node->state->id);
  if (node->state->masked)
    {
      node->state->checked = FALSE;
      g_clear_pointer (&node->state->label, g_free);
      g_free (node->state->text);
      node->state->text = g_strdup (CX_COBROWSE_MASK);
    }
  node->widget = create_widget (node->state);
  if (GTK_IS_SCROLLED_WINDOW (node->widget))
    node->inner = gtk_viewport_get_child (
        GTK_VIEWPORT (gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (node->widget))));
  if (node->widget != NULL)
    {
      MirrorNode *clip = clipping_ancestor (self, state);

      gtk_fixed_put (GTK_FIXED (clip != NULL ? clip->inner : self->canvas), node->widget,
                     state->x - (clip != NULL ? clip->state->x : 0),
                     state->y - (clip != NULL ? clip->state->y : 0));
    }
  if (state->focus)
    self->focus_id = state->id;
  g_hash_table_insert (self->nodes, GUINT_TO_POINTER (state->id), node);
  update_widget (node);
}

static void
merge_attributes (CxPageMirror *self, MirrorNode *node, const CxCobrowseNode *change)
{
  CxCobrowseNode *state = node->state;
  guint f = change->fields;

  if ((f & CX_COBROWSE_FIELD_ROLE) && change->role != NULL)
    set_str (&state->role, change->role);
  if ((f & CX_COBROWSE_FIELD_LABEL) && change->label != NULL)
    set_str (&state->label, change->label);
  if ((f & CX_COBROWSE_FIELD_TEXT) && change->text != NULL)
    set_str (&state->text, change->text);
  if (f & CX_COBROWSE_FIELD_CHECKED)
    state->checked = change->checked;
  if (f & CX_COBROWSE_FIELD_SELECTED)
    state->selected = change->selected;
  if (f & CX_COBROWSE_FIELD_SENSITIVE)
    state->sensitive = change->sensitive;
  if (f & CX_COBROWSE_FIELD_VISIBLE)
    state->visible = change->visible;
  if (f & CX_COBROWSE_FIELD_FOCUS)
    {
      state->focus = change->focus;
      if (change->focus)
        self->focus_id = state->id;
      else if (self->focus_id == state->id)
        self->focus_id = 0;
    }
  if (f & CX_COBROWSE_FIELD_RECT)
    {
      state->x = change->x;
      state->y = change->y;
      state->width = change->width;
      state->height = change->height;
    }
  if (f & CX_COBROWSE_FIELD_STACK_CHILD)
    state->stack_child = change->stack_child;
  if (f & CX_COBROWSE_FIELD_SCROLL)
    {
      state->scroll_x = change->scroll_x;
      state->scroll_y = change->scroll_y;
    }
  /* Masking only ever turns on. */
  if ((f & CX_COBROWSE_FIELD_MASKED) && change->masked)
    state->masked = TRUE;
  if (f & CX_COBROWSE_FIELD_AGENT_DISABLED)
    state->agent_disabled = change->agent_disabled;
  if (f & CX_COBROWSE_FIELD_SUBMIT)
    state->submit = change->submit;
  if (state->masked)
    {
      g_clear_pointer (&state->label, g_free);
      set_str (&state->text, CX_COBROWSE_MASK);
      state->checked = FALSE;
    }
  update_widget (node);
}

static gboolean
known (CxPageMirror *self, GHashTable *added, guint id)
{
  return lookup (self, id) != NULL || g_hash_table_contains (added, GUINT_TO_POINTER (id));
}

static gboolean
check_ids (CxPageMirror *self, GHashTable *added, GPtrArray *entries, GError **error)
{
  for (guint i = 0; i < entries->len; i++)
    {
      const CxCobrowseNode *entry = g_ptr_array_index (entries, i);

      if (!known (self, added, entry->id))
        {
          g_set_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE,
                       _ ("The page has no node %u"), entry->id);
          return FALSE;
        }
    }
  return TRUE;
}

/* The whole changes frame against the page, before any of it is applied. */
static gboolean
check_changes (CxPageMirror *self, const CxCobrowseFrame *frame, GError **error)
{
  g_autoptr (GHashTable) added = g_hash_table_new (NULL, NULL);

  if (!self->have_snapshot || frame->seq != self->seq + 1)
    {
      g_set_error_literal (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_SEQUENCE,
                           _ ("The changes do not follow the page shown"));
      return FALSE;
    }
  if (g_hash_table_size (self->nodes) + frame->nodes->len > CX_COBROWSE_MAX_NODES)
    {
      g_set_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_TOO_LARGE,
                   _ ("The page would have more than %u nodes"), CX_COBROWSE_MAX_NODES);
      return FALSE;
    }

  for (guint i = 0; i < frame->nodes->len; i++)
    {
      const CxCobrowseNode *add = g_ptr_array_index (frame->nodes, i);
      MirrorNode *parent = lookup (self, add->parent);
      guint depth;

      if (known (self, added, add->id) || !known (self, added, add->parent))
        {
          g_set_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE,
                       _ ("Node %u cannot be added there"), add->id);
          return FALSE;
        }
      depth = parent != NULL
                  ? parent->depth
                  : GPOINTER_TO_UINT (g_hash_table_lookup (added, GUINT_TO_POINTER (add->parent)));
      if (depth + 1 > CX_COBROWSE_MAX_DEPTH)
        {
          g_set_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_TOO_LARGE,
                       _ ("The page would be nested deeper than %u levels"), CX_COBROWSE_MAX_DEPTH);
          return FALSE;
        }
      g_hash_table_insert (added, GUINT_TO_POINTER (add->id), GUINT_TO_POINTER (depth + 1));
    }

  for (guint i = 0; i < frame->removes->len; i++)
    {
      guint id = g_array_index (frame->removes, guint, i);
      MirrorNode *node = lookup (self, id);

      if (!known (self, added, id) || (node != NULL && node->state->parent == 0))
        {
          g_set_error (error, CX_PAGE_MIRROR_ERROR, CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE,
                       _ ("Node %u cannot be removed"), id);
          return FALSE;
        }
    }

  return check_ids (self, added, frame->attributes, error) &&
         check_ids (self, added, frame->texts, error) &&
         check_ids (self, added, frame->inputs, error) &&
         check_ids (self, added, frame->scrolls, error);
}

static void
apply_snapshot (CxPageMirror *self, const CxCobrowseFrame *frame)
{
  clear (self);
  for (guint i = 0; i < frame->nodes->len; i++)
    add_node (self, g_ptr_array_index (frame->nodes, i));
  set_str (&self->page, frame->page);
  self->viewport_width = frame->viewport_width;
  self->viewport_height = frame->viewport_height;
  self->seq = frame->seq;
  self->have_snapshot = TRUE;
}

static void
apply_changes (CxPageMirror *self, const CxCobrowseFrame *frame)
{
  GPtrArray *lists[] = { frame->attributes, frame->texts, frame->inputs, frame->scrolls };

  for (guint i = 0; i < frame->nodes->len; i++)
    add_node (self, g_ptr_array_index (frame->nodes, i));

  for (guint i = 0; i < frame->removes->len; i++)
    {
      guint id = g_array_index (frame->removes, guint, i);
      MirrorNode *node = lookup (self, id);
      MirrorNode *parent = node != NULL ? lookup (self, node->state->parent) : NULL;

      if (parent != NULL)
        {
          for (guint j = 0; j < parent->children->len; j++)
            {
              if (g_array_index (parent->children, guint, j) == id)
                {
                  g_array_remove_index (parent->children, j);
                  break;
                }
            }
        }
      remove_subtree (self, id);
    }

  /* Entries for a node an earlier remove of this frame took away are moot. */
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      for (guint i = 0; i < lists[l]->len; i++)
        {
          const CxCobrowseNode *change = g_ptr_array_index (lists[l], i);
          MirrorNode *node = lookup (self, change->id);

          if (node != NULL)
            merge_attributes (self, node, change);
        }
    }

  if (frame->has_viewport)
    {
      self->viewport_width = frame->viewport_width;
      self->viewport_height = frame->viewport_height;
    }
  self->seq = frame->seq;
}

/**
 * cx_page_mirror_apply:
 * @self: a mirror
 * @frame: a parsed frame from the customer's side
 * @error: return location for a %CX_PAGE_MIRROR_ERROR
 *
 * Shows a snapshot, applies a changes frame, or moves the customer's pointer; other frames are
 * not the mirror's and are ignored. A changes frame that is refused leaves the page as it was;
 * after a %CX_PAGE_MIRROR_ERROR_SEQUENCE the mirror needs a new snapshot.
 *
 * Returns: %TRUE if applied (or ignored)
 */
gboolean
cx_page_mirror_apply (CxPageMirror *self, const CxCobrowseFrame *frame, GError **error)
{
  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  switch (frame->type)
    {
      case CX_COBROWSE_FRAME_SNAPSHOT:
        apply_snapshot (self, frame);
        break;
      case CX_COBROWSE_FRAME_CHANGES:
        if (!check_changes (self, frame, error))
          return FALSE;
        apply_changes (self, frame);
        break;
      case CX_COBROWSE_FRAME_POINTER:
        self->pointer_set = TRUE;
        self->pointer_x = frame->x;
        self->pointer_y = frame->y;
        gtk_widget_queue_draw (GTK_WIDGET (self));
        return TRUE;
      default:
        return TRUE;
    }

  relayout (self);
  return TRUE;
}

/**
 * cx_page_mirror_apply_text:
 * @self: a mirror
 * @text: a frame's JSON text as it came off the wire
 * @length: its length in bytes
 * @error: return location for a %CX_PROTOCOL_ERROR or a %CX_PAGE_MIRROR_ERROR
 *
 * Parses the frame strictly (cx_cobrowse_frame_parse()) and applies it.
 *
 * Returns: %TRUE if applied
 */
gboolean
cx_page_mirror_apply_text (CxPageMirror *self, const char *text, gsize length, GError **error)
{
  g_autoptr (CxCobrowseFrame) frame = NULL;

  if (!cx_cobrowse_frame_parse (text, length, &frame, error))
    return FALSE;
  return cx_page_mirror_apply (self, frame, error);
}

const char *
cx_page_mirror_get_page (CxPageMirror *self)
{
  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), NULL);
  return self->page;
}

guint
cx_page_mirror_get_n_nodes (CxPageMirror *self)
{
  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), 0);
  return g_hash_table_size (self->nodes);
}

/**
 * cx_page_mirror_get_node_widget:
 * @self: a mirror
 * @id: a node id
 *
 * Returns: (transfer none) (nullable): the widget showing node @id; %NULL for containers
 */
GtkWidget *
cx_page_mirror_get_node_widget (CxPageMirror *self, guint id)
{
  MirrorNode *node;

  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), NULL);
  node = lookup (self, id);
  return node != NULL ? node->widget : NULL;
}

guint
cx_page_mirror_get_focus (CxPageMirror *self)
{
  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), 0);
  return self->focus_id;
}

gboolean
cx_page_mirror_get_pointer (CxPageMirror *self, int *x, int *y)
{
  g_return_val_if_fail (CX_IS_PAGE_MIRROR (self), FALSE);

  if (x != NULL)
    *x = self->pointer_x;
  if (y != NULL)
    *y = self->pointer_y;
  return self->pointer_set;
}

/* Layout and drawing: the canvas at the viewport's size, scaled to fit and centred. */

static void
canvas_size (CxPageMirror *self, int *width, int *height)
{
  int min_width, min_height;

  gtk_widget_measure (self->canvas, GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  gtk_widget_measure (self->canvas, GTK_ORIENTATION_VERTICAL, -1, &min_height, NULL, NULL, NULL);
  *width = MAX (MAX (self->viewport_width, min_width), 1);
  *height = MAX (MAX (self->viewport_height, min_height), 1);
}

static float
canvas_scale (CxPageMirror *self, int width, int height, int cw, int ch)
{
  float scale = MIN ((float) width / cw, (float) height / ch);

  return CLAMP (scale, 0.01f, 1.0f);
}

static void
cx_page_mirror_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  CxPageMirror *self = CX_PAGE_MIRROR (widget);

  *minimum = 0;
  *natural =
      orientation == GTK_ORIENTATION_HORIZONTAL ? self->viewport_width : self->viewport_height;
}

static void
cx_page_mirror_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CxPageMirror *self = CX_PAGE_MIRROR (widget);
  int cw, ch;
  float scale;
  GskTransform *transform;

  canvas_size (self, &cw, &ch);
  scale = canvas_scale (self, width, height, cw, ch);
  transform = gsk_transform_translate (
      NULL, &GRAPHENE_POINT_INIT ((width - cw * scale) / 2.0f, (height - ch * scale) / 2.0f));
  transform = gsk_transform_scale (transform, scale, scale);
  gtk_widget_allocate (self->canvas, cw, ch, -1, transform);
}

static void
cx_page_mirror_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  CxPageMirror *self = CX_PAGE_MIRROR (widget);
  MirrorNode *focus = self->focus_id ? lookup (self, self->focus_id) : NULL;
  GdkRGBA accent;

  gdk_rgba_parse (&accent, MIRROR_ACCENT);
  gtk_widget_snapshot_child (widget, self->canvas, snapshot);

  if (focus != NULL && focus->widget != NULL && gtk_widget_get_visible (focus->widget))
    {
      graphene_rect_t bounds;

      if (gtk_widget_compute_bounds (focus->widget, widget, &bounds))
        {
          GskRoundedRect outline;
          const float widths[4] = { 2, 2, 2, 2 };
          const GdkRGBA colors[4] = { accent, accent, accent, accent };

          gsk_rounded_rect_init_from_rect (&outline, graphene_rect_inset (&bounds, -2, -2), 3);
          gtk_snapshot_append_border (snapshot, &outline, widths, colors);
        }
    }

  if (self->pointer_set)
    {
      graphene_point_t at;

      if (gtk_widget_compute_point (self->canvas, widget,
                                    &GRAPHENE_POINT_INIT (self->pointer_x, self->pointer_y), &at))
        {
          GskRoundedRect dot;

          gsk_rounded_rect_init_from_rect (
              &dot,
              &GRAPHENE_RECT_INIT (at.x - POINTER_RADIUS, at.y - POINTER_RADIUS, 2 * POINTER_RADIUS,
                                   2 * POINTER_RADIUS),
              POINTER_RADIUS);
          gtk_snapshot_push_rounded_clip (snapshot, &dot);
          gtk_snapshot_append_color (snapshot, &accent, &dot.bounds);
          gtk_snapshot_pop (snapshot);
        }
    }
}

static void
cx_page_mirror_dispose (GObject *object)
{
  CxPageMirror *self = CX_PAGE_MIRROR (object);

  if (self->nodes != NULL)
    g_hash_table_remove_all (self->nodes);
  g_clear_pointer (&self->canvas, gtk_widget_unparent);

  G_OBJECT_CLASS (cx_page_mirror_parent_class)->dispose (object);
}

static void
cx_page_mirror_finalize (GObject *object)
{
  CxPageMirror *self = CX_PAGE_MIRROR (object);

  g_hash_table_unref (self->nodes);
  g_free (self->page);

  G_OBJECT_CLASS (cx_page_mirror_parent_class)->finalize (object);
}

static void
cx_page_mirror_class_init (CxPageMirrorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_page_mirror_dispose;
  object_class->finalize = cx_page_mirror_finalize;
  widget_class->measure = cx_page_mirror_measure;
  widget_class->size_allocate = cx_page_mirror_size_allocate;
  widget_class->snapshot = cx_page_mirror_snapshot;

  gtk_widget_class_set_css_name (widget_class, "cx-page-mirror");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_page_mirror_init (CxPageMirror *self)
{
  self->nodes = g_hash_table_new_full (NULL, NULL, NULL, mirror_node_free);
  self->canvas = gtk_fixed_new ();
  /* Read only: nothing on the canvas takes a click, a key or the focus. */
  gtk_widget_set_can_target (self->canvas, FALSE);
  gtk_widget_set_can_focus (self->canvas, FALSE);
  gtk_widget_add_css_class (self->canvas, "view");
  gtk_widget_set_parent (self->canvas, GTK_WIDGET (self));
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

/**
 * cx_page_mirror_new:
 *
 * Returns: (transfer floating): an empty mirror, waiting for a snapshot
 */
GtkWidget *
cx_page_mirror_new (void)
{
  return g_object_new (CX_TYPE_PAGE_MIRROR, NULL);
}
