/* cx-bus-types.h: forward declarations shared by the bus headers, and the error domain. */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _CxBus CxBus;
typedef struct _CxPlugin CxPlugin;
typedef struct _CxCommand CxCommand;
typedef struct _CxEvent CxEvent;

#define CX_BUS_ERROR (cx_bus_error_quark ())

/**
 * CxBusError:
 * @CX_BUS_ERROR_NAME_TAKEN: a plugin with that namespace is already registered
 * @CX_BUS_ERROR_INVALID_NAME: a plugin, event or command name is not valid
 * @CX_BUS_ERROR_REGISTRATION_LOCKED: registration is locked by the application
 * @CX_BUS_ERROR_NO_SUCH_COMMAND: "Command does not exist"
 * @CX_BUS_ERROR_LOAD_FAILED: "Could not load plugin"
 * @CX_BUS_ERROR_CANCELLED_BY_HOOK: a before-hook vetoed the command
 * @CX_BUS_ERROR_TIMED_OUT: the command was not resolved within its timeout
 * @CX_BUS_ERROR_REJECTED: the command's handler rejected it
 * @CX_BUS_ERROR_ACCESS_DENIED: the handler refused this commander (private command)
 * @CX_BUS_ERROR_NOT_OWNER: a plugin tried to publish or register in another's namespace
 * @CX_BUS_ERROR_EXISTS: a command or factory of that name is already registered
 * @CX_BUS_ERROR_SHUT_DOWN: the bus went away before the command was resolved
 */
typedef enum
{
  CX_BUS_ERROR_NAME_TAKEN,
  CX_BUS_ERROR_INVALID_NAME,
  CX_BUS_ERROR_REGISTRATION_LOCKED,
  CX_BUS_ERROR_NO_SUCH_COMMAND,
  CX_BUS_ERROR_LOAD_FAILED,
  CX_BUS_ERROR_CANCELLED_BY_HOOK,
  CX_BUS_ERROR_TIMED_OUT,
  CX_BUS_ERROR_REJECTED,
  CX_BUS_ERROR_ACCESS_DENIED,
  CX_BUS_ERROR_NOT_OWNER,
  CX_BUS_ERROR_EXISTS,
  CX_BUS_ERROR_SHUT_DOWN,
} CxBusError;

GQuark cx_bus_error_quark (void);

/**
 * CxEventFunc:
 * @bus: the bus
 * @event: the payload, valid for the call only (use cx_event_ref() to keep it)
 * @user_data: data given at subscription
 *
 * A subscriber. Its signature is that of the bus's #CxBus::event signal handlers.
 */
typedef void (*CxEventFunc) (CxBus *bus, const CxEvent *event, gpointer user_data);

/**
 * CxCommandFunc:
 * @plugin: the plugin that owns the command
 * @command: the call; resolve or reject it, now or later (keep a reference)
 * @user_data: data given at registration
 */
typedef void (*CxCommandFunc) (CxPlugin *plugin, CxCommand *command, gpointer user_data);

/**
 * CxBeforeFunc:
 * @command: the call about to run
 * @data: (nullable): the data the call carries now
 * @user_data: data given at registration
 *
 * A before-hook. Returns: (transfer full) (nullable): the data to run the command with
 * (return a new reference to @data to leave it as it is), or %NULL to veto the command.
 */
typedef JsonNode *(*CxBeforeFunc) (CxCommand *command, JsonNode *data, gpointer user_data);

/**
 * CxPluginFactory:
 * @bus: the bus
 * @name: the namespace to create
 * @user_data: data given at registration
 * @error: where to put an error
 *
 * Creates a plugin on first use: it must register @name with cx_bus_register_plugin(),
 * register its commands and events, and call cx_plugin_ready() when it is (now or later).
 * Returns: (transfer none): the plugin, or %NULL with @error set.
 */
typedef CxPlugin *(*CxPluginFactory) (CxBus *bus, const char *name, gpointer user_data,
                                      GError **error);

G_END_DECLS
