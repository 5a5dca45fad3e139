/* cx-store-migrations.c: the stores' schema scripts, read from the GResource that
 * src/server/sql/ is compiled into (see cx-store-migrations.h). */
#define G_LOG_DOMAIN "cx-store"

#include "config.h"

#include <gio/gio.h>

#include "server/cx-store-migrations.h"
#include "server/cx-store-resources.h"

#define PREFIX "/io/github/cxdesk/CxDesk/Store/"

static char **
list_scripts (const char *backend)
{
  g_autofree char *dir = g_strconcat (PREFIX, backend, "/", NULL);
  char **names = g_resource_enumerate_children (cx_store_get_resource (), dir,
                                                G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  /* The build puts them there: a missing directory is a broken build, not a runtime error. */
  g_assert (names != NULL);
  return names;
}

guint
cx_store_migration_count (const char *backend)
{
  g_auto (GStrv) names = list_scripts (backend);

  return g_strv_length (names);
}

GBytes *
cx_store_migration (const char *backend, guint version)
{
  g_auto (GStrv) names = list_scripts (backend);
  g_autofree char *prefix = g_strdup_printf ("%03u-", version);

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_str_has_prefix (names[i], prefix))
        {
          g_autofree char *path = g_strconcat (PREFIX, backend, "/", names[i], NULL);
          GBytes *script = g_resource_lookup_data (cx_store_get_resource (), path,
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

          /* Resource data always ends in a NUL, not counted in its size. */
          g_assert (script != NULL);
          return script;
        }
    }

  g_assert_not_reached ();
}
