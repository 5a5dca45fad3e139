/* cx-overlay.h: CxOverlay, the "Overlay" UI plugin of one window's bus: shows one form at a
 * time as a modal layer over the window's page (reference §2). While it shows one, the page
 * underneath is dimmed and can take neither the pointer nor the keyboard focus; the focus moves
 * into the form, and comes back to where it was when the form goes.
 *
 * The window presents its panels (Callback, ChannelSelector) with cx_overlay_present(). The
 * user dismisses the form with Escape or a click on the dimmed page, unless it was made
 * immutable; the "dismissed" signal then tells the window, which closes the panel.
 *
 * Commands (JSON data → result):
 *   open → null: shows the layer (over what it holds); close → null: dismisses it (as the
 *   user does; a caller other than the one who opened it or "App" is refused while it is open);
 *   back → null: dismisses the form the way Escape does (refused while immutable);
 *   immutable → null: Escape and a click on the backdrop do nothing; mutable → null: they
 *   dismiss again.
 * Events: ready, opened, closed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* The namespace the overlay registers on its bus. */
#define CX_OVERLAY_NAME "Overlay"

#define CX_TYPE_OVERLAY (cx_overlay_get_type ())

G_DECLARE_FINAL_TYPE (CxOverlay, cx_overlay, CX, OVERLAY, GtkWidget)

GtkWidget *cx_overlay_new (void);
void cx_overlay_set_child (CxOverlay *self, GtkWidget *child);
GtkWidget *cx_overlay_get_child (CxOverlay *self);
gboolean cx_overlay_attach (CxOverlay *self, CxBus *bus, GError **error);
CxPlugin *cx_overlay_get_plugin (CxOverlay *self);

void cx_overlay_present (CxOverlay *self, GtkWidget *content);
void cx_overlay_dismiss (CxOverlay *self);
GtkWidget *cx_overlay_get_content (CxOverlay *self);
gboolean cx_overlay_get_presented (CxOverlay *self);
gboolean cx_overlay_get_immutable (CxOverlay *self);

G_END_DECLS
