/* cx-bus-log-entry.h: one traced event or command, as the Console lists it. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  CX_BUS_LOG_EVENT,
  CX_BUS_LOG_COMMAND,
} CxBusLogKind;

#define CX_TYPE_BUS_LOG_ENTRY (cx_bus_log_entry_get_type ())

G_DECLARE_FINAL_TYPE (CxBusLogEntry, cx_bus_log_entry, CX, BUS_LOG_ENTRY, GObject)

CxBusLogEntry *cx_bus_log_entry_new (CxBusLogKind kind, gint64 time, const char *origin,
                                     const char *name, const char *data, gint64 duration_us,
                                     const char *outcome);
CxBusLogKind cx_bus_log_entry_get_kind (CxBusLogEntry *self);
gint64 cx_bus_log_entry_get_time (CxBusLogEntry *self);
const char *cx_bus_log_entry_get_origin (CxBusLogEntry *self);
const char *cx_bus_log_entry_get_name (CxBusLogEntry *self);
const char *cx_bus_log_entry_get_data (CxBusLogEntry *self);
gint64 cx_bus_log_entry_get_duration (CxBusLogEntry *self);
const char *cx_bus_log_entry_get_outcome (CxBusLogEntry *self);

G_END_DECLS
