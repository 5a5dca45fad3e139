/* cx-desk-window.c: a site window of the customer application.
 *
 * Each window has its own CxBus with the window's "WebChatService" (on the application's one
 * CxHttp, so every window shares the cookie jar) and "WebChat" (the panel). The panel is
 * attached before the service exists, so that a chat the service restores from the site's
 * cookies is shown. Closing the window disposes both: the chat goes on for the other windows of
 * the site.
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

struct _CxDeskWindow
{
  GtkApplicationWindow parent_instance;

  char *site_url;
  JsonObject *config;
  CxHttp *http;
  CxBus *bus;
  CxWebChatService *service;
  char *chat_error;
  GCancellable *cancellable;

  GtkLabel *subtitle_label;
  GtkWidget *chat_button;
  CxSitePage *site_page;
  CxWebChat *webchat;
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
  if (!cx_webchat_attach (self->webchat, self->bus, &error))
    g_error ("Cannot attach the chat panel to a new bus: %s", error->message);

  self->service =
      cx_webchat_service_new (self->bus, self->http, self->site_url,
                              cx_desk_config_get_section (self->config, "webchat"), &error);
  if (self->service == NULL)
    self->chat_error = g_strdup (error->message);

  if (self->chat_error != NULL)
    {
      g_autofree char *tooltip = NULL;

      /* A bad configuration: the site still works, the chat cannot. */
      g_message ("No chat in this window: %s", self->chat_error);
      /* Translators: %s says why */
      tooltip = g_strdup_printf (_ ("Chat is not available: %s"), self->chat_error);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-chat", FALSE);
      gtk_widget_set_tooltip_text (self->chat_button, tooltip);
    }
}

static void
cx_desk_window_dispose (GObject *object)
{
  CxDeskWindow *self = CX_DESK_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  /* The panel leaves the bus first, then the service: the chat itself goes on. */
  gtk_widget_dispose_template (GTK_WIDGET (self), CX_TYPE_DESK_WINDOW);
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
  g_clear_pointer (&self->config, json_object_unref);
  g_free (self->site_url);
  g_free (self->chat_error);

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
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-desk-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, chat_button);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, site_page);
  gtk_widget_class_bind_template_child (widget_class, CxDeskWindow, webchat);

  gtk_widget_class_install_action (widget_class, "win.open-chat", NULL, open_chat_activated);
}

static void
cx_desk_window_init (CxDeskWindow *self)
{
  self->cancellable = g_cancellable_new ();
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
