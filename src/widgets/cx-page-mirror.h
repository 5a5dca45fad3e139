/* cx-page-mirror.h: the agent's read-only rendering of a customer's page: real GTK widgets
 * built from a co-browse snapshot and kept up to date by its changes, laid out by the page's
 * geometry and scaled to fit, with the customer's pointer and focus shown. */
#pragma once

#include <gtk/gtk.h>

#include "protocol/cx-cobrowse-protocol.h"

G_BEGIN_DECLS

#define CX_PAGE_MIRROR_ERROR (cx_page_mirror_error_quark ())

/**
 * CxPageMirrorError:
 * @CX_PAGE_MIRROR_ERROR_SEQUENCE: changes that do not follow the last frame (or no snapshot
 *   yet): the mirror needs a new snapshot
 * @CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE: a frame names a node the page does not have
 * @CX_PAGE_MIRROR_ERROR_TOO_LARGE: the page would have too many nodes or be too deep
 */
typedef enum
{
  CX_PAGE_MIRROR_ERROR_SEQUENCE,
  CX_PAGE_MIRROR_ERROR_UNKNOWN_NODE,
  CX_PAGE_MIRROR_ERROR_TOO_LARGE,
} CxPageMirrorError;

GQuark cx_page_mirror_error_quark (void);

#define CX_TYPE_PAGE_MIRROR (cx_page_mirror_get_type ())
G_DECLARE_FINAL_TYPE (CxPageMirror, cx_page_mirror, CX, PAGE_MIRROR, GtkWidget)

GtkWidget *cx_page_mirror_new (void);

gboolean cx_page_mirror_apply (CxPageMirror *self, const CxCobrowseFrame *frame, GError **error);
gboolean cx_page_mirror_apply_text (CxPageMirror *self, const char *text, gsize length,
                                    GError **error);

const char *cx_page_mirror_get_page (CxPageMirror *self);
guint cx_page_mirror_get_n_nodes (CxPageMirror *self);
GtkWidget *cx_page_mirror_get_node_widget (CxPageMirror *self, guint id);
guint cx_page_mirror_get_focus (CxPageMirror *self);
gboolean cx_page_mirror_get_pointer (CxPageMirror *self, int *x, int *y);

G_END_DECLS
