/* cx-agent-api-private.h: what cx-agent-api.c and cx-agent-api-replies.c share: building an
 * object, and the strict member readers. Not for other layers. */
#pragma once

#include "protocol/cx-agent-api.h"
#include "protocol/cx-protocol-private.h"

G_BEGIN_DECLS

void cx_agent_api_begin (JsonBuilder **builder);
JsonNode *cx_agent_api_end (JsonBuilder *builder);
void cx_agent_api_add_string (JsonBuilder *builder, const char *member, const char *value);
void cx_agent_api_add_int (JsonBuilder *builder, const char *member, gint64 value);
gboolean cx_agent_api_member_text (JsonObject *object, const char *member, gboolean required,
                                   CxTextFlags flags, gsize max_chars, char **out, GError **error);
gboolean cx_agent_api_member_list (JsonObject *object, const char *member, guint max,
                                   JsonArray **out, GError **error);
gboolean cx_agent_api_fail_invalid (GError **error, const char *message);

G_END_DECLS
