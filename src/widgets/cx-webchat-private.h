/* cx-webchat-private.h: what the files of CxWebChat share: the instance struct (with its
 * template children), its limits, and the internal functions one part calls in another. Only
 * the cx-webchat*.c files include it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "protocol/cx-message.h"
#include "protocol/cx-protocol.h"
#include "services/cx-chat-message.h"
#include "widgets/cx-chat-row.h"
#include "services/cx-webchat-service.h"
#include "widgets/cx-webchat.h"

G_BEGIN_DECLS

#define SERVICE "WebChatService"
/* sendMessage waits for the server, also while it is offline: the service queues the message
 * and resolves when it is stored. A bus timeout must not turn that wait into a failure (the
 * service would still send it, and a Retry would send it twice). */
#define SEND_TIMEOUT_MS (24u * 60 * 60 * 1000)
#define END_TIMEOUT_MS (2u * 60 * 1000)
/* The service repeats "typing" to the server itself while it is told within 5 s. */
#define TYPING_REPEAT_MS 2000
/* How close to the end of the transcript counts as "at the end" (new messages scroll in). */
#define STICK_THRESHOLD_PX 24.0
/* Frames the end of the transcript must hold still before it is no longer followed. */
#define FOLLOW_STABLE_FRAMES 3

/* Long enough for WebChatService.loadEarlier: it waits for the server. */
#define EARLIER_TIMEOUT_MS (2u * 60 * 1000)

/* A restored transcript shows its last rows; the earlier ones come in as the customer scrolls
 * up to the top, so many at a time. GTK 4.8's list view builds up to 200 rows around what it
 * shows whatever the view's height: a long chat would otherwise cost 200 rows built at its
 * start and 200 more at its end before the first frame. It builds them as the model changes,
 * before that frame: 20 rows (more than a panel's height holds) cost a third of 50. */
#define SHOWN_AT_FIRST 20
#define SHOWN_STEP 100
/* The slice's size: "to the end". Not G_MAXUINT: GTK 4.8's slice adds it to its offset, and
 * the sum wraps, so a slice with an offset would miss every change. */
#define SHOWN_ALL (G_MAXUINT / 2)

struct _CxWebChat
{
  GtkWidget parent_instance;

  CxBus *bus;
  CxPlugin *plugin;
  GCancellable *cancellable;

  CxWebChatService *service; /* weak: its transcript model and agent name are what this shows */
  GListModel *messages;      /* CxChatMessage: the service's, or own_rows without one */
  GListStore *own_rows;      /* notices, when there is no service */
  GtkSliceListModel *shown;  /* the rows of messages the view has, from an offset to the end */
  gboolean adding_notice;    /* a notice of this window's is being added */

  gboolean open;
  gboolean minimized;
  CxWebChatPhase phase;
  char *chat_id;
  char *agent_name;
  char *typing_text;
  guint unread;
  gboolean offline;
  guint follow_tick_id;
  guint follow_stable_frames;
  gboolean follow_scrolled_to_item;
  double follow_value; /* where following left the view (-1: not known yet), and its height */
  double follow_upper;
  guint show_earlier_id;
  gboolean earlier_more;    /* the service may hold older entries than the first row */
  gboolean earlier_loading; /* loadEarlier is under way */
  gint64 last_typing_ms;
  gboolean close_after_end;
  GtkWidget *end_dialog;
  gboolean chat_button_visible;
  gboolean restoring_panel; /* applying a restored panel state: not saved back */
  GtkNativeDialog *file_dialog;

  /* Template children */
  GtkWidget *minimized_button;
  GtkLabel *badge_label;
  GtkWidget *panel;
  GtkLabel *status_label;
  GtkWidget *end_button;
  GtkRevealer *banner_revealer;
  GtkSpinner *banner_spinner;
  GtkStack *stack;
  GtkWidget *form_box;
  GtkLabel *notice_label;
  GtkEntry *first_name_entry;
  GtkEntry *last_name_entry;
  GtkEntry *email_entry;
  GtkEntry *subject_entry;
  GtkLabel *first_name_error;
  GtkLabel *last_name_error;
  GtkLabel *email_error;
  GtkLabel *form_error;
  GtkSpinner *start_spinner;
  GtkWidget *start_button;
  GtkScrolledWindow *transcript_scroller;
  GtkListView *transcript_view;
  GtkLabel *typing_label;
  GtkWidget *composer_box;
  GtkTextView *composer;
  GtkWidget *attach_button;
  GtkWidget *send_button;
  GtkWidget *save_button;
  GtkWidget *ended_box;
  GtkWidget *new_chat_button;
};

/* cx-webchat.c */
void _cx_webchat_publish (CxWebChat *self, const char *event, JsonNode *data);
JsonObject *_cx_webchat_event_object (const CxEvent *event);
const char *_cx_webchat_object_string (JsonObject *object, const char *member);
char *_cx_webchat_entry_text_stripped (GtkEntry *entry);
void _cx_webchat_command_service (CxWebChat *self, const char *command, JsonNode *data,
                                  guint timeout_ms, GAsyncReadyCallback callback,
                                  gpointer user_data);
void _cx_webchat_save_panel_state (CxWebChat *self);
void _cx_webchat_set_unread (CxWebChat *self, guint unread);
void _cx_webchat_set_typing (CxWebChat *self, const char *nickname);
void _cx_webchat_set_offline (CxWebChat *self, gboolean offline);
void _cx_webchat_set_agent_name (CxWebChat *self, const char *name);
void _cx_webchat_set_phase (CxWebChat *self, CxWebChatPhase phase);
void _cx_webchat_set_chat_id (CxWebChat *self, const char *chat_id);
void _cx_webchat_focus_current (CxWebChat *self);
void _cx_webchat_set_open (CxWebChat *self, gboolean open);
void _cx_webchat_set_minimized (CxWebChat *self, gboolean minimized);
void _cx_webchat_set_chat_button_visible (CxWebChat *self, gboolean visible);

/* cx-webchat-events.c */
void _cx_webchat_enter_chat (CxWebChat *self, const char *chat_id, gboolean restored);
void _cx_webchat_show_notice (CxWebChat *self, const char *text);
void _cx_webchat_service_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_restored_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_agent_disconnected_cb (CxBus *bus, const CxEvent *event,
                                                gpointer user_data);
void _cx_webchat_service_typing_started_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_typing_stopped_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_ended_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_offline_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_online_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_restore_timeout_cb (CxBus *bus, const CxEvent *event, gpointer user_data);
void _cx_webchat_service_restore_failed_cb (CxBus *bus, const CxEvent *event, gpointer user_data);

/* cx-webchat-form.c */
void _cx_webchat_entry_changed_cb (CxWebChat *self, GtkEntry *entry);
void _cx_webchat_entry_activate_cb (CxWebChat *self, GtkEntry *entry);
void _cx_webchat_fill_form (CxWebChat *self, JsonObject *form);
void _cx_webchat_start_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);

/* cx-webchat-transcript.c */
void _cx_webchat_clear_transcript (CxWebChat *self);
void _cx_webchat_show_last_rows (CxWebChat *self, guint n_rows);
void _cx_webchat_set_earlier_more (CxWebChat *self, gboolean more);
void _cx_webchat_transcript_edge_reached_cb (CxWebChat *self, GtkPositionType position);
void _cx_webchat_add_notice (CxWebChat *self, const char *sender, const char *text);
void _cx_webchat_messages_changed_cb (CxWebChat *self, guint position, guint removed, guint added,
                                      GListModel *model);
void _cx_webchat_messages_above_cb (CxWebChat *self, guint position, guint removed, guint added,
                                    GListModel *model);
void _cx_webchat_follow_end (CxWebChat *self, gboolean force);
void _cx_webchat_factory_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                                   gpointer user_data);
void _cx_webchat_factory_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                                  gpointer user_data);
void _cx_webchat_factory_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item,
                                    gpointer user_data);

/* cx-webchat-actions.c */
void _cx_webchat_send_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_webchat_send_file (CxWebChat *self, GFile *file);
void _cx_webchat_attach_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_webchat_emoji_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_webchat_save_transcript_to (CxWebChat *self, GFile *file);
void _cx_webchat_save_transcript_activated (GtkWidget *widget, const char *action_name,
                                            GVariant *parameter);
void _cx_webchat_retry_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_webchat_composer_changed_cb (CxWebChat *self, GtkTextBuffer *buffer);
gboolean _cx_webchat_composer_key_pressed_cb (CxWebChat *self, guint keyval, guint keycode,
                                              GdkModifierType state,
                                              GtkEventControllerKey *controller);
void _cx_webchat_end_chat_activated (GtkWidget *widget, const char *action_name,
                                     GVariant *parameter);
void _cx_webchat_new_chat_activated (GtkWidget *widget, const char *action_name,
                                     GVariant *parameter);
void _cx_webchat_minimize_activated (GtkWidget *widget, const char *action_name,
                                     GVariant *parameter);
void _cx_webchat_unminimize_activated (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter);
void _cx_webchat_close_activated (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_webchat_open_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_close_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_minimize_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_end_chat_command_cb (CxPlugin *plugin, CxCommand *command, gpointer user_data);
void _cx_webchat_inject_message_command_cb (CxPlugin *plugin, CxCommand *command,
                                            gpointer user_data);
void _cx_webchat_show_chat_button_command_cb (CxPlugin *plugin, CxCommand *command,
                                              gpointer user_data);
void _cx_webchat_hide_chat_button_command_cb (CxPlugin *plugin, CxCommand *command,
                                              gpointer user_data);

G_END_DECLS
