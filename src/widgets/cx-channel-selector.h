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

G_BEGIN_DECLS

/* The namespace the selector registers on its bus. */
#define CX_CHANNEL_SELECTOR_NAME "ChannelSelector"

#define CX_TYPE_CHANNEL_SELECTOR (cx_channel_selector_get_type ())

/**
 * CxChannelSpec:
 * @name: the channel's id (unique in its list)
 * @display_name: what the customer reads
 * @icon_name: a themed icon name (the Widgets' icon names, "chat", "call-outgoing", "email",
 *   ..., are mapped to the theme's)
 * @click_command: "Namespace.command", run on the bus when the channel is chosen
 * @click_options: (nullable): its data
 * @ewt_display: whether the channel shows its wait
 * @ewt_queue: (nullable): the queue whose wait it shows
 * @threshold_min: availabilityThresholdMin, seconds
 * @threshold_max: availabilityThresholdMax, seconds
 * @hide_at_max: hideChannelWhenThresholdMax
 *
 * One channel of the configuration, as the ChannelSelector and the SideBar read it.
 */
typedef struct
{
  char *name;
  char *display_name;
  char *icon_name;
  char *click_command;
  JsonNode *click_options;
  gboolean ewt_display;
  char *ewt_queue;
  guint threshold_min;
  guint threshold_max;
  gboolean hide_at_max;
} CxChannelSpec;

CxChannelSpec *cx_channel_spec_new_from_json (JsonNode *node, GError **error);
void cx_channel_spec_free (CxChannelSpec *spec);
GPtrArray *cx_channel_spec_list_from_config (JsonObject *config, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxChannelSpec, cx_channel_spec_free)

G_DECLARE_FINAL_TYPE (CxChannelSelector, cx_channel_selector, CX, CHANNEL_SELECTOR, GtkWidget)

GtkWidget *cx_channel_selector_new (void);
gboolean cx_channel_selector_attach (CxChannelSelector *self, CxBus *bus, JsonObject *config,
                                     GError **error);
CxPlugin *cx_channel_selector_get_plugin (CxChannelSelector *self);
gboolean cx_channel_selector_get_open (CxChannelSelector *self);

G_END_DECLS
