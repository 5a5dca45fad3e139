/* cx-webchat-transcript.c: CxWebChat's transcript view.
 *
 * The transcript is WebChatService's GListModel of CxChatMessage, shown by a GtkListView
 * (through a GtkSliceListModel of its last rows), so a long chat scrolls without a widget per
 * message. The service owns the rows: the transcript's entries, the customer's own messages from
 * the moment they are sent ("sending", then "sent" with their index: the server's copy is not a
 * second row), this window's notices. A restored chat comes as its newest page: when the customer
 * scrolls up to the first row, the page before it is asked of the service (loadEarlier), which
 * puts it above, down to the first entry. New rows keep the end in view while the view is at the
 * end (following it over a few frames, as GtkListView measures rows only as they come into view).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-webchat"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "widgets/cx-webchat-private.h"

/* The transcript */

void
_cx_webchat_clear_transcript (CxWebChat *self)
{
  gtk_slice_list_model_set_offset (self->shown, 0);
  self->earlier_more = FALSE;
}

/* Whether the service may have entries older than the first row (a restored transcript). */
void
_cx_webchat_set_earlier_more (CxWebChat *self, gboolean more)
{
  self->earlier_more = more;
}

/* Shows the last SHOWN_AT_FIRST of @n_rows (a restored transcript). */
void
_cx_webchat_show_last_rows (CxWebChat *self, guint n_rows)
{
  gtk_slice_list_model_set_offset (self->shown,
                                   n_rows > SHOWN_AT_FIRST ? n_rows - SHOWN_AT_FIRST : 0);
}

/* Scrolled up to the top: the rows before, if any. The view keeps its place on the row it
 * showed at the top. From an idle: not from inside the view's own scrolling. */
static gboolean
show_earlier_rows_cb (gpointer user_data)
{
  CxWebChat *self = user_data;
  guint offset = gtk_slice_list_model_get_offset (self->shown);

  self->show_earlier_id = 0;
  gtk_slice_list_model_set_offset (self->shown, offset > SHOWN_STEP ? offset - SHOWN_STEP : 0);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  CxWebChat *self; /* valid unless the command was cancelled */
  guint n_rows;    /* when it was asked */
} EarlierData;

static void
load_earlier_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree EarlierData *earlier = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;
  CxWebChat *self;
  JsonNode *more = NULL;

  reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = earlier->self;
  self->earlier_loading = FALSE;
  if (reply == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    {
      /* The chat ended, or the server is away: asked again when the top is reached again. */
      g_debug ("No earlier messages: %s", error != NULL ? error->message : "bad reply");
      return;
    }

  more = json_object_get_member (json_node_get_object (reply), "more");
  self->earlier_more = more != NULL && json_node_get_value_type (more) == G_TYPE_BOOLEAN &&
                       json_node_get_boolean (more);
  /* The service has put the rows above the view's (_cx_webchat_messages_above_cb): the first
   * of them come in (the view keeps its place). */
  if (gtk_slice_list_model_get_offset (self->shown) > 0)
    {
      g_clear_handle_id (&self->show_earlier_id, g_source_remove);
      show_earlier_rows_cb (self);
    }
  /* A page of entries that make no row: read on. */
  else if (self->earlier_more && g_list_model_get_n_items (self->messages) == earlier->n_rows)
    _cx_webchat_transcript_edge_reached_cb (self, GTK_POS_TOP);
}

void
_cx_webchat_transcript_edge_reached_cb (CxWebChat *self, GtkPositionType position)
{
  /* Not while the end is followed: at the start of a restore, the view is at its top. */
  if (position != GTK_POS_TOP || self->follow_tick_id != 0 || self->show_earlier_id != 0)
    return;

  if (gtk_slice_list_model_get_offset (self->shown) > 0)
    {
      self->show_earlier_id = g_idle_add (show_earlier_rows_cb, self);
      return;
    }

  /* Every row is shown: the service may have older entries. */
  if (!self->earlier_more || self->earlier_loading || self->phase != CX_WEBCHAT_PHASE_CHAT)
    return;
  {
    EarlierData *earlier = g_new0 (EarlierData, 1);

    earlier->self = self;
    earlier->n_rows = g_list_model_get_n_items (self->messages);
    self->earlier_loading = TRUE;
    _cx_webchat_command_service (self, "loadEarlier", NULL, EARLIER_TIMEOUT_MS, load_earlier_cb,
                                 earlier);
  }
}

/* Rows the service put above the first (older pages: asked for by loadEarlier as the customer
 * scrolled up, or all of them for getTranscript before a save). After the slice has seen them:
 * the view keeps the rows it had, and takes the new ones in only as the customer scrolls up
 * (show_earlier_rows_cb), however many the service read. */
void
_cx_webchat_messages_above_cb (CxWebChat *self, guint position, guint removed, guint added,
                               GListModel *model)
{
  if (position != 0 || removed != 0 || added == 0 || added == g_list_model_get_n_items (model) ||
      gtk_slice_list_model_get_model (self->shown) != model)
    return;

  gtk_slice_list_model_set_offset (self->shown,
                                   gtk_slice_list_model_get_offset (self->shown) + added);
}

static void
publish_message_added (CxWebChat *self, CxChatMessage *row)
{
  g_autoptr (GEnumClass) kinds = NULL;
  g_autoptr (JsonNode) data = NULL;
  guint index = cx_chat_message_get_index (row);
  JsonObject *object;

  kinds = g_type_class_ref (CX_TYPE_CHAT_MESSAGE_KIND);
  object = json_object_new ();
  json_object_set_string_member (
      object, "kind", g_enum_get_value (kinds, cx_chat_message_get_kind (row))->value_nick);
  if (cx_chat_message_get_sender (row) != NULL)
    json_object_set_string_member (object, "name", cx_chat_message_get_sender (row));
  json_object_set_string_member (object, "text", cx_chat_message_get_text (row));
  json_object_set_int_member (object, "time", cx_chat_message_get_time (row));
  if (index > 0)
    json_object_set_int_member (object, "index", index);
  data = cx_json_node_new_object (object);
  _cx_webchat_publish (self, "messageAdded", data);
}

/* A notice of this window's only, at the end of the transcript (never sent). */
void
_cx_webchat_add_notice (CxWebChat *self, const char *sender, const char *text)
{
  self->adding_notice = TRUE;
  if (self->service != NULL)
    cx_webchat_service_add_notice (self->service, sender, text);
  else
    {
      g_autoptr (CxChatMessage) row =
          cx_chat_message_new (CX_CHAT_MESSAGE_SYSTEM, sender, text, g_get_real_time () / 1000);

      g_list_store_append (self->own_rows, row);
    }
  self->adding_notice = FALSE;
}

/* Rows the service added. At the end, in a chat (or a notice): each is "added" (messageAdded),
 * an agent's counts as unread while the panel is away, and the end stays in view (always for
 * the customer's own message). Rows above (older pages) and a restored transcript (before the
 * panel enters the chat) are not "added". */
void
_cx_webchat_messages_changed_cb (CxWebChat *self, guint position, guint removed, guint added,
                                 GListModel *model)
{
  guint from_agent = 0;
  gboolean own = FALSE;

  if (added == 0 || removed > 0 || position + added != g_list_model_get_n_items (model) ||
      (self->phase != CX_WEBCHAT_PHASE_CHAT && !self->adding_notice))
    return;

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr (CxChatMessage) row = g_list_model_get_item (model, i);

      if (cx_chat_message_get_kind (row) == CX_CHAT_MESSAGE_AGENT)
        from_agent++;
      else if (cx_chat_message_get_kind (row) == CX_CHAT_MESSAGE_OWN &&
               cx_chat_message_get_status (row) == CX_CHAT_MESSAGE_STATUS_SENDING)
        own = TRUE;
      publish_message_added (self, row);
    }

  _cx_webchat_follow_end (self, own || self->adding_notice);
  if (from_agent > 0 && (!self->open || self->minimized))
    _cx_webchat_set_unread (self, self->unread + from_agent);
}

/* Following the end of the transcript. GtkListView measures rows only as they come into view
 * and keeps its own anchor, so one jump to the end lands short of a tall new row: the end is
 * set again on each frame until it holds still. */
static gboolean
follow_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  CxWebChat *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->transcript_scroller);
  double upper = gtk_adjustment_get_upper (adjustment);
  double value = gtk_adjustment_get_value (adjustment);
  double end = upper - gtk_adjustment_get_page_size (adjustment);

  /* Up from where this left it, the rows unchanged: the customer scrolled. They lead now. */
  if (self->follow_value >= 0 && upper == self->follow_upper && value < self->follow_value - 1)
    {
      self->follow_tick_id = 0;
      /* Scrolled all the way up meanwhile: the edge was passed over while following. */
      if (value <= gtk_adjustment_get_lower (adjustment))
        _cx_webchat_transcript_edge_reached_cb (self, GTK_POS_TOP);
      return G_SOURCE_REMOVE;
    }

  if (value < end - 0.5)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));

      /* One frame the last row, the next its end. GTK 4.8's list view, set straight to an end
       * it has only estimated, may land rows short of it or show no row at all; and the
       * end of a row taller than the view is below what scroll-to-item brings in. Each takes
       * effect at the next allocation, so not both in one frame. */
      if (!self->follow_scrolled_to_item && n > 0)
        {
          gtk_widget_activate_action (GTK_WIDGET (self->transcript_view), "list.scroll-to-item",
                                      "u", n - 1);
          self->follow_value = -1; /* where that lands is known next frame */
        }
      else
        {
          gtk_adjustment_set_value (adjustment, end);
          self->follow_value = gtk_adjustment_get_value (adjustment);
        }
      self->follow_upper = upper;
      self->follow_scrolled_to_item = !self->follow_scrolled_to_item;
      self->follow_stable_frames = 0;
      return G_SOURCE_CONTINUE;
    }

  self->follow_value = value;
  self->follow_upper = upper;
  if (++self->follow_stable_frames < FOLLOW_STABLE_FRAMES)
    return G_SOURCE_CONTINUE;

  self->follow_tick_id = 0;
  return G_SOURCE_REMOVE;
}

/* After rows were added: keep the end in view if it was in view (or following it still), or
 * always with @force (the customer's own message, a restored transcript). */
void
_cx_webchat_follow_end (CxWebChat *self, gboolean force)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->transcript_scroller);
  double end = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));

  if (!force && self->follow_tick_id == 0 &&
      gtk_adjustment_get_value (adjustment) < end - STICK_THRESHOLD_PX)
    return;
  if (n == 0)
    return;

  /* Brings the last row in, so that it is measured... */
  gtk_widget_activate_action (GTK_WIDGET (self->transcript_view), "list.scroll-to-item", "u",
                              n - 1);
  /* ...and then its end, frame after frame. */
  self->follow_scrolled_to_item = TRUE;
  self->follow_value = -1;
  self->follow_stable_frames = 0;
  if (self->follow_tick_id == 0)
    self->follow_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->transcript_view),
                                                         follow_tick_cb, self, NULL);
}

/* The transcript's rows */

void
_cx_webchat_factory_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                              gpointer user_data)
{
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_selectable (item, FALSE);
  gtk_list_item_set_child (item, cx_chat_row_new ());
}

void
_cx_webchat_factory_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                             gpointer user_data)
{
  cx_chat_row_set_message (CX_CHAT_ROW (gtk_list_item_get_child (item)),
                           gtk_list_item_get_item (item));
}

void
_cx_webchat_factory_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                               gpointer user_data)
{
  cx_chat_row_set_message (CX_CHAT_ROW (gtk_list_item_get_child (item)), NULL);
}
