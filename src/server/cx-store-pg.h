/* cx-store-pg.h: CxStorePg, the CxStore on a PostgreSQL database (libpq), so that several
 * server processes can share one database. */
#pragma once

#include "server/cx-store.h"

G_BEGIN_DECLS

#define CX_TYPE_STORE_PG (cx_store_pg_get_type ())

G_DECLARE_FINAL_TYPE (CxStorePg, cx_store_pg, CX, STORE_PG, GObject)

/* Whether @location names a PostgreSQL database (a postgresql:// or postgres:// URL) rather
 * than an SQLite file. */
gboolean cx_store_pg_is_url (const char *location);

/* Connects to @url (a libpq connection URL) and migrates its schema (the first schema of the
 * search path). A database of a newer schema fails with CX_STORE_ERROR_VERSION, anything else
 * with CX_STORE_ERROR_FAILED; messages never repeat the URL's password. */
CxStore *cx_store_pg_open (const char *url, GError **error);

G_END_DECLS
