/* cx-page-model-private.h: what the files of CxPageModel share (cx-page-model.c: the object,
 * watching, walking and diffing; cx-page-model-state.c: a widget's state, masking and the
 * agent's input). Not for other classes. */
#pragma once

#include "widgets/cx-page-model.h"

G_BEGIN_DECLS

#define MASKED_CLASS "cx-masked"
#define AGENT_DISABLED_CLASS "cx-agent-disabled"
#define SUBMIT_CLASS "cx-submit"
/* Characters of each text in a snapshot that would not fit in a frame otherwise. */
#define SNAPSHOT_SHORT_TEXT 64

typedef struct
{
  CxPageModel *model;
  GtkWidget *widget; /* weak: NULL once finalized */
  guint id;
  guint parent;
  gboolean masked_sticky;
  gboolean seen;
  CxCobrowseNode *sent; /* NULL until sent */
  GObject *source[2];   /* adjustments or a text buffer, referenced, with our handlers */
  gulong source_handler[2];
  gulong notify_handler;
} ModelNode;

struct _CxPageModel
{
  GObject parent_instance;

  GtkWidget *root; /* weak */
  char *page;
  GStrv masked_names;
  GStrv agent_disabled_names;
  CxCobrowseMode mode;

  GHashTable *by_id;     /* id -> ModelNode, owned */
  GHashTable *by_widget; /* GtkWidget* -> ModelNode */
  GHashTable *dirty;     /* ids */
  guint next_id;
  gboolean started;
  gboolean all_dirty;
  guint64 seq;
  int viewport_width, viewport_height;
  guint focus_id;

  GdkFrameClock *clock;
  gulong layout_handler;
  GtkRoot *toplevel;
  gulong focus_handler;
  GtkEventController *motion;
  gboolean pointer_moved;
  int pointer_x, pointer_y;
  guint flush_source;
};

CxCobrowseKind cx_page_model_widget_kind (GtkWidget *widget);
gboolean cx_page_model_kind_is_leaf (CxCobrowseKind kind);
gboolean cx_page_model_widget_skipped (CxPageModel *self, GtkWidget *widget);
int cx_page_model_clamp_coord (double value);
char *cx_page_model_clean_text (const char *text, gsize max);
void cx_page_model_node_rect (CxPageModel *self, GtkWidget *widget, CxCobrowseNode *state);
CxCobrowseNode *cx_page_model_compute_state (CxPageModel *self, ModelNode *node);

G_END_DECLS
