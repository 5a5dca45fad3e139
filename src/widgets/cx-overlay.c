/* cx-overlay.c: the "Overlay" UI plugin: a modal layer over a window's page.
 *
 * The overlay is a container with one child (the page area) and, while it presents, two more
 * widgets above it: a backdrop that dims the page and takes its clicks, and a frame (a
 * scrolled window, so that a form taller or wider than a small window can still be read) with
 * the form in it, centred. The page is made insensitive while the layer shows: it then takes
 * neither the pointer, the keyboard focus nor its mnemonics, and looks dimmed. The focus is
 * kept inside the frame (Tab wraps around the form instead of leaving it), and is given back to
 * the widget that had it before when the layer goes.
 *
 * Only one form shows at a time: presenting another dismisses the first (its "dismissed"
 * signal tells its owner). Whatever dismisses the layer (Escape, the backdrop, back, close, a
 * new form, cx_overlay_dismiss()), "dismissed" is emitted with the form that went, and
 * Overlay.closed is published. Being immutable lasts until mutable, or until the layer goes:
 * the next form starts dismissable.
 *
 * The opener of the layer reserves it: Overlay.open records its commander, and only that
 * plugin or "App" may close it. Forms presented with cx_overlay_present() are the
 * application's.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-overlay"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets/cx-overlay.h"

/* The space kept between the frame and the edges of the page. */
#define FRAME_MARGIN 24

struct _CxOverlay
{
  GtkWidget parent_instance;

  GtkWidget *child;
  GtkWidget *backdrop;
  GtkWidget *frame; /* GtkScrolledWindow */
  GtkWidget *content;

  gboolean presented;
  gboolean immutable;
  char *opener;
  GtkWidget *return_focus; /* weak */

  CxBus *bus;
  CxPlugin *plugin;
};

static void cx_overlay_buildable_init (GtkBuildableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CxOverlay, cx_overlay, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_BUILDABLE,
                                                      cx_overlay_buildable_init))

enum
{
  PROP_0,
  PROP_CHILD,
  PROP_CONTENT,
  PROP_PRESENTED,
  PROP_IMMUTABLE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_DISMISSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const event_names[] = { "opened", "closed", NULL };

static void
publish (CxOverlay *self, const char *event)
{
  g_autoptr (JsonNode) data = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  cx_plugin_publish (self->plugin, event, data);
}

static void
set_return_focus (CxOverlay *self, GtkWidget *widget)
{
  if (self->return_focus == widget)
    return;
  if (self->return_focus != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->return_focus), (gpointer *) &self->return_focus);
  self->return_focus = widget;
  if (widget != NULL)
    g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &self->return_focus);
}

static void
set_immutable (CxOverlay *self, gboolean immutable)
{
  if (self->immutable == immutable)
    return;
  self->immutable = immutable;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMMUTABLE]);
}

/* Takes the form out of the frame; returns it (a reference) for "dismissed". */
static GtkWidget *
take_content (CxOverlay *self)
{
  GtkWidget *content = g_steal_pointer (&self->content);

  if (content != NULL)
    {
      g_object_ref (content);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->frame), NULL);
    }
  return content;
}

static void
move_focus_in (CxOverlay *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  /* The form may have put the focus where it wants it already. */
  if (focus != NULL && gtk_widget_is_ancestor (focus, self->frame))
    return;
  if (self->content != NULL && gtk_widget_child_focus (self->content, GTK_DIR_TAB_FORWARD))
    return;
  /* Nothing to focus in it (an empty layer): the backdrop takes the keys, Escape among them. */
  gtk_widget_grab_focus (self->backdrop);
}

static void
give_focus_back (CxOverlay *self)
{
  GtkWidget *widget = self->return_focus;

  set_return_focus (self, NULL);
  /* Still in the window (the page, or the window's own buttons), and able to take it. */
  if (widget != NULL && gtk_widget_get_root (widget) == gtk_widget_get_root (GTK_WIDGET (self)) &&
      gtk_widget_grab_focus (widget))
    return;
  /* It went (or never was there): the page's first focusable widget. */
  if (self->child != NULL && gtk_widget_get_root (GTK_WIDGET (self)) != NULL)
    gtk_widget_child_focus (self->child, GTK_DIR_TAB_FORWARD);
}

static void
dismiss (CxOverlay *self, gboolean restore_focus)
{
  g_autoptr (GtkWidget) content = NULL;

  if (!self->presented)
    return;

  self->presented = FALSE;
  g_clear_pointer (&self->opener, g_free);
  content = take_content (self);
  gtk_widget_set_visible (self->backdrop, FALSE);
  gtk_widget_set_visible (self->frame, FALSE);
  if (self->child != NULL)
    {
      gtk_widget_set_sensitive (self->child, TRUE);
      gtk_widget_remove_css_class (self->child, "cx-overlay-dimmed");
    }
  set_immutable (self, FALSE);
  /* Told first: whoever turned its own ways into the page off (a window's buttons) turns them
   * on again, so that the focus can go back to one of them. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENTED]);
  if (restore_focus)
    give_focus_back (self);
  else
    set_return_focus (self, NULL);

  g_signal_emit (self, signals[SIGNAL_DISMISSED], 0, content);
  publish (self, "closed");
}

static void
show (CxOverlay *self, GtkWidget *content, const char *opener)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  gboolean was_presented = self->presented;

  /* One form at a time: the one showing goes, as if dismissed, but the focus stays in the
   * layer (and goes back, in the end, to where it was before the first). */
  if (was_presented && self->content != content)
    {
      GtkWidget *keep = self->return_focus;
      gpointer weak = keep;

      if (keep != NULL)
        g_object_add_weak_pointer (G_OBJECT (keep), &weak);
      dismiss (self, FALSE);
      if (weak != NULL)
        {
          g_object_remove_weak_pointer (G_OBJECT (keep), &weak);
          set_return_focus (self, weak);
        }
      was_presented = FALSE;
    }

  if (!was_presented)
    {
      GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

      /* Taken before the page goes insensitive, which takes the focus away. */
      if (self->return_focus == NULL && focus != NULL &&
          (self->child == NULL || gtk_widget_is_ancestor (focus, self->child) ||
           !gtk_widget_is_ancestor (focus, GTK_WIDGET (self))))
        set_return_focus (self, focus);

      self->presented = TRUE;
      self->opener = g_strdup (opener);
      if (content != NULL)
        {
          self->content = content;
          gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->frame), content);
        }
      if (self->child != NULL)
        {
          gtk_widget_add_css_class (self->child, "cx-overlay-dimmed");
          gtk_widget_set_sensitive (self->child, FALSE);
        }
      gtk_widget_set_visible (self->backdrop, TRUE);
      gtk_widget_set_visible (self->frame, self->content != NULL);

      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENTED]);
      publish (self, "opened");
    }

  move_focus_in (self);
}

/* What the user does */

static gboolean
user_dismiss (CxOverlay *self)
{
  if (!self->presented || self->immutable)
    return FALSE;
  dismiss (self, TRUE);
  return TRUE;
}

static gboolean
escape_cb (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  CxOverlay *self = CX_OVERLAY (widget);

  if (!self->presented)
    return FALSE;
  /* While immutable Escape does nothing, and goes no further either. */
  user_dismiss (self);
  return TRUE;
}

static void
backdrop_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  user_dismiss (CX_OVERLAY (user_data));
}

/* Commands */

static void
open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxOverlay *self = user_data;

  if (!self->presented)
    show (self, NULL, cx_command_get_commander (command));
  cx_command_resolve (command, NULL);
}

static void
close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxOverlay *self = user_data;
  const char *commander = cx_command_get_commander (command);

  if (self->presented && g_strcmp0 (commander, CX_BUS_APP_COMMANDER) != 0 &&
      g_strcmp0 (commander, self->opener != NULL ? self->opener : CX_BUS_APP_COMMANDER) != 0)
    {
      cx_command_reject (command,
                         g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_ACCESS_DENIED,
                                      _ ("The overlay is reserved by %s"),
                                      self->opener != NULL ? self->opener : CX_BUS_APP_COMMANDER));
      return;
    }

  dismiss (self, TRUE);
  cx_command_resolve (command, NULL);
}

static void
back_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxOverlay *self = user_data;

  if (self->presented && self->immutable)
    {
      cx_command_reject_message (command, _ ("The overlay is immutable"));
      return;
    }
  user_dismiss (self);
  cx_command_resolve (command, NULL);
}

static void
immutable_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_immutable (CX_OVERLAY (user_data), TRUE);
  cx_command_resolve (command, NULL);
}

static void
mutable_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  set_immutable (CX_OVERLAY (user_data), FALSE);
  cx_command_resolve (command, NULL);
}

/* Layout */

static void
cx_overlay_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                    int *natural, int *minimum_baseline, int *natural_baseline)
{
  CxOverlay *self = CX_OVERLAY (widget);
  int child_min = 0, child_nat = 0;

  if (self->child != NULL && gtk_widget_get_visible (self->child))
    gtk_widget_measure (self->child, orientation, for_size, &child_min, &child_nat, NULL, NULL);

  /* The frame scrolls: it asks for little, and gets what there is. */
  if (gtk_widget_get_visible (self->frame))
    {
      int frame_min = 0, frame_nat = 0;

      gtk_widget_measure (self->frame, orientation, -1, &frame_min, &frame_nat, NULL, NULL);
      child_min = MAX (child_min, frame_min);
      child_nat = MAX (child_nat, frame_min);
    }
  if (gtk_widget_get_visible (self->backdrop))
    {
      int backdrop_min = 0, backdrop_nat = 0;

      gtk_widget_measure (self->backdrop, orientation, -1, &backdrop_min, &backdrop_nat, NULL,
                          NULL);
      child_min = MAX (child_min, backdrop_min);
      child_nat = MAX (child_nat, backdrop_min);
    }

  *minimum = child_min;
  *natural = child_nat;
}

static void
cx_overlay_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  CxOverlay *self = CX_OVERLAY (widget);

  if (self->child != NULL && gtk_widget_get_visible (self->child))
    gtk_widget_allocate (self->child, width, height, baseline, NULL);
  if (gtk_widget_get_visible (self->backdrop))
    gtk_widget_allocate (self->backdrop, width, height, -1, NULL);

  if (gtk_widget_get_visible (self->frame))
    {
      int min_w, nat_w, min_h, nat_h, w, h;

      gtk_widget_measure (self->frame, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
      w = CLAMP (nat_w, min_w, MAX (min_w, width - 2 * FRAME_MARGIN));
      gtk_widget_measure (self->frame, GTK_ORIENTATION_VERTICAL, w, &min_h, &nat_h, NULL, NULL);
      h = CLAMP (nat_h, min_h, MAX (min_h, height - 2 * FRAME_MARGIN));
      gtk_widget_allocate (
          self->frame, w, h, -1,
          gsk_transform_translate (
              NULL, &GRAPHENE_POINT_INIT (MAX (0, (width - w) / 2), MAX (0, (height - h) / 2))));
    }
}

static GtkSizeRequestMode
cx_overlay_get_request_mode (GtkWidget *widget)
{
  CxOverlay *self = CX_OVERLAY (widget);

  return self->child != NULL ? gtk_widget_get_request_mode (self->child)
                             : GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

/* The focus stays in the frame while the layer shows: Tab wraps around the form. */
static gboolean
cx_overlay_focus (GtkWidget *widget, GtkDirectionType direction)
{
  CxOverlay *self = CX_OVERLAY (widget);

  if (!self->presented)
    return GTK_WIDGET_CLASS (cx_overlay_parent_class)->focus (widget, direction);

  if (self->content == NULL)
    {
      gtk_widget_grab_focus (self->backdrop);
      return TRUE;
    }
  if (gtk_widget_child_focus (self->frame, direction))
    return TRUE;
  /* Out of one end of the form: in again at the other. Without a focus there is no chain of
   * focus children either, so the form starts again from its first (or last) widget. */
  if (gtk_widget_get_root (widget) != NULL)
    gtk_root_set_focus (gtk_widget_get_root (widget), NULL);
  if (gtk_widget_child_focus (self->frame, direction))
    return TRUE;
  gtk_widget_grab_focus (self->backdrop);
  return TRUE;
}

static gboolean
cx_overlay_grab_focus (GtkWidget *widget)
{
  CxOverlay *self = CX_OVERLAY (widget);

  if (self->presented)
    {
      move_focus_in (self);
      return TRUE;
    }
  return self->child != NULL && gtk_widget_grab_focus (self->child);
}

static void
cx_overlay_unroot (GtkWidget *widget)
{
  CxOverlay *self = CX_OVERLAY (widget);

  set_return_focus (self, NULL);
  GTK_WIDGET_CLASS (cx_overlay_parent_class)->unroot (widget);
}

/* GtkBuildable: <child> is the page */

static GtkBuildableIface *parent_buildable_iface;

static void
cx_overlay_add_child (GtkBuildable *buildable, GtkBuilder *builder, GObject *child,
                      const char *type)
{
  if (GTK_IS_WIDGET (child))
    cx_overlay_set_child (CX_OVERLAY (buildable), GTK_WIDGET (child));
  else
    parent_buildable_iface->add_child (buildable, builder, child, type);
}

static void
cx_overlay_buildable_init (GtkBuildableIface *iface)
{
  parent_buildable_iface = g_type_interface_peek_parent (iface);
  iface->add_child = cx_overlay_add_child;
}

/* Object */

static void
cx_overlay_dispose (GObject *object)
{
  CxOverlay *self = CX_OVERLAY (object);

  set_return_focus (self, NULL);
  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  /* The form is its owner's: it leaves the frame, and nobody is told any more. */
  self->presented = FALSE;
  if (self->content != NULL)
    g_object_unref (take_content (self));
  g_clear_pointer (&self->child, gtk_widget_unparent);
  g_clear_pointer (&self->frame, gtk_widget_unparent);
  g_clear_pointer (&self->backdrop, gtk_widget_unparent);

  G_OBJECT_CLASS (cx_overlay_parent_class)->dispose (object);
}

static void
cx_overlay_finalize (GObject *object)
{
  CxOverlay *self = CX_OVERLAY (object);

  g_free (self->opener);

  G_OBJECT_CLASS (cx_overlay_parent_class)->finalize (object);
}

static void
cx_overlay_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxOverlay *self = CX_OVERLAY (object);

  switch (prop_id)
    {
      case PROP_CHILD:
        g_value_set_object (value, self->child);
        break;

      case PROP_CONTENT:
        g_value_set_object (value, self->content);
        break;

      case PROP_PRESENTED:
        g_value_set_boolean (value, self->presented);
        break;

      case PROP_IMMUTABLE:
        g_value_set_boolean (value, self->immutable);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_overlay_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxOverlay *self = CX_OVERLAY (object);

  switch (prop_id)
    {
      case PROP_CHILD:
        cx_overlay_set_child (self, g_value_get_object (value));
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_overlay_class_init (CxOverlayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_overlay_dispose;
  object_class->finalize = cx_overlay_finalize;
  object_class->get_property = cx_overlay_get_property;
  object_class->set_property = cx_overlay_set_property;

  widget_class->measure = cx_overlay_measure;
  widget_class->size_allocate = cx_overlay_size_allocate;
  widget_class->get_request_mode = cx_overlay_get_request_mode;
  widget_class->focus = cx_overlay_focus;
  widget_class->grab_focus = cx_overlay_grab_focus;
  widget_class->unroot = cx_overlay_unroot;

  properties[PROP_CHILD] =
      g_param_spec_object ("child", NULL, NULL, GTK_TYPE_WIDGET,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CONTENT] =
      g_param_spec_object ("content", NULL, NULL, GTK_TYPE_WIDGET,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PRESENTED] =
      g_param_spec_boolean ("presented", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_IMMUTABLE] =
      g_param_spec_boolean ("immutable", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CxOverlay::dismissed:
   * @content: (nullable): the form that went (%NULL for an empty layer)
   *
   * The layer went, whatever made it go.
   */
  signals[SIGNAL_DISMISSED] =
      g_signal_new ("dismissed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, GTK_TYPE_WIDGET);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, escape_cb, NULL);

  gtk_widget_class_set_css_name (widget_class, "cxoverlay");
}

static void
cx_overlay_init (CxOverlay *self)
{
  GtkGesture *click;

  self->backdrop = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->backdrop, "cx-overlay-backdrop");
  gtk_widget_set_focusable (self->backdrop, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->backdrop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Close the form"), -1);
  gtk_widget_set_visible (self->backdrop, FALSE);
  click = gtk_gesture_click_new ();
  g_signal_connect_object (click, "pressed", G_CALLBACK (backdrop_pressed_cb), self,
                           G_CONNECT_DEFAULT);
  gtk_widget_add_controller (self->backdrop, GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_parent (self->backdrop, GTK_WIDGET (self));

  self->frame = g_object_new (GTK_TYPE_SCROLLED_WINDOW, "accessible-role",
                              GTK_ACCESSIBLE_ROLE_DIALOG, "hscrollbar-policy", GTK_POLICY_AUTOMATIC,
                              "vscrollbar-policy", GTK_POLICY_AUTOMATIC, "propagate-natural-width",
                              TRUE, "propagate-natural-height", TRUE, "visible", FALSE, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->frame), GTK_ACCESSIBLE_PROPERTY_MODAL, TRUE,
                                  -1);
  gtk_widget_add_css_class (self->frame, "cx-overlay-frame");
  gtk_widget_set_parent (self->frame, GTK_WIDGET (self));
}

/**
 * cx_overlay_new:
 *
 * Returns: (transfer floating): a new overlay, without a page
 */
GtkWidget *
cx_overlay_new (void)
{
  return g_object_new (CX_TYPE_OVERLAY, NULL);
}

/**
 * cx_overlay_set_child:
 * @child: (nullable): the page the layer shows over
 */
void
cx_overlay_set_child (CxOverlay *self, GtkWidget *child)
{
  g_return_if_fail (CX_IS_OVERLAY (self));
  g_return_if_fail (child == NULL || GTK_IS_WIDGET (child));

  if (self->child == child)
    return;

  g_clear_pointer (&self->child, gtk_widget_unparent);
  if (child != NULL)
    {
      self->child = child;
      /* Below the backdrop and the frame. */
      gtk_widget_insert_after (child, GTK_WIDGET (self), NULL);
      if (self->presented)
        {
          gtk_widget_add_css_class (child, "cx-overlay-dimmed");
          gtk_widget_set_sensitive (child, FALSE);
        }
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHILD]);
}

/**
 * cx_overlay_get_child:
 *
 * Returns: (transfer none) (nullable): the page
 */
GtkWidget *
cx_overlay_get_child (CxOverlay *self)
{
  g_return_val_if_fail (CX_IS_OVERLAY (self), NULL);

  return self->child;
}

static const CxCommandSpec command_specs[] = {
  { "open", open_command_cb },       { "close", close_command_cb },
  { "back", back_command_cb },       { "immutable", immutable_command_cb },
  { "mutable", mutable_command_cb },
};

/**
 * cx_overlay_attach:
 * @self: the overlay
 * @bus: the window's bus
 * @error: return location for a #GError
 *
 * Registers the "Overlay" plugin on @bus and makes it ready.
 *
 * Returns: %TRUE, or %FALSE with @error set (the name is taken on @bus)
 */
gboolean
cx_overlay_attach (CxOverlay *self, CxBus *bus, GError **error)
{
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_OVERLAY (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_OVERLAY_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_overlay_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "Overlay" plugin, once attached
 */
CxPlugin *
cx_overlay_get_plugin (CxOverlay *self)
{
  g_return_val_if_fail (CX_IS_OVERLAY (self), NULL);

  return self->plugin;
}

/**
 * cx_overlay_present:
 * @content: the form to show (the caller keeps its own reference: the overlay parents it while
 *   it shows, and lets it go when dismissed)
 *
 * Shows @content in the layer, instead of what it showed, and moves the focus into it.
 */
void
cx_overlay_present (CxOverlay *self, GtkWidget *content)
{
  g_return_if_fail (CX_IS_OVERLAY (self));
  g_return_if_fail (GTK_IS_WIDGET (content));
  g_return_if_fail (gtk_widget_get_parent (content) == NULL || content == self->content);

  show (self, content, CX_BUS_APP_COMMANDER);
}

/**
 * cx_overlay_dismiss:
 *
 * Takes the layer away (immutable or not), as close does, and gives the focus back.
 */
void
cx_overlay_dismiss (CxOverlay *self)
{
  g_return_if_fail (CX_IS_OVERLAY (self));

  dismiss (self, TRUE);
}

/**
 * cx_overlay_get_content:
 *
 * Returns: (transfer none) (nullable): the form showing
 */
GtkWidget *
cx_overlay_get_content (CxOverlay *self)
{
  g_return_val_if_fail (CX_IS_OVERLAY (self), NULL);

  return self->content;
}

gboolean
cx_overlay_get_presented (CxOverlay *self)
{
  g_return_val_if_fail (CX_IS_OVERLAY (self), FALSE);

  return self->presented;
}

gboolean
cx_overlay_get_immutable (CxOverlay *self)
{
  g_return_val_if_fail (CX_IS_OVERLAY (self), FALSE);

  return self->immutable;
}
