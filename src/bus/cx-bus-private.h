/* cx-bus-private.h: what CxBus, CxPlugin and CxCommand share inside src/bus, and nowhere else. */
#pragma once

#include "bus/cx-bus.h"

G_BEGIN_DECLS

/* A publication on the stack: refcount 0 means "not on the heap", and cx_event_ref() then
 * copies, so a subscriber may keep any event it is given. */
typedef struct
{
  CxEvent pub;
  int refcount;
} CxEventReal;

/* One registered event of a plugin: its detail quark and interned full name. */
typedef struct
{
  GQuark quark;
  const char *full;
  const char *short_name;
} CxEventInfo;

typedef struct
{
  CxCommandFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} CxCommandEntry;

struct _CxPlugin
{
  GObject parent_instance;

  CxBus *bus;         /* not owned: the bus owns its plugins */
  const char *name;   /* interned */
  GHashTable *events; /* short and full name -> CxEventInfo (owned by event_list) */
  GPtrArray *event_list;
  GHashTable *commands;              /* interned short name -> CxCommandEntry */
  GQueue buffered;                   /* CxCommand (owned) waiting for ready() */
  GArray *subscriptions;             /* gulong handler ids on the bus */
  const CxEventInfo *last_published; /* a one-entry cache for the publish path */
  guint ready : 1;
};

struct _CxCommand
{
  GObject parent_instance;

  CxBus *bus;  /* not owned: the GTask holds the bus until the command completes */
  GTask *task; /* NULL once completed */
  GCancellable *cancellable;
  gulong cancelled_id;
  const char *commander; /* all four interned */
  const char *name;
  const char *ns;
  const char *short_name;
  JsonNode *data;
  gint64 time;     /* real time, µs */
  gint64 started;  /* monotonic, µs */
  gint64 deadline; /* monotonic, µs */
  guint timeout_ms;
  GList link; /* in the bus's pending queue, sorted by deadline */
  guint in_pending : 1;
};

/* cx-event.c */
void _cx_event_init_static (CxEventReal *event, const char *publisher, const char *event_name,
                            JsonNode *data);

/* cx-command.c */
CxCommand *_cx_command_new (CxBus *bus, GTask *task, const char *commander, const char *name,
                            const char *ns, const char *short_name, JsonNode *data,
                            guint timeout_ms);
void _cx_command_set_data (CxCommand *self, JsonNode *data);

/* cx-plugin.c */
CxPlugin *_cx_plugin_new (CxBus *bus, const char *name);
void _cx_plugin_detach (CxPlugin *self);
const CxCommandEntry *_cx_plugin_lookup_command (CxPlugin *self, const char *short_name);

/* cx-bus.c */
gboolean _cx_bus_valid_name (const char *name, gsize len);
void _cx_bus_emit (CxBus *self, CxPlugin *publisher, const CxEventInfo *info, JsonNode *data,
                   gboolean sticky);
void _cx_bus_dispatch (CxBus *self, CxPlugin *plugin, CxCommand *command);
void _cx_bus_command_completed (CxBus *self, CxCommand *command, const GError *error);
gulong _cx_bus_add_before (CxBus *self, CxPlugin *owner, const char *command, CxBeforeFunc func,
                           gpointer user_data, GDestroyNotify destroy);
void _cx_bus_remove_before (CxBus *self, gulong id);
void _cx_bus_remove_befores_of (CxBus *self, CxPlugin *owner);

G_END_DECLS
