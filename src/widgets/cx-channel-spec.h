/* cx-channel-spec.h: CxChannelSpec, one contact channel of a site's configuration, as the
 * ChannelSelector and the SideBar both read it (see cx-channel-selector.h for the settings).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

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

G_END_DECLS
