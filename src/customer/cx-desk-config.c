/* cx-desk-config.c: loading, checking and merging the widgets configuration.
 *
 * A file given with --config overrides the built-in default member by member, recursively for
 * objects, so that a file that only sets webchat.dataURL keeps every other default. Only the
 * shape is checked here (objects where objects belong), and main.lang; each widget checks its
 * own section.
 *
 * main.lang ("de", "pt-BR") picks the language of the application's text over the user's
 * locale; absent or null, the locale decides. It is applied once, to the whole process, before
 * GTK starts (cx_desk_config_apply_lang): a language is a property of the process, not of a
 * window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-desk-config"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "customer/cx-desk-config.h"

/* A configuration is a page script's object, not a data set. */
#define MAX_CONFIG_SIZE (1024 * 1024)

/* The longest main.lang taken ("zh-Hant-TW" has 10 characters). */
#define LANG_MAX_LENGTH 35

static const char *const object_sections[] = {
  "main", "webchat", "callback", "calendar", "channelselector", "sidebar", "stats", NULL,
};

/* "de", "de-DE", "pt_BR", "zh-Hant-TW": a language, then subtags of letters and digits. */
static gboolean
is_language_tag (const char *text)
{
  gsize length = strlen (text);
  gsize i = 0;

  if (length == 0 || length > LANG_MAX_LENGTH)
    return FALSE;
  while (g_ascii_isalpha (text[i]))
    i++;
  if (i < 2 || i > 3)
    return FALSE;
  while (text[i] == '-' || text[i] == '_')
    {
      gsize start = ++i;

      while (g_ascii_isalnum (text[i]))
        i++;
      if (i - start < 2 || i - start > 8)
        return FALSE;
    }
  return text[i] == '\0';
}

/* main.lang is null, or a language tag. */
static gboolean
check_lang (JsonObject *config, const char *origin, GError **error)
{
  JsonNode *main_node = json_object_get_member (config, "main");
  JsonNode *lang;

  if (main_node == NULL || !JSON_NODE_HOLDS_OBJECT (main_node))
    return TRUE;
  lang = json_object_get_member (json_node_get_object (main_node), "lang");
  if (lang == NULL || JSON_NODE_HOLDS_NULL (lang))
    return TRUE;
  if (json_node_get_value_type (lang) != G_TYPE_STRING ||
      !is_language_tag (json_node_get_string (lang)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("In the configuration %s, “main.lang” must be a language like “de” or "
                      "“pt-BR”"),
                   origin);
      return FALSE;
    }
  return TRUE;
}

/**
 * cx_desk_config_parse:
 * @data: the JSON text
 * @length: its length, or -1 if nul-terminated
 * @origin: where it came from, for messages (a file name)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the configuration, or %NULL with @error set (G_IO_ERROR_INVALID_DATA)
 */
JsonObject *
cx_desk_config_parse (const char *data, gssize length, const char *origin, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;

  if (length < 0)
    length = strlen (data);
  if ((gsize) length > MAX_CONFIG_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The configuration %s is too large"), origin);
      return NULL;
    }

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The configuration %s is not valid JSON: %s"), origin, local_error->message);
      return NULL;
    }

  /* Empty input gives no root at all. */
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The configuration %s is not a JSON object"), origin);
      return NULL;
    }

  object = json_node_get_object (root);
  for (guint i = 0; object_sections[i] != NULL; i++)
    {
      JsonNode *section = json_object_get_member (object, object_sections[i]);

      if (section != NULL && !JSON_NODE_HOLDS_OBJECT (section) && !JSON_NODE_HOLDS_NULL (section))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("In the configuration %s, “%s” must be an object"), origin,
                       object_sections[i]);
          return NULL;
        }
    }

  if (!check_lang (object, origin, error))
    return NULL;

  return json_object_ref (object);
}

/**
 * cx_desk_config_load_default:
 *
 * Returns: (transfer full): the built-in configuration, or %NULL with @error set (only if the
 *   resource is missing: a build error)
 */
JsonObject *
cx_desk_config_load_default (GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  const char *data;
  gsize size;

  bytes = g_resources_lookup_data (CX_DESK_CONFIG_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return NULL;

  data = g_bytes_get_data (bytes, &size);
  return cx_desk_config_parse (data, size, CX_DESK_CONFIG_RESOURCE, error);
}

/**
 * cx_desk_config_load_file:
 *
 * Returns: (transfer full): the configuration in @file (not merged), or %NULL with @error set
 */
JsonObject *
cx_desk_config_load_file (GFile *file, GError **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  JsonObject *config;
  JsonObject *main_section;
  JsonNode *page;
  gsize length = 0;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  name = g_file_get_parse_name (file);
  if (!g_file_load_contents (file, NULL, &contents, &length, NULL, error))
    return NULL;

  config = cx_desk_config_parse (contents, length, name, error);
  if (config == NULL)
    return NULL;

  /* main.page, the deployer's page, is found beside the configuration that names it. */
  main_section = cx_desk_config_get_section (config, "main");
  page = main_section != NULL && json_object_has_member (main_section, "page")
             ? json_object_get_member (main_section, "page")
             : NULL;
  if (page != NULL && json_node_get_value_type (page) == G_TYPE_STRING &&
      !g_path_is_absolute (json_node_get_string (page)))
    {
      g_autoptr (GFile) parent = g_file_get_parent (file);
      g_autoptr (GFile) resolved =
          g_file_resolve_relative_path (parent, json_node_get_string (page));
      g_autofree char *path = g_file_get_path (resolved);

      if (path != NULL)
        {
          g_autoptr (JsonObject) override = json_object_new ();
          JsonObject *main_override = json_object_new ();
          JsonObject *resolved_config;

          /* The parsed configuration is immutable: the path goes into a merged copy. */
          json_object_set_string_member (main_override, "page", path);
          json_object_set_object_member (override, "main", main_override);
          resolved_config = cx_desk_config_merge (config, override);
          json_object_unref (config);
          config = resolved_config;
        }
    }
  return config;
}

/* json_node_copy() shares the objects and arrays of the node it copies: a configuration that
 * is changed must be copied all the way down first, or its base changes with it. */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_object_new ();
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &member, &value))
        json_object_set_member (object, member, deep_copy (value));
      copy = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (copy, object);
      return copy;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_array_new ();
      JsonArray *source = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (source); i++)
        json_array_add_element (array, deep_copy (json_array_get_element (source, i)));
      copy = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (copy, array);
      return copy;
    }

  return json_node_copy (node);
}

static void
merge_into (JsonObject *target, JsonObject *override)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  json_object_iter_init (&iter, override);
  while (json_object_iter_next (&iter, &member, &node))
    {
      JsonNode *existing = json_object_get_member (target, member);

      if (existing != NULL && JSON_NODE_HOLDS_OBJECT (existing) && JSON_NODE_HOLDS_OBJECT (node))
        {
          /* A copy: the base may be shared (it is the application's default). */
          JsonNode *copy = deep_copy (existing);

          merge_into (json_node_get_object (copy), json_node_get_object (node));
          json_object_set_member (target, member, copy);
        }
      else
        {
          json_object_set_member (target, member, deep_copy (node));
        }
    }
}

/**
 * cx_desk_config_merge:
 * @base: the configuration to start from
 * @override: (nullable): what to change in it
 *
 * Returns: (transfer full): a new configuration: @base with every member of @override, objects
 *   merged recursively, other values replaced
 */
JsonObject *
cx_desk_config_merge (JsonObject *base, JsonObject *override)
{
  g_autoptr (JsonNode) base_node = json_node_init_object (json_node_alloc (), base);
  g_autoptr (JsonNode) copy = deep_copy (base_node);
  JsonObject *merged = json_object_ref (json_node_get_object (copy));

  if (override != NULL)
    merge_into (merged, override);
  return merged;
}

/**
 * cx_desk_config_get_section:
 *
 * Returns: (transfer none) (nullable): the object @name of @config ("webchat"), or %NULL
 */
JsonObject *
cx_desk_config_get_section (JsonObject *config, const char *name)
{
  JsonNode *node = config != NULL ? json_object_get_member (config, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

/**
 * cx_desk_config_get_cookie_domain:
 *
 * Returns: (transfer none) (nullable): main.cookieOptions.domain, or %NULL for the site's own
 *   registrable domain
 */
const char *
cx_desk_config_get_cookie_domain (JsonObject *config)
{
  JsonObject *main_section = cx_desk_config_get_section (config, "main");
  JsonObject *options = cx_desk_config_get_section (main_section, "cookieOptions");
  JsonNode *domain = options != NULL ? json_object_get_member (options, "domain") : NULL;

  if (domain == NULL || json_node_get_value_type (domain) != G_TYPE_STRING ||
      json_node_get_string (domain)[0] == '\0')
    return NULL;
  return json_node_get_string (domain);
}

/**
 * cx_desk_config_get_lang:
 *
 * Returns: (transfer full) (nullable): main.lang as gettext names languages ("pt_BR" for
 *   "pt-BR"), or %NULL when the user's locale decides
 */
char *
cx_desk_config_get_lang (JsonObject *config)
{
  JsonObject *main_section = cx_desk_config_get_section (config, "main");
  JsonNode *lang = main_section != NULL ? json_object_get_member (main_section, "lang") : NULL;

  if (lang == NULL || json_node_get_value_type (lang) != G_TYPE_STRING ||
      !is_language_tag (json_node_get_string (lang)))
    return NULL;
  return g_strdelimit (g_strdup (json_node_get_string (lang)), "-", '_');
}

static gboolean
is_c_locale (const char *name)
{
  return name == NULL || strcmp (name, "C") == 0 || strcmp (name, "POSIX") == 0;
}

/**
 * cx_desk_config_apply_lang:
 *
 * Makes main.lang of @config the language of the process's text: LANGUAGE for gettext, then
 * the locale read again (which also makes gettext drop the translations it has looked up).
 * Under the C locale gettext ignores LANGUAGE, so messages then use C.UTF-8, which glibc always
 * has. Environment variables rather than setlocale() alone, for gtk_init() reads the locale
 * from the environment again. Call it before GTK starts; without main.lang it does nothing.
 *
 * Returns: %TRUE if main.lang was applied
 */
gboolean
cx_desk_config_apply_lang (JsonObject *config)
{
  g_autofree char *lang = cx_desk_config_get_lang (config);

  if (lang == NULL)
    return FALSE;

  g_setenv ("LANGUAGE", lang, TRUE);
  if (is_c_locale (setlocale (LC_MESSAGES, NULL)))
    {
      if (g_getenv ("LC_ALL") != NULL)
        g_setenv ("LC_ALL", "C.UTF-8", TRUE);
      else
        g_setenv ("LC_MESSAGES", "C.UTF-8", TRUE);
    }
  setlocale (LC_ALL, "");
  return TRUE;
}
