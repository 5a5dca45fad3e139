/* cx-site-page.c: the built-in site page. It stands for the customer's web page: forms a
 * customer fills in while chatting (and, later, what co-browse shows the agent). Saving only
 * says so: there is no account behind it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cx-site-page"

#include "config.h"

#include <glib/gi18n.h>

#include "customer/cx-site-page.h"

struct _CxSitePage
{
  GtkWidget parent_instance;

  GtkLabel *site_label;
  GtkWidget *profile_status;
  GtkWidget *payment_status;
};

G_DEFINE_FINAL_TYPE (CxSitePage, cx_site_page, GTK_TYPE_WIDGET)

G_DEFINE_QUARK (cx - site - page - error - quark, cx_site_page_error)

static void
save_profile_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  if (CX_SITE_PAGE (widget)->profile_status != NULL)
    gtk_widget_set_visible (CX_SITE_PAGE (widget)->profile_status, TRUE);
}

static void
save_payment_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  if (CX_SITE_PAGE (widget)->payment_status != NULL)
    gtk_widget_set_visible (CX_SITE_PAGE (widget)->payment_status, TRUE);
}

static void
cx_site_page_dispose (GObject *object)
{
  GtkWidget *child;
  gtk_widget_dispose_template (GTK_WIDGET (object), CX_TYPE_SITE_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (cx_site_page_parent_class)->dispose (object);
}

static void
cx_site_page_class_init (CxSitePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cx_site_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/cxdesk/CxDesk/cx-site-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CxSitePage, site_label);
  gtk_widget_class_bind_template_child (widget_class, CxSitePage, profile_status);
  gtk_widget_class_bind_template_child (widget_class, CxSitePage, payment_status);

  gtk_widget_class_install_action (widget_class, "site.save-profile", NULL, save_profile_activated);
  gtk_widget_class_install_action (widget_class, "site.save-payment", NULL, save_payment_activated);

  gtk_widget_class_set_css_name (widget_class, "cxsitepage");
}

static void
cx_site_page_init (CxSitePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
cx_site_page_new (void)
{
  return g_object_new (CX_TYPE_SITE_PAGE, NULL);
}

void
cx_site_page_set_site_url (CxSitePage *self, const char *site_url)
{
  g_autofree char *text = NULL;

  g_return_if_fail (CX_IS_SITE_PAGE (self));

  /* Translators: %s is the address of the site the window shows */
  text = g_strdup_printf (_ ("You are signed in on %s"), site_url != NULL ? site_url : "");
  if (self->site_label != NULL)
    gtk_label_set_text (self->site_label, text);
}

/**
 * cx_site_page_load_file:
 * @self: a site page
 * @path: a GtkBuilder .ui file whose object "page" is a widget: the deployer's own page
 * @error: why it was not used
 *
 * Shows the deployer's page instead of the built-in one. The file is part of the configuration
 * and as trusted as it. On an error the built-in page stays.
 */
gboolean
cx_site_page_load_file (CxSitePage *self, const char *path, GError **error)
{
  g_autoptr (GtkBuilder) builder = gtk_builder_new ();
  GObject *page;
  GtkWidget *child;

  g_return_val_if_fail (CX_IS_SITE_PAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!gtk_builder_add_from_file (builder, path, error))
    return FALSE;
  page = gtk_builder_get_object (builder, "page");
  if (page == NULL || !GTK_IS_WIDGET (page) || GTK_IS_ROOT (page) ||
      gtk_widget_get_parent (GTK_WIDGET (page)) != NULL)
    {
      g_set_error (error, CX_SITE_PAGE_ERROR, CX_SITE_PAGE_ERROR_NO_PAGE,
                   _ ("“%s” has no widget “page” to show"), path);
      return FALSE;
    }

  /* The built-in page goes (its bound children are released in dispose). */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  self->site_label = NULL;
  self->profile_status = NULL;
  self->payment_status = NULL;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "site.save-profile", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "site.save-payment", FALSE);

  gtk_widget_set_parent (GTK_WIDGET (page), GTK_WIDGET (self));
  return TRUE;
}
