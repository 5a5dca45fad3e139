/* cx-callback-private.h: what the files of CxCallback share.
 *
 *   cx-callback.c          the class: the plugin, its commands, opening and closing, the
 *                          phases and what each shows, refusals in the customer's words
 *   cx-callback-form.c     the request form: fields and their errors, the country list and
 *                          the phone number, validation, the calendar's glue, filling it from open
 *   cx-callback-booking.c  the booking and its confirmation: schedule, reschedule, cancel,
 *                          starting over, the panel's actions, the service's own events
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-gms-callback.h"
#include "protocol/cx-protocol.h"
#include "widgets/cx-calendar.h"
#include "widgets/cx-callback.h"

G_BEGIN_DECLS

#define SERVICE "CallbackService"
/* The service answers within its ajaxTimeout; the bus's own timeout is only a backstop. */
#define REQUEST_TIMEOUT_MS (2u * 60 * 1000)

typedef enum
{
  PHASE_FORM,         /* the request form */
  PHASE_SUBMITTING,   /* schedule under way */
  PHASE_CONFIRMED,    /* the booking's confirmation */
  PHASE_RESCHEDULING, /* choosing another time for the booking */
  PHASE_MOVING,       /* reschedule under way */
  PHASE_CANCELLING,   /* cancel under way */
  PHASE_CANCELLED,    /* the booking was cancelled */
} Phase;

typedef struct
{
  const char *name; /* for translation */
  const char *code; /* the calling code, digits */
  const char *iso;  /* ISO 3166 territory, to pick the locale's */
} Country;

#define DEFAULT_COUNTRY "US"

/* The phone country codes offered (cx-callback-form.c). */
#define N_COUNTRIES 54

struct _CxCallback
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;
  JsonObject *user_data; /* callback.userData, nullable */

  gboolean open;
  Phase phase;
  JsonObject *callback; /* the booking, as the service gave it; nullable */
  gboolean booked_asap; /* the booking was for as soon as possible */
  gint64 pending_time;  /* a desiredTime from open, to choose once the calendar has it; -1 */
  guint hours;          /* 12 or 24 */
  guint country_order[N_COUNTRIES]; /* dropdown position → countries[] */

  /* Template children */
  GtkLabel *title_label;
  GtkStack *stack;
  GtkWidget *form_box;
  GtkLabel *form_error;
  GtkWidget *details_box;
  GtkEntry *first_name_entry;
  GtkLabel *first_name_error;
  GtkEntry *last_name_entry;
  GtkLabel *last_name_error;
  GtkDropDown *country_dropdown;
  GtkEntry *phone_entry;
  GtkLabel *phone_error;
  GtkEntry *subject_entry;
  GtkWidget *when_box;
  GtkWidget *when_label;
  GtkCheckButton *asap_check;
  GtkCheckButton *choose_check;
  GtkRevealer *calendar_revealer;
  CxCalendar *calendar;
  GtkLabel *time_error;
  GtkWidget *back_button;
  GtkSpinner *submit_spinner;
  GtkButton *submit_button;
  GtkWidget *confirmation_box;
  GtkLabel *confirmation_title;
  GtkLabel *confirmation_text;
  GtkLabel *reference_label;
  GtkLabel *time_label;
  GtkLabel *number_label;
  GtkLabel *confirmation_error;
  GtkRevealer *cancel_revealer;
  GtkWidget *keep_button;
  GtkWidget *reschedule_button;
  GtkWidget *cancel_button;
  GtkWidget *done_button;
};

void _cx_callback_publish (CxCallback *self, const char *event, JsonObject *object);
const char *_cx_callback_object_string (JsonObject *object, const char *member);
char *_cx_callback_entry_text_stripped (GtkEntry *entry);
void _cx_callback_command_service (CxCallback *self, const char *command, JsonObject *object,
                                   GAsyncReadyCallback callback);
void _cx_callback_release_focus_from (CxCallback *self, GtkWidget *container);
void _cx_callback_focus_widget (CxCallback *self, GtkWidget *widget);
void _cx_callback_update_country_sensitive (CxCallback *self);
void _cx_callback_set_phase (CxCallback *self, Phase phase);
void _cx_callback_show_confirmation (CxCallback *self, const char *title, const char *text);
void _cx_callback_take_callback (CxCallback *self, JsonNode *reply);
JsonObject *_cx_callback_callback_copy (CxCallback *self);
void _cx_callback_publish_callback (CxCallback *self, const char *event);
void _cx_callback_set_open (CxCallback *self, gboolean open);
char *_cx_callback_refusal_text (const GError *error, gboolean asap);
void _cx_callback_publish_error (CxCallback *self, const GError *error);
void _cx_callback_show_form_refusal (CxCallback *self, const GError *error, gboolean asap);
void _cx_callback_set_field_error (GtkWidget *field, GtkLabel *label, const char *error);
void _cx_callback_set_message (GtkLabel *label, const char *text);
void _cx_callback_clear_field_errors (CxCallback *self);
void _cx_callback_setup_countries (CxCallback *self);
JsonObject *_cx_callback_validate_form (CxCallback *self);
void _cx_callback_entry_changed_cb (CxCallback *self, GtkEntry *entry);
void _cx_callback_entry_activate_cb (CxCallback *self, GtkEntry *entry);
void _cx_callback_when_toggled_cb (CxCallback *self, GtkCheckButton *button);
void _cx_callback_country_changed_cb (CxCallback *self);
void _cx_callback_selected_time_cb (CxCallback *self);
void _cx_callback_calendar_loading_cb (CxCallback *self);
void _cx_callback_open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_callback_close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_callback_submit_activated (GtkWidget *widget, const char *action_name,
                                    GVariant *parameter);
void _cx_callback_back_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_callback_reschedule_activated (GtkWidget *widget, const char *action_name,
                                        GVariant *parameter);
void _cx_callback_cancel_activated (GtkWidget *widget, const char *action_name,
                                    GVariant *parameter);
void _cx_callback_keep_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_callback_confirm_cancel_activated (GtkWidget *widget, const char *action_name,
                                            GVariant *parameter);
void _cx_callback_done_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_callback_close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
gboolean _cx_callback_escape_cb (GtkWidget *widget, GVariant *args, gpointer user_data);
void _cx_callback_service_rescheduled_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_callback_service_cancelled_cb (CxBus *bus, const CxEvent *event, gpointer user_data);

G_END_DECLS
