/* cx-stats-service.h: CxStatsService, the "StatsService" plugin of one window's bus: estimated
 * wait times of queues (reference §2, §7), on demand and by polling, and the rule the
 * ChannelSelector applies to them (Available / "N min" / Unavailable).
 *
 * Commands (JSON data → result):
 *   getStats {group: "EWT" (the default, and the only group), vqName: a queue or a list of
 *     queues} → {ewt: {queue: seconds}}; -1 means unknown (nobody who serves it is signed in)
 *   startPolling {queues: [...]} → null: polls those queues now and every pollInterval ms
 *     (replacing what was polled before); stopPolling → null
 * Events: updated {ewt: {queue: seconds}} after a poll, the first one after startPolling and
 *   the first one after an outage always, the others only when a value changed; error {message}
 *   once when polls start failing (not again until one has succeeded).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

/* The namespace the service registers on its bus. */
#define CX_STATS_SERVICE_NAME "StatsService"

/* The ChannelSelector's default thresholds (reference §2), in seconds. */
#define CX_STATS_THRESHOLD_MIN_DEFAULT 300
#define CX_STATS_THRESHOLD_MAX_DEFAULT 480

/**
 * CxChannelAvailability:
 * @CX_CHANNEL_AVAILABLE: the wait is at most the lower threshold: "Available"
 * @CX_CHANNEL_BUSY: the wait is over the lower threshold and at most the upper one: "N min"
 * @CX_CHANNEL_UNAVAILABLE: the wait is over the upper threshold, or unknown: "Unavailable"
 *   (a channel with hideChannelWhenThresholdMax is hidden)
 */
typedef enum
{
  CX_CHANNEL_AVAILABLE,
  CX_CHANNEL_BUSY,
  CX_CHANNEL_UNAVAILABLE,
} CxChannelAvailability;

CxChannelAvailability cx_stats_availability (gint64 ewt_seconds, guint threshold_min_s,
                                             guint threshold_max_s, guint *minutes_out);

#define CX_TYPE_STATS_SERVICE (cx_stats_service_get_type ())

G_DECLARE_FINAL_TYPE (CxStatsService, cx_stats_service, CX, STATS_SERVICE, GObject)

CxStatsService *cx_stats_service_new (CxBus *bus, CxHttp *http, JsonObject *config, GError **error);

CxPlugin *cx_stats_service_get_plugin (CxStatsService *self);
guint cx_stats_service_get_poll_interval (CxStatsService *self);
gboolean cx_stats_service_get_polling (CxStatsService *self);

G_END_DECLS
