/* cx-store-migrations.h: the schema migrations of the stores, SQL scripts kept in
 * src/server/sql/<backend>/NNN-what.sql and compiled into the program as a GResource. Script
 * NNN takes a database from schema version NNN - 1 to NNN. Never edit a script that has
 * shipped; add the next one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many scripts @backend ("sqlite", "postgresql") has: the schema version it writes. */
guint cx_store_migration_count (const char *backend);

/* The script that takes a database of @backend to @version (1 = the first), NUL-terminated. */
GBytes *cx_store_migration (const char *backend, guint version);

G_END_DECLS
