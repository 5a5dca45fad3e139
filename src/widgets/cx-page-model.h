/* cx-page-model.h: the co-browse model of a customer's page (any GtkWidget tree, such as a
 * GtkBuilder page): a snapshot with stable node ids, then coalesced incremental changes as the
 * page changes, and the one place where an agent's input is applied to the page. Masking
 * happens here, in the customer's process, before anything is serialised. */
#pragma once

#include <gtk/gtk.h>

#include "protocol/cx-cobrowse-protocol.h"

G_BEGIN_DECLS

#define CX_PAGE_MODEL_ERROR (cx_page_model_error_quark ())

/**
 * CxPageModelError:
 * @CX_PAGE_MODEL_ERROR_POINTER_MODE: the agent may not operate the page in pointer mode
 * @CX_PAGE_MODEL_ERROR_NOT_FOUND: no such node (any more)
 * @CX_PAGE_MODEL_ERROR_MASKED: the target is masked
 * @CX_PAGE_MODEL_ERROR_AGENT_DISABLED: the target is disabled for the agent
 * @CX_PAGE_MODEL_ERROR_SUBMIT: the target submits the page
 * @CX_PAGE_MODEL_ERROR_DISABLED: the target is insensitive, hidden or read-only
 * @CX_PAGE_MODEL_ERROR_UNSUPPORTED: the action does not fit the target's kind
 */
typedef enum
{
  CX_PAGE_MODEL_ERROR_POINTER_MODE,
  CX_PAGE_MODEL_ERROR_NOT_FOUND,
  CX_PAGE_MODEL_ERROR_MASKED,
  CX_PAGE_MODEL_ERROR_AGENT_DISABLED,
  CX_PAGE_MODEL_ERROR_SUBMIT,
  CX_PAGE_MODEL_ERROR_DISABLED,
  CX_PAGE_MODEL_ERROR_UNSUPPORTED,
} CxPageModelError;

GQuark cx_page_model_error_quark (void);

#define CX_TYPE_PAGE_MODEL (cx_page_model_get_type ())
G_DECLARE_FINAL_TYPE (CxPageModel, cx_page_model, CX, PAGE_MODEL, GObject)

CxPageModel *cx_page_model_new (GtkWidget *root, const char *page);

void cx_page_model_set_masked_names (CxPageModel *self, const char *const *names);
void cx_page_model_set_agent_disabled_names (CxPageModel *self, const char *const *names);

CxCobrowseMode cx_page_model_get_mode (CxPageModel *self);
void cx_page_model_set_mode (CxPageModel *self, CxCobrowseMode mode);

char *cx_page_model_snapshot (CxPageModel *self, gsize *length);
char *cx_page_model_take_changes (CxPageModel *self, gsize *length);

guint cx_page_model_get_id (CxPageModel *self, GtkWidget *widget);
GtkWidget *cx_page_model_get_widget (CxPageModel *self, guint id);

gboolean cx_page_model_apply_input (CxPageModel *self, const CxCobrowseFrame *input,
                                    GError **error);

G_END_DECLS
