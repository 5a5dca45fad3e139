/* cx-server-cluster-none.c: events between nodes, in a server built without PostgreSQL
 * (-Dpostgresql=disabled, or no libpq): its only store is SQLite, which one process holds, so
 * there is never another node to tell. cx-server-cluster.c is the real thing. */
#define G_LOG_DOMAIN "cx-server"

#include "config.h"

#include "server/cx-server-private.h"

void
_cx_server_cluster_note (CxServer *self, const char *kind, ...)
{
}

gboolean
_cx_server_cluster_active (CxServer *self)
{
  return FALSE;
}

void
_cx_server_cluster_init (CxServer *self)
{
}

void
_cx_server_cluster_free (CxServer *self)
{
}
