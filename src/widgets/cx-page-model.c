/* cx-page-model.c: the co-browse model of a customer's page (see cx-page-model.h).
 *
 * Every widget of the tree under the root becomes a node with an id that stays the same for as
 * long as the widget is in the tree (ids are never reused). Leaf kinds (labels, entries,
 * buttons, checks, ...) are not descended into: their state is the node's. The model remembers
 * what it last sent of each node; a flush walks the tree for structure and geometry, recomputes
 * the nodes that a notify marked dirty, and sends only the differences. Flushes are coalesced
 * in an idle after GTK's layout, so one user action is one changes frame.
 *
 * Masking invariants: a node is masked if it is a password entry, an entry or GtkText with
 * visibility off, has the `cx-masked` CSS class or a configured name, or is inside such a
 * widget; once masked it stays masked for the model's life (so unmasking a field, "show
 * password" or a submit handler that removes the class reveals nothing). A masked node's text
 * is never read from the widget: it is CX_COBROWSE_MASK, always, whatever the value and its
 * length (even empty), so typing into a masked field produces no frame at all. */
#define G_LOG_DOMAIN "cx-page-model"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "widgets/cx-page-model.h"

#define MASKED_CLASS "cx-masked"
#define AGENT_DISABLED_CLASS "cx-agent-disabled"
#define SUBMIT_CLASS "cx-submit"
/* Characters of each text in a snapshot that would not fit in a frame otherwise. */
#define SNAPSHOT_SHORT_TEXT 64

typedef struct
{
  CxPageModel *model;
  GtkWidget *widget; /* weak: NULL once finalized */
  guint id;
  guint parent;
  gboolean masked_sticky;
  gboolean seen;
  CxCobrowseNode *sent; /* NULL until sent */
  GObject *source[2];   /* adjustments or a text buffer, referenced, with our handlers */
  gulong source_handler[2];
  gulong notify_handler;
} ModelNode;

struct _CxPageModel
{
  GObject parent_instance;

  GtkWidget *root; /* weak */
  char *page;
  GStrv masked_names;
  GStrv agent_disabled_names;
  CxCobrowseMode mode;

  GHashTable *by_id;     /* id -> ModelNode, owned */
  GHashTable *by_widget; /* GtkWidget* -> ModelNode */
  GHashTable *dirty;     /* ids */
  guint next_id;
  gboolean started;
  gboolean all_dirty;
  guint64 seq;
  int viewport_width, viewport_height;
  guint focus_id;

  GdkFrameClock *clock;
  gulong layout_handler;
  GtkRoot *toplevel;
  gulong focus_handler;
  GtkEventController *motion;
  gboolean pointer_moved;
  int pointer_x, pointer_y;
  guint flush_source;
};

enum
{
  PROP_0,
  PROP_MODE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CxPageModel, cx_page_model, G_TYPE_OBJECT)

G_DEFINE_QUARK (cx - page - model - error - quark, cx_page_model_error)

static void schedule_flush (CxPageModel *self);

/* What a widget is */

static CxCobrowseKind
widget_kind (GtkWidget *widget)
{
  if (GTK_IS_PASSWORD_ENTRY (widget))
    return CX_COBROWSE_KIND_PASSWORD;
  if (GTK_IS_SPIN_BUTTON (widget))
    return CX_COBROWSE_KIND_SPIN;
  if (GTK_IS_ENTRY (widget) || GTK_IS_TEXT (widget))
    return CX_COBROWSE_KIND_ENTRY;
  if (GTK_IS_TEXT_VIEW (widget))
    return CX_COBROWSE_KIND_TEXTVIEW;
  if (GTK_IS_LABEL (widget))
    return CX_COBROWSE_KIND_LABEL;
  if (GTK_IS_CHECK_BUTTON (widget))
    return CX_COBROWSE_KIND_CHECK;
  if (GTK_IS_SWITCH (widget))
    return CX_COBROWSE_KIND_SWITCH;
  if (GTK_IS_TOGGLE_BUTTON (widget))
    return CX_COBROWSE_KIND_TOGGLE;
  if (GTK_IS_BUTTON (widget))
    return CX_COBROWSE_KIND_BUTTON;
  if (GTK_IS_IMAGE (widget) || GTK_IS_PICTURE (widget))
    return CX_COBROWSE_KIND_IMAGE;
  if (GTK_IS_WINDOW (widget))
    return CX_COBROWSE_KIND_WINDOW;
  if (GTK_IS_BOX (widget))
    return CX_COBROWSE_KIND_BOX;
  if (GTK_IS_GRID (widget))
    return CX_COBROWSE_KIND_GRID;
  if (GTK_IS_STACK (widget))
    return CX_COBROWSE_KIND_STACK;
  if (GTK_IS_SCROLLED_WINDOW (widget))
    return CX_COBROWSE_KIND_SCROLLED;
  if (GTK_IS_FRAME (widget))
    return CX_COBROWSE_KIND_FRAME;
  if (GTK_IS_LIST_BOX (widget))
    return CX_COBROWSE_KIND_LIST;
  if (GTK_IS_LIST_BOX_ROW (widget))
    return CX_COBROWSE_KIND_ROW;
  return CX_COBROWSE_KIND_OTHER;
}

static gboolean
kind_is_leaf (CxCobrowseKind kind)
{
  return kind >= CX_COBROWSE_KIND_LABEL && kind <= CX_COBROWSE_KIND_IMAGE;
}

static gboolean
kind_is_input (CxCobrowseKind kind)
{
  return kind == CX_COBROWSE_KIND_ENTRY || kind == CX_COBROWSE_KIND_PASSWORD ||
         kind == CX_COBROWSE_KIND_TEXTVIEW || kind == CX_COBROWSE_KIND_SPIN;
}

static gboolean
kind_is_checkable (CxCobrowseKind kind)
{
  return kind == CX_COBROWSE_KIND_CHECK || kind == CX_COBROWSE_KIND_TOGGLE ||
         kind == CX_COBROWSE_KIND_SWITCH;
}

/* Scrollbars and popovers are not part of the page's layout. */
static gboolean
widget_skipped (CxPageModel *self, GtkWidget *widget)
{
  return GTK_IS_SCROLLBAR (widget) || (GTK_IS_NATIVE (widget) && widget != self->root);
}

static gboolean
named_in (GtkWidget *widget, GStrv names)
{
  const char *name;

  if (names == NULL)
    return FALSE;
  name = gtk_widget_get_name (widget);
  if (name != NULL && g_strv_contains ((const char *const *) names, name))
    return TRUE;
  name = gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget));
  return name != NULL && g_strv_contains ((const char *const *) names, name);
}

/* @widget or an ancestor up to the root has @css_class or one of @names. */
static gboolean
flagged_up (CxPageModel *self, GtkWidget *widget, const char *css_class, GStrv names)
{
  for (GtkWidget *w = widget; w != NULL; w = gtk_widget_get_parent (w))
    {
      if (gtk_widget_has_css_class (w, css_class) || named_in (w, names))
        return TRUE;
      if (w == self->root)
        break;
    }
  return FALSE;
}

static gboolean
widget_masked (CxPageModel *self, ModelNode *node)
{
  GtkWidget *widget = node->widget;

  if (!node->masked_sticky &&
      (GTK_IS_PASSWORD_ENTRY (widget) ||
       (GTK_IS_ENTRY (widget) && !gtk_entry_get_visibility (GTK_ENTRY (widget))) ||
       (GTK_IS_TEXT (widget) && !gtk_text_get_visibility (GTK_TEXT (widget))) ||
       flagged_up (self, widget, MASKED_CLASS, self->masked_names)))
    node->masked_sticky = TRUE;
  return node->masked_sticky;
}

static gboolean
widget_submit (CxPageModel *self, GtkWidget *widget)
{
  GtkRoot *root;

  if (gtk_widget_has_css_class (widget, SUBMIT_CLASS) ||
      gtk_widget_has_css_class (widget, "suggested-action") ||
      gtk_widget_has_css_class (widget, "destructive-action"))
    return TRUE;
  root = gtk_widget_get_root (widget);
  return GTK_IS_WINDOW (root) && gtk_window_get_default_widget (GTK_WINDOW (root)) == widget;
}

/* Text that the protocol accepts: no control characters but tab and newlines, at most @max
 * characters. */
static char *
clean_text (const char *text, gsize max)
{
  GString *out;
  gsize chars = 0;

  if (text == NULL)
    return NULL;

  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0' && chars < max; p = g_utf8_next_char (p), chars++)
    {
      gunichar c = g_utf8_get_char (p);

      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

static const char *
role_nick (GtkWidget *widget)
{
  GEnumClass *klass = g_type_class_peek (GTK_TYPE_ACCESSIBLE_ROLE);
  GEnumValue *value;

  if (klass == NULL)
    klass = g_type_class_ref (GTK_TYPE_ACCESSIBLE_ROLE);
  value = g_enum_get_value (klass, gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)));
  return value != NULL ? value->value_nick : NULL;
}

static int
clamp_coord (double value)
{
  return (int) CLAMP (value, -CX_COBROWSE_COORD_MAX, CX_COBROWSE_COORD_MAX);
}

static void
node_rect (CxPageModel *self, GtkWidget *widget, CxCobrowseNode *state)
{
  graphene_rect_t bounds;

  state->fields |= CX_COBROWSE_FIELD_RECT;
  if (gtk_widget_get_mapped (widget) && gtk_widget_compute_bounds (widget, self->root, &bounds))
    {
      state->x = clamp_coord (bounds.origin.x);
      state->y = clamp_coord (bounds.origin.y);
      state->width = CLAMP ((int) bounds.size.width, 0, CX_COBROWSE_COORD_MAX);
      state->height = CLAMP ((int) bounds.size.height, 0, CX_COBROWSE_COORD_MAX);
    }
  else
    {
      state->x = state->y = state->width = state->height = 0;
    }
}

static char *
text_view_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* The node's whole state now. A masked node's text is the mask, read from nowhere. */
static CxCobrowseNode *
compute_state (CxPageModel *self, ModelNode *node)
{
  GtkWidget *widget = node->widget;
  CxCobrowseNode *state = cx_cobrowse_node_new (node->id);
  const char *label = NULL;

  state->parent = node->parent;
  state->fields = CX_COBROWSE_FIELD_KIND | CX_COBROWSE_FIELD_ROLE | CX_COBROWSE_FIELD_SELECTED |
                  CX_COBROWSE_FIELD_SENSITIVE | CX_COBROWSE_FIELD_VISIBLE |
                  CX_COBROWSE_FIELD_FOCUS | CX_COBROWSE_FIELD_MASKED |
                  CX_COBROWSE_FIELD_AGENT_DISABLED | CX_COBROWSE_FIELD_SUBMIT;
  state->kind = widget_kind (widget);
  state->role = g_strdup (role_nick (widget));
  state->sensitive = gtk_widget_get_sensitive (widget);
  state->visible = gtk_widget_get_visible (widget);
  state->focus = node->id == self->focus_id;
  state->masked = widget_masked (self, node);
  state->agent_disabled =
      flagged_up (self, widget, AGENT_DISABLED_CLASS, self->agent_disabled_names);
  state->submit = widget_submit (self, widget);
  node_rect (self, widget, state);

  if (GTK_IS_LIST_BOX_ROW (widget))
    state->selected = gtk_list_box_row_is_selected (GTK_LIST_BOX_ROW (widget));

  if (kind_is_checkable (state->kind) && !state->masked)
    {
      state->fields |= CX_COBROWSE_FIELD_CHECKED;
      if (GTK_IS_CHECK_BUTTON (widget))
        state->checked = gtk_check_button_get_active (GTK_CHECK_BUTTON (widget));
      else if (GTK_IS_SWITCH (widget))
        state->checked = gtk_switch_get_active (GTK_SWITCH (widget));
      else
        state->checked = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (widget));
    }

  if (GTK_IS_CHECK_BUTTON (widget))
    label = gtk_check_button_get_label (GTK_CHECK_BUTTON (widget));
  else if (GTK_IS_BUTTON (widget))
    label = gtk_button_get_label (GTK_BUTTON (widget));
  else if (GTK_IS_ENTRY (widget))
    label = gtk_entry_get_placeholder_text (GTK_ENTRY (widget));

  if (state->masked)
    {
      /* Nothing of the widget's content is read: not the value, not a label, not whether it
       * is checked. */
      if (kind_is_input (state->kind) || state->kind == CX_COBROWSE_KIND_LABEL ||
          state->kind == CX_COBROWSE_KIND_BUTTON || kind_is_checkable (state->kind))
        {
          state->fields |= CX_COBROWSE_FIELD_TEXT;
          state->text = g_strdup (CX_COBROWSE_MASK);
        }
    }
  else
    {
      if (label != NULL)
        {
          state->fields |= CX_COBROWSE_FIELD_LABEL;
          state->label = clean_text (label, CX_COBROWSE_LABEL_MAX);
        }
      if (GTK_IS_LABEL (widget))
        state->text = clean_text (gtk_label_get_text (GTK_LABEL (widget)), CX_COBROWSE_TEXT_MAX);
      else if (GTK_IS_EDITABLE (widget))
        state->text =
            clean_text (gtk_editable_get_text (GTK_EDITABLE (widget)), CX_COBROWSE_TEXT_MAX);
      else if (GTK_IS_TEXT_VIEW (widget))
        {
          g_autofree char *text = text_view_text (GTK_TEXT_VIEW (widget));

          state->text = clean_text (text, CX_COBROWSE_TEXT_MAX);
        }
      if (state->text != NULL)
        state->fields |= CX_COBROWSE_FIELD_TEXT;
    }

  if (GTK_IS_STACK (widget))
    {
      GtkWidget *child = gtk_stack_get_visible_child (GTK_STACK (widget));
      ModelNode *child_node = child ? g_hash_table_lookup (self->by_widget, child) : NULL;

      state->fields |= CX_COBROWSE_FIELD_STACK_CHILD;
      state->stack_child =
          child_node != NULL && child_node->parent == node->id ? child_node->id : 0;
    }

  if (GTK_IS_SCROLLED_WINDOW (widget))
    {
      GtkScrolledWindow *scrolled = GTK_SCROLLED_WINDOW (widget);

      state->fields |= CX_COBROWSE_FIELD_SCROLL;
      state->scroll_x =
          clamp_coord (gtk_adjustment_get_value (gtk_scrolled_window_get_hadjustment (scrolled)));
      state->scroll_y =
          clamp_coord (gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (scrolled)));
    }

  return state;
}

/* Watching */

static void
mark_dirty (CxPageModel *self, ModelNode *node)
{
  g_hash_table_add (self->dirty, GUINT_TO_POINTER (node->id));
  schedule_flush (self);
}

static void
widget_notify_cb (GtkWidget *widget, GParamSpec *pspec, gpointer data)
{
  ModelNode *node = data;
  CxPageModel *self = node->model;
  const char *name = pspec->name;

  /* What decides masking or agent control for a subtree: recompute everything. */
  if (g_str_equal (name, "css-classes") || g_str_equal (name, "name") ||
      g_str_equal (name, "visibility"))
    {
      self->all_dirty = TRUE;
      schedule_flush (self);
      return;
    }
  mark_dirty (self, node);
}

static void
source_changed_cb (gpointer source, gpointer data)
{
  ModelNode *node = data;

  mark_dirty (node->model, node);
}

static void
node_watch_source (ModelNode *node, guint slot, gpointer source, const char *signal)
{
  node->source[slot] = g_object_ref (source);
  node->source_handler[slot] =
      g_signal_connect (source, signal, G_CALLBACK (source_changed_cb), node);
}

static void node_widget_gone_cb (gpointer data, GObject *where_the_object_was);

static void
node_unwatch (ModelNode *node)
{
  for (guint i = 0; i < G_N_ELEMENTS (node->source); i++)
    {
      if (node->source[i] != NULL)
        {
          g_clear_signal_handler (&node->source_handler[i], node->source[i]);
          g_clear_object (&node->source[i]);
        }
    }
  if (node->widget != NULL)
    {
      g_clear_signal_handler (&node->notify_handler, node->widget);
      g_object_weak_unref (G_OBJECT (node->widget), node_widget_gone_cb, node);
      g_hash_table_remove (node->model->by_widget, node->widget);
      node->widget = NULL;
    }
}

static void
node_free (gpointer data)
{
  ModelNode *node = data;

  node_unwatch (node);
  cx_cobrowse_node_free (node->sent);
  g_free (node);
}

static void
node_widget_gone_cb (gpointer data, GObject *where_the_object_was)
{
  ModelNode *node = data;

  /* Its handlers died with it; the next walk will not see it and sends the removal. */
  g_hash_table_remove (node->model->by_widget, where_the_object_was);
  node->widget = NULL;
  node->notify_handler = 0;
  schedule_flush (node->model);
}

static ModelNode *
node_new (CxPageModel *self, GtkWidget *widget, guint parent)
{
  ModelNode *node = g_new0 (ModelNode, 1);

  node->model = self;
  node->widget = widget;
  node->id = ++self->next_id;
  node->parent = parent;
  g_object_weak_ref (G_OBJECT (widget), node_widget_gone_cb, node);
  node->notify_handler = g_signal_connect (widget, "notify", G_CALLBACK (widget_notify_cb), node);

  if (GTK_IS_SCROLLED_WINDOW (widget))
    {
      GtkScrolledWindow *scrolled = GTK_SCROLLED_WINDOW (widget);

      node_watch_source (node, 0, gtk_scrolled_window_get_hadjustment (scrolled), "value-changed");
      node_watch_source (node, 1, gtk_scrolled_window_get_vadjustment (scrolled), "value-changed");
    }
  else if (GTK_IS_TEXT_VIEW (widget))
    {
      node_watch_source (node, 0, gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)), "changed");
    }
  else if (GTK_IS_LIST_BOX (widget))
    {
      node_watch_source (node, 0, widget, "selected-rows-changed");
    }

  g_hash_table_insert (self->by_id, GUINT_TO_POINTER (node->id), node);
  g_hash_table_insert (self->by_widget, widget, node);
  return node;
}

/* The node the focus is in: the focus widget or its nearest ancestor that is a node. */
static guint
current_focus (CxPageModel *self)
{
  GtkRoot *root = gtk_widget_get_root (self->root);

  if (root == NULL)
    return 0;
  for (GtkWidget *w = gtk_root_get_focus (root); w != NULL; w = gtk_widget_get_parent (w))
    {
      ModelNode *node = g_hash_table_lookup (self->by_widget, w);

      if (node != NULL)
        return node->id;
      if (w == self->root)
        break;
    }
  return 0;
}

static void
layout_cb (CxPageModel *self)
{
  schedule_flush (self);
}

static void
focus_changed_cb (CxPageModel *self)
{
  schedule_flush (self);
}

static void
motion_cb (CxPageModel *self, double x, double y)
{
  self->pointer_x = clamp_coord (x);
  self->pointer_y = clamp_coord (y);
  self->pointer_moved = TRUE;
  schedule_flush (self);
}

/* The frame clock's layout phase and the toplevel's focus: connected while the root is
 * realized. */
static void
root_realize_cb (CxPageModel *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (self->root);
  GtkRoot *toplevel = gtk_widget_get_root (self->root);

  if (clock != self->clock)
    {
      if (self->clock != NULL)
        g_clear_signal_handler (&self->layout_handler, self->clock);
      g_set_object (&self->clock, clock);
      if (clock != NULL)
        self->layout_handler = g_signal_connect_object (clock, "layout", G_CALLBACK (layout_cb),
                                                        self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
    }
  if (toplevel != self->toplevel)
    {
      if (self->toplevel != NULL)
        g_clear_signal_handler (&self->focus_handler, self->toplevel);
      g_set_object (&self->toplevel, toplevel);
      if (toplevel != NULL)
        self->focus_handler =
            g_signal_connect_object (toplevel, "notify::focus-widget",
                                     G_CALLBACK (focus_changed_cb), self, G_CONNECT_SWAPPED);
    }
}

static void
root_unrealize_cb (CxPageModel *self)
{
  if (self->clock != NULL)
    g_clear_signal_handler (&self->layout_handler, self->clock);
  g_clear_object (&self->clock);
}

/* Walking */

typedef struct
{
  gboolean snapshot; /* every node is fresh */
  GPtrArray *fresh;  /* ModelNode: the nodes to send whole, in pre-order */
  guint count;
} Walk;

static void
walk (CxPageModel *self, GtkWidget *widget, guint parent, guint depth, Walk *walk_state)
{
  ModelNode *node;
  CxCobrowseKind kind;

  if (widget_skipped (self, widget) || walk_state->count >= CX_COBROWSE_MAX_NODES ||
      depth > CX_COBROWSE_MAX_DEPTH)
    return;

  node = g_hash_table_lookup (self->by_widget, widget);
  if (node != NULL && node->parent != parent)
    {
      /* Moved elsewhere in the tree: a removal and a new node, as rrweb does. */
      node->seen = FALSE;
      node_unwatch (node);
      node = NULL;
    }
  if (node == NULL)
    node = node_new (self, widget, parent);
  node->seen = TRUE;
  walk_state->count++;

  if (walk_state->snapshot || node->sent == NULL)
    {
      g_ptr_array_add (walk_state->fresh, node);
    }
  else
    {
      CxCobrowseNode rect = { 0 };

      node_rect (self, widget, &rect);
      if (rect.x != node->sent->x || rect.y != node->sent->y || rect.width != node->sent->width ||
          rect.height != node->sent->height)
        g_hash_table_add (self->dirty, GUINT_TO_POINTER (node->id));
    }

  kind = widget_kind (widget);
  if (kind_is_leaf (kind))
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    walk (self, child, node->id, depth + 1, walk_state);
}

/* The fresh nodes' states, once the walk has made every node (a stack's visible child comes
 * after the stack), into @nodes. */
static void
walk_finish (CxPageModel *self, Walk *walk_state, GPtrArray *nodes)
{
  for (guint i = 0; i < walk_state->fresh->len; i++)
    {
      ModelNode *node = g_ptr_array_index (walk_state->fresh, i);

      g_clear_pointer (&node->sent, cx_cobrowse_node_free);
      node->sent = compute_state (self, node);
      g_ptr_array_add (nodes, cx_cobrowse_node_copy (node->sent));
    }
  g_clear_pointer (&walk_state->fresh, g_ptr_array_unref);
}

static int
compare_ids (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

static int
compare_id_pointers (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);

  return x < y ? -1 : x > y;
}

/* After a walk: forget the nodes it did not see; @removes gets the top ones of each removed
 * subtree (the mirror removes a subtree with its top). */
static void
sweep (CxPageModel *self, GArray *removes)
{
  g_autoptr (GHashTable) gone = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ModelNode *node = value;

      if (!node->seen)
        g_hash_table_add (gone, node);
      node->seen = FALSE;
    }

  g_hash_table_iter_init (&iter, gone);
  while (g_hash_table_iter_next (&iter, &value, NULL))
    {
      ModelNode *node = value;
      ModelNode *parent = g_hash_table_lookup (self->by_id, GUINT_TO_POINTER (node->parent));

      if (removes != NULL && node->sent != NULL &&
          (parent == NULL || !g_hash_table_contains (gone, parent)))
        g_array_append_val (removes, node->id);
    }
  if (removes != NULL)
    g_array_sort (removes, compare_ids);

  g_hash_table_iter_init (&iter, gone);
  while (g_hash_table_iter_next (&iter, &value, NULL))
    {
      ModelNode *node = value;

      g_hash_table_remove (self->dirty, GUINT_TO_POINTER (node->id));
      g_hash_table_remove (self->by_id, GUINT_TO_POINTER (node->id));
    }
}

static void
update_viewport (CxPageModel *self, CxCobrowseFrame *frame)
{
  int width = gtk_widget_get_width (self->root);
  int height = gtk_widget_get_height (self->root);

  width = CLAMP (width, 0, CX_COBROWSE_COORD_MAX);
  height = CLAMP (height, 0, CX_COBROWSE_COORD_MAX);
  if (frame->type == CX_COBROWSE_FRAME_SNAPSHOT || width != self->viewport_width ||
      height != self->viewport_height)
    {
      frame->has_viewport = TRUE;
      frame->viewport_width = self->viewport_width = width;
      frame->viewport_height = self->viewport_height = height;
    }
}

/* The differences between what was sent of @node and its state now, into @frame. */
static void
diff_node (CxPageModel *self, ModelNode *node, CxCobrowseFrame *frame)
{
  g_autoptr (CxCobrowseNode) now = compute_state (self, node);
  CxCobrowseNode *was = node->sent;
  g_autoptr (CxCobrowseNode) attributes = cx_cobrowse_node_new (node->id);
  g_autoptr (CxCobrowseNode) value = cx_cobrowse_node_new (node->id);
  gboolean text_changed = g_strcmp0 (now->text, was->text) != 0;

  attributes->fields = 0;
#define CHANGED(field, member)                                                                     \
  if (now->member != was->member)                                                                  \
    {                                                                                              \
      attributes->fields |= field;                                                                 \
      attributes->member = now->member;                                                            \
    }
  CHANGED (CX_COBROWSE_FIELD_KIND, kind)
  CHANGED (CX_COBROWSE_FIELD_SELECTED, selected)
  CHANGED (CX_COBROWSE_FIELD_SENSITIVE, sensitive)
  CHANGED (CX_COBROWSE_FIELD_VISIBLE, visible)
  CHANGED (CX_COBROWSE_FIELD_FOCUS, focus)
  CHANGED (CX_COBROWSE_FIELD_MASKED, masked)
  CHANGED (CX_COBROWSE_FIELD_AGENT_DISABLED, agent_disabled)
  CHANGED (CX_COBROWSE_FIELD_SUBMIT, submit)
#undef CHANGED
  if (now->x != was->x || now->y != was->y || now->width != was->width ||
      now->height != was->height)
    {
      attributes->fields |= CX_COBROWSE_FIELD_RECT;
      attributes->x = now->x;
      attributes->y = now->y;
      attributes->width = now->width;
      attributes->height = now->height;
    }
  if ((now->fields & CX_COBROWSE_FIELD_STACK_CHILD) && now->stack_child != was->stack_child)
    {
      attributes->fields |= CX_COBROWSE_FIELD_STACK_CHILD;
      attributes->stack_child = now->stack_child;
    }
  if (g_strcmp0 (now->role, was->role) != 0 && now->role != NULL)
    {
      attributes->fields |= CX_COBROWSE_FIELD_ROLE;
      attributes->role = g_strdup (now->role);
    }
  if (g_strcmp0 (now->label, was->label) != 0 && now->label != NULL)
    {
      attributes->fields |= CX_COBROWSE_FIELD_LABEL;
      attributes->label = g_strdup (now->label);
    }

  /* A node that became masked gets its mask with the flag, in one entry. */
  if (text_changed && now->text != NULL && (attributes->fields & CX_COBROWSE_FIELD_MASKED))
    {
      attributes->fields |= CX_COBROWSE_FIELD_TEXT;
      attributes->text = g_strdup (now->text);
      text_changed = FALSE;
    }

  if (attributes->fields != 0)
    g_ptr_array_add (frame->attributes, g_steal_pointer (&attributes));

  if (text_changed && now->text != NULL)
    {
      value->fields |= CX_COBROWSE_FIELD_TEXT;
      value->text = g_strdup (now->text);
    }
  if ((now->fields & CX_COBROWSE_FIELD_CHECKED) && now->checked != was->checked)
    {
      value->fields |= CX_COBROWSE_FIELD_CHECKED;
      value->checked = now->checked;
    }
  if (value->fields != 0)
    {
      g_ptr_array_add (now->kind == CX_COBROWSE_KIND_LABEL ? frame->texts : frame->inputs,
                       g_steal_pointer (&value));
    }

  if ((now->fields & CX_COBROWSE_FIELD_SCROLL) &&
      (now->scroll_x != was->scroll_x || now->scroll_y != was->scroll_y))
    {
      CxCobrowseNode *scroll = cx_cobrowse_node_new (node->id);

      scroll->fields = CX_COBROWSE_FIELD_SCROLL;
      scroll->scroll_x = now->scroll_x;
      scroll->scroll_y = now->scroll_y;
      g_ptr_array_add (frame->scrolls, scroll);
    }

  cx_cobrowse_node_free (node->sent);
  node->sent = g_steal_pointer (&now);
}

static char *
frame_text (CxCobrowseFrame *frame, gsize *length)
{
  return cx_cobrowse_frame_to_string (frame, length);
}

/**
 * cx_page_model_snapshot:
 * @self: a page model
 * @length: (out) (optional): the frame's length in bytes
 *
 * Walks the page and makes the full snapshot frame (masked as the file says); the changes that
 * follow are relative to it, numbered from 1.
 *
 * Returns: (transfer full): the snapshot frame's JSON text
 */
char *
cx_page_model_snapshot (CxPageModel *self, gsize *length)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_SNAPSHOT);
  g_autofree char *page = NULL;
  char *text;
  gsize text_length;
  Walk walk_state = { TRUE, NULL, 0 };

  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), NULL);
  g_return_val_if_fail (self->root != NULL, NULL);

  /* Every node is new to whoever reads a snapshot. */
  walk_state.fresh = g_ptr_array_new ();
  walk (self, self->root, 0, 1, &walk_state);
  sweep (self, NULL);
  self->focus_id = current_focus (self);
  walk_finish (self, &walk_state, frame->nodes);

  page = clean_text (self->page, CX_COBROWSE_LABEL_MAX);
  for (char *p = page; *p != '\0'; p++)
    {
      if (*p == '\t' || *p == '\n' || *p == '\r')
        *p = ' ';
    }
  frame->page = g_steal_pointer (&page);
  update_viewport (self, frame);
  self->seq = 0;
  frame->seq = 0;
  self->started = TRUE;
  self->all_dirty = FALSE;
  self->pointer_moved = FALSE;
  g_hash_table_remove_all (self->dirty);

  text = frame_text (frame, &text_length);
  if (text_length > CX_COBROWSE_FRAME_MAX_SIZE)
    {
      /* A page of very long texts: shorten them in this frame so that it can be sent at all;
       * the page is still whole, and later changes carry the texts edited. */
      g_free (text);
      for (guint i = 0; i < frame->nodes->len; i++)
        {
          CxCobrowseNode *state = g_ptr_array_index (frame->nodes, i);

          if (state->text != NULL && g_utf8_strlen (state->text, -1) > SNAPSHOT_SHORT_TEXT)
            *g_utf8_offset_to_pointer (state->text, SNAPSHOT_SHORT_TEXT) = '\0';
          if (state->label != NULL && g_utf8_strlen (state->label, -1) > SNAPSHOT_SHORT_TEXT)
            *g_utf8_offset_to_pointer (state->label, SNAPSHOT_SHORT_TEXT) = '\0';
        }
      text = frame_text (frame, &text_length);
    }
  if (length != NULL)
    *length = text_length;
  return text;
}

/**
 * cx_page_model_take_changes:
 * @self: a page model
 * @length: (out) (optional): the frame's length in bytes
 *
 * Walks the page for nodes added, removed, moved or resized, recomputes the nodes that changed
 * since the last frame, and makes one changes frame of the differences. Called from an idle
 * after every change (the model then emits #CxPageModel::frame); call it directly to flush.
 *
 * Returns: (transfer full) (nullable): the changes frame's JSON text, or %NULL if nothing
 *   changed or no snapshot was made yet
 */
char *
cx_page_model_take_changes (CxPageModel *self, gsize *length)
{
  g_autoptr (CxCobrowseFrame) frame = cx_cobrowse_frame_new (CX_COBROWSE_FRAME_CHANGES);
  Walk walk_state = { FALSE, NULL, 0 };
  guint focus;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), NULL);

  if (!self->started || self->root == NULL)
    return NULL;

  walk_state.fresh = g_ptr_array_new ();
  walk (self, self->root, 0, 1, &walk_state);
  sweep (self, frame->removes);
  walk_finish (self, &walk_state, frame->nodes);

  focus = current_focus (self);
  if (focus != self->focus_id)
    {
      g_hash_table_add (self->dirty, GUINT_TO_POINTER (self->focus_id));
      g_hash_table_add (self->dirty, GUINT_TO_POINTER (focus));
      self->focus_id = focus;
    }
  if (self->all_dirty)
    {
      g_hash_table_iter_init (&iter, self->by_id);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_hash_table_add (self->dirty, key);
      self->all_dirty = FALSE;
    }

  /* In id order, so that a frame does not depend on hash order. */
  {
    g_autoptr (GList) ids = g_hash_table_get_keys (self->dirty);

    ids = g_list_sort (ids, compare_id_pointers);
    for (GList *l = ids; l != NULL; l = l->next)
      {
        ModelNode *node = g_hash_table_lookup (self->by_id, l->data);

        if (node != NULL && node->widget != NULL && node->sent != NULL)
          diff_node (self, node, frame);
      }
  }
  g_hash_table_remove_all (self->dirty);
  update_viewport (self, frame);

  if (cx_cobrowse_frame_changes_is_empty (frame))
    return NULL;

  frame->seq = ++self->seq;
  return frame_text (frame, length);
}

static gboolean
flush_cb (gpointer data)
{
  CxPageModel *self = data;
  g_autofree char *changes = NULL;

  self->flush_source = 0;
  /* A handler may drop the last reference to the model. */
  g_object_ref (self);
  changes = cx_page_model_take_changes (self, NULL);
  if (changes != NULL)
    g_signal_emit (self, signals[SIGNAL_FRAME], 0, changes);

  if (self->pointer_moved && self->started)
    {
      g_autoptr (JsonNode) node =
          cx_cobrowse_build_pointer (CX_COBROWSE_FRAME_POINTER, self->pointer_x, self->pointer_y);
      g_autofree char *text = json_to_string (node, FALSE);

      self->pointer_moved = FALSE;
      g_signal_emit (self, signals[SIGNAL_FRAME], 0, text);
    }
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_flush (CxPageModel *self)
{
  /* After GTK's layout (GDK_PRIORITY_REDRAW), so that one action's geometry is in its frame. */
  if (self->flush_source == 0 && self->started)
    self->flush_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, flush_cb, self, NULL);
}

/* The agent's input */

static gboolean refuse (GError **error, CxPageModelError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
refuse (GError **error, CxPageModelError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (CX_PAGE_MODEL_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

/**
 * cx_page_model_apply_input:
 * @self: a page model
 * @input: an input frame from the agent
 * @error: return location for a %CX_PAGE_MODEL_ERROR
 *
 * Applies the agent's input to the page, if and only if the model is in write mode and the
 * target is there, shown, sensitive, editable, not masked, not disabled for the agent, not a
 * submit button, and of a kind the action fits. Every check reads the widget now, never the
 * frame or what was sent.
 *
 * Returns: %TRUE if applied
 */
gboolean
cx_page_model_apply_input (CxPageModel *self, const CxCobrowseFrame *input, GError **error)
{
  ModelNode *node;
  GtkWidget *widget;
  CxCobrowseKind kind;

  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), FALSE);
  g_return_val_if_fail (input != NULL && input->type == CX_COBROWSE_FRAME_INPUT, FALSE);

  if (self->mode != CX_COBROWSE_MODE_WRITE)
    return refuse (error, CX_PAGE_MODEL_ERROR_POINTER_MODE,
                   _ ("The agent may not operate the page in pointer mode (node %u)"),
                   input->target);

  node = g_hash_table_lookup (self->by_id, GUINT_TO_POINTER (input->target));
  if (node == NULL || node->widget == NULL || node->sent == NULL)
    return refuse (error, CX_PAGE_MODEL_ERROR_NOT_FOUND, _ ("There is no node %u on the page"),
                   input->target);
  widget = node->widget;
  kind = widget_kind (widget);

  if (widget_masked (self, node))
    return refuse (error, CX_PAGE_MODEL_ERROR_MASKED, _ ("Node %u is masked"), input->target);
  if (flagged_up (self, widget, AGENT_DISABLED_CLASS, self->agent_disabled_names))
    return refuse (error, CX_PAGE_MODEL_ERROR_AGENT_DISABLED,
                   _ ("Node %u is disabled for the agent"), input->target);
  if (widget_submit (self, widget))
    return refuse (error, CX_PAGE_MODEL_ERROR_SUBMIT, _ ("Node %u submits the page"),
                   input->target);
  if (!gtk_widget_is_sensitive (widget) || !gtk_widget_get_mapped (widget) ||
      (GTK_IS_EDITABLE (widget) && !gtk_editable_get_editable (GTK_EDITABLE (widget))) ||
      (GTK_IS_TEXT_VIEW (widget) && !gtk_text_view_get_editable (GTK_TEXT_VIEW (widget))))
    return refuse (error, CX_PAGE_MODEL_ERROR_DISABLED, _ ("Node %u is disabled or hidden"),
                   input->target);

  switch (input->action)
    {
      case CX_COBROWSE_INPUT_TEXT:
        if (GTK_IS_EDITABLE (widget) && kind_is_input (kind))
          gtk_editable_set_text (GTK_EDITABLE (widget), input->text);
        else if (GTK_IS_TEXT_VIEW (widget))
          gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)), input->text,
                                    -1);
        else
          break;
        return TRUE;

      case CX_COBROWSE_INPUT_CHECKED:
        if (GTK_IS_CHECK_BUTTON (widget))
          gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), input->checked);
        else if (GTK_IS_SWITCH (widget))
          gtk_switch_set_active (GTK_SWITCH (widget), input->checked);
        else if (GTK_IS_TOGGLE_BUTTON (widget))
          gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (widget), input->checked);
        else
          break;
        return TRUE;

      case CX_COBROWSE_INPUT_ACTIVATE:
        if (kind != CX_COBROWSE_KIND_BUTTON)
          break;
        gtk_widget_activate (widget);
        return TRUE;

      default:
        break;
    }

  return refuse (error, CX_PAGE_MODEL_ERROR_UNSUPPORTED, _ ("Node %u cannot take that input"),
                 input->target);
}

/* Ids */

guint
cx_page_model_get_id (CxPageModel *self, GtkWidget *widget)
{
  ModelNode *node;

  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), 0);

  node = g_hash_table_lookup (self->by_widget, widget);
  return node != NULL ? node->id : 0;
}

/**
 * cx_page_model_get_widget:
 * @self: a page model
 * @id: a node id
 *
 * Returns: (transfer none) (nullable): the widget of node @id
 */
GtkWidget *
cx_page_model_get_widget (CxPageModel *self, guint id)
{
  ModelNode *node;

  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), NULL);

  node = g_hash_table_lookup (self->by_id, GUINT_TO_POINTER (id));
  return node != NULL ? node->widget : NULL;
}

/* Configuration */

/**
 * cx_page_model_set_masked_names:
 * @self: a page model
 * @names: (nullable) (array zero-terminated=1): widget names or GtkBuilder ids to mask, with
 *   everything inside them
 */
void
cx_page_model_set_masked_names (CxPageModel *self, const char *const *names)
{
  g_return_if_fail (CX_IS_PAGE_MODEL (self));

  g_strfreev (self->masked_names);
  self->masked_names = g_strdupv ((char **) names);
  self->all_dirty = TRUE;
  schedule_flush (self);
}

/**
 * cx_page_model_set_agent_disabled_names:
 * @self: a page model
 * @names: (nullable) (array zero-terminated=1): widget names or GtkBuilder ids the agent can
 *   never operate, with everything inside them
 */
void
cx_page_model_set_agent_disabled_names (CxPageModel *self, const char *const *names)
{
  g_return_if_fail (CX_IS_PAGE_MODEL (self));

  g_strfreev (self->agent_disabled_names);
  self->agent_disabled_names = g_strdupv ((char **) names);
  self->all_dirty = TRUE;
  schedule_flush (self);
}

CxCobrowseMode
cx_page_model_get_mode (CxPageModel *self)
{
  g_return_val_if_fail (CX_IS_PAGE_MODEL (self), CX_COBROWSE_MODE_POINTER);

  return self->mode;
}

/**
 * cx_page_model_set_mode:
 * @self: a page model
 * @mode: pointer or write mode
 *
 * Write mode lets cx_page_model_apply_input() operate the page; the service sets it when the
 * customer consents and back to pointer mode when they take control back.
 */
void
cx_page_model_set_mode (CxPageModel *self, CxCobrowseMode mode)
{
  g_return_if_fail (CX_IS_PAGE_MODEL (self));
  g_return_if_fail (mode == CX_COBROWSE_MODE_POINTER || mode == CX_COBROWSE_MODE_WRITE);

  if (self->mode == mode)
    return;
  self->mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

/* The object */

static void
root_gone_cb (gpointer data, GObject *where_the_object_was)
{
  CxPageModel *self = data;

  self->root = NULL;
  self->motion = NULL;
}

static void
cx_page_model_dispose (GObject *object)
{
  CxPageModel *self = CX_PAGE_MODEL (object);

  g_clear_handle_id (&self->flush_source, g_source_remove);
  if (self->clock != NULL)
    g_clear_signal_handler (&self->layout_handler, self->clock);
  g_clear_object (&self->clock);
  if (self->toplevel != NULL)
    g_clear_signal_handler (&self->focus_handler, self->toplevel);
  g_clear_object (&self->toplevel);
  g_hash_table_remove_all (self->by_id);
  if (self->root != NULL)
    {
      if (self->motion != NULL)
        gtk_widget_remove_controller (self->root, self->motion);
      self->motion = NULL;
      g_signal_handlers_disconnect_by_data (self->root, self);
      g_object_weak_unref (G_OBJECT (self->root), root_gone_cb, self);
      self->root = NULL;
    }

  G_OBJECT_CLASS (cx_page_model_parent_class)->dispose (object);
}

static void
cx_page_model_finalize (GObject *object)
{
  CxPageModel *self = CX_PAGE_MODEL (object);

  g_hash_table_unref (self->by_id);
  g_hash_table_unref (self->by_widget);
  g_hash_table_unref (self->dirty);
  g_free (self->page);
  g_strfreev (self->masked_names);
  g_strfreev (self->agent_disabled_names);

  G_OBJECT_CLASS (cx_page_model_parent_class)->finalize (object);
}

static void
cx_page_model_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxPageModel *self = CX_PAGE_MODEL (object);

  switch (prop_id)
    {
      case PROP_MODE:
        g_value_set_int (value, self->mode);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_page_model_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxPageModel *self = CX_PAGE_MODEL (object);

  switch (prop_id)
    {
      case PROP_MODE:
        cx_page_model_set_mode (self, (CxCobrowseMode) g_value_get_int (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_page_model_class_init (CxPageModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_page_model_dispose;
  object_class->finalize = cx_page_model_finalize;
  object_class->get_property = cx_page_model_get_property;
  object_class->set_property = cx_page_model_set_property;

  /**
   * CxPageModel:mode:
   *
   * The #CxCobrowseMode: pointer (0) or write (1).
   */
  properties[PROP_MODE] =
      g_param_spec_int ("mode", NULL, NULL, CX_COBROWSE_MODE_POINTER, CX_COBROWSE_MODE_WRITE,
                        CX_COBROWSE_MODE_POINTER,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CxPageModel::frame:
   * @self: the model
   * @text: a changes or pointer frame's JSON text, ready for the wire
   *
   * Emitted (after a snapshot was made) when the page changed or the customer's pointer moved.
   */
  signals[SIGNAL_FRAME] = g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cx_page_model_init (CxPageModel *self)
{
  self->by_id = g_hash_table_new_full (NULL, NULL, NULL, node_free);
  self->by_widget = g_hash_table_new (NULL, NULL);
  self->dirty = g_hash_table_new (NULL, NULL);
}

/**
 * cx_page_model_new:
 * @root: the page: any widget tree, usually a GtkBuilder page
 * @page: (nullable): the page's name, shown to the agent
 *
 * The model watches @root while @root lives; it holds no reference on it.
 *
 * Returns: (transfer full): a model that sends nothing until cx_page_model_snapshot()
 */
CxPageModel *
cx_page_model_new (GtkWidget *root, const char *page)
{
  CxPageModel *self;

  g_return_val_if_fail (GTK_IS_WIDGET (root), NULL);

  self = g_object_new (CX_TYPE_PAGE_MODEL, NULL);
  self->root = root;
  self->page = g_strdup (page != NULL ? page : "");
  g_object_weak_ref (G_OBJECT (root), root_gone_cb, self);

  g_signal_connect_swapped (root, "realize", G_CALLBACK (root_realize_cb), self);
  g_signal_connect_swapped (root, "unrealize", G_CALLBACK (root_unrealize_cb), self);
  if (gtk_widget_get_realized (root))
    root_realize_cb (self);

  self->motion = gtk_event_controller_motion_new ();
  gtk_event_controller_set_propagation_phase (self->motion, GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (self->motion, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (root, self->motion);

  return self;
}
