/* main.c: `cxdesk`, the customer application of CX Desk.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cxdesk"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "customer/cx-desk-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr (CxDeskApplication) application = NULL;

  setlocale (LC_ALL, "");
  /* CXDESK_LOCALEDIR: translations from elsewhere, such as the build tree's po/ in tests. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("CXDESK_LOCALEDIR") != NULL
                                       ? g_getenv ("CXDESK_LOCALEDIR")
                                       : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  application = cx_desk_application_new (NULL, G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (application), argc, argv);
}
