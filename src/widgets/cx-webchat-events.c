/* cx-webchat-events.c: how CxWebChat follows the events of "WebChatService" (started,
 * restored, messageReceived, agent joins, typing, ended, the server going away and coming back)
 * and enters or leaves a chat. The transcript and the agent's name are the service's state, bound
 * in cx-webchat.c (cx_webchat_set_service()); the events say when the chat begins and ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "widgets/cx-webchat-private.h"

/* Entering and leaving a chat */

void
_cx_webchat_enter_chat (CxWebChat *self, const char *chat_id, gboolean restored)
{
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->phase == CX_WEBCHAT_PHASE_CHAT && g_strcmp0 (self->chat_id, chat_id) == 0)
    return;

  _cx_webchat_set_chat_id (self, chat_id);
  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), FALSE);
  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_CHAT);
  _cx_webchat_save_panel_state (self);
  if (gtk_widget_is_visible (self->panel))
    gtk_widget_grab_focus (GTK_WIDGET (self->composer));

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", chat_id != NULL ? chat_id : "");
  json_object_set_boolean_member (object, "restored", restored);
  data = cx_json_node_new_object (object);
  _cx_webchat_publish (self, "started", data);
}

void
_cx_webchat_show_notice (CxWebChat *self, const char *text)
{
  gtk_label_set_text (self->notice_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), text != NULL);
}

/* WebChatService events */

void
_cx_webchat_service_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *chat_id = _cx_webchat_object_string (_cx_webchat_event_object (event), "chatId");

  if (self->phase != CX_WEBCHAT_PHASE_CHAT)
    _cx_webchat_clear_transcript (self);
  _cx_webchat_enter_chat (self, chat_id, FALSE);
}

/* The panel as the other windows of the site left it ("panel" of restored): open unless it was
 * closed, minimized with its unread count if it was. */
static void
restore_panel_state (CxWebChat *self, JsonObject *restored)
{
  JsonNode *node = restored != NULL ? json_object_get_member (restored, "panel") : NULL;
  JsonObject *panel =
      node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *state = _cx_webchat_object_string (panel, "state");
  JsonNode *unread = panel != NULL ? json_object_get_member (panel, "unreadMessages") : NULL;

  self->restoring_panel = TRUE;
  _cx_webchat_enter_chat (self, _cx_webchat_object_string (restored, "chatId"), TRUE);
  if (g_strcmp0 (state, "closed") != 0)
    _cx_webchat_set_open (self, TRUE);
  if (g_strcmp0 (state, "minimized") == 0)
    {
      _cx_webchat_set_minimized (self, TRUE);
      if (unread != NULL && json_node_get_value_type (unread) == G_TYPE_INT64 &&
          json_node_get_int (unread) > 0)
        _cx_webchat_set_unread (self, MIN (json_node_get_int (unread), G_MAXINT32));
    }
  self->restoring_panel = FALSE;
}

void
_cx_webchat_service_restored_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonObject *object = _cx_webchat_event_object (event);

  /* The service holds the transcript (its newest page): this window shows what every other one
   * shows. The view hears of the rows once, its offset set: it builds rows for the end only.
   * (GTK 4.8's slice model, its offset set past the end of a model that then grows, tells the
   * view a wrong count.) */
  _cx_webchat_clear_transcript (self);
  _cx_webchat_set_typing (self, NULL);
  gtk_slice_list_model_set_model (self->shown, NULL);
  _cx_webchat_show_last_rows (self, g_list_model_get_n_items (self->messages));
  gtk_slice_list_model_set_model (self->shown, self->messages);
  /* The rest comes as the customer scrolls up. */
  _cx_webchat_set_earlier_more (self, TRUE);
  restore_panel_state (self, object);
  _cx_webchat_follow_end (self, TRUE);
}

void
_cx_webchat_service_agent_disconnected_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;

  _cx_webchat_set_typing (self, NULL);
}

void
_cx_webchat_service_typing_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *nickname = _cx_webchat_object_string (_cx_webchat_event_object (event), "nickname");

  if (self->phase == CX_WEBCHAT_PHASE_CHAT)
    _cx_webchat_set_typing (self, nickname != NULL ? nickname : "");
}

void
_cx_webchat_service_typing_stopped_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  _cx_webchat_set_typing (CX_WEBCHAT (user_data), NULL);
}

void
_cx_webchat_service_ended_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  JsonObject *object;
  g_autoptr (JsonNode) data = NULL;

  if (self->phase != CX_WEBCHAT_PHASE_CHAT && self->phase != CX_WEBCHAT_PHASE_STARTING)
    return;

  _cx_webchat_set_typing (self, NULL);
  _cx_webchat_set_offline (self, FALSE);
  if (self->end_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->end_dialog));
  _cx_webchat_set_phase (self, CX_WEBCHAT_PHASE_ENDED);
  _cx_webchat_follow_end (self, TRUE);
  if (gtk_widget_is_visible (self->panel))
    gtk_widget_grab_focus (self->new_chat_button);

  object = json_object_new ();
  json_object_set_string_member (object, "chatId", self->chat_id != NULL ? self->chat_id : "");
  data = cx_json_node_new_object (object);
  _cx_webchat_publish (self, "ended", data);

  if (self->close_after_end)
    {
      self->close_after_end = FALSE;
      _cx_webchat_set_open (self, FALSE);
    }
}

void
_cx_webchat_service_offline_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  _cx_webchat_set_offline (CX_WEBCHAT (user_data), TRUE);
}

void
_cx_webchat_service_online_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  _cx_webchat_set_offline (CX_WEBCHAT (user_data), FALSE);
}

void
_cx_webchat_service_restore_timeout_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;

  if (self->phase != CX_WEBCHAT_PHASE_FORM)
    return;

  /* The cookies named a chat nobody has looked at for too long: say so, and offer a new one. */
  _cx_webchat_show_notice (self, _ ("Your previous chat has expired. You can start a new one."));
  _cx_webchat_set_open (self, TRUE);
}

void
_cx_webchat_service_restore_failed_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxWebChat *self = user_data;
  const char *message = _cx_webchat_object_string (_cx_webchat_event_object (event), "message");
  g_autofree char *text = NULL;

  if (self->phase != CX_WEBCHAT_PHASE_FORM)
    return;

  /* Translators: %s says why, from the chat service */
  text = g_strdup_printf (_ ("Your chat could not be restored: %s"),
                          message != NULL ? message : _ ("unknown error"));
  _cx_webchat_show_notice (self, text);
  _cx_webchat_set_open (self, TRUE);
}
