/* cx-callback-service.h: CxCallbackService, the "CallbackService" plugin of one window's bus:
 * the customer side of the GMS Callback API v1 (reference §2, §5): book a callback, see the
 * free time slots, and look up, move or cancel a booked callback.
 *
 * Commands (JSON data → result):
 *   schedule {firstname, lastname, phoneNumber ("+" and the country code), desiredTime ("now",
 *     the default, or ISO-8601 with a zone), subject, userData{}} → the callback
 *   availability {startDate (ISO-8601, default now), numberOfDays (1-30, default
 *     calendar.numberOfDays or 5), maxTimeSlots} → {slots: [{time, capacity}]}, by time; a
 *     slot with capacity 0 is full
 *   get {id} → the callback; cancel {id} → the callback, CANCELLED;
 *   reschedule {id, desiredTime (ISO-8601)} → the callback
 * A callback is {id, serviceName, state, desiredTime, expirationTime, customerNumber,
 * properties{}}, times ISO-8601 in UTC; members the server left out are left out.
 *
 * A command that fails is rejected with a %CX_CALLBACK_ERROR: the server's refusal (7042 for
 * an office closed then, 409 for a full slot, 404 for an unknown id), 400 for input refused
 * before any request is made, 503 when the server cannot be reached or does not answer within
 * ajaxTimeout. The messages are for people.
 *
 * Events: scheduled (the callback), scheduleError {message, code}, availableSlots {slots},
 *   availabilityError {message, code}, rescheduled (the callback), cancelled (the callback).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "bus/cx-bus.h"
#include "services/cx-http.h"

G_BEGIN_DECLS

/* The namespace the service registers on its bus. */
#define CX_CALLBACK_SERVICE_NAME "CallbackService"
/* The session cookie (on dataURL's site, in CxHttp's jar) that keeps the secrets of the
 * callbacks booked in this run of the app: a JSON object, id -> secret (issue 9). */
#define CX_CALLBACK_COOKIE_SECRETS "_cxdesk.callback.secrets"

#define CX_TYPE_CALLBACK_SERVICE (cx_callback_service_get_type ())

G_DECLARE_FINAL_TYPE (CxCallbackService, cx_callback_service, CX, CALLBACK_SERVICE, GObject)

CxCallbackService *cx_callback_service_new (CxBus *bus, CxHttp *http, JsonObject *config,
                                            GError **error);

CxPlugin *cx_callback_service_get_plugin (CxCallbackService *self);
const char *cx_callback_service_get_data_url (CxCallbackService *self);

G_END_DECLS
