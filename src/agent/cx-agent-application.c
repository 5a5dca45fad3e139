/* cx-agent-application.c: the agent workspace application.
 *
 * Command line: `cxdesk-agent [--server URL] [--user NAME]`: with --user, the first window signs
 * in as NAME with the password in the environment variable CXDESK_AGENT_PASSWORD (never on the
 * command line, where every user of the machine can read it). Single instance: a later run
 * presents the running one. The application owns the one CxHttp and the one agent session
 * (CxAgentService: one event socket, one table of chats): every window is a view of it, so
 * signing in in one window signs in all of them, and a new window (Ctrl+N) opens signed in.
 *
 * It also owns what belongs to no one window: the desktop notification of an invitation, sent
 * while no window of the app is active, with Accept and Decline buttons (app.accept-invitation
 * and app.decline-invitation, the chat id as target), and the pop-out windows that show one
 * conversation each (cx_agent_application_open_chat_window).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-agent-application"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "agent/cx-agent-application.h"
#include "agent/cx-agent-settings.h"
#include "agent/cx-agent-window.h"
#include "widgets/cx-app-chrome.h"

#define RESOURCE_BASE_PATH "/io/github/cxdesk/CxDesk/Agent"

struct _CxAgentApplication
{
  GtkApplication parent_instance;

  CxHttp *http;
  CxAgentService *service; /* made on first use, for server_url */
  char *server_url;
  char *username;       /* --user: signs in at startup */
  char *password;       /* from CXDESK_AGENT_PASSWORD, dropped once used */
  GHashTable *notified; /* chat ids with an invitation notification shown */
};

G_DEFINE_FINAL_TYPE (CxAgentApplication, cx_agent_application, GTK_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_SERVICE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const GOptionEntry option_entries[] = {
  { "server", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Connect to the CX Desk server at URL"), N_ ("URL") },
  { "user", 'u', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_ ("Sign in as NAME at startup, with the password in the environment variable "
        "CXDESK_AGENT_PASSWORD"),
    N_ ("NAME") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL, N_ ("Print the version"), NULL },
  { NULL }
};

static void
new_window_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_agent_application_new_window (CX_AGENT_APPLICATION (user_data));
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_app_chrome_quit (GTK_APPLICATION (user_data));
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  cx_app_chrome_show_about (GTK_APPLICATION (user_data), _ ("CX Desk Agent"),
                            CX_AGENT_APPLICATION_ID, _ ("Answer customers' chats"));
}

/* The window that answers for the app: the active one, else the first workspace window. */
static CxAgentWindow *
main_window (CxAgentApplication *self)
{
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (CX_IS_AGENT_WINDOW (active) && cx_agent_window_get_chat_id (CX_AGENT_WINDOW (active)) == NULL)
    return CX_AGENT_WINDOW (active);
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (CX_IS_AGENT_WINDOW (l->data) && cx_agent_window_get_chat_id (l->data) == NULL)
      return l->data;
  return NULL;
}

static void
accept_invitation_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxAgentApplication *self = user_data;
  CxAgentWindow *window = main_window (self);

  if (window == NULL)
    window = CX_AGENT_WINDOW (cx_agent_application_new_window (self));
  cx_agent_window_answer_invitation (window, g_variant_get_string (parameter, NULL), TRUE);
  gtk_window_present (GTK_WINDOW (window));
}

static void
decline_invitation_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  CxAgentApplication *self = user_data;
  CxAgentWindow *window = main_window (self);

  cx_agent_application_withdraw_invitation (self, g_variant_get_string (parameter, NULL));
  if (window != NULL)
    cx_agent_window_answer_invitation (window, g_variant_get_string (parameter, NULL), FALSE);
}

static const GActionEntry app_actions[] = {
  { "new-window", new_window_activated },
  { "accept-invitation", accept_invitation_activated, "s" },
  { "decline-invitation", decline_invitation_activated, "s" },
  { "quit", quit_activated },
  { "about", about_activated },
};

static void
cx_agent_application_startup (GApplication *application)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);

  G_APPLICATION_CLASS (cx_agent_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  cx_app_chrome_startup (GTK_APPLICATION (self), RESOURCE_BASE_PATH "/style.css");

  gtk_window_set_default_icon_name (CX_AGENT_APPLICATION_ID);
  self->http = cx_http_new (NULL);
  cx_agent_settings_attach (self);
}

static void
cx_agent_application_activate (GApplication *application)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      window = cx_agent_application_new_window (self);
      if (self->username != NULL)
        cx_agent_window_sign_in (CX_AGENT_WINDOW (window), self->username, self->password);
      /* Used once: a later window is signed in through the shared cookie jar. */
      g_clear_pointer (&self->username, g_free);
      if (self->password != NULL)
        memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
  gtk_window_present (window);
}

static int
cx_agent_application_handle_local_options (GApplication *application, GVariantDict *options)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (application);
  const char *server = NULL;
  const char *user = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("cxdesk-agent %s\n", PACKAGE_VERSION);
      return 0;
    }

  if (g_variant_dict_lookup (options, "server", "&s", &server))
    {
      g_free (self->server_url);
      self->server_url = g_strdup (server);
    }
  if (g_variant_dict_lookup (options, "user", "&s", &user))
    {
      /* Without the variable the user name is filled in and the password asked for. */
      cx_agent_application_set_sign_in (self, user, g_getenv ("CXDESK_AGENT_PASSWORD"));
      if (self->password == NULL)
        g_printerr (_ ("CXDESK_AGENT_PASSWORD is not set: enter the password in the window.\n"));
    }
  cx_agent_settings_restore_sign_in (self, server != NULL, user != NULL);
  return -1;
}

static void
cx_agent_application_dispose (GObject *object)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (object);

  g_clear_object (&self->service);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_agent_application_parent_class)->dispose (object);
}

static void
cx_agent_application_finalize (GObject *object)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (object);

  g_free (self->server_url);
  g_free (self->username);
  g_free (self->password);
  g_hash_table_unref (self->notified);

  G_OBJECT_CLASS (cx_agent_application_parent_class)->finalize (object);
}

static void
cx_agent_application_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxAgentApplication *self = CX_AGENT_APPLICATION (object);

  switch (prop_id)
    {
      case PROP_SERVICE:
        g_value_set_object (value, self->service);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_agent_application_class_init (CxAgentApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->get_property = cx_agent_application_get_property;
  object_class->dispose = cx_agent_application_dispose;
  object_class->finalize = cx_agent_application_finalize;
  application_class->startup = cx_agent_application_startup;
  application_class->activate = cx_agent_application_activate;
  application_class->handle_local_options = cx_agent_application_handle_local_options;

  /* The agent session every window views; it changes only when the server address does. */
  properties[PROP_SERVICE] =
      g_param_spec_object ("service", NULL, NULL, CX_TYPE_AGENT_SERVICE,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cx_agent_application_init (CxAgentApplication *self)
{
  self->server_url = g_strdup (CX_AGENT_DEFAULT_SERVER);
  self->notified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (
      G_APPLICATION (self),
      _ ("The CX Desk agent workspace. With --user, the password is read from the environment "
         "variable CXDESK_AGENT_PASSWORD; if it is not set, the window asks for it."));
}

CxAgentApplication *
cx_agent_application_new (const char *application_id, GApplicationFlags flags)
{
  CxAgentApplication *self = g_object_new (
      CX_TYPE_AGENT_APPLICATION, "application-id",
      application_id != NULL ? application_id : CX_AGENT_APPLICATION_ID, "flags", flags, NULL);

  /* Templates are found under the real id's path, whatever the id. */
  g_application_set_resource_base_path (G_APPLICATION (self), RESOURCE_BASE_PATH);
  return self;
}

/**
 * cx_agent_application_get_http:
 *
 * Returns: (transfer none) (nullable): the application's one CxHttp, once registered
 */
CxHttp *
cx_agent_application_get_http (CxAgentApplication *self)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  return self->http;
}

const char *
cx_agent_application_get_server_url (CxAgentApplication *self)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  return self->server_url;
}

/**
 * cx_agent_application_get_service:
 * @error: why there is none: the server address is not one
 *
 * The application's one agent session, made on first use for the server address.
 *
 * Returns: (transfer none) (nullable): the session, or %NULL with @error set
 */
CxAgentService *
cx_agent_application_get_service (CxAgentApplication *self, GError **error)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);
  g_return_val_if_fail (self->http != NULL, NULL);

  if (self->service == NULL)
    {
      self->service = cx_agent_service_new (self->http, self->server_url, error);
      if (self->service != NULL)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVICE]);
    }
  return self->service;
}

/**
 * cx_agent_application_set_server_url:
 * @server_url: the cxdesk-server address
 * @error: why not: not an address
 *
 * Points the application at another server: a new session replaces the old one (which is signed
 * out: the address is changed on the sign-in page), and every window binds to it.
 */
gboolean
cx_agent_application_set_server_url (CxAgentApplication *self, const char *server_url,
                                     GError **error)
{
  g_autoptr (CxAgentService) service = NULL;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), FALSE);
  g_return_val_if_fail (server_url != NULL, FALSE);

  if (self->service != NULL && g_strcmp0 (server_url, self->server_url) == 0)
    return TRUE;

  /* Not started yet: the session is made on first use. */
  if (self->http == NULL)
    {
      g_free (self->server_url);
      self->server_url = g_strdup (server_url);
      return TRUE;
    }

  service = cx_agent_service_new (self->http, server_url, error);
  if (service == NULL)
    return FALSE;

  g_free (self->server_url);
  self->server_url = g_strdup (server_url);
  g_clear_object (&self->service);
  self->service = g_steal_pointer (&service);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVICE]);
  return TRUE;
}

/**
 * cx_agent_application_new_window:
 *
 * Opens a window; it is signed in if the application is.
 *
 * Returns: (transfer none): the window
 */
GtkWindow *
cx_agent_application_new_window (CxAgentApplication *self)
{
  GtkWindow *window;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);

  window = GTK_WINDOW (cx_agent_window_new (self));
  gtk_window_present (window);
  return window;
}

/**
 * cx_agent_application_set_sign_in:
 * @username: (nullable): the agent to sign in as when the first window opens
 * @password: (nullable): their password; without it the window asks
 *
 * What --user and CXDESK_AGENT_PASSWORD set.
 */
void
cx_agent_application_set_sign_in (CxAgentApplication *self, const char *username,
                                  const char *password)
{
  g_return_if_fail (CX_IS_AGENT_APPLICATION (self));

  g_free (self->username);
  self->username = g_strdup (username);
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  self->password = password != NULL && *password != '\0' ? g_strdup (password) : NULL;
}

/**
 * cx_agent_application_open_chat_window:
 *
 * Presents the window that shows only @chat_id, opening it if there is none.
 *
 * Returns: (transfer none): the window
 */
GtkWindow *
cx_agent_application_open_chat_window (CxAgentApplication *self, const char *chat_id)
{
  GtkWindow *window;

  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), NULL);
  g_return_val_if_fail (chat_id != NULL, NULL);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (CX_IS_AGENT_WINDOW (l->data) &&
        g_strcmp0 (cx_agent_window_get_chat_id (l->data), chat_id) == 0)
      {
        gtk_window_present (l->data);
        return l->data;
      }

  window = GTK_WINDOW (cx_agent_window_new_for_chat (self, chat_id));
  gtk_window_present (window);
  return window;
}

static gboolean
any_window_active (CxAgentApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (gtk_window_is_active (l->data))
      return TRUE;
  return FALSE;
}

/**
 * cx_agent_application_notify_invitation:
 * @customer: the customer's name
 * @queue: (nullable): the queue they wait in
 *
 * Sends the desktop notification of an invitation, unless a window of the app is active (its
 * banner says it already) or the notification is out already.
 */
void
cx_agent_application_notify_invitation (CxAgentApplication *self, const char *chat_id,
                                        const char *customer, const char *queue)
{
  g_autoptr (GNotification) notification = NULL;
  g_autofree char *id = NULL;
  g_autofree char *body = NULL;

  g_return_if_fail (CX_IS_AGENT_APPLICATION (self));
  g_return_if_fail (chat_id != NULL);

  if (g_hash_table_contains (self->notified, chat_id) || any_window_active (self))
    return;

  id = g_strconcat ("invitation-", chat_id, NULL);
  /* Translators: a notification's body: the customer's name, the queue */
  body =
      g_strdup_printf (_ ("%s is waiting in %s"), customer, queue != NULL ? queue : _ ("a queue"));
  notification = g_notification_new (_ ("New chat"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action_and_target (notification, "app.accept-invitation", "s",
                                                chat_id);
  g_notification_add_button_with_target (notification, _ ("Decline"), "app.decline-invitation", "s",
                                         chat_id);
  g_notification_add_button_with_target (notification, _ ("Accept"), "app.accept-invitation", "s",
                                         chat_id);
  g_application_send_notification (G_APPLICATION (self), id, notification);
  g_hash_table_add (self->notified, g_strdup (chat_id));
}

/**
 * cx_agent_application_withdraw_invitation:
 *
 * Withdraws the notification of @chat_id's invitation, if it is out: the invitation was
 * accepted, declined, withdrawn or has expired.
 */
void
cx_agent_application_withdraw_invitation (CxAgentApplication *self, const char *chat_id)
{
  g_autofree char *id = NULL;

  g_return_if_fail (CX_IS_AGENT_APPLICATION (self));
  g_return_if_fail (chat_id != NULL);

  if (!g_hash_table_remove (self->notified, chat_id))
    return;
  id = g_strconcat ("invitation-", chat_id, NULL);
  g_application_withdraw_notification (G_APPLICATION (self), id);
}

/**
 * cx_agent_application_get_invitation_notified:
 *
 * Returns: whether the notification of @chat_id's invitation is out
 */
gboolean
cx_agent_application_get_invitation_notified (CxAgentApplication *self, const char *chat_id)
{
  g_return_val_if_fail (CX_IS_AGENT_APPLICATION (self), FALSE);

  return g_hash_table_contains (self->notified, chat_id);
}
