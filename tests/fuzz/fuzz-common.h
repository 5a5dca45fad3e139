/* fuzz-common.h: what every libFuzzer target of src/protocol shares. A GLib critical or warning
 * is a bug the fuzzer must report, so both abort. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static inline void
fuzz_init (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* A condition the code under test promises: abort so that libFuzzer keeps the input. */
#define fuzz_check(condition)                                                                      \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (!(condition))                                                                              \
      {                                                                                            \
        g_printerr ("%s:%d: fuzz_check failed: %s\n", __FILE__, __LINE__, #condition);             \
        abort ();                                                                                  \
      }                                                                                            \
  }                                                                                                \
  G_STMT_END
