/* cx-webchat-service-outbox.c: CxWebChatService's sendMessage queue, and typing.
 *
 * sendMessage keeps a queue: one message in flight at a time, in order; while offline the queue
 * waits, and each command resolves when its message is acknowledged.
 *
 * Resending. A message whose send failed without an answer may have been stored. Before it is
 * sent again the transcript is read (a `refresh` asked after the failure, which also brings it
 * up to date), and the message counts as delivered, with that index, if the transcript has a Client
 * "Message" with exactly its text at an index after the last message this service saw acknowledged
 * and at or after the position the transcript had when the message was first sent (the server
 * appends it after that). Two identical texts sent in that window from two windows of the same chat
 * are indistinguishable: the second is then taken as delivered.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat-service"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "services/cx-webchat-service-private.h"

/* Sending: one message in flight at a time, in order */

/* The transcript entry that is @outgoing, if the server stored it although its send failed:
 * a Client message with its text, after the last acknowledged one and at or after the position
 * the transcript had when it was first sent (see the top of this file). */
static CxMessage *
find_delivered (CxWebChatService *self, Outgoing *outgoing, GPtrArray *messages)
{
  guint from = MAX (self->last_acked_index + 1, outgoing->first_position);

  for (guint i = 0; i < messages->len; i++)
    {
      CxMessage *message = g_ptr_array_index (messages, i);

      if (message->index >= from && message->type == CX_MESSAGE_TEXT &&
          message->from_type == CX_PARTY_CLIENT && g_strcmp0 (message->text, outgoing->text) == 0)
        return message;
    }

  return NULL;
}

/* @outgoing, off the queue, is stored at @index. */
static void
acknowledge (CxWebChatService *self, Outgoing *outgoing, guint index)
{
  JsonObject *object = json_object_new ();
  g_autoptr (JsonNode) result = NULL;

  self->last_acked_index = MAX (self->last_acked_index, index);
  if (outgoing->row != NULL)
    {
      if (cx_chat_message_get_index (outgoing->row) == 0 && index > 0)
        cx_chat_message_set_index (outgoing->row, index);
      cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENT);
    }
  json_object_set_int_member (object, "index", index);
  result = cx_json_node_new_object (object);
  cx_command_resolve (outgoing->command, result);
  _cx_webchat_service_outgoing_free (outgoing);
}

static void post_simple (CxWebChatService *self, const char *op, const char *message,
                         CxCommand *command);

static void
send_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (GError) error = NULL;
  Outgoing *outgoing;
  CxMessage *stored;
  Outcome outcome;
  guint generation;
  guint index;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, NULL, &error);
  if (outcome == OUTCOME_CANCELLED)
    return;

  hold = g_object_ref (self);
  generation = self->generation;
  self->send_in_flight = FALSE;

  if (outcome == OUTCOME_FAILED)
    {
      /* Maybe stored, maybe not: the next good refresh asked from now on tells
       * (_cx_webchat_service_pump_outbox). */
      self->outbox_blocked = TRUE;
      outgoing = g_queue_peek_head (&self->outbox);
      if (outgoing != NULL && outgoing->row != NULL &&
          cx_chat_message_get_index (outgoing->row) == 0)
        cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_UNCERTAIN);
      if (self->refresh_in_flight)
        self->refresh_predates_block = TRUE;
      _cx_webchat_service_exchange_failed (self, error);
      if (!self->offline)
        _cx_webchat_service_poll_now (self);
      return;
    }

  outgoing = g_queue_pop_head (&self->outbox);
  if (outcome == OUTCOME_REFUSED)
    {
      _cx_webchat_service_outgoing_fail (outgoing, g_error_new (CX_BUS_ERROR, CX_BUS_ERROR_REJECTED,
                                                                _ ("The message was not sent: %s"),
                                                                error->message));
      /* The chat may have ended under us: the transcript says. */
      _cx_webchat_service_poll_now (self);
      _cx_webchat_service_pump_outbox (self);
      return;
    }

  _cx_webchat_service_exchange_succeeded (self);

  /* The reply carries the transcript from where this service was: the message is in it. */
  stored = find_delivered (self, outgoing, reply->messages);
  if (stored != NULL)
    index = stored->index;
  else
    index = reply->next_position > 0 ? reply->next_position - 1 : 0;

  /* Its row is the entry: the transcript must not add a second one. */
  if (stored != NULL && outgoing->row != NULL && cx_chat_message_get_index (outgoing->row) == 0)
    {
      cx_chat_message_set_index (outgoing->row, stored->index);
      cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENT);
      self->claimed_index = stored->index;
    }
  _cx_webchat_service_handle_reply (self, reply);
  acknowledge (self, outgoing, index);

  if (_cx_webchat_service_still_in_chat (self, generation))
    _cx_webchat_service_pump_outbox (self);
}

static void
send_head (CxWebChatService *self, Outgoing *outgoing)
{
  g_autoptr (GHashTable) form = _cx_webchat_service_new_form ();

  if (outgoing->first_position == 0)
    outgoing->first_position = cx_transcript_cursor_get_next_position (self->cursor);

  /* A message ends the customer's typing. */
  if (self->typing)
    {
      self->typing = FALSE;
      g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
      post_simple (self, "stopTyping", NULL, NULL);
    }

  self->send_in_flight = TRUE;
  if (outgoing->row != NULL &&
      cx_chat_message_get_status (outgoing->row) != CX_CHAT_MESSAGE_STATUS_SENT)
    cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENDING);
  _cx_webchat_service_form_add (form, "message", outgoing->text);
  _cx_webchat_service_form_add (form, "messageType", "text");
  _cx_webchat_service_form_add_uint (form, "transcriptPosition",
                                     cx_transcript_cursor_get_next_position (self->cursor));
  _cx_webchat_service_gms_post_async (self, "send", form, NULL, send_reply_cb);
}

void
_cx_webchat_service_pump_outbox (CxWebChatService *self)
{
  Outgoing *outgoing;

  while (self->state == STATE_ACTIVE && !self->send_in_flight && !self->outbox_blocked &&
         (!self->offline || self->recovering) &&
         (outgoing = g_queue_peek_head (&self->outbox)) != NULL)
    {
      /* Sent before without an answer: the transcript is fresh here, see if it got there. */
      if (outgoing->first_position != 0)
        {
          CxMessage *stored = find_delivered (self, outgoing, self->transcript);

          if (stored != NULL)
            {
              g_debug ("Chat %s: message %u was stored before the failure: not resent",
                       self->chat_id, stored->index);
              g_queue_pop_head (&self->outbox);
              acknowledge (self, outgoing, stored->index);
              continue;
            }
        }

      send_head (self, outgoing);
    }

  _cx_webchat_service_maybe_back_online (self);
}

/* The failed row of this window's that sendMessage's "serial" names, if any. */
static CxChatMessage *
find_failed_row (CxWebChatService *self, JsonNode *data)
{
  GListModel *model = G_LIST_MODEL (self->messages);
  JsonNode *serial = json_object_get_member (json_node_get_object (data), "serial");
  guint n = g_list_model_get_n_items (model);

  if (serial == NULL || json_node_get_value_type (serial) != G_TYPE_INT64)
    return NULL;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (model, i - 1);

      if (cx_chat_message_get_serial (row) == json_node_get_int (serial) &&
          cx_chat_message_get_kind (row) == CX_CHAT_MESSAGE_OWN &&
          cx_chat_message_get_status (row) == CX_CHAT_MESSAGE_STATUS_FAILED)
        return g_steal_pointer (&row);
    }
  return NULL;
}

void
_cx_webchat_service_send_message_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *message = NULL;
  Outgoing *outgoing;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    message = json_object_get_member (json_node_get_object (data), "message");
  if (message == NULL || json_node_get_value_type (message) != G_TYPE_STRING ||
      json_node_get_string (message)[0] == '\0')
    {
      cx_command_reject_message (command, _ ("sendMessage needs a “message”"));
      return;
    }

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Queued, also while offline: the command resolves once the server has the message. Its row
   * (the local echo) is in the transcript model from now on: a failed one given again by its
   * serial, or a new one. */
  outgoing = g_new0 (Outgoing, 1);
  outgoing->text = g_strdup (json_node_get_string (message));
  outgoing->command = g_object_ref (command);
  outgoing->row = find_failed_row (self, data);
  if (outgoing->row != NULL)
    {
      cx_chat_message_set_error (outgoing->row, NULL);
      cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENDING);
    }
  else
    {
      outgoing->row = cx_chat_message_new (CX_CHAT_MESSAGE_OWN, _ ("You"), outgoing->text,
                                           _cx_webchat_service_now_ms ());
      cx_chat_message_set_status (outgoing->row, CX_CHAT_MESSAGE_STATUS_SENDING);
      g_list_store_append (self->messages, outgoing->row);
    }
  g_queue_push_tail (&self->outbox, outgoing);
  _cx_webchat_service_pump_outbox (self);
}

/* Typing, and other requests answered with nothing but a status */

static void
simple_reply_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CxWebChatService *self = user_data;
  g_autoptr (CxWebChatService) hold = NULL;
  g_autoptr (CxGmsReply) reply = NULL;
  g_autoptr (CxCommand) command = NULL;
  g_autoptr (GError) error = NULL;
  Outcome outcome;

  reply = _cx_webchat_service_gms_post_finish (result, &outcome, &command, &error);
  if (outcome == OUTCOME_CANCELLED)
    {
      if (command != NULL)
        cx_command_reject (command, g_steal_pointer (&error));
      return;
    }

  hold = g_object_ref (self);
  if (outcome == OUTCOME_OK)
    {
      _cx_webchat_service_exchange_succeeded (self);
      if (command != NULL)
        cx_command_resolve (command, NULL);
      _cx_webchat_service_handle_reply (self, reply);
      return;
    }

  if (command != NULL)
    cx_command_reject (command, g_error_copy (error));
  if (outcome == OUTCOME_FAILED)
    _cx_webchat_service_exchange_failed (self, error);
}

static void
post_simple (CxWebChatService *self, const char *op, const char *message, CxCommand *command)
{
  g_autoptr (GHashTable) form = _cx_webchat_service_new_form ();

  if (message != NULL)
    _cx_webchat_service_form_add (form, "message", message);
  _cx_webchat_service_gms_post_async (self, op, form, command, simple_reply_cb);
}

static gboolean
typing_idle_cb (gpointer user_data)
{
  CxWebChatService *self = user_data;

  self->typing_timeout_id = 0;
  if (self->typing && self->state == STATE_ACTIVE && !self->offline)
    post_simple (self, "stopTyping", NULL, NULL);
  self->typing = FALSE;

  return G_SOURCE_REMOVE;
}

void
_cx_webchat_service_send_typing_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data)
{
  CxWebChatService *self = user_data;
  JsonNode *data = cx_command_get_data (command);
  JsonNode *message = NULL;
  const char *preview = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    message = json_object_get_member (json_node_get_object (data), "message");
  if (message != NULL && json_node_get_value_type (message) == G_TYPE_STRING)
    preview = json_node_get_string (message);

  if (self->state != STATE_ACTIVE)
    {
      cx_command_reject_message (command, _ ("There is no chat"));
      return;
    }

  /* Typing is of the moment: while offline it is not sent, nor kept. */
  if (self->offline)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  self->typing_timeout_id = g_timeout_add (CX_SERVICE_TYPING_IDLE_MS, typing_idle_cb, self);

  if (self->typing)
    {
      cx_command_resolve (command, NULL);
      return;
    }

  self->typing = TRUE;
  post_simple (self, "startTyping", preview, command);
}
