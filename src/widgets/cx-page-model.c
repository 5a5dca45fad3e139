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

#include "widgets/cx-page-model-private.h"

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

GQuark
cx_page_model_error_quark (void)
{
  return g_quark_from_static_string ("cx-page-model-error-quark");
}

static void schedule_flush (CxPageModel *self);

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
  self->pointer_x = cx_page_model_clamp_coord (x);
  self->pointer_y = cx_page_model_clamp_coord (y);
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

  if (cx_page_model_widget_skipped (self, widget) || walk_state->count >= CX_COBROWSE_MAX_NODES ||
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

      cx_page_model_node_rect (self, widget, &rect);
      if (rect.x != node->sent->x || rect.y != node->sent->y || rect.width != node->sent->width ||
          rect.height != node->sent->height)
        g_hash_table_add (self->dirty, GUINT_TO_POINTER (node->id));
    }

  kind = cx_page_model_widget_kind (widget);
  if (cx_page_model_kind_is_leaf (kind))
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
      node->sent = cx_page_model_compute_state (self, node);
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
  g_autoptr (CxCobrowseNode) now = cx_page_model_compute_state (self, node);
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

  page = cx_page_model_clean_text (self->page, CX_COBROWSE_LABEL_MAX);
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
