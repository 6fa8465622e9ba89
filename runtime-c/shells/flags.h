/* Command-line flag parsing shared by the shells, driven by the NF's nf_flags[] table (nf.h)
 * plus a small table of shell flags (burst, stats, ...).
 *
 * Every error is reported as ONE line on stderr ("error: --flag: what is wrong"); the caller
 * then exits with status 2 before any packet is processed. */
#ifndef VIG_FLAGS_H
#define VIG_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nf.h"

/* Exit status for bad flags (reserved: nothing else uses it). */
#define VIG_EXIT_BAD_FLAGS 2

enum vig_shell_flag_kind {
  VIG_SHELL_UINT,  /* "--name N" or "--name=N", N decimal or 0x hex in [min, max] */
  VIG_SHELL_SWITCH /* "--name" alone: sets the value to 1 */
};

struct vig_shell_flag {
  const char *name; /* kebab-case, without the leading "--" */
  const char *doc;
  enum vig_shell_flag_kind kind;
  uint64_t min, max;      /* for VIG_SHELL_UINT */
  uint64_t default_value; /* shown by --help; the caller initialises *value */
  uint64_t *value;        /* where the parsed value goes */
};

struct vig_flags_spec {
  const char *usage; /* first line(s) of --help, e.g. "Usage: nat IN.pcapng OUT.pcapng [flags]" */
  const struct vig_shell_flag *shell_flags;
  size_t shell_flag_count;
};

enum vig_flags_result {
  VIG_FLAGS_OK = 0,
  VIG_FLAGS_HELP = 1, /* --help was given: the caller prints help and exits 0 */
  VIG_FLAGS_ERROR = 2 /* one line already printed on stderr: the caller exits 2 */
};

/* Returns true when args (the NF/shell flag part of the command line) contain --help or -h. */
bool vig_flags_wants_help(int argc, char *const argv[]);

/* Prints the usage line, every NF flag (kind, range, default, doc) and every shell flag. */
void vig_flags_print_help(FILE *out, const struct vig_flags_spec *spec);

/* Parses argv[0..argc-1] (only flags; no program name, no positional arguments).
 * cfg must point to nf_config_size writable bytes: defaults are written first, then every
 * given flag, at nf_flags[i].offset with nf_flags[i].width_bits.
 * When env is NULL the device count is not known yet: device numbers are only checked
 * against NF_MAX_DEVICES and nf_config_check is not called (a syntax-only pass). Otherwise
 * devices are checked against env->device_count, required flags must be present and
 * nf_config_check(cfg, env) must accept the result. Shell flag values are written to their
 * value pointers (in both passes; they do not depend on the devices). */
enum vig_flags_result vig_flags_parse(const struct vig_flags_spec *spec, int argc,
                                      char *const argv[], struct nf_config *cfg,
                                      const struct nf_env *env);

#endif
