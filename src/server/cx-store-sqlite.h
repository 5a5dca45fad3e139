/* cx-store-sqlite.h: CxStoreSqlite, the embedded CxStore: one SQLite file in WAL mode, used from
 * the thread that opened it. */
#pragma once

#include "server/cx-store.h"

G_BEGIN_DECLS

#define CX_TYPE_STORE_SQLITE (cx_store_sqlite_get_type ())

G_DECLARE_FINAL_TYPE (CxStoreSqlite, cx_store_sqlite, CX, STORE_SQLITE, GObject)

/* The schema version this code writes (PRAGMA user_version). */
#define CX_STORE_SQLITE_SCHEMA_VERSION 4

/* Opens (creating it if needed) and migrates the database at @path, a file name or
 * ":memory:". A database of a newer schema fails with CX_STORE_ERROR_VERSION, anything else
 * that is not a usable database with CX_STORE_ERROR_FAILED. */
CxStore *cx_store_sqlite_open (const char *path, GError **error);

const char *cx_store_sqlite_get_path (CxStoreSqlite *self);

G_END_DECLS
