/* bench-cobrowse.c: the co-browse page model and mirror on a page of about 200 widgets, in real
 * windows (needs a display): the customer types into the page's entries, one character at a
 * time; for each keystroke the model produces its changes frame and the agent's mirror parses
 * and applies it. Printed: bytes per incremental change beside a full snapshot per change (the
 * baseline, produced by a second model of the same page and applied to a second mirror, in the
 * same run), and the time from the keystroke to the mirror showing it, p50 and p99, for both.
 * The wire (the server's relay) is not in this figure: it is the in-process part of the
 * keystroke-to-mirror latency that issue 11 bounds at p99 < 50 ms on loopback.
 *
 * Exits non-zero only if a change is not at least 20 times smaller than a snapshot, or if the
 * mirror did not show what was typed; no duration is asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "bench-cobrowse"

#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "protocol/cx-cobrowse-protocol.h"
#include "widgets/cx-page-mirror.h"
#include "widgets/cx-page-model.h"

#define TARGET_RATIO 20.0

static int rows = 40;
static int keystrokes = 400;

static const GOptionEntry options[] = {
  { "rows", 0, 0, G_OPTION_ARG_INT, &rows, "Rows of label, entry, check and button", "N" },
  { "keystrokes", 0, 0, G_OPTION_ARG_INT, &keystrokes, "Characters typed", "N" },
  { NULL },
};

typedef struct
{
  CxPageMirror *mirror;
  gboolean failed;
} Sink;

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values, double p)
{
  guint index;

  g_array_sort (values, compare_doubles);
  index = (guint) (p * (values->len - 1) + 0.5);
  return g_array_index (values, double, index);
}

static void
apply (CxPageMirror *mirror, const char *text, gsize length)
{
  g_autoptr (GError) error = NULL;

  if (!cx_page_mirror_apply_text (mirror, text, length, &error))
    g_error ("the mirror refused a frame: %s", error->message);
}

/* Frames the model emits from its idle (geometry after GTK's layout, the pointer) keep the
 * mirror in sequence; they are outside the measured keystrokes. */
static void
frame_cb (CxPageModel *model, const char *text, CxPageMirror *mirror)
{
  apply (mirror, text, strlen (text));
}

static void
run_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static GtkWidget *
build_page (GPtrArray *entries)
{
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

  for (int i = 0; i < rows; i++)
    {
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      g_autofree char *label = g_strdup_printf ("Field %d", i + 1);
      GtkWidget *entry = gtk_entry_new ();

      gtk_box_append (GTK_BOX (row), gtk_label_new (label));
      gtk_widget_set_hexpand (entry, TRUE);
      gtk_box_append (GTK_BOX (row), entry);
      gtk_box_append (GTK_BOX (row), gtk_check_button_new_with_label ("Confirm"));
      gtk_box_append (GTK_BOX (row), gtk_button_new_with_label ("Help"));
      gtk_box_append (GTK_BOX (page), row);
      g_ptr_array_add (entries, entry);
    }
  return page;
}

/* Mapped and laid out (GTK allocates on the frame after mapping). */
static gboolean
mapped (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 0;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GOptionContext) context = g_option_context_new ("- co-browse benchmark");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = g_ptr_array_new ();
  g_autoptr (GArray) change_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) snapshot_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (CxPageModel) model = NULL;
  g_autoptr (CxPageModel) baseline = NULL;
  g_autofree char *snapshot = NULL;
  GtkWindow *window, *mirror_window, *baseline_window;
  CxPageMirror *mirror, *baseline_mirror;
  GtkWidget *page;
  guint64 change_bytes = 0, snapshot_bytes = 0;
  guint changes = 0;
  gsize length;
  double ratio;
  gboolean shown = TRUE;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (rows < 1 || keystrokes < 1)
    {
      g_printerr ("--rows and --keystrokes must be at least 1\n");
      return 2;
    }
  gtk_init ();

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (window, 1024, 768);
  page = build_page (entries);
  gtk_window_set_child (window, gtk_scrolled_window_new ());
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (gtk_window_get_child (window)), page);
  gtk_window_present (window);

  mirror_window = GTK_WINDOW (gtk_window_new ());
  mirror = CX_PAGE_MIRROR (cx_page_mirror_new ());
  gtk_window_set_child (mirror_window, GTK_WIDGET (mirror));
  gtk_window_set_default_size (mirror_window, 512, 384);
  gtk_window_present (mirror_window);
  baseline_window = GTK_WINDOW (gtk_window_new ());
  baseline_mirror = CX_PAGE_MIRROR (cx_page_mirror_new ());
  gtk_window_set_child (baseline_window, GTK_WIDGET (baseline_mirror));
  gtk_window_set_default_size (baseline_window, 512, 384);
  gtk_window_present (baseline_window);
  while (!mapped (page) || !mapped (GTK_WIDGET (mirror)) || !mapped (GTK_WIDGET (baseline_mirror)))
    g_main_context_iteration (NULL, TRUE);
  run_pending ();

  model = cx_page_model_new (page, "bench");
  baseline = cx_page_model_new (page, "bench");
  g_signal_connect (model, "frame", G_CALLBACK (frame_cb), mirror);
  snapshot = cx_page_model_snapshot (model, &length);
  apply (mirror, snapshot, length);

  for (int k = 0; k < keystrokes; k++)
    {
      GtkEditable *entry = g_ptr_array_index (entries, (k / 20) % entries->len);
      char typed[2] = { (char) ('a' + k % 26), '\0' };
      int position = -1;
      gint64 start, end;
      g_autofree char *change = NULL;
      g_autofree char *full = NULL;
      double ms;

      /* The keystroke, its changes frame, the mirror applying it. */
      start = g_get_monotonic_time ();
      gtk_editable_insert_text (entry, typed, 1, &position);
      change = cx_page_model_take_changes (model, &length);
      if (change != NULL)
        apply (mirror, change, length);
      end = g_get_monotonic_time ();
      if (change != NULL)
        {
          change_bytes += length;
          changes++;
          ms = (end - start) / 1000.0;
          g_array_append_val (change_ms, ms);
        }

      /* The baseline: the whole page for the same keystroke. */
      start = g_get_monotonic_time ();
      full = cx_page_model_snapshot (baseline, &length);
      apply (baseline_mirror, full, length);
      end = g_get_monotonic_time ();
      snapshot_bytes += length;
      ms = (end - start) / 1000.0;
      g_array_append_val (snapshot_ms, ms);

      /* GTK lays out and draws between keystrokes, as it would at 20 characters a second. */
      run_pending ();
    }
  cx_page_model_take_changes (baseline, NULL);

  /* The mirror shows what was typed. */
  for (guint i = 0; i < entries->len; i++)
    {
      GtkEditable *entry = g_ptr_array_index (entries, i);
      GtkWidget *shown_widget =
          cx_page_mirror_get_node_widget (mirror, cx_page_model_get_id (model, GTK_WIDGET (entry)));

      if (shown_widget == NULL || g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (shown_widget)),
                                             gtk_editable_get_text (entry)) != 0)
        shown = FALSE;
    }

  ratio =
      changes > 0 ? ((double) snapshot_bytes / keystrokes) / ((double) change_bytes / changes) : 0;
  g_print ("bench-cobrowse: a page of %u nodes (%d rows), %d keystrokes, %u changes frames\n",
           cx_page_mirror_get_n_nodes (mirror), rows, keystrokes, changes);
  g_print ("  incremental change: %.1f bytes per change; keystroke to mirror (produce + parse + "
           "apply, no wire) p50 %.3f ms, p99 %.3f ms\n",
           changes > 0 ? (double) change_bytes / changes : 0.0, percentile (change_ms, 0.5),
           percentile (change_ms, 0.99));
  g_print ("  full snapshot per change (baseline, same run): %.1f bytes per change; p50 %.3f ms, "
           "p99 %.3f ms\n",
           (double) snapshot_bytes / keystrokes, percentile (snapshot_ms, 0.5),
           percentile (snapshot_ms, 0.99));
  g_print ("  a change is %.0fx smaller than a snapshot (target: >= %.0fx)\n", ratio, TARGET_RATIO);
  g_print ("  anchors: issue 11 targets p99 < 50 ms keystroke to mirror on loopback (this is the "
           "in-process part); cobrowse.io counts <= 200 ms as good\n");
  g_print ("  mirror shows every entry's text: %s\n", shown ? "yes" : "NO");

  g_object_unref (g_steal_pointer (&model));
  g_object_unref (g_steal_pointer (&baseline));
  gtk_window_destroy (baseline_window);
  gtk_window_destroy (mirror_window);
  gtk_window_destroy (window);
  run_pending ();

  return ratio >= TARGET_RATIO && shown ? 0 : 1;
}
