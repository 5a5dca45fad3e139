/* cx-callback-booking.c: CxCallback's booking: schedule, and from the confirmation move it to
 * another time or cancel it; starting over; the panel's actions (one request at a time: they
 * are disabled while one is under way), and the service's events for a booking moved or
 * cancelled by a page script.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-callback"

#include "config.h"

#include "widgets/cx-callback-private.h"

/* Booking */

static void
schedule_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  gboolean asap;

  /* The panel went away (its cancellable is cancelled in dispose). */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_SUBMITTING)
    return;

  asap = gtk_check_button_get_active (self->asap_check);
  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      _cx_callback_set_phase (self, PHASE_FORM);
      _cx_callback_show_form_refusal (self, error, asap);
      return;
    }

  _cx_callback_take_callback (self, reply);
  self->booked_asap = asap;
  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_show_confirmation (self, _ ("Callback Booked"),
                                  asap ? _ ("We will call you as soon as we can.")
                                       : _ ("We will call you at the time below."));
  _cx_callback_set_phase (self, PHASE_CONFIRMED);
  _cx_callback_focus_widget (self, self->done_button);
  _cx_callback_publish_callback (self, "started");
}

static void
request_schedule (CxCallback *self)
{
  g_autoptr (JsonObject) form = _cx_callback_validate_form (self);
  JsonObject *request;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (form == NULL)
    return;

  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_set_phase (self, PHASE_SUBMITTING);
  _cx_callback_publish (self, "submitted", form);

  request = json_object_new ();
  json_object_iter_init (&iter, form);
  while (json_object_iter_next (&iter, &name, &value))
    json_object_set_member (request, name, json_node_copy (value));
  if (self->user_data != NULL)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, self->user_data);
      json_object_set_member (request, "userData", json_node_copy (node));
    }
  _cx_callback_command_service (self, "schedule", request, schedule_cb);
}

/* Moving */

static void
reschedule_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_MOVING)
    return;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      _cx_callback_set_phase (self, PHASE_RESCHEDULING);
      _cx_callback_show_form_refusal (self, error, FALSE);
      return;
    }

  _cx_callback_take_callback (self, reply);
  self->booked_asap = FALSE;
  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_show_confirmation (self, _ ("Callback Moved"),
                                  _ ("We will call you at the new time below."));
  _cx_callback_set_phase (self, PHASE_CONFIRMED);
  _cx_callback_focus_widget (self, self->done_button);
  _cx_callback_publish_callback (self, "rescheduled");
}

static void
request_reschedule (CxCallback *self)
{
  gint64 time = cx_calendar_get_selected_time (self->calendar);
  g_autofree char *iso = NULL;
  JsonObject *request;

  if (time < 0)
    {
      _cx_callback_set_field_error (
          NULL, self->time_error,
          cx_calendar_get_loading (self->calendar)
              ? _ ("The free times are still loading: choose one once they show")
              : _ ("Choose a new time in the calendar"));
      gtk_widget_child_focus (GTK_WIDGET (self->calendar), GTK_DIR_TAB_FORWARD);
      return;
    }

  _cx_callback_set_field_error (NULL, self->time_error, NULL);
  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_set_phase (self, PHASE_MOVING);

  iso = cx_iso8601_format (time);
  request = json_object_new ();
  json_object_set_string_member (request, "id", _cx_callback_object_string (self->callback, "id"));
  json_object_set_string_member (request, "desiredTime", iso);
  _cx_callback_command_service (self, "reschedule", request, reschedule_cb);
}

/* Cancelling */

static void
cancel_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxCallback *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (self->phase != PHASE_CANCELLING)
    return;

  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      if (error == NULL)
        error = g_error_new_literal (CX_CALLBACK_ERROR, CX_CALLBACK_ERROR_INTERNAL,
                                     _ ("The callback service gave no booking"));
      _cx_callback_set_phase (self, PHASE_CONFIRMED);
      text = _cx_callback_refusal_text (error, FALSE);
      _cx_callback_set_message (self->confirmation_error, text);
      _cx_callback_publish_error (self, error);
      _cx_callback_focus_widget (self, self->cancel_button);
      return;
    }

  _cx_callback_take_callback (self, reply);
  _cx_callback_show_confirmation (
      self, _ ("Callback Cancelled"),
      _ ("We will not call you. You can ask for another callback at any time."));
  _cx_callback_set_phase (self, PHASE_CANCELLED);
  _cx_callback_focus_widget (self, self->done_button);
  _cx_callback_publish_callback (self, "cancelled");
}

/* Starting over */

static void
reset_form (CxCallback *self)
{
  GtkEntry *entries[] = { self->first_name_entry, self->last_name_entry, self->phone_entry,
                          self->subject_entry };

  g_clear_pointer (&self->callback, json_object_unref);
  self->booked_asap = FALSE;
  self->pending_time = -1;
  _cx_callback_set_phase (self, PHASE_FORM);
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    gtk_editable_set_text (GTK_EDITABLE (entries[i]), "");
  gtk_check_button_set_active (self->asap_check, TRUE);
  /* Shown for a reschedule even when the booking was for as soon as possible. */
  gtk_revealer_set_reveal_child (self->calendar_revealer, FALSE);
  cx_calendar_reset (self->calendar);
  _cx_callback_clear_field_errors (self);
  _cx_callback_set_message (self->form_error, NULL);
}

/* Actions */

void
_cx_callback_submit_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  /* The action is disabled while a request is under way; this guards a queued activation. */
  if (self->phase == PHASE_FORM)
    request_schedule (self);
  else if (self->phase == PHASE_RESCHEDULING)
    request_reschedule (self);
}

void
_cx_callback_back_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_RESCHEDULING)
    return;

  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_set_field_error (NULL, self->time_error, NULL);
  _cx_callback_set_phase (self, PHASE_CONFIRMED);
  _cx_callback_focus_widget (self, self->reschedule_button);
}

void
_cx_callback_reschedule_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  _cx_callback_set_message (self->form_error, NULL);
  _cx_callback_set_field_error (NULL, self->time_error, NULL);
  _cx_callback_set_phase (self, PHASE_RESCHEDULING);
  /* Another time: the free ones now, none chosen yet. */
  gtk_revealer_set_reveal_child (self->calendar_revealer, TRUE);
  cx_calendar_reset (self->calendar);
  cx_calendar_generate (self->calendar);
  _cx_callback_focus_widget (self, GTK_WIDGET (self->submit_button));
}

void
_cx_callback_cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  /* Asked first, in the panel. */
  _cx_callback_set_message (self->confirmation_error, NULL);
  gtk_revealer_set_reveal_child (self->cancel_revealer, TRUE);
  _cx_callback_focus_widget (self, self->keep_button);
}

void
_cx_callback_keep_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase != PHASE_CONFIRMED)
    return;

  _cx_callback_release_focus_from (self, GTK_WIDGET (self->cancel_revealer));
  gtk_revealer_set_reveal_child (self->cancel_revealer, FALSE);
  _cx_callback_focus_widget (self, self->cancel_button);
}

void
_cx_callback_confirm_cancel_activated (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);
  JsonObject *request;

  if (self->phase != PHASE_CONFIRMED || !gtk_revealer_get_reveal_child (self->cancel_revealer))
    return;

  _cx_callback_set_message (self->confirmation_error, NULL);
  _cx_callback_set_phase (self, PHASE_CANCELLING);
  request = json_object_new ();
  json_object_set_string_member (request, "id", _cx_callback_object_string (self->callback, "id"));
  _cx_callback_command_service (self, "cancel", request, cancel_cb);
}

void
_cx_callback_done_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxCallback *self = CX_CALLBACK (widget);
  g_autoptr (JsonObject) copy = NULL;

  if (self->phase != PHASE_CONFIRMED && self->phase != PHASE_CANCELLED)
    return;

  copy = _cx_callback_callback_copy (self);
  reset_form (self);
  _cx_callback_publish (self, "completed", copy);
  _cx_callback_set_open (self, FALSE);
}

void
_cx_callback_close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  /* A request under way goes on: its outcome shows when the panel opens again. */
  _cx_callback_set_open (CX_CALLBACK (widget), FALSE);
}

gboolean
_cx_callback_escape_cb (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  CxCallback *self = CX_CALLBACK (widget);

  if (self->phase == PHASE_CONFIRMED && gtk_revealer_get_reveal_child (self->cancel_revealer))
    gtk_widget_activate_action (widget, "callback.keep", NULL);
  else if (self->phase == PHASE_RESCHEDULING)
    gtk_widget_activate_action (widget, "callback.back", NULL);
  else
    _cx_callback_set_open (self, FALSE);
  return TRUE;
}

/* CallbackService events: the booking moved or cancelled by someone else (a page script). */

static gboolean
is_our_callback (CxCallback *self, const CxEvent *event)
{
  const char *id;

  if (self->callback == NULL || event->data == NULL || !JSON_NODE_HOLDS_OBJECT (event->data))
    return FALSE;
  id = _cx_callback_object_string (json_node_get_object (event->data), "id");
  return id != NULL && g_strcmp0 (id, _cx_callback_object_string (self->callback, "id")) == 0;
}

void
_cx_callback_service_rescheduled_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxCallback *self = user_data;

  /* During the panel's own reschedule, its reply does this. */
  if ((self->phase != PHASE_CONFIRMED && self->phase != PHASE_RESCHEDULING) ||
      !is_our_callback (self, event))
    return;

  _cx_callback_take_callback (self, event->data);
  self->booked_asap = FALSE;
  _cx_callback_show_confirmation (self, _ ("Callback Moved"),
                                  _ ("We will call you at the new time below."));
  if (self->phase == PHASE_RESCHEDULING)
    _cx_callback_set_phase (self, PHASE_CONFIRMED);
}

void
_cx_callback_service_cancelled_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxCallback *self = user_data;

  if ((self->phase != PHASE_CONFIRMED && self->phase != PHASE_RESCHEDULING) ||
      !is_our_callback (self, event))
    return;

  _cx_callback_take_callback (self, event->data);
  _cx_callback_show_confirmation (
      self, _ ("Callback Cancelled"),
      _ ("We will not call you. You can ask for another callback at any time."));
  _cx_callback_set_phase (self, PHASE_CANCELLED);
}
