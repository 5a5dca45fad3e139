/* cx-server-config.c: reads and checks cxdesk-server's JSON configuration. A mistake in it is
 * an error at startup that names the key, never a surprise later. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include <stdio.h>

#include <glib/gi18n-lib.h>

#include "server/cx-server-config.h"

/* The configuration without --config: a demo contact center with one agent, demo / demo,
 * taking callbacks around the clock so that the demo works whenever it is run. */
static const char default_config[] =
    "{"
    "  \"services\": {"
    "    \"customer-support\": { \"displayName\": \"Customer support\" },"
    "    \"sales\": { \"displayName\": \"Sales\" }"
    "  },"
    "  \"agents\": ["
    "    { \"username\": \"demo\", \"displayName\": \"Dana Demo\","
    "      \"password\": \"$5$7C65IJPXU0RSJG4E$4yl.7l39065K7EVovdpC5EammYPqTVlDpqDXT9b7VMB\","
    "      \"capacity\": 3, \"queues\": [\"customer-support\", \"sales\"] }"
    "  ],"
    "  \"callback\": { \"services\": [\"customer-support\"], \"timezone\": \"UTC\","
    "    \"officeHours\": { \"open\": \"00:00\", \"close\": \"24:00\", \"days\": [1,2,3,4,5,6,7] },"
    "    \"slotMinutes\": 30, \"slotCapacity\": 2 },"
    "  \"canned\": ["
    "    { \"id\": \"hello\", \"title\": \"Greeting\", \"text\": \"Hello! How can I help you "
    "today?\" },"
    "    { \"id\": \"moment\", \"title\": \"One moment\","
    "      \"text\": \"Thank you, one moment while I look into that.\" },"
    "    { \"id\": \"bye\", \"title\": \"Goodbye\","
    "      \"text\": \"Is there anything else I can help you with?\" }"
    "  ]"
    "}";

static void
service_free (gpointer data)
{
  CxServiceConfig *service = data;

  g_free (service->name);
  g_free (service->display_name);
  g_free (service);
}

static void
canned_free (gpointer data)
{
  CxCannedResponse *canned = data;

  g_free (canned->id);
  g_free (canned->title);
  g_free (canned->text);
  g_free (canned);
}

void
cx_server_config_free (CxServerConfig *config)
{
  if (config == NULL)
    return;

  g_ptr_array_unref (config->services);
  g_ptr_array_unref (config->agents);
  g_ptr_array_unref (config->canned);
  g_strfreev (config->callback_services);
  g_clear_pointer (&config->callback_timezone, g_time_zone_unref);
  g_strfreev (config->file_types);
  g_strfreev (config->agent_origins); /* access rules */
  g_free (config);
}

/* Customer limits (issue 9 items 5 and 6): defaults, then "limits" keys. */
static void
customer_limits_init_default (CxServerConfig *config)
{
  config->notices_per_minute = 30;
  config->typing_per_minute = 300;
  config->updates_per_minute = 30;
  config->uploads_per_minute = 10;
  config->chat_starts_per_minute = 20;
  config->user_data_max_keys = 64;
  config->user_data_max_key_bytes = 128;
  config->user_data_max_value_bytes = 4096;
  config->user_data_max_total_bytes = 32 * 1024;
  /* Co-browse (issue 11, cx-server-cobrowse.c) */
  config->cobrowse_code_seconds = 20 * 60;
  config->cobrowse_starts_per_minute = 10;
  config->cobrowse_frame_max_bytes = 1024 * 1024;
  config->cobrowse_bytes_per_second = 1024 * 1024;
  config->cobrowse_frames_per_second = 100;
}

static gboolean get_uint (JsonObject *object, const char *member, const char *key, guint64 min,
                          guint64 max, guint64 *out, GError **error);

static gboolean
parse_customer_limits (CxServerConfig *config, JsonNode *node, GError **error)
{
  struct
  {
    const char *member;
    const char *key;
    guint64 min, max;
    guint *field;
  } keys[] = {
    { "noticesPerMinute", "limits.noticesPerMinute", 1, 1000000, &config->notices_per_minute },
    { "typingPerMinute", "limits.typingPerMinute", 1, 1000000, &config->typing_per_minute },
    { "updateDataPerMinute", "limits.updateDataPerMinute", 1, 1000000,
      &config->updates_per_minute },
    { "uploadsPerMinute", "limits.uploadsPerMinute", 1, 1000000, &config->uploads_per_minute },
    { "chatStartsPerMinute", "limits.chatStartsPerMinute", 1, 1000000,
      &config->chat_starts_per_minute },
    { "userDataMaxKeys", "limits.userDataMaxKeys", 1, 100000, &config->user_data_max_keys },
    { "userDataMaxKeyBytes", "limits.userDataMaxKeyBytes", 1, 1024 * 1024,
      &config->user_data_max_key_bytes },
    { "userDataMaxValueBytes", "limits.userDataMaxValueBytes", 1, 16 * 1024 * 1024,
      &config->user_data_max_value_bytes },
    { "userDataMaxTotalBytes", "limits.userDataMaxTotalBytes", 2, 64 * 1024 * 1024,
      &config->user_data_max_total_bytes },
    { "cobrowseCodeSeconds", "limits.cobrowseCodeSeconds", 1, 24 * 3600,
      &config->cobrowse_code_seconds },
    { "cobrowseStartsPerMinute", "limits.cobrowseStartsPerMinute", 1, 1000000,
      &config->cobrowse_starts_per_minute },
    { "cobrowseFrameMaxBytes", "limits.cobrowseFrameMaxBytes", 1024, 1024 * 1024,
      &config->cobrowse_frame_max_bytes },
    { "cobrowseBytesPerSecond", "limits.cobrowseBytesPerSecond", 1024, 64 * 1024 * 1024,
      &config->cobrowse_bytes_per_second },
    { "cobrowseFramesPerSecond", "limits.cobrowseFramesPerSecond", 1, 100000,
      &config->cobrowse_frames_per_second },
  };

  /* parse_limits has said whether "limits" is an object. */
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint64 value = *keys[i].field;

      if (!get_uint (json_node_get_object (node), keys[i].member, keys[i].key, keys[i].min,
                     keys[i].max, &value, error))
        return FALSE;
      *keys[i].field = value;
    }
  return TRUE;
}

static CxServerConfig *
config_new_empty (void)
{
  CxServerConfig *config = g_new0 (CxServerConfig, 1);

  config->services = g_ptr_array_new_with_free_func (service_free);
  config->agents = g_ptr_array_new_with_free_func ((GDestroyNotify) cx_agent_free);
  config->canned = g_ptr_array_new_with_free_func (canned_free);
  config->callback_services = g_new0 (char *, 1);
  config->callback_timezone = g_time_zone_new_utc ();
  config->open_minute = 9 * 60;
  config->close_minute = 17 * 60;
  config->open_days = 0x3e; /* Monday to Friday */
  config->slot_minutes = 30;
  config->slot_capacity = 2;
  config->max_files = 10;
  config->max_file_size = 5 * 1024 * 1024;
  config->max_total_size = 20 * 1024 * 1024;
  config->file_types = g_strsplit ("png jpg jpeg gif pdf txt", " ", -1);
  config->max_body_bytes = 1024 * 1024;
  config->max_message_length = 4096;
  config->messages_per_minute = 60;
  config->invitation_timeout_s = 20;
  customer_limits_init_default (config);

  /* Access rules (issue 9): closed callbacks, own origin only, sign-in backoff, grace. */
  config->callback_open_access = FALSE;
  config->agent_origins = g_new0 (char *, 1);
  config->sign_in_free_failures = 5;
  config->sign_in_max_delay_s = 60;
  config->agent_grace_s = 30;
  /* Connections (parse_net_limits) */
  config->max_connections = 0;
  config->header_timeout_s = 20;
  config->idle_timeout_s = 60;
  config->body_timeout_s = 60;
  config->max_header_bytes = 16 * 1024;
  config->max_url_bytes = 8 * 1024;

  return config;
}

static gboolean
fail (GError **error, const char *key, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("Configuration: “%s” %s"), key, what);
  return FALSE;
}

static gboolean
get_string (JsonObject *object, const char *member, const char *key, gboolean required, char **out,
            GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return required ? fail (error, key, _ ("is missing")) : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
      *json_node_get_string (node) == '\0')
    return fail (error, key, _ ("must be a non-empty string"));

  g_free (*out);
  *out = json_node_dup_string (node);
  return TRUE;
}

static gboolean
get_uint (JsonObject *object, const char *member, const char *key, guint64 min, guint64 max,
          guint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fail (error, key, _ ("must be a whole number"));

  value = json_node_get_int (node);
  if (value < 0 || (guint64) value < min || (guint64) value > max)
    {
      g_autofree char *what = g_strdup_printf (_ ("must be between %llu and %llu"),
                                               (unsigned long long) min, (unsigned long long) max);
      return fail (error, key, what);
    }

  *out = value;
  return TRUE;
}

static gboolean
get_string_list (JsonObject *object, const char *member, const char *key, char ***out,
                 GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr (GStrvBuilder) builder = NULL;
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, key, _ ("must be a list of strings"));

  array = json_node_get_array (node);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        return fail (error, key, _ ("must be a list of strings"));
      g_strv_builder_add (builder, json_node_get_string (item));
    }

  g_strfreev (*out);
  *out = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
parse_clock (const char *text, int *minutes)
{
  int h, m;
  char end;

  if (sscanf (text, "%d:%d%c", &h, &m, &end) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0))
    return FALSE;
  *minutes = h * 60 + m;
  return TRUE;
}

static gboolean
valid_name (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
parse_services (CxServerConfig *config, JsonNode *node, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "services", _ ("must be an object of services"));

  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &name, &value))
    {
      CxServiceConfig *service;

      if (!valid_name (name))
        return fail (error, "services", _ ("has a name that is not letters, digits, - _ or ."));
      if (!JSON_NODE_HOLDS_OBJECT (value))
        return fail (error, "services", _ ("must map each name to an object"));

      service = g_new0 (CxServiceConfig, 1);
      service->name = g_strdup (name);
      g_ptr_array_add (config->services, service);
      if (!get_string (json_node_get_object (value), "displayName", "services.displayName", FALSE,
                       &service->display_name, error))
        return FALSE;
      if (service->display_name == NULL)
        service->display_name = g_strdup (name);
    }

  if (config->services->len == 0)
    return fail (error, "services", _ ("must name at least one service"));
  return TRUE;
}

static gboolean
parse_agents (CxServerConfig *config, JsonNode *node, GError **error)
{
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, "agents", _ ("must be a list"));

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      JsonObject *object;
      CxAgent *agent;
      guint64 capacity = 3;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        return fail (error, "agents", _ ("must be a list of objects"));
      object = json_node_get_object (item);

      agent = g_new0 (CxAgent, 1);
      g_ptr_array_add (config->agents, agent);
      if (!get_string (object, "username", "agents.username", TRUE, &agent->username, error) ||
          !get_string (object, "displayName", "agents.displayName", FALSE, &agent->display_name,
                       error) ||
          !get_string (object, "password", "agents.password", TRUE, &agent->password_hash, error) ||
          !get_uint (object, "capacity", "agents.capacity", 1, 100, &capacity, error) ||
          !get_string_list (object, "queues", "agents.queues", &agent->queues, error))
        return FALSE;
      if (!valid_name (agent->username))
        return fail (error, "agents.username", _ ("must be letters, digits, - _ or ."));
      if (agent->password_hash[0] != '$')
        return fail (error, "agents.password",
                     _ ("must be a crypt(3) hash (see cxdesk-server --hash-password)"));
      if (agent->display_name == NULL)
        agent->display_name = g_strdup (agent->username);
      agent->capacity = capacity;
      for (guint q = 0; agent->queues && agent->queues[q]; q++)
        if (cx_server_config_find_service (config, agent->queues[q]) == NULL)
          return fail (error, "agents.queues", _ ("names a service that is not configured"));
      for (guint j = 0; j + 1 < config->agents->len; j++)
        if (g_str_equal (((CxAgent *) g_ptr_array_index (config->agents, j))->username,
                         agent->username))
          return fail (error, "agents.username", _ ("is used twice"));
    }
  return TRUE;
}

static gboolean
parse_callback (CxServerConfig *config, JsonNode *node, GError **error)
{
  g_autofree char *timezone = NULL;
  g_autofree char *open = NULL;
  g_autofree char *close = NULL;
  JsonObject *object;
  JsonNode *hours;
  guint64 slot_minutes = config->slot_minutes, slot_capacity = config->slot_capacity;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "callback", _ ("must be an object"));
  object = json_node_get_object (node);

  if (!get_string_list (object, "services", "callback.services", &config->callback_services,
                        error) ||
      !get_string (object, "timezone", "callback.timezone", FALSE, &timezone, error) ||
      !get_uint (object, "slotMinutes", "callback.slotMinutes", 5, 240, &slot_minutes, error) ||
      !get_uint (object, "slotCapacity", "callback.slotCapacity", 1, 1000, &slot_capacity, error))
    return FALSE;
  config->slot_minutes = slot_minutes;
  config->slot_capacity = slot_capacity;

  for (guint i = 0; config->callback_services[i]; i++)
    if (cx_server_config_find_service (config, config->callback_services[i]) == NULL)
      return fail (error, "callback.services", _ ("names a service that is not configured"));

  if (timezone != NULL)
    {
      GTimeZone *tz = g_time_zone_new_identifier (timezone);

      if (tz == NULL)
        return fail (error, "callback.timezone", _ ("is not a known time zone"));
      g_time_zone_unref (config->callback_timezone);
      config->callback_timezone = tz;
    }

  hours = json_object_get_member (object, "officeHours");
  if (hours != NULL)
    {
      JsonObject *h;
      JsonNode *days;

      if (!JSON_NODE_HOLDS_OBJECT (hours))
        return fail (error, "callback.officeHours", _ ("must be an object"));
      h = json_node_get_object (hours);
      if (!get_string (h, "open", "callback.officeHours.open", TRUE, &open, error) ||
          !get_string (h, "close", "callback.officeHours.close", TRUE, &close, error))
        return FALSE;
      if (!parse_clock (open, &config->open_minute))
        return fail (error, "callback.officeHours.open", _ ("must be a time like 09:00"));
      if (!parse_clock (close, &config->close_minute) ||
          config->close_minute <= config->open_minute)
        return fail (error, "callback.officeHours.close",
                     _ ("must be a time like 17:00, after the opening time"));

      days = json_object_get_member (h, "days");
      if (days != NULL)
        {
          JsonArray *array;

          if (!JSON_NODE_HOLDS_ARRAY (days))
            return fail (error, "callback.officeHours.days", _ ("must be a list of days 1-7"));
          array = json_node_get_array (days);
          config->open_days = 0;
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *day = json_array_get_element (array, i);
              gint64 d;

              if (!JSON_NODE_HOLDS_VALUE (day) || json_node_get_value_type (day) != G_TYPE_INT64)
                return fail (error, "callback.officeHours.days", _ ("must be a list of days 1-7"));
              d = json_node_get_int (day);
              /* 0 is accepted for Sunday too, as cron and JavaScript count it. */
              if (d < 0 || d > 7)
                return fail (error, "callback.officeHours.days", _ ("must be a list of days 1-7"));
              config->open_days |= 1u << (d == 0 ? 7 : d);
            }
        }
    }
  return TRUE;
}

static gboolean
parse_canned (CxServerConfig *config, JsonNode *node, GError **error)
{
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, "canned", _ ("must be a list"));

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      CxCannedResponse *canned;
      JsonObject *object;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        return fail (error, "canned", _ ("must be a list of objects"));
      object = json_node_get_object (item);
      canned = g_new0 (CxCannedResponse, 1);
      g_ptr_array_add (config->canned, canned);
      if (!get_string (object, "id", "canned.id", TRUE, &canned->id, error) ||
          !get_string (object, "title", "canned.title", TRUE, &canned->title, error) ||
          !get_string (object, "text", "canned.text", TRUE, &canned->text, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_files (CxServerConfig *config, JsonNode *node, GError **error)
{
  JsonObject *object;
  guint64 max_files = config->max_files;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "files", _ ("must be an object"));
  object = json_node_get_object (node);

  if (!get_uint (object, "maxFiles", "files.maxFiles", 0, 1000, &max_files, error) ||
      !get_uint (object, "maxFileSize", "files.maxFileSize", 1, G_MAXINT32, &config->max_file_size,
                 error) ||
      !get_uint (object, "maxTotalSize", "files.maxTotalSize", 1, G_MAXINT64,
                 &config->max_total_size, error) ||
      !get_string_list (object, "types", "files.types", &config->file_types, error))
    return FALSE;
  config->max_files = max_files;
  return TRUE;
}

static gboolean
parse_limits (CxServerConfig *config, JsonNode *node, GError **error)
{
  guint64 body = config->max_body_bytes, length = config->max_message_length;
  guint64 rate = config->messages_per_minute, timeout = config->invitation_timeout_s;
  JsonObject *object;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, "limits", _ ("must be an object"));
  object = json_node_get_object (node);

  if (!get_uint (object, "maxBodyBytes", "limits.maxBodyBytes", 1024, 1024 * 1024 * 1024, &body,
                 error) ||
      !get_uint (object, "maxMessageLength", "limits.maxMessageLength", 1, 1024 * 1024, &length,
                 error) ||
      !get_uint (object, "messagesPerMinute", "limits.messagesPerMinute", 1, 1000000, &rate,
                 error) ||
      !get_uint (object, "invitationTimeoutSeconds", "limits.invitationTimeoutSeconds", 1, 3600,
                 &timeout, error))
    return FALSE;

  config->max_body_bytes = body;
  config->max_message_length = length;
  config->messages_per_minute = rate;
  config->invitation_timeout_s = timeout;
  return TRUE;
}

/* Access rules (issue 9, items 9, 10, 11, 14): callback.openAccess, agentOrigins,
 * limits.signInFreeFailures, limits.signInMaxDelaySeconds, limits.agentGraceSeconds. Read from
 * their objects here, apart from the other keys of those objects. */
static gboolean
parse_access (CxServerConfig *config, JsonObject *root, GError **error)
{
  JsonNode *callback = json_object_get_member (root, "callback");
  JsonNode *limits = json_object_get_member (root, "limits");
  JsonNode *open_access = NULL;
  guint64 free_failures = config->sign_in_free_failures;
  guint64 max_delay = config->sign_in_max_delay_s, grace = config->agent_grace_s;

  if (callback != NULL && JSON_NODE_HOLDS_OBJECT (callback))
    open_access = json_object_get_member (json_node_get_object (callback), "openAccess");
  if (open_access != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (open_access) ||
          json_node_get_value_type (open_access) != G_TYPE_BOOLEAN)
        return fail (error, "callback.openAccess", _ ("must be true or false"));
      config->callback_open_access = json_node_get_boolean (open_access);
    }

  if (!get_string_list (root, "agentOrigins", "agentOrigins", &config->agent_origins, error))
    return FALSE;
  for (guint i = 0; config->agent_origins[i] != NULL; i++)
    {
      g_autoptr (GUri) uri = g_uri_parse (config->agent_origins[i], G_URI_FLAGS_NONE, NULL);
      const char *path = uri ? g_uri_get_path (uri) : NULL;

      if (uri == NULL || g_uri_get_host (uri) == NULL ||
          (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
           g_strcmp0 (g_uri_get_scheme (uri), "https") != 0) ||
          (path != NULL && *path != '\0' && !g_str_equal (path, "/")) ||
          g_uri_get_query (uri) != NULL)
        return fail (error, "agentOrigins",
                     _ ("must be a list of origins like https://desk.example.com:8443"));
    }

  if (limits != NULL && JSON_NODE_HOLDS_OBJECT (limits))
    {
      JsonObject *object = json_node_get_object (limits);

      if (!get_uint (object, "signInFreeFailures", "limits.signInFreeFailures", 1, 1000,
                     &free_failures, error) ||
          !get_uint (object, "signInMaxDelaySeconds", "limits.signInMaxDelaySeconds", 1, 86400,
                     &max_delay, error) ||
          !get_uint (object, "agentGraceSeconds", "limits.agentGraceSeconds", 1, 86400, &grace,
                     error))
        return FALSE;
    }
  config->sign_in_free_failures = free_failures;
  config->sign_in_max_delay_s = max_delay;
  config->agent_grace_s = grace;
  return TRUE;
}

/* The connection layer's keys of "limits" (cx-server-net.c, issue 9). libsoup drops a request
 * whose headers pass 64 KiB without a reply, so maxHeaderBytes stays under that. */
static gboolean
parse_net_limits (CxServerConfig *config, JsonNode *node, GError **error)
{
  guint64 connections = config->max_connections, header = config->header_timeout_s;
  guint64 idle = config->idle_timeout_s, body = config->body_timeout_s;
  guint64 header_bytes = config->max_header_bytes, url_bytes = config->max_url_bytes;
  JsonObject *object;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE; /* parse_limits has said what is wrong with it */
  object = json_node_get_object (node);

  if (!get_uint (object, "maxConnections", "limits.maxConnections", 0, 10 * 1000 * 1000,
                 &connections, error) ||
      !get_uint (object, "headerTimeoutSeconds", "limits.headerTimeoutSeconds", 1, 3600, &header,
                 error) ||
      !get_uint (object, "idleTimeoutSeconds", "limits.idleTimeoutSeconds", 1, 24 * 3600, &idle,
                 error) ||
      !get_uint (object, "bodyTimeoutSeconds", "limits.bodyTimeoutSeconds", 1, 24 * 3600, &body,
                 error) ||
      !get_uint (object, "maxHeaderBytes", "limits.maxHeaderBytes", 1024, 60 * 1024, &header_bytes,
                 error) ||
      !get_uint (object, "maxUrlBytes", "limits.maxUrlBytes", 256, 56 * 1024, &url_bytes, error))
    return FALSE;

  config->max_connections = connections;
  config->header_timeout_s = header;
  config->idle_timeout_s = idle;
  config->body_timeout_s = body;
  config->max_header_bytes = header_bytes;
  config->max_url_bytes = url_bytes;
  return TRUE;
}

/**
 * cx_server_config_parse:
 *
 * Returns: (transfer full): the configuration, or %NULL with an error naming the bad key
 */
CxServerConfig *
cx_server_config_parse (const char *json, gssize length, GError **error)
{
  g_autoptr (CxServerConfig) config = config_new_empty ();
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonObject *root;

  if (!json_parser_load_from_data (parser, json, length, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("Configuration is not JSON: %s"),
                   local_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("Configuration must be a JSON object"));
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  if (!parse_services (config, json_object_get_member (root, "services"), error) ||
      !parse_agents (config, json_object_get_member (root, "agents"), error) ||
      !parse_callback (config, json_object_get_member (root, "callback"), error) ||
      !parse_canned (config, json_object_get_member (root, "canned"), error) ||
      !parse_files (config, json_object_get_member (root, "files"), error) ||
      !parse_limits (config, json_object_get_member (root, "limits"), error) ||
      !parse_customer_limits (config, json_object_get_member (root, "limits"), error))
    return NULL;

  /* Access rules (issue 9) */
  if (!parse_access (config, root, error) ||
      !parse_net_limits (config, json_object_get_member (root, "limits"), error))
    return NULL;

  return g_steal_pointer (&config);
}

CxServerConfig *
cx_server_config_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize length;
  CxServerConfig *config;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  config = cx_server_config_parse (contents, length, &local_error);
  if (config == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, local_error->message);
  return config;
}

CxServerConfig *
cx_server_config_new_default (void)
{
  g_autoptr (GError) error = NULL;
  CxServerConfig *config = cx_server_config_parse (default_config, -1, &error);

  g_assert_no_error (error);
  return config;
}

const CxServiceConfig *
cx_server_config_find_service (const CxServerConfig *config, const char *name)
{
  for (guint i = 0; i < config->services->len; i++)
    {
      const CxServiceConfig *service = g_ptr_array_index (config->services, i);

      if (g_str_equal (service->name, name))
        return service;
    }
  return NULL;
}

gboolean
cx_server_config_is_callback_service (const CxServerConfig *config, const char *name)
{
  return g_strv_contains ((const char *const *) config->callback_services, name);
}
