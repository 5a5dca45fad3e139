/* cx-desk-window.c: a site window of the customer application.
 *
 * Each window has its own CxBus with the window's services, "WebChatService", "StatsService"
 * and "CallbackService" (on the application's one CxHttp, so every window shares the cookie
 * jar), and its UI plugins: "WebChat" (the panel), "Overlay" (the modal layer),
 * "ChannelSelector" (Contact Us), "Callback" (with its "Calendar"), "SideBar" and "Toaster".
 * The UI plugins are attached before the services exist, so that a chat the service restores
 * from the site's cookies is shown, and an error a service reports at once is toasted. Closing
 * the window disposes all of them: the chat goes on for the other windows of the site.
 *
 * The forms (the selector and the callback panel) are the window's: it shows each in the
 * overlay while the plugin is open, and closes the plugin when the customer dismisses the
 * overlay. While the overlay shows, the window's own ways into the page (Chat with Us, Contact
 * Us) are off: the page under it is not to be used.
 *
 * The window tells the customer in toasts what happens to the chat out of sight: a chat error,
 * the chat server going away (a toast that stays until it is back) and an agent joining. The
 * toasts are the application's ("App"); the toaster also sends them as notifications while the
 * window is not the active one.
 *
 * StatsService and CallbackService need addresses: the configuration's stats.dataURL and
 * callback.dataURL, or, when it has none, addresses on the chat server's origin (its /cx/1/ewt,
 * and the callback service named like the chat service), as cxdesk-server serves them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-desk-window"

#include "config.h"

#include <glib/gi18n.h>

#include "customer/cx-desk-application.h"
#include "customer/cx-desk-config.h"
#include "customer/cx-desk-window.h"
#include "customer/cx-site-page.h"
#include "services/cx-callback-service.h"
#include "services/cx-stats-service.h"
#include "widgets/cx-callback.h"
#include "widgets/cx-channel-selector.h"
#include "widgets/cx-overlay.h"
#include "widgets/cx-sidebar.h"
#include "widgets/cx-toaster.h"

/* What the window's toasts carry as their "icon". */
#define ICON_OFFLINE "network-offline-symbolic"
#define ICON_AGENT "avatar-default-symbolic"

struct _CxDeskWindow
{
  GtkApplicationWindow parent_instance;

  char *site_url;
  JsonObject *config;
  CxHttp *http;
  CxBus *bus;
  CxWebChatService *service;
  CxStatsService *stats;
  CxCallbackService *callback_service;
  char *chat_error;
  GCancellable *cancellable;
  GArray *subscriptions; /* gulong */

  /* Shown in the overlay while open */
  CxChannelSelector *selector;
  CxCallback *callback;
  gboolean selector_failed; /* a channel list the configuration got wrong */

  /* Toasts of the window's */
  gboolean offline;
  char *offline_toast;
  char *error_toast;
  char *error_message;

  GtkLabel *subtitle_label;
  GtkWidget *chat_button;
  GtkWidget *contact_button;
  CxSitePage *site_page;
  CxWebChat *webchat;
  CxOverlay *overlay;
  CxSideBar *sidebar;
  CxToaster *toaster;
};

G_DEFINE_FINAL_TYPE (CxDeskWindow, cx_desk_window, GTK_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_SITE_URL,
  PROP_CONFIG,
  PROP_HTTP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
command_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("%s", error->message);
}

/* The window's own calls go on its bus as the application's ("App"), like a page script's. */
static void
app_command (CxDeskWindow *self, const char *command, const char *json)
{
  g_autoptr (JsonNode) data = json != NULL ? json_from_string (json, NULL) : NULL;

  cx_bus_command_async (self->bus, NULL, command, data, 0, self->cancellable, command_cb, NULL);
}

static void
update_actions (CxDeskWindow *self)
{
  gboolean modal = cx_overlay_get_presented (self->overlay);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-chat",
                                 self->chat_error == NULL && !modal);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.contact-us",
                                 !self->selector_failed && !modal);
}

static void
open_chat_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxDeskWindow *self = CX_DESK_WINDOW (widget);

  if (!cx_webchat_get_open (self->webchat))
    app_command (self, CX_WEBCHAT_NAME ".open", NULL);
  else if (cx_webchat_get_minimized (self->webchat))
    app_command (self, CX_WEBCHAT_NAME ".minimize", "{\"minimized\":false}");
  else
    gtk_widget_child_focus (GTK_WIDGET (self->webchat), GTK_DIR_TAB_FORWARD);
}

static void
contact_us_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  CxDeskWindow *self = CX_DESK_WINDOW (widget);

  if (!cx_channel_selector_get_open (self->selector))
    app_command (self, CX_CHANNEL_SELECTOR_NAME ".open", NULL);
}

/* The forms in the overlay */

static void
form_open_changed_cb (CxDeskWindow *self, GParamSpec *pspec, GtkWidget *form)
{
  gboolean open = FALSE;

  g_object_get (form, "open", &open, NULL);
  if (open)
    cx_overlay_present (self->overlay, form);
  else if (cx_overlay_get_content (self->overlay) == form)
    cx_overlay_dismiss (self->overlay);
}

/* The customer dismissed the overlay (Escape, a click beside the form): the form's plugin
 * closes, as its own close button would have it. */
static void
overlay_dismissed_cb (CxDeskWindow *self, GtkWidget *content, CxOverlay *overlay)
{
  if (content != NULL && content == GTK_WIDGET (self->selector) &&
      cx_channel_selector_get_open (self->selector))
    app_command (self, CX_CHANNEL_SELECTOR_NAME ".close", NULL);
  else if (content != NULL && content == GTK_WIDGET (self->callback) &&
           cx_callback_get_open (self->callback))
    app_command (self, CX_CALLBACK_NAME ".close", NULL);
}

static void
overlay_presented_cb (CxDeskWindow *self, GParamSpec *pspec, CxOverlay *overlay)
{
  update_actions (self);
}

/* Toasts */

/* A non-empty string member of @object, or NULL */
static const char *
object_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING || json_node_get_string (node)[0] == '\0')
    return NULL;
  return json_node_get_string (node);
}

typedef struct
{
  CxDeskWindow *self;
  char **id_out;
} ToastCall;

static void
toast_opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ToastCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = cx_bus_command_finish (CX_BUS (source), result, &error);
  CxDeskWindow *self = call->self;
  char **id_out = call->id_out;

  g_free (call);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No toast: %s", error->message);
      return;
    }
  if (id_out == NULL || !JSON_NODE_HOLDS_OBJECT (reply))
    return;

  g_free (*id_out);
  *id_out = g_strdup (object_string (json_node_get_object (reply), "id"));
  /* Back online before the toast saying it was not had its id: it goes at once. */
  if (id_out == &self->offline_toast && !self->offline)
    {
      g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);

      json_node_take_object (data, json_object_new ());
      json_object_set_string_member (json_node_get_object (data), "id", self->offline_toast);
      cx_bus_command_async (self->bus, NULL, CX_TOASTER_NAME ".close", data, 0, self->cancellable,
                            command_cb, NULL);
      g_clear_pointer (&self->offline_toast, g_free);
    }
}

static void open_toast (CxDeskWindow *self, const char *type, const char *icon, const char *title,
                        const char *body, char **id_out);

/* main.page: the deployer's own page instead of the built-in one. One that cannot be used
 * leaves the built-in page, and says why. */
static void
load_site_page (CxDeskWindow *self)
{
  JsonObject *main_section = cx_desk_config_get_section (self->config, "main");
  JsonNode *page = main_section != NULL ? json_object_get_member (main_section, "page") : NULL;
  g_autoptr (GError) error = NULL;

  if (page == NULL || json_node_get_value_type (page) != G_TYPE_STRING)
    return;
  if (!cx_site_page_load_file (self->site_page, json_node_get_string (page), &error))
    open_toast (self, "error", NULL, _ ("The site’s page could not be shown"), error->message,
                NULL);
}

/* Opens a toast as "App"; its id goes to @id_out once it shows (nullable). */
static void
open_toast (CxDeskWindow *self, const char *type, const char *icon, const char *title,
            const char *body, char **id_out)
{
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();
  ToastCall *call = g_new0 (ToastCall, 1);

  json_object_set_string_member (object, "type", type);
  if (icon != NULL)
    json_object_set_string_member (object, "icon", icon);
  json_object_set_string_member (object, "title", title);
  if (body != NULL)
    json_object_set_string_member (object, "body", body);
  json_node_take_object (data, object);

  call->self = self;
  call->id_out = id_out;
  cx_bus_command_async (self->bus, NULL, CX_TOASTER_NAME ".open", data, 0, self->cancellable,
                        toast_opened_cb, call);
}

static void
close_toast (CxDeskWindow *self, char **id)
{
  g_autoptr (JsonNode) data = NULL;

  if (*id == NULL)
    return;
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, json_object_new ());
  json_object_set_string_member (json_node_get_object (data), "id", *id);
  cx_bus_command_async (self->bus, NULL, CX_TOASTER_NAME ".close", data, 0, self->cancellable,
                        command_cb, NULL);
  g_clear_pointer (id, g_free);
}

static const char *
event_string (const CxEvent *event, const char *member)
{
  if (event->data == NULL || !JSON_NODE_HOLDS_OBJECT (event->data))
    return NULL;
  return object_string (json_node_get_object (event->data), member);
}

static void
chat_error_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxDeskWindow *self = user_data;
  const char *message = event_string (event, "message");

  if (message == NULL)
    message = _ ("Something went wrong with the chat.");
  /* The same trouble again (a poll that keeps failing) is one toast, not a pile of them. */
  if (self->error_toast != NULL && g_strcmp0 (self->error_message, message) == 0)
    return;

  close_toast (self, &self->error_toast);
  g_free (self->error_message);
  self->error_message = g_strdup (message);
  open_toast (self, "error", NULL, _ ("Chat problem"), message, &self->error_toast);
}

static void
chat_offline_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxDeskWindow *self = user_data;

  if (self->offline)
    return;
  self->offline = TRUE;
  open_toast (self, "error", ICON_OFFLINE, _ ("The chat server went offline"),
              _ ("Trying to reconnect. What you write is sent once it is back."),
              &self->offline_toast);
}

static void
chat_online_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxDeskWindow *self = user_data;

  if (!self->offline)
    return;
  self->offline = FALSE;
  close_toast (self, &self->offline_toast);
  open_toast (self, "info", NULL, _ ("The chat server is back"), NULL, NULL);
}

static void
agent_connected_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxDeskWindow *self = user_data;
  const char *nickname = event_string (event, "nickname");
  g_autofree char *title = NULL;

  if (nickname != NULL)
    /* Translators: %s is the agent's name */
    title = g_strdup_printf (_ ("%s joined the chat"), nickname);
  open_toast (self, "generic", ICON_AGENT, title != NULL ? title : _ ("An agent joined the chat"),
              _ ("Your chat has been answered."), NULL);
}

static void
toast_closed_cb (CxBus *bus, const CxEvent *event, gpointer user_data)
{
  CxDeskWindow *self = user_data;
  const char *id = event_string (event, "id");

  if (id == NULL)
    return;
  if (g_strcmp0 (id, self->error_toast) == 0)
    g_clear_pointer (&self->error_toast, g_free);
  if (g_strcmp0 (id, self->offline_toast) == 0)
    g_clear_pointer (&self->offline_toast, g_free);
}

static void
subscribe (CxDeskWindow *self, const char *event, CxEventFunc func)
{
  gulong id = cx_bus_subscribe (self->bus, event, func, self, NULL);

  g_array_append_val (self->subscriptions, id);
}

/* Service addresses */

/* @name's section, with a dataURL: its own, or @path on the chat server's origin (followed by
 * the chat service's name where @with_service). */
static JsonObject *
service_section (CxDeskWindow *self, const char *name, const char *path, gboolean with_service)
{
  JsonObject *section = cx_desk_config_get_section (self->config, name);
  JsonObject *webchat = cx_desk_config_get_section (self->config, "webchat");
  JsonObject *copy = json_object_new ();
  const char *chat_url;
  g_autoptr (GUri) uri = NULL;

  /* A new object: members are added to it, never to the configuration. */
  if (section != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, section);
      while (json_object_iter_next (&iter, &member, &value))
        json_object_set_member (copy, member, json_node_copy (value));
    }

  chat_url = object_string (webchat, "dataURL");
  if (!json_object_has_member (copy, "dataURL") && chat_url != NULL &&
      (uri = g_uri_parse (chat_url, G_URI_FLAGS_NONE, NULL)) != NULL &&
      g_uri_get_host (uri) != NULL)
    {
      g_auto (GStrv) segments = g_strsplit (g_uri_get_path (uri), "/", -1);
      const char *service = NULL;
      g_autofree char *full_path = NULL;
      g_autoptr (GUri) derived = NULL;
      g_autofree char *text = NULL;

      for (guint i = 0; segments[i] != NULL; i++)
        if (segments[i][0] != '\0')
          service = segments[i];
      full_path = g_strconcat (path, with_service && service != NULL ? service : "", NULL);
      derived = g_uri_build (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                             g_uri_get_port (uri), full_path, NULL, NULL);
      text = g_uri_to_string (derived);
      json_object_set_string_member (copy, "dataURL", text);
    }

  return copy;
}

static char *
site_host (const char *site_url)
{
  g_autoptr (GUri) uri = g_uri_parse (site_url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (site_url);
  return g_strdup (g_uri_get_host (uri));
}

static void
cx_desk_window_constructed (GObject *object)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *title = NULL;

  G_OBJECT_CLASS (cx_desk_window_parent_class)->constructed (object);

  host = site_host (self->site_url);
  gtk_label_set_text (self->subtitle_label, host);
  /* Translators: the window title, %s is the site's host name */
  title = g_strdup_printf (_ ("%s — CX Desk"), host);
  gtk_window_set_title (GTK_WINDOW (self), title);
  cx_site_page_set_site_url (self->site_page, self->site_url);

  self->bus = cx_bus_new ();
  /* The UI first: they see what the services publish as soon as they exist. */
  if (!cx_overlay_attach (self->overlay, self->bus, &error) ||
      !cx_toaster_attach (self->toaster, self->bus, &error) ||
      !cx_webchat_attach (self->webchat, self->bus, &error))
    g_error ("Cannot attach the window's plugins to a new bus: %s", error->message);
  /* WebChat.showChatButton / hideChatButton */
  g_object_bind_property (self->webchat, "chat-button-visible", self->chat_button, "visible",
                          G_BINDING_SYNC_CREATE);

  subscribe (self, CX_WEBCHAT_SERVICE_NAME ".error", chat_error_cb);
  subscribe (self, CX_WEBCHAT_SERVICE_NAME ".chatServerWentOffline", chat_offline_cb);
  subscribe (self, CX_WEBCHAT_SERVICE_NAME ".chatServerBackOnline", chat_online_cb);
  subscribe (self, CX_WEBCHAT_SERVICE_NAME ".agentConnected", agent_connected_cb);
  subscribe (self, CX_TOASTER_NAME ".closed", toast_closed_cb);

  load_site_page (self);

  /* A channel list the configuration got wrong: the page works, the deployer is told. */
  self->selector = g_object_ref_sink (CX_CHANNEL_SELECTOR (cx_channel_selector_new ()));
  g_signal_connect_object (self->selector, "notify::open", G_CALLBACK (form_open_changed_cb), self,
                           G_CONNECT_SWAPPED);
  if (!cx_channel_selector_attach (self->selector, self->bus,
                                   cx_desk_config_get_section (self->config, "channelselector"),
                                   &error))
    {
      g_message ("No channel selector in this window: %s", error->message);
      self->selector_failed = TRUE;
      gtk_widget_set_visible (self->contact_button, FALSE);
      g_clear_error (&error);
    }
  self->callback = g_object_ref_sink (CX_CALLBACK (cx_callback_new ()));
  g_signal_connect_object (self->callback, "notify::open", G_CALLBACK (form_open_changed_cb), self,
                           G_CONNECT_SWAPPED);
  if (!cx_callback_attach (self->callback, self->bus,
                           cx_desk_config_get_section (self->config, "callback"),
                           cx_desk_config_get_section (self->config, "calendar"), &error))
    {
      g_message ("No callback form in this window: %s", error->message);
      g_clear_error (&error);
    }
  if (!cx_sidebar_attach (self->sidebar, self->bus,
                          cx_desk_config_get_section (self->config, "sidebar"),
                          cx_desk_config_get_section (self->config, "channelselector"), &error))
    {
      g_message ("No sidebar in this window: %s", error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->sidebar), FALSE);
      g_clear_error (&error);
    }

  self->service =
      cx_webchat_service_new (self->bus, self->http, self->site_url,
                              cx_desk_config_get_section (self->config, "webchat"), &error);
  if (self->service == NULL)
    {
      self->chat_error = g_strdup (error->message);
      g_clear_error (&error);
    }
  else
    cx_webchat_set_service (self->webchat, self->service);

  {
    g_autoptr (JsonObject) stats_config = service_section (self, "stats", "/cx/1/ewt", FALSE);

    /* Without it the selector says the wait is unknown, and every channel stays open. */
    self->stats = cx_stats_service_new (self->bus, self->http, stats_config, &error);
    if (self->stats == NULL)
      {
        g_message ("No wait times in this window: %s", error->message);
        g_clear_error (&error);
      }
  }

  {
    g_autoptr (JsonObject) callback_config =
        service_section (self, "callback", "/genesys/1/service/callback/", TRUE);
    JsonObject *calendar = cx_desk_config_get_section (self->config, "calendar");

    /* The service reads the calendar's settings beside its own. */
    if (calendar != NULL && !json_object_has_member (callback_config, "calendar"))
      json_object_set_object_member (callback_config, "calendar", json_object_ref (calendar));
    self->callback_service =
        cx_callback_service_new (self->bus, self->http, callback_config, &error);
    if (self->callback_service == NULL)
      {
        g_message ("No callbacks in this window: %s", error->message);
        g_clear_error (&error);
      }
  }

  if (self->chat_error != NULL)
    {
      g_autofree char *tooltip = NULL;

      /* A bad configuration: the site still works, the chat cannot. */
      g_message ("No chat in this window: %s", self->chat_error);
      /* Translators: %s says why */
      tooltip = g_strdup_printf (_ ("Chat is not available: %s"), self->chat_error);
      gtk_widget_set_tooltip_text (self->chat_button, tooltip);
    }
  update_actions (self);
}

static void
cx_desk_window_dispose (GObject *object)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->bus != NULL)
    for (guint i = 0; i < self->subscriptions->len; i++)
      cx_bus_unsubscribe (self->bus, g_array_index (self->subscriptions, gulong, i));
  g_array_set_size (self->subscriptions, 0);
  /* The panels leave the bus first, then the services: the chat itself goes on. */
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_DESK_WINDOW);
  if (self->selector != NULL)
    g_signal_handlers_disconnect_by_data (self->selector, self);
  g_clear_object (&self->selector);
  if (self->callback != NULL)
    g_signal_handlers_disconnect_by_data (self->callback, self);
  g_clear_object (&self->callback);
  g_clear_object (&self->callback_service);
  g_clear_object (&self->stats);
  g_clear_object (&self->service);
  g_clear_object (&self->bus);
  g_clear_object (&self->http);

  G_OBJECT_CLASS (cx_desk_window_parent_class)->dispose (object);
}

static void
cx_desk_window_finalize (GObject *object)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->subscriptions, g_array_unref);
  g_clear_pointer (&self->config, json_object_unref);
  g_free (self->site_url);
  g_free (self->chat_error);
  g_free (self->offline_toast);
  g_free (self->error_toast);
  g_free (self->error_message);

  G_OBJECT_CLASS (cx_desk_window_parent_class)->finalize (object);
}

static void
cx_desk_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);

  switch (prop_id)
    {
      case PROP_SITE_URL:
        g_value_set_string (value, self->site_url);
        break;

      case PROP_CONFIG:
        g_value_set_boxed (value, self->config);
        break;

      case PROP_HTTP:
        g_value_set_object (value, self->http);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_desk_window_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);

  switch (prop_id)
    {
      case PROP_SITE_URL:
        self->site_url = g_value_dup_string (value);
        break;

      case PROP_CONFIG:
        self->config = g_value_dup_boxed (value);
        break;

      case PROP_HTTP:
        self->http = g_value_dup_object (value);
        break;

      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cx_desk_window_class_init (CxDeskWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = cx_desk_window_constructed;
  object_class->dispose = cx_desk_window_dispose;
  object_class->finalize = cx_desk_window_finalize;
  object_class->get_property = cx_desk_window_get_property;
  object_class->set_property = cx_desk_window_set_property;

  properties[PROP_SITE_URL] =
      g_param_spec_string ("site-url", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONFIG] =
      g_param_spec_boxed ("config", NULL, NULL, JSON_TYPE_OBJECT,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HTTP] =
      g_param_spec_object ("http", NULL, NULL, CX_TYPE_HTTP,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CX_TYPE_SITE_PAGE);
  g_type_ensure (CX_TYPE_WEBCHAT);
  g_type_ensure (CX_TYPE_OVERLAY);
  g_type_ensure (CX_TYPE_SIDEBAR);
  g_type_ensure (CX_TYPE_TOASTER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-desk-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, chat_button);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, contact_button);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, site_page);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, webchat);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, overlay);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, toaster);
  gtk_widget_class_bind_template_callback (widget_class, overlay_dismissed_cb);
  gtk_widget_class_bind_template_callback (widget_class, overlay_presented_cb);

  gtk_widget_class_install_action (widget_class, "win.open-chat", NULL, open_chat_activated);
  gtk_widget_class_install_action (widget_class, "win.contact-us", NULL, contact_us_activated);
}

static void
cx_desk_window_init (CxDeskWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->subscriptions = g_array_new (FALSE, FALSE, sizeof (gulong));
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * cx_desk_window_new:
 * @application: the application (registered: its #CxHttp is the window's)
 * @site_url: the site the window shows
 * @config: the widgets configuration
 *
 * Returns: (transfer full): a new window, not shown yet
 */
CxDeskWindow *
cx_desk_window_new (CxDeskApplication *application, const char *site_url, JsonObject *config)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (site_url != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  return g_object_new (CX_TYPE_DESK_WINDOW, "application", application, "site-url", site_url,
                       "config", config, "http", cx_desk_application_get_http (application), NULL);
}

const char *
cx_desk_window_get_site_url (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->site_url;
}

/**
 * cx_desk_window_get_config:
 *
 * Returns: (transfer none): the widgets configuration of the window
 */
JsonObject *
cx_desk_window_get_config (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->config;
}

/**
 * cx_desk_window_get_bus:
 *
 * Returns: (transfer none): the window's bus
 */
CxBus *
cx_desk_window_get_bus (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->bus;
}

/**
 * cx_desk_window_get_webchat:
 *
 * Returns: (transfer none): the chat panel
 */
CxWebChat *
cx_desk_window_get_webchat (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->webchat;
}

/**
 * cx_desk_window_get_service:
 *
 * Returns: (transfer none) (nullable): the window's chat service; %NULL if the configuration
 *   has no usable chat settings (see cx_desk_window_get_chat_error())
 */
CxWebChatService *
cx_desk_window_get_service (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->service;
}

/**
 * cx_desk_window_get_chat_error:
 *
 * Returns: (nullable): why the window has no chat (a bad configuration), or %NULL
 */
const char *
cx_desk_window_get_chat_error (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->chat_error;
}

/**
 * cx_desk_window_get_overlay:
 *
 * Returns: (transfer none): the modal layer over the page
 */
CxOverlay *
cx_desk_window_get_overlay (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->overlay;
}

/**
 * cx_desk_window_get_channel_selector:
 *
 * Returns: (transfer none): the Contact Us form
 */
CxChannelSelector *
cx_desk_window_get_channel_selector (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->selector;
}

/**
 * cx_desk_window_get_callback:
 *
 * Returns: (transfer none): the callback form
 */
CxCallback *
cx_desk_window_get_callback (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->callback;
}

/**
 * cx_desk_window_get_sidebar:
 *
 * Returns: (transfer none): the channel strip
 */
CxSideBar *
cx_desk_window_get_sidebar (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->sidebar;
}

/**
 * cx_desk_window_get_toaster:
 *
 * Returns: (transfer none): the window's toasts
 */
CxToaster *
cx_desk_window_get_toaster (CxDeskWindow *self)
{
  g_return_val_if_fail (CX_IS_DESK_WINDOW (self), NULL);

  return self->toaster;
}
