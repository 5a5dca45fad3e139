/* cx-desk-settings.h: what the customer application remembers between launches.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "customer/cx-desk-application.h"

G_BEGIN_DECLS

void cx_desk_settings_attach (CxDeskApplication *application);
char *cx_desk_settings_dup_site (CxDeskApplication *application);

G_END_DECLS
