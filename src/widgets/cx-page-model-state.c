/* cx-page-model-state.c: what a widget of the page is and what the model sends of it, and
 * what the agent may do to it: the masking and agent-control rules of CxPageModel, in one
 * place (see cx-page-model.c for the model itself and the invariants). Every rule reads the
 * widget as it is now, never a frame or what was sent. */
#define G_LOG_DOMAIN "cx-page-model"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "widgets/cx-page-model-private.h"

/* What a widget is */

CxCobrowseKind
cx_page_model_widget_kind (GtkWidget *widget)
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

gboolean
cx_page_model_kind_is_leaf (CxCobrowseKind kind)
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
gboolean
cx_page_model_widget_skipped (CxPageModel *self, GtkWidget *widget)
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
char *
cx_page_model_clean_text (const char *text, gsize max)
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

int
cx_page_model_clamp_coord (double value)
{
  return (int) CLAMP (value, -CX_COBROWSE_COORD_MAX, CX_COBROWSE_COORD_MAX);
}

void
cx_page_model_node_rect (CxPageModel *self, GtkWidget *widget, CxCobrowseNode *state)
{
  graphene_rect_t bounds;

  state->fields |= CX_COBROWSE_FIELD_RECT;
  if (gtk_widget_get_mapped (widget) && gtk_widget_compute_bounds (widget, self->root, &bounds))
    {
      state->x = cx_page_model_clamp_coord (bounds.origin.x);
      state->y = cx_page_model_clamp_coord (bounds.origin.y);
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
CxCobrowseNode *
cx_page_model_compute_state (CxPageModel *self, ModelNode *node)
{
  GtkWidget *widget = node->widget;
  CxCobrowseNode *state = cx_cobrowse_node_new (node->id);
  const char *label = NULL;

  state->parent = node->parent;
  state->fields = CX_COBROWSE_FIELD_KIND | CX_COBROWSE_FIELD_ROLE | CX_COBROWSE_FIELD_SELECTED |
                  CX_COBROWSE_FIELD_SENSITIVE | CX_COBROWSE_FIELD_VISIBLE |
                  CX_COBROWSE_FIELD_FOCUS | CX_COBROWSE_FIELD_MASKED |
                  CX_COBROWSE_FIELD_AGENT_DISABLED | CX_COBROWSE_FIELD_SUBMIT;
  state->kind = cx_page_model_widget_kind (widget);
  state->role = g_strdup (role_nick (widget));
  state->sensitive = gtk_widget_get_sensitive (widget);
  state->visible = gtk_widget_get_visible (widget);
  state->focus = node->id == self->focus_id;
  state->masked = widget_masked (self, node);
  state->agent_disabled =
      flagged_up (self, widget, AGENT_DISABLED_CLASS, self->agent_disabled_names);
  state->submit = widget_submit (self, widget);
  cx_page_model_node_rect (self, widget, state);

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
          state->label = cx_page_model_clean_text (label, CX_COBROWSE_LABEL_MAX);
        }
      if (GTK_IS_LABEL (widget))
        state->text = cx_page_model_clean_text (gtk_label_get_text (GTK_LABEL (widget)),
                                                CX_COBROWSE_TEXT_MAX);
      else if (GTK_IS_EDITABLE (widget))
        state->text = cx_page_model_clean_text (gtk_editable_get_text (GTK_EDITABLE (widget)),
                                                CX_COBROWSE_TEXT_MAX);
      else if (GTK_IS_TEXT_VIEW (widget))
        {
          g_autofree char *text = text_view_text (GTK_TEXT_VIEW (widget));

          state->text = cx_page_model_clean_text (text, CX_COBROWSE_TEXT_MAX);
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
      state->scroll_x = cx_page_model_clamp_coord (
          gtk_adjustment_get_value (gtk_scrolled_window_get_hadjustment (scrolled)));
      state->scroll_y = cx_page_model_clamp_coord (
          gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (scrolled)));
    }

  return state;
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
  kind = cx_page_model_widget_kind (widget);

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
