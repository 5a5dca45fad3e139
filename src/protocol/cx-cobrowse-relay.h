/* cx-cobrowse-relay.h: what the co-browse relay of cxdesk-server says beside the page frames
 * of cx-cobrowse-protocol.h (API.md "Co-browse"): its routes, the replies of session creation
 * and of joining, and its own two frames: "joined" (to the customer: an agent joined) and
 * "refused" (to the sender: a frame it did not relay, and why). Built and parsed here, once,
 * for the server and the clients. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "protocol/cx-protocol.h"

G_BEGIN_DECLS

#define CX_COBROWSE_RELAY_PREFIX "/cx/1/cobrowse"
/* POST: the customer creates a session. */
#define CX_COBROWSE_RELAY_SESSIONS_PATH CX_COBROWSE_RELAY_PREFIX "/sessions"
/* POST {"code"}: the signed-in agent joins a session by its code. */
#define CX_COBROWSE_RELAY_JOIN_PATH CX_COBROWSE_RELAY_PREFIX "/join"
/* WebSocket paths: CX_COBROWSE_RELAY_SESSIONS_PATH "/<id>/customer" (the customer, with
 * "Authorization: Bearer <secret>") and "/<id>/agent" (the agent who joined, its session). */
#define CX_COBROWSE_RELAY_CUSTOMER "customer"
#define CX_COBROWSE_RELAY_AGENT "agent"
/* A code is this many ASCII digits. */
#define CX_COBROWSE_CODE_DIGITS 9

/* A relayed frame larger than any page frame can be is refused on the socket already. */
#define CX_COBROWSE_RELAY_FRAME_MAX (1024 * 1024)

typedef struct
{
  char *id;
  char *code;
  char *secret;
  gint64 expires_at; /* ms since the epoch */
} CxCobrowseSessionInfo;

void cx_cobrowse_session_info_free (CxCobrowseSessionInfo *info);
JsonNode *cx_cobrowse_session_info_build (const CxCobrowseSessionInfo *info);
gboolean cx_cobrowse_session_info_parse (JsonNode *node, CxCobrowseSessionInfo **out,
                                         GError **error);

gboolean cx_cobrowse_code_is_valid (const char *code);
JsonNode *cx_cobrowse_join_request_build (const char *code);
gboolean cx_cobrowse_join_request_parse (JsonNode *node, char **code, GError **error);
JsonNode *cx_cobrowse_join_reply_build (const char *id);
gboolean cx_cobrowse_join_reply_parse (JsonNode *node, char **id, GError **error);

/**
 * CxCobrowseRelayFrame:
 * @type: "joined" or "refused"
 * @agent: joined: the agent's display name
 * @refused: refused: the type of the frame that was not relayed
 * @reason: refused: why, for a person
 */
typedef struct
{
  char *type;
  char *agent;
  char *refused;
  char *reason;
} CxCobrowseRelayFrame;

void cx_cobrowse_relay_frame_free (CxCobrowseRelayFrame *frame);
JsonNode *cx_cobrowse_relay_build_joined (const char *agent);
JsonNode *cx_cobrowse_relay_build_refused (const char *refused, const char *reason);
/* Returns FALSE with CX_PROTOCOL_ERROR_UNKNOWN_TYPE for any other frame (a page frame: see
 * cx_cobrowse_frame_parse). */
gboolean cx_cobrowse_relay_frame_parse (const char *text, gsize length, CxCobrowseRelayFrame **out,
                                        GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCobrowseSessionInfo, cx_cobrowse_session_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxCobrowseRelayFrame, cx_cobrowse_relay_frame_free)

G_END_DECLS
