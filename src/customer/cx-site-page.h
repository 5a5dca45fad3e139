/* cx-site-page.h: CxSitePage, the built-in "site" a window shows beside the chat panel: a small
 * account page with a profile form and a payment form (its card number is masked for
 * co-browse: CSS class "cx-masked").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CX_TYPE_SITE_PAGE (cx_site_page_get_type ())

G_DECLARE_FINAL_TYPE (CxSitePage, cx_site_page, CX, SITE_PAGE, GtkWidget)

#define CX_SITE_PAGE_ERROR (cx_site_page_error_quark ())

typedef enum
{
  CX_SITE_PAGE_ERROR_NO_PAGE,
} CxSitePageError;

GQuark cx_site_page_error_quark (void);

GtkWidget *cx_site_page_new (void);
gboolean cx_site_page_load_file (CxSitePage *self, const char *path, GError **error);
void cx_site_page_set_site_url (CxSitePage *self, const char *site_url);

G_END_DECLS
