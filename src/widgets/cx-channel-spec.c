/* cx-channel-spec.c: reading the contact channels of a configuration ("channelselector" or
 * "sidebar" channels) into CxChannelSpecs, checked as hostile input: bounded counts and text,
 * known icon names mapped to the theme's, commands in "Namespace.command" form. The
 * ChannelSelector and the SideBar share it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-channel-spec"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "protocol/cx-protocol.h"
#include "services/cx-stats-service.h"
#include "widgets/cx-channel-spec.h"

#define DEFAULT_QUEUE "customer-support"
#define MAX_CHANNELS 32
#define MAX_TEXT_BYTES 256

/* The Widgets' icon names, as the theme has them. */
static const struct
{
  const char *widgets;
  const char *theme;
} icon_names[] = {
  { "chat", "chat-message-new-symbolic" },    { "call-outgoing", "call-start-symbolic" },
  { "call-incoming", "call-start-symbolic" }, { "callback", "call-start-symbolic" },
  { "phone", "call-start-symbolic" },         { "email", "mail-send-symbolic" },
  { "cobrowse", "video-display-symbolic" },   { "calendar", "x-office-calendar-symbolic" },
  { "question", "help-browser-symbolic" },    { "contact-us", "help-browser-symbolic" },
};

#define DEFAULT_ICON "help-browser-symbolic"

static char *
theme_icon_name (const char *icon)
{
  if (icon == NULL || icon[0] == '\0')
    return g_strdup (DEFAULT_ICON);

  for (guint i = 0; i < G_N_ELEMENTS (icon_names); i++)
    if (g_str_equal (icon, icon_names[i].widgets))
      return g_strdup (icon_names[i].theme);

  /* Anything else is taken as a theme's icon name, if it can be one. */
  for (const char *p = icon; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return g_strdup (DEFAULT_ICON);

  return g_strdup (icon);
}

static gboolean
valid_text (const char *text)
{
  if (text == NULL || text[0] == '\0' || strnlen (text, MAX_TEXT_BYTES + 1) > MAX_TEXT_BYTES)
    return FALSE;

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f)
      return FALSE;

  return g_utf8_validate (text, -1, NULL);
}

/* "Namespace.command", both parts there. */
static gboolean
valid_command (const char *command)
{
  const char *dot;

  if (!valid_text (command))
    return FALSE;

  dot = strchr (command, '.');
  return dot != NULL && dot != command && dot[1] != '\0';
}

/* A member that must be a string when present: its value, NULL when absent or null; FALSE when
 * it is something else. */
static gboolean
member_string (JsonObject *object, const char *member, const char **out)
{
  *out = cx_json_get_string (object, member);
  return *out != NULL || cx_json_is_null_or_absent (object, member);
}

static gboolean
member_boolean (JsonObject *object, const char *member, gboolean fallback, gboolean *out)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = fallback;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;

  *out = json_node_get_boolean (node);
  return TRUE;
}

/* Seconds: a whole number from 0. */
static gboolean
member_seconds (JsonObject *object, const char *member, guint fallback, guint *out)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  *out = fallback;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  value = json_node_get_int (node);
  if (value < 0 || value > G_MAXINT32)
    return FALSE;

  *out = (guint) value;
  return TRUE;
}

static GError *
spec_error (const char *name, const char *problem)
{
  if (name != NULL)
    /* Translators: the first %s is a channel's name, the second what is wrong with it */
    return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("The channel “%s”: %s"), name,
                        problem);
  return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("A channel: %s"), problem);
}

static gboolean
read_ewt (CxChannelSpec *spec, JsonObject *channel, GError **error)
{
  JsonNode *node = json_object_get_member (channel, "ewt");
  JsonObject *ewt;
  const char *queue;

  spec->threshold_min = CX_STATS_THRESHOLD_MIN_DEFAULT;
  spec->threshold_max = CX_STATS_THRESHOLD_MAX_DEFAULT;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_propagate_error (error, spec_error (spec->name, _ ("“ewt” must be an object")));
      return FALSE;
    }
  ewt = json_node_get_object (node);

  if (!member_string (ewt, "queue", &queue) || (queue != NULL && !valid_text (queue)))
    {
      g_propagate_error (error, spec_error (spec->name, _ ("“ewt.queue” must be a queue name")));
      return FALSE;
    }
  spec->ewt_queue = g_strdup (queue);

  /* With a queue, the wait shows unless told otherwise. */
  if (!member_boolean (ewt, "display", queue != NULL, &spec->ewt_display) ||
      !member_boolean (ewt, "hideChannelWhenThresholdMax", FALSE, &spec->hide_at_max))
    {
      g_propagate_error (
          error, spec_error (spec->name, _ ("“ewt.display” and “ewt.hideChannelWhenThresholdMax” "
                                            "must be true or false")));
      return FALSE;
    }
  if (spec->ewt_display && queue == NULL)
    {
      g_propagate_error (error, spec_error (spec->name, _ ("“ewt.display” needs an “ewt.queue”")));
      return FALSE;
    }

  if (!member_seconds (ewt, "availabilityThresholdMin", CX_STATS_THRESHOLD_MIN_DEFAULT,
                       &spec->threshold_min) ||
      !member_seconds (ewt, "availabilityThresholdMax", CX_STATS_THRESHOLD_MAX_DEFAULT,
                       &spec->threshold_max))
    {
      g_propagate_error (error, spec_error (spec->name, _ ("the thresholds must be whole numbers "
                                                           "of seconds")));
      return FALSE;
    }

  return TRUE;
}

/**
 * cx_channel_spec_new_from_json:
 * @node: one channel: {name, displayName, icon, clickCommand, clickOptions, ewt{display, queue,
 *   availabilityThresholdMin, availabilityThresholdMax, hideChannelWhenThresholdMax}}
 * @error: return location for a #GError
 *
 * Reads a channel; name and clickCommand ("Namespace.command") are required, displayName
 * defaults to the name.
 *
 * Returns: (transfer full): the channel, or %NULL with @error set (%G_IO_ERROR_INVALID_ARGUMENT,
 *   a message that names the channel and what is wrong)
 */
CxChannelSpec *
cx_channel_spec_new_from_json (JsonNode *node, GError **error)
{
  g_autoptr (CxChannelSpec) spec = NULL;
  JsonObject *object;
  JsonNode *options;
  const char *name, *display_name, *icon, *command;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_propagate_error (error, spec_error (NULL, _ ("it must be an object")));
      return NULL;
    }
  object = json_node_get_object (node);

  if (!member_string (object, "name", &name) || !valid_text (name))
    {
      g_propagate_error (error, spec_error (NULL, _ ("it needs a “name”, a line of text")));
      return NULL;
    }

  spec = g_new0 (CxChannelSpec, 1);
  spec->name = g_strdup (name);

  if (!member_string (object, "displayName", &display_name) ||
      (display_name != NULL && !valid_text (display_name)))
    {
      g_propagate_error (error, spec_error (name, _ ("“displayName” must be a line of text")));
      return NULL;
    }
  spec->display_name = g_strdup (display_name != NULL ? display_name : name);

  if (!member_string (object, "icon", &icon))
    {
      g_propagate_error (error, spec_error (name, _ ("“icon” must be an icon name")));
      return NULL;
    }
  spec->icon_name = theme_icon_name (icon);

  if (!member_string (object, "clickCommand", &command) || !valid_command (command))
    {
      g_propagate_error (error,
                         spec_error (name, _ ("“clickCommand” must be “Namespace.command”")));
      return NULL;
    }
  spec->click_command = g_strdup (command);

  options = json_object_get_member (object, "clickOptions");
  if (options != NULL && !JSON_NODE_HOLDS_NULL (options))
    spec->click_options = json_node_copy (options);

  if (!read_ewt (spec, object, error))
    return NULL;

  return g_steal_pointer (&spec);
}

void
cx_channel_spec_free (CxChannelSpec *spec)
{
  if (spec == NULL)
    return;

  g_free (spec->name);
  g_free (spec->display_name);
  g_free (spec->icon_name);
  g_free (spec->click_command);
  g_clear_pointer (&spec->click_options, json_node_unref);
  g_free (spec->ewt_queue);
  g_free (spec);
}

static CxChannelSpec *
default_spec (const char *name, const char *display_name, const char *icon, const char *command)
{
  CxChannelSpec *spec = g_new0 (CxChannelSpec, 1);

  spec->name = g_strdup (name);
  spec->display_name = g_strdup (display_name);
  spec->icon_name = theme_icon_name (icon);
  spec->click_command = g_strdup (command);
  spec->ewt_display = TRUE;
  spec->ewt_queue = g_strdup (DEFAULT_QUEUE);
  spec->threshold_min = CX_STATS_THRESHOLD_MIN_DEFAULT;
  spec->threshold_max = CX_STATS_THRESHOLD_MAX_DEFAULT;
  return spec;
}

/**
 * cx_channel_spec_list_from_config:
 * @config: (nullable): the "channelselector" settings
 * @error: return location for a #GError
 *
 * The channels of @config's "channels" list, in order; without one, Chat (WebChat.open) and
 * Receive a Call (Callback.open), both showing the wait of the queue "customer-support".
 *
 * Returns: (transfer full) (element-type CxChannelSpec): the channels, or %NULL with @error set
 *   (a channel is wrong, two have the same name, or there are more than 32)
 */
GPtrArray *
cx_channel_spec_list_from_config (JsonObject *config, GError **error)
{
  g_autoptr (GPtrArray) specs =
      g_ptr_array_new_with_free_func ((GDestroyNotify) cx_channel_spec_free);
  JsonNode *node = config != NULL ? json_object_get_member (config, "channels") : NULL;
  JsonArray *array;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      g_ptr_array_add (specs, default_spec ("WebChat", _ ("Chat"), "chat", "WebChat.open"));
      g_ptr_array_add (
          specs, default_spec ("Callback", _ ("Receive a Call"), "call-outgoing", "Callback.open"));
      return g_steal_pointer (&specs);
    }

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“channels” must be a list of channels"));
      return NULL;
    }
  array = json_node_get_array (node);
  if (json_array_get_length (array) > MAX_CHANNELS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("There can be at most %u channels"), MAX_CHANNELS);
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      CxChannelSpec *spec =
          cx_channel_spec_new_from_json (json_array_get_element (array, i), error);

      if (spec == NULL)
        return NULL;
      for (guint j = 0; j < specs->len; j++)
        if (g_str_equal (((CxChannelSpec *) g_ptr_array_index (specs, j))->name, spec->name))
          {
            g_propagate_error (error, spec_error (spec->name, _ ("another channel has that name")));
            cx_channel_spec_free (spec);
            return NULL;
          }
      g_ptr_array_add (specs, spec);
    }

  return g_steal_pointer (&specs);
}
