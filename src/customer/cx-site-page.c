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

static void
save_profile_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_widget_set_visible (CX_SITE_PAGE (widget)->profile_status, TRUE);
}

static void
save_payment_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
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
  gtk_label_set_text (self->site_label, text);
}
