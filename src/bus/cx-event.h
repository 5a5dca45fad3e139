/* cx-event.h: the payload every subscriber receives, {time, publisher, event, data}. */
#pragma once

#include "bus/cx-bus-types.h"

G_BEGIN_DECLS

#define CX_TYPE_EVENT (cx_event_get_type ())

/**
 * CxEvent:
 * @time: wall-clock time of the publication, in microseconds (g_get_real_time())
 * @publisher: namespace of the publishing plugin
 * @event: full event name, "Namespace.event"
 * @data: (nullable): what was published
 *
 * Read-only for subscribers. Reference counted.
 */
struct _CxEvent
{
  gint64 time;
  const char *publisher;
  const char *event;
  JsonNode *data;
};

GType cx_event_get_type (void) G_GNUC_CONST;
CxEvent *cx_event_new (const char *publisher, const char *event, JsonNode *data);
CxEvent *cx_event_ref (const CxEvent *event);
void cx_event_unref (CxEvent *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxEvent, cx_event_unref)

G_END_DECLS
