/* cx-event.c: the {time, publisher, event, data} payload of a publication. */
#define G_LOG_DOMAIN "cx-bus"

#include "config.h"

#include <time.h>

#include "bus/cx-bus-private.h"

G_DEFINE_BOXED_TYPE (CxEvent, cx_event, cx_event_ref, cx_event_unref)

static CxEvent *
event_new (gint64 time, const char *publisher, const char *event_name, JsonNode *data)
{
  CxEventReal *real = g_new0 (CxEventReal, 1);

  real->refcount = 1;
  real->pub.time = time;
  real->pub.publisher = g_intern_string (publisher);
  real->pub.event = g_intern_string (event_name);
  real->pub.data = data ? json_node_ref (data) : NULL;

  return &real->pub;
}

/**
 * cx_event_new:
 * @publisher: a namespace
 * @event: a full event name
 * @data: (nullable): the data, referenced
 *
 * Returns: (transfer full): a new event stamped with the current time
 */
CxEvent *
cx_event_new (const char *publisher, const char *event, JsonNode *data)
{
  g_return_val_if_fail (publisher != NULL, NULL);
  g_return_val_if_fail (event != NULL, NULL);

  return event_new (g_get_real_time (), publisher, event, data);
}

/* The publication time. CXBus stamps events with Date.now(), a millisecond clock; the coarse
 * real-time clock gives that resolution at a fraction of the cost of a precise read, which
 * matters on a path that is otherwise one signal emission. */
static gint64
publication_time (void)
{
#ifdef CLOCK_REALTIME_COARSE
  struct timespec ts;

  if (clock_gettime (CLOCK_REALTIME_COARSE, &ts) == 0)
    return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
#endif
  return g_get_real_time ();
}

void
_cx_event_init_static (CxEventReal *real, const char *publisher, const char *event_name,
                       JsonNode *data)
{
  real->refcount = 0;
  real->pub.time = publication_time ();
  real->pub.publisher = publisher;
  real->pub.event = event_name;
  real->pub.data = data;
}

/**
 * cx_event_ref:
 * @event: an event, as given to a subscriber
 *
 * Returns: (transfer full): a reference, or a heap copy of an event that was only lent
 */
CxEvent *
cx_event_ref (const CxEvent *event)
{
  CxEventReal *real = (CxEventReal *) event;

  g_return_val_if_fail (event != NULL, NULL);

  if (real->refcount == 0)
    return event_new (event->time, event->publisher, event->event, event->data);

  real->refcount++;
  return (CxEvent *) event;
}

void
cx_event_unref (CxEvent *event)
{
  CxEventReal *real = (CxEventReal *) event;

  g_return_if_fail (event != NULL);
  g_return_if_fail (real->refcount > 0);

  if (--real->refcount > 0)
    return;

  g_clear_pointer (&event->data, json_node_unref);
  g_free (real);
}
