/* cx-command.h: one command call, as its handler sees it: {time, commander, command, data}. */
#pragma once

#include <gio/gio.h>

#include "bus/cx-bus-types.h"

G_BEGIN_DECLS

#define CX_TYPE_COMMAND (cx_command_get_type ())

G_DECLARE_FINAL_TYPE (CxCommand, cx_command, CX, COMMAND, GObject)

gint64 cx_command_get_time (CxCommand *self);
const char *cx_command_get_commander (CxCommand *self);
const char *cx_command_get_name (CxCommand *self);
const char *cx_command_get_namespace (CxCommand *self);
const char *cx_command_get_short_name (CxCommand *self);
JsonNode *cx_command_get_data (CxCommand *self);
GCancellable *cx_command_get_cancellable (CxCommand *self);
gboolean cx_command_is_done (CxCommand *self);

void cx_command_resolve (CxCommand *self, JsonNode *result);
void cx_command_reject (CxCommand *self, GError *error);
void cx_command_reject_message (CxCommand *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
