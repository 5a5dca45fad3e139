/* cx-stats-service.c: the "StatsService" plugin of one window's bus: estimated wait times from
 * cxdesk-server's `GET /cx/1/ewt?queue=a&queue=b` (API.md), on demand (getStats) and by
 * polling (startPolling), and the ChannelSelector's availability rule.
 *
 * Polling. One poll at a time: the next is armed pollInterval ms after the last one ended, so a
 * slow server is never asked twice at once. "updated" is published after the first poll, after
 * the first poll that succeeds following an outage, and otherwise only when a queue's estimate
 * changed. An outage begins with the first failed poll and publishes "error" then, once; it
 * ends with the next poll that succeeds. startPolling and stopPolling cancel the poll under
 * way, and startPolling begins afresh (its first poll publishes, an outage is forgotten).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-stats-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-agent-api.h"
#include "protocol/cx-protocol.h"
#include "services/cx-service-request.h"
#include "services/cx-stats-service.h"

#define DEFAULT_POLL_INTERVAL_MS 10000
#define MIN_POLL_INTERVAL_MS 1000
#define MAX_POLL_INTERVAL_MS (3600 * 1000)

#define MAX_REPLY_SIZE (256 * 1024)
#define MAX_QUEUES 64
#define QUEUE_MAX_BYTES 256
#define GROUP_EWT "EWT"

struct _CxStatsService
{
  GObject parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  CxHttp *http;
  char *data_url;
  guint poll_interval_ms;
  guint ajax_timeout_ms;

  /* Every request; cancelled in dispose. */
  GCancellable *cancellable;
  gboolean disposed;

  /* Polling */
  GStrv poll_queues;              /* NULL: not polling */
  GCancellable *poll_cancellable; /* the poll under way; cancelled when polling changes */
  guint poll_id;                  /* the next poll */
  JsonNode *last_ewt;             /* what "updated" said last; NULL: say it whatever it is */
  gboolean outage;                /* polls fail, and "error" has been published */
};

G_DEFINE_FINAL_TYPE (CxStatsService, cx_stats_service, G_TYPE_OBJECT)

static const char *const event_names[] = {
  "updated",
  "error",
  NULL,
};

/**
 * cx_stats_availability:
 * @ewt_seconds: an estimated wait time in seconds, -1 (or any negative) when unknown
 * @threshold_min_s: availabilityThresholdMin (%CX_STATS_THRESHOLD_MIN_DEFAULT)
 * @threshold_max_s: availabilityThresholdMax (%CX_STATS_THRESHOLD_MAX_DEFAULT)
 * @minutes_out: (out) (optional): for %CX_CHANNEL_BUSY, the wait in whole minutes, rounded up
 *   (for "N min"); 0 otherwise
 *
 * The ChannelSelector's reading of an estimated wait: available up to @threshold_min_s
 * included, busy above it up to @threshold_max_s included, unavailable above that or when the
 * wait is unknown. With @threshold_max_s at or below @threshold_min_s a channel is never busy.
 *
 * Returns: the channel's availability
 */
CxChannelAvailability
cx_stats_availability (gint64 ewt_seconds, guint threshold_min_s, guint threshold_max_s,
                       guint *minutes_out)
{
  CxChannelAvailability availability;
  guint minutes = 0;

  if (ewt_seconds < 0)
    availability = CX_CHANNEL_UNAVAILABLE;
  else if (ewt_seconds <= threshold_min_s)
    availability = CX_CHANNEL_AVAILABLE;
  else if (ewt_seconds <= threshold_max_s)
    {
      availability = CX_CHANNEL_BUSY;
      /* At most G_MAXUINT seconds here: this cannot overflow. */
      minutes = (guint) ((ewt_seconds + 59) / 60);
    }
  else
    availability = CX_CHANNEL_UNAVAILABLE;

  if (minutes_out != NULL)
    *minutes_out = minutes;

  return availability;
}

/* Small helpers */

static void
publish (CxStatsService *self, const char *event, JsonNode *data)
{
  /* A disposed service is off its bus: it has nothing more to say. */
  if (self->disposed || cx_plugin_get_bus (self->plugin) == NULL)
    return;

  cx_plugin_publish (self->plugin, event, data);
}

static gboolean
valid_queue (const char *name)
{
  if (name[0] == '\0' || strnlen (name, QUEUE_MAX_BYTES + 1) > QUEUE_MAX_BYTES ||
      !g_utf8_validate (name, -1, NULL))
    return FALSE;

  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        return FALSE;
    }

  return TRUE;
}

static void
add_queue (GPtrArray *queues, const char *name)
{
  for (guint i = 0; i < queues->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (queues, i), name))
        return;
    }

  g_ptr_array_add (queues, g_strdup (name));
}

/* The queues of @member (a queue name, or a list of them) as a NULL-terminated list without
 * repeats, in order; NULL with @error. */
static GStrv
read_queues (JsonObject *object, const char *member, GError **error)
{
  g_autoptr (GPtrArray) queues = g_ptr_array_new_with_free_func (g_free);
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;
  JsonArray *array = NULL;
  guint length = 1;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      array = json_node_get_array (node);
      length = json_array_get_length (array);
    }
  else if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
           json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                   _ ("“%s” must be a queue name or a list of them"), member);
      return NULL;
    }

  if (length == 0 || length > MAX_QUEUES)
    {
      g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED, _ ("“%s” must name 1 to %u queues"),
                   member, MAX_QUEUES);
      return NULL;
    }

  for (guint i = 0; i < length; i++)
    {
      JsonNode *element = array != NULL ? json_array_get_element (array, i) : node;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING ||
          !valid_queue (json_node_get_string (element)))
        {
          g_set_error (error, CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                       _ ("“%s” has something that is not a queue name"), member);
          return NULL;
        }
      add_queue (queues, json_node_get_string (element));
    }

  g_ptr_array_add (queues, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&queues), FALSE);
}

/* Fetching estimates */

typedef struct
{
  CxServiceRequest base;
  GStrv queues;
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  cx_service_request_clear (&fetch->base);
  g_strfreev (fetch->queues);
  g_free (fetch);
}

/* {ewt: {queue: seconds}} with exactly @queues, each an integer from -1; NULL with @error. */
static JsonNode *
read_estimates (GBytes *body, const char *const *queues, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree gint64 *seconds = g_new0 (gint64, g_strv_length ((GStrv) queues) + 1);
  const char *data;
  gsize size = 0;

  data = g_bytes_get_data (body, &size);
  root = cx_json_parse (data, size, MAX_REPLY_SIZE, error);
  if (root == NULL || !cx_agent_ewt_parse (root, queues, seconds, error))
    return NULL;

  return cx_agent_ewt_build (queues, seconds);
}

static void
fetch_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  JsonNode *estimates;

  body = cx_http_send_finish (CX_HTTP (source), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  estimates = read_estimates (body, (const char *const *) fetch->queues, &error);
  if (estimates == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, estimates, (GDestroyNotify) json_node_unref);
}

/* GETs dataURL?queue=a&queue=b. The task has no source object: a request does not keep the
 * service alive, and its callback touches nothing when it was cancelled. */
static void
fetch_async (CxStatsService *self, const char *const *queues, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *query = cx_agent_ewt_query_build (queues);
  g_autofree char *url = g_strconcat (self->data_url, *query != '\0' ? "?" : "", query, NULL);
  g_autoptr (GError) error = NULL;
  Fetch *fetch;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, fetch_async);

  fetch = g_new0 (Fetch, 1);
  fetch->queues = g_strdupv ((GStrv) queues);
  g_task_set_task_data (task, fetch, fetch_free);

  /* dataURL parsed at construction, and the queues are escaped. */
  if (!cx_service_request_init (&fetch->base, SOUP_METHOD_GET, url, self->cancellable, NULL,
                                &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The caller's cancellable (the poll's) ends the fetch too. */
  cx_service_request_follow (&fetch->base, cancellable);
  cx_service_request_send (&fetch->base, self->http, self->ajax_timeout_ms, MAX_REPLY_SIZE,
                           fetch_cb, g_steal_pointer (&task));
}

static JsonNode *
fetch_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fetch_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Polling */

static void poll_now (CxStatsService *self);

static gboolean
poll_timeout_cb (gpointer user_data)
{
  CxStatsService *self = user_data;

  self->poll_id = 0;
  poll_now (self);
  return G_SOURCE_REMOVE;
}

static void
poll_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxStatsService *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) estimates = NULL;

  estimates = fetch_finish (result, &error);
  /* Polling stopped or changed, or the service went away: touch nothing. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->poll_cancellable);
  self->poll_id = g_timeout_add (self->poll_interval_ms, poll_timeout_cb, self);
  g_source_set_name_by_id (self->poll_id, "[cx-stats-service] poll");

  if (estimates == NULL)
    {
      g_debug ("Polling the wait times failed: %s", error->message);
      if (!self->outage)
        {
          JsonObject *object = json_object_new ();
          g_autoptr (JsonNode) data = NULL;

          self->outage = TRUE;
          json_object_set_string_member (object, "message", error->message);
          data = cx_json_node_new_object (object);
          publish (self, "error", data);
        }
      return;
    }

  /* After an outage, or the first time, say it even if nothing changed. */
  if (!self->outage && self->last_ewt != NULL && json_node_equal (self->last_ewt, estimates))
    return;

  self->outage = FALSE;
  g_clear_pointer (&self->last_ewt, json_node_unref);
  self->last_ewt = json_node_ref (estimates);
  publish (self, "updated", estimates);
}

static void
poll_now (CxStatsService *self)
{
  g_assert (self->poll_queues != NULL);
  g_assert (self->poll_cancellable == NULL);

  self->poll_cancellable = g_cancellable_new ();
  fetch_async (self, (const char *const *) self->poll_queues, self->poll_cancellable, poll_cb,
               self);
}

static void
stop_polling (CxStatsService *self)
{
  if (self->poll_cancellable != NULL)
    g_cancellable_cancel (self->poll_cancellable);
  g_clear_object (&self->poll_cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->poll_queues, g_strfreev);
  g_clear_pointer (&self->last_ewt, json_node_unref);
  self->outage = FALSE;
}

/* Commands */

static JsonObject *
command_object (CxCommand *command)
{
  JsonNode *data = cx_command_get_data (command);

  return data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
}

static void
get_stats_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (CxCommand) command = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) estimates = NULL;

  /* The command is answered either way; the service itself is not touched. */
  estimates = fetch_finish (result, &error);
  if (estimates == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new_literal (CX_BUS_ERROR, CX_BUS_ERROR_SHUT_DOWN,
                                       _ ("The wait time request was cancelled"));
        }
      cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  cx_command_resolve (command, estimates);
}

static void
get_stats_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxStatsService *self = user_data;
  JsonObject *object = command_object (command);
  g_auto (GStrv) queues = NULL;
  JsonNode *group;
  GError *error = NULL;

  if (object == NULL)
    {
      cx_command_reject_message (command, _ ("getStats needs {group, vqName}"));
      return;
    }

  group = json_object_get_member (object, "group");
  if (group != NULL && !JSON_NODE_HOLDS_NULL (group) &&
      (!JSON_NODE_HOLDS_VALUE (group) || json_node_get_value_type (group) != G_TYPE_STRING ||
       !g_str_equal (json_node_get_string (group), GROUP_EWT)))
    {
      cx_command_reject_message (command, _ ("The only statistics group is “%s”"), GROUP_EWT);
      return;
    }

  queues = read_queues (object, "vqName", &error);
  if (queues == NULL)
    {
      cx_command_reject (command, error);
      return;
    }

  /* Cancelled with the service; the caller's cancellation is the bus's to answer. */
  fetch_async (self, (const char *const *) queues, self->cancellable, get_stats_reply_cb,
               g_object_ref (command));
}

static void
start_polling_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxStatsService *self = user_data;
  g_auto (GStrv) queues = NULL;
  GError *error = NULL;

  queues = read_queues (command_object (command), "queues", &error);
  if (queues == NULL)
    {
      cx_command_reject (command, error);
      return;
    }

  stop_polling (self);
  self->poll_queues = g_steal_pointer (&queues);
  poll_now (self);
  cx_command_resolve (command, NULL);
}

static void
stop_polling_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxStatsService *self = user_data;

  stop_polling (self);
  cx_command_resolve (command, NULL);
}

static const CxCommandSpec command_specs[] = {
  { "getStats", get_stats_cb },
  { "startPolling", start_polling_cb },
  { "stopPolling", stop_polling_cb },
};

/* Configuration */

static gboolean
parse_config (CxStatsService *self, JsonObject *config, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  JsonNode *node;
  const char *data_url = NULL;
  const char *scheme;

  node = config != NULL ? json_object_get_member (config, "dataURL") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    data_url = json_node_get_string (node);
  if (data_url == NULL || data_url[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The statistics settings have no “dataURL”"));
      return FALSE;
    }

  /* The queues go in the query: dataURL cannot have one of its own. */
  uri = g_uri_parse (data_url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The statistics “dataURL” “%s” is not an http:// or https:// address "
                      "without a query"),
                   data_url);
      return FALSE;
    }
  self->data_url = g_uri_to_string (uri);

  return cx_service_config_get_uint (config, "pollInterval", DEFAULT_POLL_INTERVAL_MS,
                                     MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS,
                                     &self->poll_interval_ms, error) &&
         cx_service_config_get_ajax_timeout (config, &self->ajax_timeout_ms, error);
}

/* Object */

static void
cx_stats_service_dispose (GObject *object)
{
  CxStatsService *self = CX_STATS_SERVICE (object);

  self->disposed = TRUE;

  stop_polling (self);
  /* Requests end, and no command reaches the service after this. */
  cx_service_leave_bus (self->cancellable, &self->plugin);
  g_clear_object (&self->bus);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_stats_service_parent_class)->dispose (object);
}

static void
cx_stats_service_finalize (GObject *object)
{
  CxStatsService *self = CX_STATS_SERVICE (object);

  g_clear_object (&self->cancellable);
  g_free (self->data_url);

  G_OBJECT_CLASS (cx_stats_service_parent_class)->finalize (object);
}

static void
cx_stats_service_class_init (CxStatsServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cx_stats_service_dispose;
  object_class->finalize = cx_stats_service_finalize;
}

static void
cx_stats_service_init (CxStatsService *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * cx_stats_service_new:
 * @bus: the window's bus
 * @http: the application's #CxHttp
 * @config: (nullable): the `stats` settings: dataURL (required: the wait time address, e.g.
 *   https://cx.example.com/cx/1/ewt), pollInterval (ms, default 10000, at least 1000),
 *   ajaxTimeout (ms, default 3000)
 * @error: return location for a #GError
 *
 * Registers the "StatsService" plugin on @bus and makes it ready. It polls nothing until
 * startPolling.
 *
 * Returns: (transfer full): the service, or %NULL with @error set (bad configuration, or the
 *   name is taken on @bus)
 */
CxStatsService *
cx_stats_service_new (CxBus *bus, CxHttp *http, JsonObject *config, GError **error)
{
  g_autoptr (CxStatsService) self = NULL;
  CxPlugin *plugin;

  g_return_val_if_fail (CX_IS_BUS (bus), NULL);
  g_return_val_if_fail (CX_IS_HTTP (http), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CX_TYPE_STATS_SERVICE, NULL);
  self->http = g_object_ref (http);

  if (!parse_config (self, config, error))
    return NULL;

  self->plugin =
      cx_bus_register_plugin_with_table (bus, CX_STATS_SERVICE_NAME, event_names, command_specs,
                                         G_N_ELEMENTS (command_specs), self, error);
  if (self->plugin == NULL)
    return NULL;
  plugin = self->plugin;
  self->bus = g_object_ref (bus);

  cx_plugin_ready (plugin);

  return g_steal_pointer (&self);
}

CxPlugin *
cx_stats_service_get_plugin (CxStatsService *self)
{
  g_return_val_if_fail (CX_IS_STATS_SERVICE (self), NULL);

  return self->plugin;
}

guint
cx_stats_service_get_poll_interval (CxStatsService *self)
{
  g_return_val_if_fail (CX_IS_STATS_SERVICE (self), 0);

  return self->poll_interval_ms;
}

/**
 * cx_stats_service_get_polling:
 *
 * Returns: whether startPolling is in effect
 */
gboolean
cx_stats_service_get_polling (CxStatsService *self)
{
  g_return_val_if_fail (CX_IS_STATS_SERVICE (self), FALSE);

  return self->poll_queues != NULL;
}
