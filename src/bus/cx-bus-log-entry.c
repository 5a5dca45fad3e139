/* cx-bus-log-entry.c: one traced event or command, kept in the bus's ring buffer. */
#define G_LOG_DOMAIN "cx-bus"

#include "config.h"

#include "bus/cx-bus-log-entry.h"

struct _CxBusLogEntry
{
  GObject parent_instance;

  CxBusLogKind kind;
  gint64 time;
  gint64 duration;
  char *origin;
  char *name;
  char *data;
  char *outcome;
};

G_DEFINE_FINAL_TYPE (CxBusLogEntry, cx_bus_log_entry, G_TYPE_OBJECT)

static void
cx_bus_log_entry_finalize (GObject *object)
{
  CxBusLogEntry *self = CX_BUS_LOG_ENTRY (object);

  g_free (self->origin);
  g_free (self->name);
  g_free (self->data);
  g_free (self->outcome);

  G_OBJECT_CLASS (cx_bus_log_entry_parent_class)->finalize (object);
}

static void
cx_bus_log_entry_class_init (CxBusLogEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cx_bus_log_entry_finalize;
}

static void
cx_bus_log_entry_init (CxBusLogEntry *self)
{
}

/**
 * cx_bus_log_entry_new:
 * @kind: event or command
 * @time: when it was published or called (real time, µs)
 * @origin: publisher or commander
 * @name: full event or command name
 * @data: the data as JSON text
 * @duration_us: how long delivery or resolution took
 * @outcome: "delivered", "resolved" or "rejected: …"
 */
CxBusLogEntry *
cx_bus_log_entry_new (CxBusLogKind kind, gint64 time, const char *origin, const char *name,
                      const char *data, gint64 duration_us, const char *outcome)
{
  CxBusLogEntry *self = g_object_new (CX_TYPE_BUS_LOG_ENTRY, NULL);

  self->kind = kind;
  self->time = time;
  self->origin = g_strdup (origin);
  self->name = g_strdup (name);
  self->data = g_strdup (data);
  self->duration = duration_us;
  self->outcome = g_strdup (outcome);

  return self;
}

CxBusLogKind
cx_bus_log_entry_get_kind (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), CX_BUS_LOG_EVENT);
  return self->kind;
}

gint64
cx_bus_log_entry_get_time (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), 0);
  return self->time;
}

const char *
cx_bus_log_entry_get_origin (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), NULL);
  return self->origin;
}

const char *
cx_bus_log_entry_get_name (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), NULL);
  return self->name;
}

const char *
cx_bus_log_entry_get_data (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), NULL);
  return self->data;
}

gint64
cx_bus_log_entry_get_duration (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), 0);
  return self->duration;
}

const char *
cx_bus_log_entry_get_outcome (CxBusLogEntry *self)
{
  g_return_val_if_fail (CX_IS_BUS_LOG_ENTRY (self), NULL);
  return self->outcome;
}
