/* cx-test-bus.h: what every test that drives a CxBus shares: the event recorder (everything a
 * plugin published, as a page script's subscriber sees it, searched and waited on by name, by
 * rank and by chat) and bus commands made the way a page script makes them.
 *
 * Every wait is cx_test_wait() (tests/server/cx-test-server.h): the main context iterates until
 * the condition holds, under a hang guard that names it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "bus/cx-event.h"
#include "cx-test-server.h"

G_BEGIN_DECLS

/* Events */

/* Records the events published on a bus from its creation to its end, in order. A recorder of
 * one publisher keeps only that plugin's events, and takes an event's name alone ("opened") as
 * well as in full ("WebChat.opened"); one of every publisher takes full names. */
typedef struct _CxTestRecorder CxTestRecorder;

CxTestRecorder *cx_test_recorder_new (CxBus *bus, const char *publisher);
void cx_test_recorder_free (CxTestRecorder *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CxTestRecorder, cx_test_recorder_free)

/* CxEvent, every one recorded, in the order published */
GPtrArray *cx_test_recorder_get_events (CxTestRecorder *self);
guint cx_test_recorder_count (CxTestRecorder *self, const char *event);
/* The @nth (from 1) @event, the last one, or NULL. */
CxEvent *cx_test_recorder_nth (CxTestRecorder *self, const char *event, guint nth);
CxEvent *cx_test_recorder_last (CxTestRecorder *self, const char *event);
/* The data of the last @event, which must be there and be an object. */
JsonObject *cx_test_recorder_last_object (CxTestRecorder *self, const char *event);
/* Waits until there have been @nth @event, and returns the @nth. */
CxEvent *cx_test_recorder_wait (CxTestRecorder *self, const char *event, guint nth);

/* The same, for the events about one chat: those whose data's "chatId" is @chat_id (NULL: any
 * event of that name). Every @event of the recorder must carry a chatId. */
guint cx_test_recorder_count_chat (CxTestRecorder *self, const char *event, const char *chat_id);
CxEvent *cx_test_recorder_find_chat (CxTestRecorder *self, const char *event, const char *chat_id);
CxEvent *cx_test_recorder_wait_chat (CxTestRecorder *self, const char *event, const char *chat_id);

/* The transcript entries (JsonObject) in the "messages" arrays of every @event and @also
 * (nullable) event about @chat_id (NULL: any), in the order given; no such array is empty. */
GPtrArray *cx_test_recorder_messages (CxTestRecorder *self, const char *event, const char *also,
                                      const char *chat_id);
/* The first of those that is @type, from @from_type and says @text (each NULL: any), or NULL;
 * it stays the recorder's. cx_test_recorder_wait_message() waits for it. */
JsonObject *cx_test_recorder_find_message (CxTestRecorder *self, const char *event,
                                           const char *also, const char *chat_id, const char *type,
                                           const char *from_type, const char *text);
JsonObject *cx_test_recorder_wait_message (CxTestRecorder *self, const char *event,
                                           const char *also, const char *chat_id, const char *type,
                                           const char *from_type, const char *text);
/* Waits until those entries are as many as the server has for @customer, then checks that
 * they are the server's, from index 1, in order, once each, with the server's text. */
void cx_test_recorder_assert_transcript (CxTestRecorder *self, const char *event, const char *also,
                                         const char *chat_id, CxTestCustomer *customer);

/* The data of @event, which must be an object. */
JsonObject *cx_test_event_object (const CxEvent *event);

/* Commands */

/* Long enough for a sanitizer build; cx_test_wait()'s hang guard ends a hang first. */
#define CX_TEST_COMMAND_TIMEOUT_MS (10 * 60 * 1000)

/* Runs @name with @data (nullable) on @bus as @commander (NULL: "App") and waits for the
 * answer (@timeout_ms 0: the bus's default). Returns the reply, or NULL with @error set. */
JsonNode *cx_test_bus_command (CxBus *bus, CxPlugin *commander, const char *name, JsonNode *data,
                               guint timeout_ms, GError **error);

/* The same as "App" with CX_TEST_COMMAND_TIMEOUT_MS, its data the JSON text @json (NULL: none). */
JsonNode *cx_test_bus_command_json (CxBus *bus, const char *name, const char *json, GError **error);
/* ... that must succeed: returns its reply (nullable). */
JsonNode *cx_test_bus_command_ok (CxBus *bus, const char *name, const char *json);
/* ... that must fail with @domain and @code (domain 0: with any error), saying @needle
 * (nullable) in its message. */
void cx_test_bus_command_fails (CxBus *bus, const char *name, const char *json, GQuark domain,
                                int code, const char *needle);

/* A command started and finished apart, for what happens while it runs: *@slot is set when it
 * is answered. */
void cx_test_bus_command_start (CxBus *bus, CxPlugin *commander, const char *name, const char *json,
                                GAsyncResult **slot);
JsonNode *cx_test_bus_command_finish (CxBus *bus, GAsyncResult **slot, GError **error);

G_END_DECLS
