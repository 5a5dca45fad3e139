/* cx-callback.c: the "Callback" UI plugin: the customer's callback request form, and the
 * booking's confirmation, from which it can be moved to another time or cancelled.
 *
 * The panel talks to nothing but its bus: it commands "CallbackService" (schedule, reschedule,
 * cancel) and its "Calendar" (a child of the form) asks the same service for the free times.
 * It follows the service's rescheduled and cancelled events too, so a booking moved or cancelled
 * by a page script shows as it is.
 *
 * One request at a time: the form's actions are disabled from the moment one is sent until it
 * is answered, so a double click books one callback. A refused request (office closed, slot
 * full, a number the service refuses, the server gone) is told above the form, which keeps
 * everything the customer typed.
 *
 * The phone number is the country code chosen plus the number typed (its trunk "0" dropped),
 * or the number typed as it is when it starts with "+". It is checked with the protocol's own
 * rule (cx_callback_request_parse()), the one the service and the server apply.
 *
 * The class is split by concern over cx-callback-private.h: this file has the class, its
 * template, the plugin's tables and attaching; cx-callback-form.c the request form (fields,
 * country list, validation, the calendar's glue); cx-callback-booking.c the booking (schedule,
 * reschedule, cancel, the panel's actions and the service's events).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-callback"

#include "config.h"

#include "widgets/cx-callback-private.h"

G_DEFINE_FINAL_TYPE (CxCallback, cx_callback, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_OPEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const event_names[] = {
  "opened",    "closed",    "submitted", "started", "rescheduled",
  "cancelled", "completed", "error",     NULL,
};

/* Small helpers */

void
_cx_callback_publish (CxCallback *self, const char *event, JsonObject *object)
{
  g_autoptr (JsonNode) data = NULL;
  g_autoptr (JsonObject) empty = NULL;

  if (self->plugin == NULL || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  if (object == NULL)
    object = empty = json_object_new ();
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (data, object);
  cx_plugin_publish (self->plugin, event, data);
}

/* A string member, or NULL when absent or not a string. */
const char *
_cx_callback_object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

char *
_cx_callback_entry_text_stripped (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

void
_cx_callback_command_service (CxCallback *self, const char *command, JsonObject *object,
                              GAsyncReadyCallback callback)
{
  g_autofree char *full = g_strconcat (SERVICE ".", command, NULL);
  g_autoptr (JsonNode) data = cx_json_node_new_object (object);

  cx_bus_command_async (self->bus, self->plugin, full, data, REQUEST_TIMEOUT_MS, self->cancellable,
                        callback, self);
}

void
_cx_callback_release_focus_from (CxCallback *self, GtkWidget *container)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  if (focus != NULL && (focus == container || gtk_widget_is_ancestor (focus, container)))
    gtk_root_set_focus (root, NULL);
}

/* Only into the panel the customer sees: a reply may come after it was closed. A widget that
 * does not take the focus itself (the calendar) gives it to the first of its children that
 * does. */
void
_cx_callback_focus_widget (CxCallback *self, GtkWidget *widget)
{
  if (!self->open || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  if (!gtk_widget_grab_focus (widget))
    gtk_widget_child_focus (widget, GTK_DIR_TAB_FORWARD);
}

/* What is shown */

/* The country list counts unless the number typed starts with + (it has its own code). */
void
_cx_callback_update_country_sensitive (CxCallback *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->phone_entry));

  while (g_ascii_isspace (*text))
    text++;
  gtk_widget_set_sensitive (GTK_WIDGET (self->country_dropdown),
                            text[0] != '+' && self->phase == PHASE_FORM);
}

void
_cx_callback_set_phase (CxCallback *self, Phase phase)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean form_page = phase == PHASE_FORM || phase == PHASE_SUBMITTING ||
                       phase == PHASE_RESCHEDULING || phase == PHASE_MOVING;
  gboolean new_request = phase == PHASE_FORM || phase == PHASE_SUBMITTING;
  gboolean moving = phase == PHASE_RESCHEDULING || phase == PHASE_MOVING;
  gboolean busy = phase == PHASE_SUBMITTING || phase == PHASE_MOVING || phase == PHASE_CANCELLING;
  gboolean booked = phase == PHASE_CONFIRMED || phase == PHASE_CANCELLING;
  GtkEntry *entries[] = { self->first_name_entry, self->last_name_entry, self->phone_entry,
                          self->subject_entry };
  const char *title;

  gtk_widget_action_set_enabled (widget, "callback.submit",
                                 phase == PHASE_FORM || phase == PHASE_RESCHEDULING);
  gtk_widget_action_set_enabled (widget, "callback.back", phase == PHASE_RESCHEDULING);
  gtk_widget_action_set_enabled (widget, "callback.reschedule", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.cancel", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.keep", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.confirm-cancel", phase == PHASE_CONFIRMED);
  gtk_widget_action_set_enabled (widget, "callback.done",
                                 phase == PHASE_CONFIRMED || phase == PHASE_CANCELLED);

  /* The focus leaves what is about to go while it can still be told so. */
  if (!form_page)
    _cx_callback_release_focus_from (self, self->form_box);
  else
    _cx_callback_release_focus_from (self, self->confirmation_box);
  if (moving)
    _cx_callback_release_focus_from (self, self->details_box);

  /* Read-only, not insensitive, while a request is under way: the focus stays where it is. */
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    gtk_editable_set_editable (GTK_EDITABLE (entries[i]), phase == PHASE_FORM);
  gtk_widget_set_sensitive (GTK_WIDGET (self->asap_check), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose_check), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->calendar), !busy);
  if (busy)
    gtk_spinner_start (self->submit_spinner);
  else
    gtk_spinner_stop (self->submit_spinner);

  gtk_widget_set_visible (self->details_box, new_request);
  gtk_widget_set_visible (self->when_label, new_request);
  gtk_widget_set_visible (GTK_WIDGET (self->asap_check), new_request);
  gtk_widget_set_visible (GTK_WIDGET (self->choose_check), new_request);
  gtk_widget_set_visible (self->back_button, moving);
  gtk_button_set_label (self->submit_button,
                        moving ? _ ("_Move Callback") : _ ("_Request Callback"));

  gtk_widget_set_visible (self->reschedule_button, booked);
  gtk_widget_set_visible (self->cancel_button, booked);
  if (!booked)
    gtk_revealer_set_reveal_child (self->cancel_revealer, FALSE);

  gtk_stack_set_visible_child_name (self->stack, form_page ? "form" : "confirmation");

  if (new_request)
    title = _ ("Request a Callback");
  else if (moving)
    title = _ ("Choose a New Time");
  else
    title = _ ("Your Callback");
  gtk_label_set_text (self->title_label, title);

  self->phase = phase;
  _cx_callback_update_country_sensitive (self);
}

void
_cx_callback_show_confirmation (CxCallback *self, const char *title, const char *text)
{
  const char *id = _cx_callback_object_string (self->callback, "id");
  const char *number = _cx_callback_object_string (self->callback, "customerNumber");
  const char *desired = _cx_callback_object_string (self->callback, "desiredTime");
  g_autofree char *time = NULL;
  gint64 ms;

  if (self->booked_asap || desired == NULL || !cx_iso8601_parse (desired, &ms, NULL))
    time = g_strdup (_ ("As soon as possible"));
  else
    time = cx_calendar_format_time (ms, self->hours);

  gtk_label_set_text (self->confirmation_title, title);
  gtk_label_set_text (self->confirmation_text, text);
  /* From the network: plain text. */
  gtk_label_set_text (self->reference_label, id != NULL ? id : "");
  gtk_label_set_text (self->time_label, time);
  gtk_label_set_text (self->number_label, number != NULL ? number : "");
  _cx_callback_set_message (self->confirmation_error, NULL);
}

void
_cx_callback_take_callback (CxCallback *self, JsonNode *reply)
{
  g_clear_pointer (&self->callback, json_object_unref);
  if (reply != NULL && JSON_NODE_HOLDS_OBJECT (reply))
    self->callback = json_object_ref (json_node_get_object (reply));
}

JsonObject *
_cx_callback_callback_copy (CxCallback *self)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) copy = NULL;

  if (self->callback == NULL)
    return json_object_new ();
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, self->callback);
  copy = json_node_copy (node);
  return json_object_ref (json_node_get_object (copy));
}

void
_cx_callback_publish_callback (CxCallback *self, const char *event)
{
  g_autoptr (JsonObject) copy = _cx_callback_callback_copy (self);

  _cx_callback_publish (self, event, copy);
}

/* Opening and closing */

static void
focus_current (CxCallback *self)
{
  switch (self->phase)
    {
      case PHASE_FORM:
        gtk_widget_grab_focus (GTK_WIDGET (self->first_name_entry));
        break;

      case PHASE_RESCHEDULING:
        gtk_widget_child_focus (GTK_WIDGET (self->calendar), GTK_DIR_TAB_FORWARD);
        break;

      case PHASE_CONFIRMED:
      case PHASE_CANCELLED:
        gtk_widget_grab_focus (self->done_button);
        break;

      case PHASE_SUBMITTING:
      case PHASE_MOVING:
      case PHASE_CANCELLING:
      default:
        break;
    }
}

void
_cx_callback_set_open (CxCallback *self, gboolean open)
{
  if (self->open == open)
    return;

  self->open = open;
  if (!open)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

      /* GTK 4.8 leaves the focus on a widget hidden while it has it: typing would go into a
       * panel nobody sees. Whoever showed the panel gives the focus back (the Overlay does). */
      if (focus != NULL &&
          (focus == GTK_WIDGET (self) || gtk_widget_is_ancestor (focus, GTK_WIDGET (self))))
        gtk_root_set_focus (root, NULL);
    }
  gtk_widget_set_visible (GTK_WIDGET (self), open);
  _cx_callback_publish (self, open ? "opened" : "closed", NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
  if (open)
    focus_current (self);
}

/* Refusals */

static int
error_code (const GError *error)
{
  if (error->domain == CX_CALLBACK_ERROR)
    return error->code;
  if (g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_TIMED_OUT) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_NO_SUCH_COMMAND) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_LOAD_FAILED) ||
      g_error_matches (error, CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN))
    return CX_CALLBACK_ERROR_UNAVAILABLE;
  return CX_CALLBACK_ERROR_INTERNAL;
}

/* The refusal in the customer's words; @asap: the request was for as soon as possible. */
char *
_cx_callback_refusal_text (const GError *error, gboolean asap)
{
  switch (error_code (error))
    {
      case CX_CALLBACK_ERROR_OFFICE_CLOSED:
        if (asap)
          return g_strdup (_ ("We are closed now. Choose a time when we are open, and we will "
                              "call you then."));
        return g_strdup (_ ("We are closed at that time. Please choose another time."));

      case CX_CALLBACK_ERROR_SLOT_FULL:
        return g_strdup (_ ("That time has just been fully booked. Please choose another time."));

      case CX_CALLBACK_ERROR_UNAVAILABLE:
        return g_strdup (_ ("The callback service cannot be reached right now. Nothing you "
                            "entered is lost: please try again in a moment."));

      case CX_CALLBACK_ERROR_NOT_FOUND:
        return g_strdup (_ ("This callback is not known to us any more: it may have been "
                            "completed or cancelled already."));

      case CX_CALLBACK_ERROR_INVALID:
        /* Translators: %s says what was refused, from the callback service */
        return g_strdup_printf (_ ("The request was refused: %s"), error->message);

      default:
        /* Translators: %s says why, from the callback service */
        return g_strdup_printf (_ ("Something went wrong: %s"), error->message);
    }
}

void
_cx_callback_publish_error (CxCallback *self, const GError *error)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "message", error->message);
  json_object_set_int_member (object, "code", error_code (error));
  _cx_callback_publish (self, "error", object);
  json_object_unref (object);
}

/* A refused schedule or reschedule: told above the form, which keeps what was typed. */
void
_cx_callback_show_form_refusal (CxCallback *self, const GError *error, gboolean asap)
{
  g_autofree char *text = _cx_callback_refusal_text (error, asap);
  int code = error_code (error);

  _cx_callback_set_message (self->form_error, text);
  _cx_callback_publish_error (self, error);

  if (code == CX_CALLBACK_ERROR_SLOT_FULL)
    {
      /* The full slot shows as such, and the choice goes with it. */
      cx_calendar_generate (self->calendar);
      _cx_callback_focus_widget (self, GTK_WIDGET (self->choose_check));
    }
  else if (code == CX_CALLBACK_ERROR_OFFICE_CLOSED && asap)
    _cx_callback_focus_widget (self, GTK_WIDGET (self->choose_check));
  else if (code == CX_CALLBACK_ERROR_OFFICE_CLOSED)
    _cx_callback_focus_widget (self, GTK_WIDGET (self->calendar));
  else
    _cx_callback_focus_widget (self, GTK_WIDGET (self->submit_button));
}

/* Object */

static void
cx_callback_dispose (GObject *object)
{
  CxCallback *self = CX_CALLBACK (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);

  cx_plugin_leave_bus (&self->plugin);
  g_clear_object (&self->bus);

  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_CALLBACK);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_callback_parent_class)->dispose (object);
}

static void
cx_callback_finalize (GObject *object)
{
  CxCallback *self = CX_CALLBACK (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->callback, json_object_unref);
  g_clear_pointer (&self->user_data, json_object_unref);

  G_OBJECT_CLASS (cx_callback_parent_class)->finalize (object);
}

static void
cx_callback_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxCallback *self = CX_CALLBACK (object);

  switch (prop_id)
    {
      case PROP_OPEN:
        g_value_set_boolean (value, self->open);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_callback_class_init (CxCallbackClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = cx_callback_dispose;
  object_class->finalize = cx_callback_finalize;
  object_class->get_property = cx_callback_get_property;

  properties[PROP_OPEN] = g_param_spec_boolean ("open", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CX_TYPE_CALENDAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-callback.ui");
  gtk_widget_class_bind_template_child (widget_class, CxCallback, title_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, stack);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, form_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, form_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, details_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, first_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, first_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, last_name_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, last_name_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, country_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, phone_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, phone_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, when_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, when_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, asap_check);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, choose_check);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, calendar_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, calendar);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, time_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, back_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, submit_spinner);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, submit_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_box);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_title);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_text);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, reference_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, time_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, number_label);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, confirmation_error);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, cancel_revealer);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, keep_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, reschedule_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CxCallback, done_button);
  gtk_widget_class_bind_template_callback_full (widget_class, "entry_activate_cb",
                                                G_CALLBACK (_cx_callback_entry_activate_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "entry_changed_cb",
                                                G_CALLBACK (_cx_callback_entry_changed_cb));
  gtk_widget_class_bind_template_callback_full (widget_class, "when_toggled_cb",
                                                G_CALLBACK (_cx_callback_when_toggled_cb));

  gtk_widget_class_install_action (widget_class, "callback.submit", NULL,
                                   _cx_callback_submit_activated);
  gtk_widget_class_install_action (widget_class, "callback.back", NULL,
                                   _cx_callback_back_activated);
  gtk_widget_class_install_action (widget_class, "callback.reschedule", NULL,
                                   _cx_callback_reschedule_activated);
  gtk_widget_class_install_action (widget_class, "callback.cancel", NULL,
                                   _cx_callback_cancel_activated);
  gtk_widget_class_install_action (widget_class, "callback.keep", NULL,
                                   _cx_callback_keep_activated);
  gtk_widget_class_install_action (widget_class, "callback.confirm-cancel", NULL,
                                   _cx_callback_confirm_cancel_activated);
  gtk_widget_class_install_action (widget_class, "callback.done", NULL,
                                   _cx_callback_done_activated);
  gtk_widget_class_install_action (widget_class, "callback.close", NULL,
                                   _cx_callback_close_activated);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, _cx_callback_escape_cb, NULL);

  gtk_widget_class_set_css_name (widget_class, "cxcallback");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cx_callback_init (CxCallback *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->pending_time = -1;
  self->hours = 24;
  self->phase = PHASE_CANCELLED; /* so that _cx_callback_set_phase() below sets everything up */

  _cx_callback_setup_countries (self);
  g_signal_connect_object (self->country_dropdown, "notify::selected",
                           G_CALLBACK (_cx_callback_country_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->calendar, "notify::selected-time",
                           G_CALLBACK (_cx_callback_selected_time_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->calendar, "notify::loading",
                           G_CALLBACK (_cx_callback_calendar_loading_cb), self, G_CONNECT_SWAPPED);

  /* Each field is described by its error, when it has one. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->first_name_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->first_name_error,
                                  NULL, -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->last_name_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->last_name_error, NULL,
                                  -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->phone_entry),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->phone_error, NULL,
                                  -1);

  _cx_callback_set_phase (self, PHASE_FORM);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
cx_callback_new (void)
{
  return g_object_new (CX_TYPE_CALLBACK, NULL);
}

typedef struct
{
  const char *event;
  CxEventFunc func;
} Subscription;

static const Subscription subscriptions[] = {
  { SERVICE ".rescheduled", _cx_callback_service_rescheduled_cb },
  { SERVICE ".cancelled", _cx_callback_service_cancelled_cb },
};

static const CxCommandSpec command_specs[] = {
  { "open", _cx_callback_open_command_cb },
  { "close", _cx_callback_close_command_cb },
};

/**
 * cx_callback_attach:
 * @self: the panel
 * @bus: the window's bus
 * @callback_config: (nullable): the configuration's "callback" section: the panel reads
 *   userData (sent with every request) and countryCodes (FALSE hides the country list)
 * @calendar_config: (nullable): its "calendar" section, for the "Calendar"
 * @error: return location for a #GError
 *
 * Registers the "Callback" and "Calendar" plugins on @bus and makes them ready.
 * "CallbackService" may come later: commands to it wait for it.
 *
 * Returns: %TRUE, or %FALSE with @error set (a name is taken on @bus)
 */
gboolean
cx_callback_attach (CxCallback *self, CxBus *bus, JsonObject *callback_config,
                    JsonObject *calendar_config, GError **error)
{
  CxPlugin *plugin;
  JsonNode *node;

  g_return_val_if_fail (CX_IS_CALLBACK (self), FALSE);
  g_return_val_if_fail (CX_IS_BUS (bus), FALSE);
  g_return_val_if_fail (self->plugin == NULL, FALSE);

  node = callback_config != NULL ? json_object_get_member (callback_config, "userData") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    self->user_data = json_object_ref (json_node_get_object (node));
  node = callback_config != NULL ? json_object_get_member (callback_config, "countryCodes") : NULL;
  if (node != NULL && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    gtk_widget_set_visible (GTK_WIDGET (self->country_dropdown), json_node_get_boolean (node));

  self->plugin = cx_bus_register_plugin_with_table (
      bus, CX_CALLBACK_NAME, event_names, command_specs, G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return FALSE;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);
  for (guint i = 0; i < G_N_ELEMENTS (subscriptions); i++)
    cx_plugin_subscribe (plugin, subscriptions[i].event, subscriptions[i].func, self, NULL);

  if (!cx_calendar_attach (self->calendar, bus, calendar_config, error))
    return FALSE;

  cx_plugin_ready (plugin);
  return TRUE;
}

/**
 * cx_callback_get_plugin:
 *
 * Returns: (transfer none) (nullable): the "Callback" plugin, once attached
 */
CxPlugin *
cx_callback_get_plugin (CxCallback *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK (self), NULL);

  return self->plugin;
}

gboolean
cx_callback_get_open (CxCallback *self)
{
  g_return_val_if_fail (CX_IS_CALLBACK (self), FALSE);

  return self->open;
}

/* 12 or 24 (main.timeFormat), for the times shown. */
void
cx_callback_set_time_format (CxCallback *self, guint hours)
{
  g_return_if_fail (CX_IS_CALLBACK (self));

  self->hours = hours == 12 ? 12 : 24;
  cx_calendar_set_time_format (self->calendar, self->hours);
  if (self->callback != NULL)
    {
      g_autofree char *title = g_strdup (gtk_label_get_text (self->confirmation_title));
      g_autofree char *text = g_strdup (gtk_label_get_text (self->confirmation_text));

      _cx_callback_show_confirmation (self, title, text);
    }
}
