/* cx-agent-settings.c: what the agent application remembers between launches, in the GSettings
 * schema io.github.cxdesk.CxDesk.Agent (data/).
 *
 * - server-url: read when no --server is given; written whenever the application's agent
 *   session changes server (the service property follows the server address).
 * - last-user: filled in on the sign-in form when no --user is given; written when an agent
 *   signs in. Never the password.
 * - window-width/-height/-maximized: every workspace window (cx_window_settings_track).
 * - open-conversations: the chat ids shown in windows of their own. An id is added when such a
 *   window opens and dropped when the agent closes it (close-request: app.quit destroys windows
 *   without one, so they come back). Once signed in again, each listed chat that the server
 *   still routes to the agent gets its window back. At most MAX_OPEN ids are kept, newest last.
 *
 * Without the schema installed nothing is remembered and nothing fails.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-settings"

#include "config.h"

#include "agent/cx-agent-settings.h"
#include "agent/cx-agent-window.h"
#include "widgets/cx-window-settings.h"

#define MAX_OPEN 32
#define SETTINGS_KEY "cx-agent-settings"

typedef struct
{
  GObject *application; /* not a reference: the state is the application's data */
  GSettings *settings;
  CxAgentService *service; /* the one watched for sign-in and conversations */
  GHashTable *pending;     /* chat ids to open again once their conversation shows */
} State;

static void
state_free (gpointer data)
{
  State *state = data;

  if (state->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (state->service, state->application);
      g_signal_handlers_disconnect_by_data (cx_agent_service_get_conversations (state->service),
                                            state->application);
    }
  g_clear_object (&state->service);
  g_clear_object (&state->settings);
  g_hash_table_unref (state->pending);
  g_free (state);
}

static void
set_open (State *state, const char *chat_id, gboolean open)
{
  g_auto (GStrv) old = g_settings_get_strv (state->settings, "open-conversations");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) ids = NULL;
  guint n = 0, first = 0;

  for (guint i = 0; old[i] != NULL; i++)
    n += g_strcmp0 (old[i], chat_id) != 0;
  if (open && n + 1 > MAX_OPEN)
    first = n + 1 - MAX_OPEN;
  for (guint i = 0, kept = 0; old[i] != NULL; i++)
    if (g_strcmp0 (old[i], chat_id) != 0 && kept++ >= first)
      g_strv_builder_add (builder, old[i]);
  if (open)
    g_strv_builder_add (builder, chat_id);
  ids = g_strv_builder_end (builder);
  g_settings_set_strv (state->settings, "open-conversations", (const char *const *) ids);
}

static gboolean
chat_window_close_request_cb (GtkWindow *window, State *state)
{
  const char *chat_id = cx_agent_window_get_chat_id (CX_AGENT_WINDOW (window));

  if (chat_id != NULL)
    set_open (state, chat_id, FALSE);
  return FALSE;
}

static void
window_unrealize_cb (GtkWindow *window, State *state)
{
  if (cx_agent_window_get_chat_id (CX_AGENT_WINDOW (window)) == NULL)
    cx_window_settings_save (state->settings, window);
}

/* Realized: by then a window knows whether it shows one chat (cx_agent_window_new_for_chat sets
 * it after construction, when window-added has run). */
static void
window_realize_cb (GtkWindow *window, State *state)
{
  const char *chat_id = cx_agent_window_get_chat_id (CX_AGENT_WINDOW (window));

  if (chat_id == NULL || g_object_get_data (G_OBJECT (window), SETTINGS_KEY) != NULL)
    return;
  g_object_set_data (G_OBJECT (window), SETTINGS_KEY, GINT_TO_POINTER (1));
  /* A conversation's window has a size of its own. */
  gtk_window_unmaximize (window);
  g_hash_table_remove (state->pending, chat_id);
  set_open (state, chat_id, TRUE);
  g_signal_connect (window, "close-request", G_CALLBACK (chat_window_close_request_cb), state);
}

/* Every window gets the workspace's size here, before it is shown; a conversation's window sets
 * its own size right after (cx_agent_window_new_for_chat). */
static void
window_added_cb (GtkApplication *application, GtkWindow *window, State *state)
{
  if (!CX_IS_AGENT_WINDOW (window))
    return;
  cx_window_settings_restore (state->settings, window);
  g_signal_connect (window, "realize", G_CALLBACK (window_realize_cb), state);
  g_signal_connect (window, "unrealize", G_CALLBACK (window_unrealize_cb), state);
}

/* Opens the pending chats the signed-in agent has. */
static void
reopen_pending (CxAgentApplication *application, State *state)
{
  GListModel *conversations;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  if (state->service == NULL || !cx_agent_service_get_signed_in (state->service) ||
      g_hash_table_size (state->pending) == 0)
    return;
  conversations = cx_agent_service_get_conversations (state->service);
  for (guint i = 0; i < g_list_model_get_n_items (conversations); i++)
    {
      g_autoptr (CxAgentConversation) conversation = g_list_model_get_item (conversations, i);
      const char *chat_id = cx_agent_conversation_get_chat_id (conversation);

      if (chat_id != NULL && g_hash_table_contains (state->pending, chat_id))
        g_ptr_array_add (found, g_strdup (chat_id));
    }
  /* Opening a window changes the model's observers: collect first, then open. */
  for (guint i = 0; i < found->len; i++)
    cx_agent_application_open_chat_window (application, found->pdata[i]);
}

static void
conversations_changed_cb (GListModel *model, guint position, guint removed, guint added,
                          CxAgentApplication *application)
{
  State *state = g_object_get_data (G_OBJECT (application), SETTINGS_KEY);

  reopen_pending (application, state);
}

static void
signed_in_cb (CxAgentService *service, GParamSpec *pspec, CxAgentApplication *application)
{
  State *state = g_object_get_data (G_OBJECT (application), SETTINGS_KEY);
  const char *username = cx_agent_service_get_username (service);

  if (cx_agent_service_get_signed_in (service) && username != NULL && *username != '\0')
    g_settings_set_string (state->settings, "last-user", username);
  reopen_pending (application, state);
}

static void
service_changed_cb (CxAgentApplication *application, GParamSpec *pspec, State *state)
{
  CxAgentService *service = NULL;

  g_object_get (application, "service", &service, NULL);
  if (service == state->service)
    {
      g_clear_object (&service);
      return;
    }
  if (state->service != NULL)
    {
      g_signal_handlers_disconnect_by_data (state->service, application);
      g_signal_handlers_disconnect_by_data (cx_agent_service_get_conversations (state->service),
                                            application);
    }
  g_clear_object (&state->service);
  state->service = service;
  if (service == NULL)
    return;

  g_settings_set_string (state->settings, "server-url",
                         cx_agent_application_get_server_url (application));
  g_signal_connect (service, "notify::signed-in", G_CALLBACK (signed_in_cb), application);
  g_signal_connect (cx_agent_service_get_conversations (service), "items-changed",
                    G_CALLBACK (conversations_changed_cb), application);
}

/**
 * cx_agent_settings_restore_sign_in:
 * @have_server: whether --server was given
 * @have_user: whether --user was given
 *
 * What the command line did not say, from the settings: the server address and the user name
 * to fill in. Called from handle_local_options.
 */
void
cx_agent_settings_restore_sign_in (CxAgentApplication *application, gboolean have_server,
                                   gboolean have_user)
{
  g_autoptr (GSettings) settings = cx_window_settings_new (CX_AGENT_APPLICATION_ID);
  g_autofree char *server_url = NULL;
  g_autofree char *user = NULL;

  if (settings == NULL)
    return;
  server_url = g_settings_get_string (settings, "server-url");
  user = g_settings_get_string (settings, "last-user");
  if (!have_server && *server_url != '\0')
    {
      g_autoptr (GError) error = NULL;

      if (!cx_agent_application_set_server_url (application, server_url, &error))
        g_message ("Not the remembered server address: %s", error->message);
    }
  if (!have_user && *user != '\0')
    cx_agent_application_set_sign_in (application, user, NULL);
}

/**
 * cx_agent_settings_attach:
 *
 * From startup on, keeps the settings up to date and gives windows their remembered size.
 */
void
cx_agent_settings_attach (CxAgentApplication *application)
{
  GSettings *settings = cx_window_settings_new (CX_AGENT_APPLICATION_ID);
  g_auto (GStrv) open = NULL;
  State *state;

  if (settings == NULL)
    return;

  state = g_new0 (State, 1);
  state->application = G_OBJECT (application);
  state->settings = settings;
  state->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  open = g_settings_get_strv (settings, "open-conversations");
  for (guint i = 0; open[i] != NULL; i++)
    g_hash_table_add (state->pending, g_strdup (open[i]));
  g_object_set_data_full (G_OBJECT (application), SETTINGS_KEY, state, state_free);

  g_signal_connect (application, "window-added", G_CALLBACK (window_added_cb), state);
  g_signal_connect (application, "notify::service", G_CALLBACK (service_changed_cb), state);
  service_changed_cb (application, NULL, state);
}
