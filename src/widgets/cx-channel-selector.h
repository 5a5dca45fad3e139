/* cx-channel-selector.h: CxChannelSelector, the "ChannelSelector" UI plugin of one window's bus
 * (reference §2, §7): the "Contact Us" form listing the ways to reach the contact center (chat,
 * callback, ...), each with the state of its queue from the estimated wait time ("Available",
 * "N min", "Unavailable"), refreshed through "StatsService" while the selector is open. Driven
 * only through the bus; the window shows it in a modal overlay while it is open.
 *
 * Commands (JSON data → result):
 *   open → null (and polls the wait times of the channels' queues while open); rejects
 *     "already opened"
 *   close → null (stops polling)
 *   enableStats → null: wait times are shown (the default), and polled while open
 *   disableStats → null: wait times are neither asked for nor shown; every channel is offered
 *   displayStats → {channels: [{name, queue, ewt, availability, minutes}]}: asks for the wait
 *     times now (open or not) and shows them; availability is "available", "busy",
 *     "unavailable" or "unknown" (the wait time could not be had); rejects when disabled
 * Events: ready, opened, closed.
 *
 * Configuration ("channelselector"): {channels: [{name, displayName, icon, clickCommand,
 *   clickOptions, ewt: {display, queue, availabilityThresholdMin (s, 300),
 *   availabilityThresholdMax (s, 480), hideChannelWhenThresholdMax}}]}; without channels, Chat
 *   (WebChat.open) and Receive a Call (Callback.open) on the queue "customer-support".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "widgets/cx-channel-spec.h"

G_BEGIN_DECLS

/* The namespace the selector registers on its bus. */
#define CX_CHANNEL_SELECTOR_NAME "ChannelSelector"

#define CX_TYPE_CHANNEL_SELECTOR (cx_channel_selector_get_type ())

G_DECLARE_FINAL_TYPE (CxChannelSelector, cx_channel_selector, CX, CHANNEL_SELECTOR, GtkWidget)

GtkWidget *cx_channel_selector_new (void);
gboolean cx_channel_selector_attach (CxChannelSelector *self, CxBus *bus, JsonObject *config,
                                     GError **error);
CxPlugin *cx_channel_selector_get_plugin (CxChannelSelector *self);
gboolean cx_channel_selector_get_open (CxChannelSelector *self);

G_END_DECLS
