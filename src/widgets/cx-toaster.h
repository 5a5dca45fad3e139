/* cx-toaster.h: CxToaster, the "Toaster" UI plugin of one window's bus: short notices ("toasts")
 * shown at the top of the window's page area, for invitations and errors (reference §2).
 *
 * Commands (JSON data → result):
 *   open {type: "generic" (the default) | "error" | "info", title, body, icon (an icon name),
 *     buttons{primary, secondary} (button labels)} → {id} at once. Text is shown as plain
 *     text, never markup. An error toast stays until it is closed; the others close by
 *     themselves after a while (8 s; the time stands still while the pointer is over the toast
 *     or the keyboard focus is in it).
 *   close {id?} → null. A toast is reserved by the plugin that opened it: only that plugin or
 *     "App" may close it (the others get CX_BUS_ERROR_ACCESS_DENIED). Without an id, closes
 *     every toast of the caller ("App": every toast).
 * Events: ready, opened {id}, closed {id, button: "primary" | "secondary" | null (closed
 *   otherwise: by its close button, by time, or by a close command)}.
 *
 * While the window is not the active one, a toast is also sent as a GNotification of the
 * application (one per toast, withdrawn when the toast closes); its buttons are notification
 * buttons on the application action "app." CX_TOASTER_ACTION, which the toaster adds to the
 * application when it first needs it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* The namespace the toaster registers on its bus. */
#define CX_TOASTER_NAME "Toaster"

/* The application action a notification's buttons activate; its target is
 * (window id, toast id, button): "primary", "secondary", or "" to show the window. */
#define CX_TOASTER_ACTION "toast-button"

/* How long a toast that is not an error stays, in ms. */
#define CX_TOASTER_DEFAULT_TIMEOUT_MS 8000

#define CX_TYPE_TOASTER (cx_toaster_get_type ())

G_DECLARE_FINAL_TYPE (CxToaster, cx_toaster, CX, TOASTER, GtkWidget)

GtkWidget *cx_toaster_new (void);
gboolean cx_toaster_attach (CxToaster *self, CxBus *bus, GError **error);
CxPlugin *cx_toaster_get_plugin (CxToaster *self);

guint cx_toaster_get_timeout (CxToaster *self);
void cx_toaster_set_timeout (CxToaster *self, guint timeout_ms);
guint cx_toaster_get_n_toasts (CxToaster *self);

G_END_DECLS
