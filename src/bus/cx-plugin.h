/* cx-plugin.h: the owner of one namespace on a CxBus (CXBus's plugin interface). */
#pragma once

#include <gio/gio.h>

#include "bus/cx-bus-types.h"

G_BEGIN_DECLS

#define CX_TYPE_PLUGIN (cx_plugin_get_type ())

G_DECLARE_FINAL_TYPE (CxPlugin, cx_plugin, CX, PLUGIN, GObject)

const char *cx_plugin_get_name (CxPlugin *self);
CxBus *cx_plugin_get_bus (CxPlugin *self);
gboolean cx_plugin_is_ready (CxPlugin *self);
void cx_plugin_ready (CxPlugin *self);

gboolean cx_plugin_register_events (CxPlugin *self, const char *const *names, GError **error);
gboolean cx_plugin_register_command (CxPlugin *self, const char *name, CxCommandFunc func,
                                     gpointer user_data, GDestroyNotify destroy, GError **error);
/**
 * CxCommandSpec:
 * @name: the command's short name ("open")
 * @func: its handler
 *
 * One row of a plugin's command table (see cx_bus_register_plugin_with_table()).
 */
typedef struct
{
  const char *name;
  CxCommandFunc func;
} CxCommandSpec;

CxPlugin *cx_bus_register_plugin_with_table (CxBus *bus, const char *name,
                                             const char *const *events,
                                             const CxCommandSpec *commands, gsize n_commands,
                                             gpointer user_data, GError **error);
void cx_plugin_leave_bus (CxPlugin **plugin);
gboolean cx_plugin_publish (CxPlugin *self, const char *event, JsonNode *data);
gboolean cx_plugin_republish (CxPlugin *self, const char *event, JsonNode *data);

gulong cx_plugin_subscribe (CxPlugin *self, const char *event, CxEventFunc func, gpointer user_data,
                            GDestroyNotify destroy);
void cx_plugin_unsubscribe (CxPlugin *self, gulong id);

gulong cx_plugin_before (CxPlugin *self, const char *command, CxBeforeFunc func, gpointer user_data,
                         GDestroyNotify destroy);
void cx_plugin_remove_before (CxPlugin *self, gulong id);

void cx_plugin_command_async (CxPlugin *self, const char *command, JsonNode *data,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
JsonNode *cx_plugin_command_finish (CxPlugin *self, GAsyncResult *result, GError **error);

G_END_DECLS
