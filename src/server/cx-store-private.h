/* cx-store-private.h: what the two stores (cx-store-sqlite*.c, cx-store-pg.c) share: the
 * states as they are stored, and the small pieces of logic both write the same way. */
#pragma once

#include "server/cx-store.h"

G_BEGIN_DECLS

/* States are stored as words, so that the database reads well and does not depend on the
 * order of the C enums. */
static const char *const chat_states[] = { "waiting", "active", "ended" };
static const char *const agent_states[] = { "offline", "not_ready", "ready" };
static const char *const invitation_states[] = {
  "pending", "accepted", "declined", "expired", "withdrawn",
};

gboolean cx_store_state_from_text (const char *const *names, guint n_names, const char *text,
                                   int *state);

#define STATE_FROM_TEXT(names, text, state)                                                        \
  cx_store_state_from_text (names, G_N_ELEMENTS (names), text, (int *) (state))

/* A JSON column's text; NULL stays NULL, unless @object, which makes it an empty object and
 * requires an object. FALSE if the text is not that. */
gboolean cx_store_json_from_text (const char *text, gboolean object, JsonNode **out);

/* When an append moved a chat off an agent: the latest time the caller gave us. */
gint64 cx_store_event_time (GPtrArray *messages, const CxChat *update);

/* Turns a GPtrArray of strings into a strv, NULL when empty ("every queue"). */
char **cx_store_steal_strv (GPtrArray *strings);

G_END_DECLS
