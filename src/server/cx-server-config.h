/* cx-server-config.h: cxdesk-server's configuration, read from JSON and validated. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "server/cx-store.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *display_name;
} CxServiceConfig;

typedef struct
{
  char *id;
  char *title;
  char *text;
} CxCannedResponse;

typedef struct
{
  GPtrArray *services; /* CxServiceConfig */
  GPtrArray *agents;   /* CxAgent: username, display_name, password_hash, capacity, queues */
  GPtrArray *canned;   /* CxCannedResponse */

  /* Callbacks */
  char **callback_services;
  GTimeZone *callback_timezone;
  int open_minute;  /* minutes after midnight, local to the timezone */
  int close_minute; /* exclusive */
  guint open_days;  /* bit n set = day n open, 1 = Monday … 7 = Sunday (ISO 8601) */
  guint slot_minutes;
  guint slot_capacity;

  /* Files */
  guint max_files;
  guint64 max_file_size;
  guint64 max_total_size;
  char **file_types;

  /* Limits */
  gsize max_body_bytes;
  guint max_message_length;
  guint messages_per_minute;
  guint invitation_timeout_s;

  /* Who may do what (issue 9, items 9, 10, 11, 14; API.md "Access rules") */
  gboolean callback_open_access; /* callback.openAccess: GMS's open listing and query */
  char **agent_origins;          /* agentOrigins: other origins the agent API accepts */
  guint sign_in_free_failures;   /* limits.signInFreeFailures */
  guint sign_in_max_delay_s;     /* limits.signInMaxDelaySeconds */
  guint agent_grace_s;           /* limits.agentGraceSeconds */
  /* Customer limits (issue 9 items 5 and 6; cx-server-gms.c), under "limits" too. Each rate is
   * a token bucket: a burst of the whole minute's allowance, refilled continuously. */
  guint notices_per_minute;      /* customNotice, per chat */
  guint typing_per_minute;       /* startTyping, stopTyping, refresh with a new preview */
  guint updates_per_minute;      /* updateData, per chat */
  guint uploads_per_minute;      /* file, per chat */
  guint chat_starts_per_minute;  /* chat start, per client address */
  guint user_data_max_keys;      /* userData keys of one chat */
  guint user_data_max_key_bytes; /* bytes of one key */
  guint user_data_max_value_bytes;
  guint user_data_max_total_bytes; /* the chat's userData serialized as JSON */
  /* Co-browse (issue 11, cx-server-cobrowse.c; API.md "Co-browse"), "limits" keys too. */
  guint cobrowse_code_seconds;      /* a code can be joined this long */
  guint cobrowse_starts_per_minute; /* sessions created, per client address */
  guint cobrowse_frame_max_bytes;   /* one frame, either side */
  guint cobrowse_bytes_per_second;  /* each side, a token bucket of two seconds' worth */
  guint cobrowse_frames_per_second; /* each side, likewise */
  /* Connections (cx-server-net.c, issue 9 items 2, 4, 16): "limits" keys, API.md "Limits and
   * timeouts". */
  guint max_connections;  /* 0: derived from the open-file limit */
  guint header_timeout_s; /* first byte of a request to its complete headers */
  guint idle_timeout_s;   /* no request in progress, and from accept to the first byte */
  guint body_timeout_s;   /* complete headers to the end of the body */
  gsize max_header_bytes; /* request line and headers */
  gsize max_url_bytes;    /* request target */
} CxServerConfig;

CxServerConfig *cx_server_config_load (const char *path, GError **error);
CxServerConfig *cx_server_config_parse (const char *json, gssize length, GError **error);
CxServerConfig *cx_server_config_new_default (void);
void cx_server_config_free (CxServerConfig *config);
const CxServiceConfig *cx_server_config_find_service (const CxServerConfig *config,
                                                      const char *name);
gboolean cx_server_config_is_callback_service (const CxServerConfig *config, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxServerConfig, cx_server_config_free)

G_END_DECLS
