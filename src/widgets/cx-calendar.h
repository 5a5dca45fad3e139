/* cx-calendar.h: CxCalendar, the "Calendar" UI plugin: the days ahead across the top, the free
 * callback times of the chosen day as buttons below. It asks "CallbackService.availability"
 * for the free slots and publishes the one the user picks.
 *
 * Configuration (the "calendar" section; every member optional):
 *   numberOfDays (1-30, default 5), openTime and closeTime ("HH:MM", local: only the times
 *   from openTime to before closeTime are offered), interval (minutes: only times at a whole
 *   number of intervals after openTime, or after midnight, are offered),
 *   hideUnavailableTimeSlots (a full slot is hidden instead of shown disabled).
 *
 * Commands (JSON data → result):
 *   generate {numberOfDays?} → {slots: n}: asks for the free slots and shows them
 *   reset → null: forgets the slots and the choice
 *   showAvailability {slots: [{time, capacity}]} → null: shows those slots, asking nothing
 * Events: generated {days: [ISO-8601 date], slots: n}, selectedDateTime {date: ISO-8601 UTC}.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

#define CX_CALENDAR_NAME "Calendar"

#define CX_TYPE_CALENDAR (cx_calendar_get_type ())

G_DECLARE_FINAL_TYPE (CxCalendar, cx_calendar, CX, CALENDAR, GtkWidget)

GtkWidget *cx_calendar_new (void);
gboolean cx_calendar_attach (CxCalendar *self, CxBus *bus, JsonObject *config, GError **error);
CxPlugin *cx_calendar_get_plugin (CxCalendar *self);

void cx_calendar_set_time_format (CxCalendar *self, guint hours);
void cx_calendar_generate (CxCalendar *self);
void cx_calendar_reset (CxCalendar *self);
gboolean cx_calendar_get_loading (CxCalendar *self);
/* Milliseconds since the epoch, or -1 when nothing is chosen. Property "selected-time". */
gint64 cx_calendar_get_selected_time (CxCalendar *self);
gboolean cx_calendar_select_time (CxCalendar *self, gint64 ms);

/* The local-time text of @ms for people ("Tuesday 3 December, 14:30"); @hours is 12 or 24. */
char *cx_calendar_format_time (gint64 ms, guint hours);

G_END_DECLS
