/* cx-callback.h: CxCallback, the "Callback" UI plugin of one window's bus: the form to ask for
 * a callback (name, phone number with its country code, subject, as soon as possible or a free
 * slot picked in the "Calendar"), then the booking's confirmation, from which it can be moved or
 * cancelled. Driven only through the bus: commands to "CallbackService", and its events.
 * The panel is form-sized and manages no window: whoever shows it (the site window puts it in
 * a modal overlay while "open" is TRUE) runs Callback.close when the user dismisses it.
 *
 * Commands (JSON data → result):
 *   open {form{firstname, lastname, phoneNumber, subject, desiredTime}} → null; prefills the
 *     form; rejects "already opened" when the panel is open
 *   close → null
 * Events: ready, opened, closed, submitted {form}, started (the callback booked), rescheduled
 *   (the callback), cancelled (the callback), completed (the callback, when the user is done
 *   with the confirmation), error {message, code} (a refused request, shown in the panel).
 *
 * The "Calendar" plugin it registers too (cx-calendar.h): commands generate, reset,
 * showAvailability; events generated, selectedDateTime.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* The namespace the panel registers on its bus. */
#define CX_CALLBACK_NAME "Callback"

#define CX_TYPE_CALLBACK (cx_callback_get_type ())

G_DECLARE_FINAL_TYPE (CxCallback, cx_callback, CX, CALLBACK, GtkWidget)

GtkWidget *cx_callback_new (void);
/* Registers "Callback" and "Calendar" on @bus. @callback_config: the configuration's
 * "callback" section, @calendar_config: its "calendar" section; both nullable. */
gboolean cx_callback_attach (CxCallback *self, CxBus *bus, JsonObject *callback_config,
                             JsonObject *calendar_config, GError **error);
CxPlugin *cx_callback_get_plugin (CxCallback *self);
/* Property "open" (notify): TRUE between Callback.open and Callback.close. */
gboolean cx_callback_get_open (CxCallback *self);
/* 12 or 24 (main.timeFormat): how times are shown, in the panel and its calendar. */
void cx_callback_set_time_format (CxCallback *self, guint hours);

G_END_DECLS
