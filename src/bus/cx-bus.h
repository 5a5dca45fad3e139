/* cx-bus.h: CxBus, the CXBus publish/subscribe/command bus on GLib signals. One per window. */
#pragma once

#include <gio/gio.h>

#include "bus/cx-bus-types.h"
#include "bus/cx-bus-log-entry.h"
#include "bus/cx-command.h"
#include "bus/cx-event.h"
#include "bus/cx-plugin.h"

G_BEGIN_DECLS

#define CX_TYPE_BUS (cx_bus_get_type ())

G_DECLARE_FINAL_TYPE (CxBus, cx_bus, CX, BUS, GObject)

/* The commander name of calls made by the application itself (CXBus's page scripts). */
#define CX_BUS_APP_COMMANDER "App"
#define CX_BUS_DEFAULT_TIMEOUT_MS 10000

CxBus *cx_bus_new (void);

CxPlugin *cx_bus_register_plugin (CxBus *self, const char *name, GError **error);
void cx_bus_unregister_plugin (CxBus *self, CxPlugin *plugin);
CxPlugin *cx_bus_lookup_plugin (CxBus *self, const char *name);
gboolean cx_bus_register_factory (CxBus *self, const char *name, CxPluginFactory factory,
                                  gpointer user_data, GDestroyNotify destroy, GError **error);
CxPlugin *cx_bus_load_plugin (CxBus *self, const char *name, GError **error);
guint cx_bus_lock_registration (CxBus *self);
gboolean cx_bus_unlock_registration (CxBus *self, guint key);
gboolean cx_bus_is_registration_locked (CxBus *self);

gulong cx_bus_subscribe (CxBus *self, const char *event, CxEventFunc func, gpointer user_data,
                         GDestroyNotify destroy);
void cx_bus_unsubscribe (CxBus *self, gulong id);

void cx_bus_command_async (CxBus *self, CxPlugin *commander, const char *command, JsonNode *data,
                           guint timeout_ms, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
JsonNode *cx_bus_command_finish (CxBus *self, GAsyncResult *result, GError **error);

guint cx_bus_get_default_timeout (CxBus *self);
void cx_bus_set_default_timeout (CxBus *self, guint timeout_ms);
gboolean cx_bus_get_debug (CxBus *self);
void cx_bus_set_debug (CxBus *self, gboolean debug);
guint cx_bus_get_log_size (CxBus *self);
void cx_bus_set_log_size (CxBus *self, guint size);
GListModel *cx_bus_get_log (CxBus *self);

G_END_DECLS
