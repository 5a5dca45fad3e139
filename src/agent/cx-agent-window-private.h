/* cx-agent-window-private.h: what the files of CxAgentWindow share.
 *
 *   cx-agent-window.c          the class: the window as a view of the application's one agent
 *                              session, the selected conversation, following the service
 *   cx-agent-window-rows.c     the sidebar's rows and the transcript's rows
 *   cx-agent-window-actions.c  the win.* actions: sign-in and out, state, accept and decline,
 *                              send, end, transfer, pop-out, the switcher, canned responses and
 *                              the composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gi18n.h>
#include <string.h>

#include "agent/cx-agent-callbacks.h"
#include "agent/cx-agent-canned.h"
#include "agent/cx-agent-switcher.h"
#include "agent/cx-agent-transcript.h"
#include "agent/cx-agent-window.h"

G_BEGIN_DECLS

/* The state drop-down's rows, in its order: a not-ready reason is sent as this code (the server
 * keeps free text; other windows of the app map the code back to its row). */
typedef struct
{
  const char *state;
  const char *reason;
} AgentStateRow;

#define N_STATES 7
extern const AgentStateRow _cx_agent_window_states[N_STATES];

typedef void (*CommandDone) (CxAgentWindow *self, JsonNode *result, const GError *error);

#define COMMAND_PREFIX CX_AGENT_SERVICE_NAME "."
#define TYPING_REPEAT_USEC (3 * G_USEC_PER_SEC)

struct _CxAgentWindow
{
  GtkApplicationWindow parent_instance;

  CxBus *bus;
  CxAgentService *service;
  gulong subscription;
  GCancellable *cancellable;

  GtkFilter *conversation_filter;
  GtkSingleSelection *selection;
  CxAgentConversation *selected;
  GHashTable *seen;                /* chat id → number of messages seen */
  GPtrArray *bound_items;          /* GtkListItem: the conversation rows on screen */
  char *chat_id;                   /* a pop-out: the one chat it shows */
  CxAgentConversation *invitation; /* the one in the banner: the service's object, no copy */
  guint countdown_id;
  gboolean was_signed_in;
  gboolean canned_dismissed; /* Escape closed the "/" popover: not again for this "/" */
  CxAgentCanned *canned;
  CxAgentSwitcher *switcher;
  GtkWidget *callbacks;
  guint wait_refresh_id;
  gboolean updating_state;
  gboolean at_bottom;
  gint64 last_typing;

  /* Template children */
  GtkLabel *title_label;
  GtkDropDown *state_dropdown;
  GtkStack *stack;
  GtkEntry *server_entry;
  GtkEntry *username_entry;
  GtkPasswordEntry *password_entry;
  GtkLabel *sign_in_error;
  GtkButton *sign_in_button;
  GtkListView *conversation_list;
  GtkRevealer *invitation_revealer;
  GtkLabel *invitation_label;
  GtkButton *accept_button;
  GtkButton *decline_button;
  GtkStack *conversation_stack;
  GtkLabel *conversation_title;
  GtkMenuButton *transfer_button;
  GtkBox *transfer_box;
  GtkButton *end_button;
  GtkListView *transcript_list;
  GtkLabel *typing_label;
  GtkTextView *composer;
  GtkButton *send_button;
  GtkLabel *details_label;
  GtkStackSwitcher *page_switcher;
  GtkMenuButton *switch_button;
  GtkStack *pages;
  GtkStackPage *callbacks_page;
  GtkBox *callbacks_box;
  GtkStack *sidebar_stack;
  GtkLabel *conversation_placeholder;
  GtkLabel *countdown_label;
  GtkMenuButton *conversation_menu_button;
  GMenuModel *conversation_menu; /* set on its button when first opened */
  GtkBox *composer_box;
  GtkMenuButton *canned_button;
  GtkEntry *transfer_agent_entry;
};

void _cx_agent_window_run_command (CxAgentWindow *self, const char *name, JsonNode *data,
                                   CommandDone done);
JsonNode *_cx_agent_window_chat_data (const char *chat_id, const char *member, const char *value);
const char *_cx_agent_window_object_string (JsonObject *object, const char *member);
CxAgentApplication *_cx_agent_window_get_application (CxAgentWindow *self);
const char *_cx_agent_window_conversation_name (CxAgentConversation *conversation);
guint _cx_agent_window_conversation_unread (CxAgentWindow *self, CxAgentConversation *conversation);
void _cx_agent_window_update_title (CxAgentWindow *self);
gint64 _cx_agent_window_customer_wait (CxAgentConversation *conversation);
char *_cx_agent_window_format_wait (gint64 seconds);
void _cx_agent_window_select_chat (CxAgentWindow *self, const char *chat_id);
void _cx_agent_window_sync_window (CxAgentWindow *self);
gboolean _cx_agent_window_bind_service (CxAgentWindow *self, GError **error);
void _cx_agent_window_conversation_row_setup_cb (GtkSignalListItemFactory *factory,
                                                 GtkListItem *list_item, CxAgentWindow *self);
void _cx_agent_window_conversation_row_bind_cb (GtkSignalListItemFactory *factory,
                                                GtkListItem *list_item, CxAgentWindow *self);
void _cx_agent_window_conversation_row_unbind_cb (GtkSignalListItemFactory *factory,
                                                  GtkListItem *list_item, CxAgentWindow *self);
void _cx_agent_window_refresh_rows (CxAgentWindow *self);
gboolean _cx_agent_window_wait_refresh_cb (gpointer user_data);
gboolean _cx_agent_window_transcript_filter_func (gpointer item, gpointer user_data);
void _cx_agent_window_transcript_row_setup_cb (GtkSignalListItemFactory *factory,
                                               GtkListItem *list_item, CxAgentWindow *self);
void _cx_agent_window_transcript_row_bind_cb (GtkSignalListItemFactory *factory,
                                              GtkListItem *list_item, CxAgentWindow *self);
void _cx_agent_window_transcript_adjustment_value_cb (GtkAdjustment *adjustment, GParamSpec *pspec,
                                                      CxAgentWindow *self);
void _cx_agent_window_transcript_adjustment_upper_cb (GtkAdjustment *adjustment, GParamSpec *pspec,
                                                      CxAgentWindow *self);
void _cx_agent_window_sign_in_action (GtkWidget *widget, const char *action_name,
                                      GVariant *parameter);
void _cx_agent_window_sign_out_action (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter);
void _cx_agent_window_state_selected_cb (GtkDropDown *dropdown, GParamSpec *pspec,
                                         CxAgentWindow *self);
void _cx_agent_window_accept_done (CxAgentWindow *self, JsonNode *result, const GError *error);
void _cx_agent_window_accept_action (GtkWidget *widget, const char *action_name,
                                     GVariant *parameter);
void _cx_agent_window_decline_action (GtkWidget *widget, const char *action_name,
                                      GVariant *parameter);
void _cx_agent_window_send_action (GtkWidget *widget, const char *action_name, GVariant *parameter);
void _cx_agent_window_end_chat_action (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter);
void _cx_agent_window_transfer_action (GtkWidget *widget, const char *action_name,
                                       GVariant *parameter);
void _cx_agent_window_transfer_to_agent_action (GtkWidget *widget, const char *action_name,
                                                GVariant *parameter);
void _cx_agent_window_transfer_agent_activate_cb (GtkEntry *entry, CxAgentWindow *self);
void _cx_agent_window_open_in_window_action (GtkWidget *widget, const char *action_name,
                                             GVariant *parameter);
void _cx_agent_window_show_page_action (GtkWidget *widget, const char *action_name,
                                        GVariant *parameter);
void _cx_agent_window_switch_conversation_action (GtkWidget *widget, const char *action_name,
                                                  GVariant *parameter);
void _cx_agent_window_switcher_chosen_cb (CxAgentSwitcher *switcher,
                                          CxAgentConversation *conversation, CxAgentWindow *self);
void _cx_agent_window_close_canned (CxAgentWindow *self);
void _cx_agent_window_insert_canned_action (GtkWidget *widget, const char *action_name,
                                            GVariant *parameter);
gboolean _cx_agent_window_composer_key_cb (GtkEventControllerKey *controller, guint keyval,
                                           guint keycode, GdkModifierType state,
                                           CxAgentWindow *self);
void _cx_agent_window_composer_changed_cb (GtkTextBuffer *buffer, CxAgentWindow *self);

CxAgentSwitcher *_cx_agent_window_ensure_switcher (CxAgentWindow *self);
void _cx_agent_window_switch_button_create_popup_cb (GtkMenuButton *button, gpointer user_data);
void _cx_agent_window_conversation_menu_create_popup_cb (GtkMenuButton *button, gpointer user_data);

G_END_DECLS
