/* Generic NF flag parsing: see flags.h. */
#include "flags.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_US UINT64_C(1000)
#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)

static void flag_error(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void flag_error(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (name != NULL) {
    fprintf(stderr, "error: --%s: ", name);
  } else {
    fputs("error: ", stderr);
  }
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static uint64_t width_max(uint8_t width_bits) {
  return width_bits >= 64 ? UINT64_MAX : (UINT64_C(1) << width_bits) - 1;
}

static const char *kind_name(enum nf_flag_kind kind) {
  switch (kind) {
  case NF_FLAG_UINT:
    return "uint";
  case NF_FLAG_DEVICE:
    return "device";
  case NF_FLAG_IPV4:
    return "ipv4";
  case NF_FLAG_MAC:
    return "mac";
  case NF_FLAG_DURATION:
    return "duration";
  case NF_FLAG_BOOL:
    return "bool";
  }
  return "?";
}

/* Parses a decimal or 0x-hex unsigned integer. Returns 0, -1 (malformed) or -2 (too large). */
static int parse_u64(const char *s, size_t len, uint64_t *out) {
  uint64_t v = 0;
  unsigned base = 10;
  size_t i = 0;
  if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  if (i == len) {
    return -1;
  }
  bool overflow = false;
  for (; i < len; i++) {
    unsigned d;
    char c = s[i];
    if (c >= '0' && c <= '9') {
      d = (unsigned)(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      d = (unsigned)(c - 'a') + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      d = (unsigned)(c - 'A') + 10;
    } else {
      return -1;
    }
    if (v > (UINT64_MAX - d) / base) {
      overflow = true;
    } else {
      v = v * base + d;
    }
  }
  if (overflow) {
    return -2;
  }
  *out = v;
  return 0;
}

static void format_duration(char *buf, size_t size, uint64_t ns) {
  if (ns != 0 && ns % NS_PER_S == 0) {
    snprintf(buf, size, "%" PRIu64 "s", ns / NS_PER_S);
  } else if (ns != 0 && ns % NS_PER_MS == 0) {
    snprintf(buf, size, "%" PRIu64 "ms", ns / NS_PER_MS);
  } else if (ns != 0 && ns % NS_PER_US == 0) {
    snprintf(buf, size, "%" PRIu64 "us", ns / NS_PER_US);
  } else {
    snprintf(buf, size, "%" PRIu64 "ns", ns);
  }
}

static void format_value(char *buf, size_t size, enum nf_flag_kind kind, uint64_t v) {
  switch (kind) {
  case NF_FLAG_IPV4:
    snprintf(buf, size, "%u.%u.%u.%u", (unsigned)((v >> 24) & 0xFF), (unsigned)((v >> 16) & 0xFF),
             (unsigned)((v >> 8) & 0xFF), (unsigned)(v & 0xFF));
    break;
  case NF_FLAG_MAC:
    snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)((v >> 40) & 0xFF),
             (unsigned)((v >> 32) & 0xFF), (unsigned)((v >> 24) & 0xFF),
             (unsigned)((v >> 16) & 0xFF), (unsigned)((v >> 8) & 0xFF), (unsigned)(v & 0xFF));
    break;
  case NF_FLAG_DURATION:
    format_duration(buf, size, v);
    break;
  case NF_FLAG_BOOL:
    snprintf(buf, size, "%s", v ? "true" : "false");
    break;
  case NF_FLAG_UINT:
  case NF_FLAG_DEVICE:
  default:
    snprintf(buf, size, "%" PRIu64, v);
    break;
  }
}

static uint64_t flag_max(const struct nf_flag *f) {
  uint64_t wmax = width_max(f->width_bits);
  return f->max < wmax ? f->max : wmax;
}

/* Parses one value of flag f (without the "<device>," prefix). Returns false after printing
 * an error. device_count == 0 means "not known yet". */
static bool parse_value(const struct nf_flag *f, const char *s, uint16_t device_count,
                        uint64_t *out) {
  size_t len = strlen(s);
  switch (f->kind) {
  case NF_FLAG_UINT: {
    uint64_t v = 0;
    int r = parse_u64(s, len, &v);
    uint64_t max = flag_max(f);
    if (r == -1) {
      flag_error(f->name, "'%s' is not an unsigned integer (decimal or 0x hex)", s);
      return false;
    }
    if (r == -2 || v < f->min || v > max) {
      flag_error(f->name, "%s is out of range %" PRIu64 "..%" PRIu64, s, f->min, max);
      return false;
    }
    *out = v;
    return true;
  }
  case NF_FLAG_DEVICE: {
    uint64_t v = 0;
    int r = parse_u64(s, len, &v);
    if (r == -1) {
      flag_error(f->name, "'%s' is not a device number", s);
      return false;
    }
    *out = r == -2 ? UINT64_MAX : v; /* range-checked against the device count by the caller */
    return true;
  }
  case NF_FLAG_IPV4: {
    uint64_t v = 0;
    const char *p = s;
    for (int part = 0; part < 4; part++) {
      size_t n = 0;
      unsigned octet = 0;
      while (p[n] >= '0' && p[n] <= '9' && n < 4) {
        octet = octet * 10 + (unsigned)(p[n] - '0');
        n++;
      }
      if (n == 0 || n > 3 || octet > 255) {
        flag_error(f->name, "'%s' is not an IPv4 address a.b.c.d (each part 0..255)", s);
        return false;
      }
      v = (v << 8) | octet;
      p += n;
      if (part < 3) {
        if (*p != '.') {
          flag_error(f->name, "'%s' is not an IPv4 address a.b.c.d (each part 0..255)", s);
          return false;
        }
        p++;
      }
    }
    if (*p != '\0') {
      flag_error(f->name, "'%s' is not an IPv4 address a.b.c.d (each part 0..255)", s);
      return false;
    }
    *out = v;
    return true;
  }
  case NF_FLAG_MAC: {
    uint64_t v = 0;
    bool ok = len == 17;
    for (size_t i = 0; ok && i < 17; i++) {
      char c = s[i];
      if (i % 3 == 2) {
        ok = c == ':';
        continue;
      }
      unsigned d;
      if (c >= '0' && c <= '9') {
        d = (unsigned)(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = (unsigned)(c - 'a') + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = (unsigned)(c - 'A') + 10;
      } else {
        ok = false;
        break;
      }
      v = (v << 4) | d;
    }
    if (!ok) {
      flag_error(f->name, "'%s' is not a MAC address xx:xx:xx:xx:xx:xx", s);
      return false;
    }
    *out = v;
    return true;
  }
  case NF_FLAG_DURATION: {
    size_t digits = 0;
    while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
      digits++;
    }
    if (digits == 0) {
      flag_error(f->name, "'%s' is not a duration (an integer with unit ns, us, ms or s)", s);
      return false;
    }
    const char *unit = s + digits;
    uint64_t mult;
    if (*unit == '\0' || strcmp(unit, "ns") == 0) {
      mult = 1;
    } else if (strcmp(unit, "us") == 0) {
      mult = NS_PER_US;
    } else if (strcmp(unit, "ms") == 0) {
      mult = NS_PER_MS;
    } else if (strcmp(unit, "s") == 0) {
      mult = NS_PER_S;
    } else {
      flag_error(f->name, "unknown unit '%s' in '%s' (use ns, us, ms or s; no unit means ns)", unit,
                 s);
      return false;
    }
    uint64_t n = 0;
    int r = parse_u64(s, digits, &n);
    char lo[32], hi[32];
    uint64_t max = flag_max(f);
    format_duration(lo, sizeof lo, f->min);
    format_duration(hi, sizeof hi, max);
    if (r == -2 || n > UINT64_MAX / mult || n * mult < f->min || n * mult > max) {
      flag_error(f->name, "%s is out of range %s..%s", s, lo, hi);
      return false;
    }
    *out = n * mult;
    return true;
  }
  case NF_FLAG_BOOL:
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
      *out = 1;
    } else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) {
      *out = 0;
    } else {
      flag_error(f->name, "'%s' is not a boolean (true, false, 1 or 0)", s);
      return false;
    }
    return true;
  }
  (void)device_count;
  flag_error(f->name, "unsupported flag kind %d in the NF's flag table", (int)f->kind);
  return false;
}

/* Checks a device number against the known device count (or NF_MAX_DEVICES if unknown). */
static bool check_device(const char *name, const char *text, uint64_t d, uint16_t device_count) {
  if (device_count == 0) {
    if (d >= NF_MAX_DEVICES) {
      flag_error(name, "device %s does not exist (at most %d devices: 0..%d)", text, NF_MAX_DEVICES,
                 NF_MAX_DEVICES - 1);
      return false;
    }
    return true;
  }
  if (d >= device_count) {
    flag_error(name, "device %s does not exist (%u device%s: 0..%u)", text, (unsigned)device_count,
               device_count == 1 ? "" : "s", (unsigned)device_count - 1);
    return false;
  }
  return true;
}

static void store(struct nf_config *cfg, const struct nf_flag *f, size_t index, uint64_t v) {
  unsigned char *base = (unsigned char *)cfg;
  size_t bytes = f->width_bits / 8;
  size_t off = f->offset + index * bytes;
  if (off + bytes > nf_config_size) {
    return; /* a broken flag table must not corrupt memory */
  }
  switch (f->width_bits) {
  case 8: {
    uint8_t x = (uint8_t)v;
    memcpy(base + off, &x, 1);
    break;
  }
  case 16: {
    uint16_t x = (uint16_t)v;
    memcpy(base + off, &x, 2);
    break;
  }
  case 32: {
    uint32_t x = (uint32_t)v;
    memcpy(base + off, &x, 4);
    break;
  }
  default: {
    memcpy(base + off, &v, 8);
    break;
  }
  }
}

bool vig_flags_wants_help(int argc, char *const argv[]) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      return true;
    }
  }
  return false;
}

void vig_flags_print_help(FILE *out, const struct vig_flags_spec *spec) {
  fprintf(out, "%s\n", spec->usage);
  fprintf(out, "\nNF flags (%s): --name value or --name=value\n", nf_name);
  for (size_t i = 0; i < nf_flag_count; i++) {
    const struct nf_flag *f = &nf_flags[i];
    char arg[64];
    if (f->per_device) {
      snprintf(arg, sizeof arg, "<device>,<%s>", kind_name(f->kind));
    } else {
      snprintf(arg, sizeof arg, "<%s>", kind_name(f->kind));
    }
    fprintf(out, "  --%s %s\n", f->name, arg);
    fprintf(out, "      kind: %s", kind_name(f->kind));
    if (f->kind == NF_FLAG_UINT || f->kind == NF_FLAG_DURATION) {
      char lo[32], hi[32];
      format_value(lo, sizeof lo, f->kind, f->min);
      format_value(hi, sizeof hi, f->kind, flag_max(f));
      fprintf(out, "; range: %s..%s", lo, hi);
    } else if (f->kind == NF_FLAG_DEVICE) {
      fprintf(out, "; range: 0..device count - 1");
    }
    if (f->required) {
      fprintf(out, "; required (no default)");
    } else {
      char dv[32];
      format_value(dv, sizeof dv, f->kind, f->default_value);
      fprintf(out, "; default: %s%s", dv, f->per_device ? " for every device not named" : "");
    }
    if (f->per_device) {
      fprintf(out, "; per device, repeatable");
    }
    fputc('\n', out);
    if (f->doc != NULL && f->doc[0] != '\0') {
      fprintf(out, "      %s\n", f->doc);
    }
  }
  fprintf(out, "\nShell flags:\n");
  for (size_t i = 0; i < spec->shell_flag_count; i++) {
    const struct vig_shell_flag *s = &spec->shell_flags[i];
    if (s->kind == VIG_SHELL_SWITCH) {
      fprintf(out, "  --%s\n      %s\n", s->name, s->doc);
    } else {
      fprintf(out,
              "  --%s <uint>\n      kind: uint; range: %" PRIu64 "..%" PRIu64 "; default: %" PRIu64
              "\n      %s\n",
              s->name, s->min, s->max, s->default_value, s->doc);
    }
  }
  fprintf(out, "  --help\n      Print this help and exit.\n");
}

static const struct nf_flag *find_nf_flag(const char *name, size_t len, size_t *index) {
  for (size_t i = 0; i < nf_flag_count; i++) {
    if (strlen(nf_flags[i].name) == len && strncmp(nf_flags[i].name, name, len) == 0) {
      *index = i;
      return &nf_flags[i];
    }
  }
  return NULL;
}

static const struct vig_shell_flag *find_shell_flag(const struct vig_flags_spec *spec,
                                                    const char *name, size_t len, size_t *index) {
  for (size_t i = 0; i < spec->shell_flag_count; i++) {
    if (strlen(spec->shell_flags[i].name) == len &&
        strncmp(spec->shell_flags[i].name, name, len) == 0) {
      *index = i;
      return &spec->shell_flags[i];
    }
  }
  return NULL;
}

static bool is_bool_literal(const char *s) {
  return strcmp(s, "true") == 0 || strcmp(s, "false") == 0 || strcmp(s, "1") == 0 ||
         strcmp(s, "0") == 0;
}

/* Parses "<device>,<value>" of a per-device flag. */
static bool parse_per_device(const struct nf_flag *f, const char *s, uint16_t device_count,
                             uint64_t *device, uint64_t *value) {
  const char *comma = strchr(s, ',');
  if (comma == NULL) {
    flag_error(f->name, "expected <device>,<%s> but got '%s'", kind_name(f->kind), s);
    return false;
  }
  char dtext[24];
  size_t dlen = (size_t)(comma - s);
  if (dlen >= sizeof dtext) {
    dlen = sizeof dtext - 1;
  }
  memcpy(dtext, s, dlen);
  dtext[dlen] = '\0';
  int r = parse_u64(s, (size_t)(comma - s), device);
  if (r == -1) {
    flag_error(f->name, "'%s' in '%s' is not a device number", dtext, s);
    return false;
  }
  if (r == -2) {
    flag_error(f->name, "device %s does not exist", dtext);
    return false;
  }
  if (!check_device(f->name, dtext, *device, device_count)) {
    return false;
  }
  if (!parse_value(f, comma + 1, device_count, value)) {
    return false;
  }
  if (f->kind == NF_FLAG_DEVICE && !check_device(f->name, comma + 1, *value, device_count)) {
    return false;
  }
  return true;
}

enum vig_flags_result vig_flags_parse(const struct vig_flags_spec *spec, int argc,
                                      char *const argv[], struct nf_config *cfg,
                                      const struct nf_env *env) {
  enum vig_flags_result result = VIG_FLAGS_ERROR;
  uint16_t device_count = env != NULL ? env->device_count : 0;
  if (env != NULL && device_count == 0) {
    flag_error(NULL, "no devices");
    return VIG_FLAGS_ERROR;
  }
  /* seen[i]: bitmask of devices given for per-device flag i, or 1 for other flags */
  uint64_t *seen = calloc(nf_flag_count + 1, sizeof *seen);
  bool *shell_seen = calloc(spec->shell_flag_count + 1, sizeof *shell_seen);
  if (seen == NULL || shell_seen == NULL) {
    flag_error(NULL, "out of memory while parsing flags");
    goto out;
  }
  memset(cfg, 0, nf_config_size);
  for (size_t i = 0; i < nf_flag_count; i++) {
    const struct nf_flag *f = &nf_flags[i];
    if (f->width_bits != 8 && f->width_bits != 16 && f->width_bits != 32 && f->width_bits != 64) {
      flag_error(f->name, "invalid width %u in the NF's flag table", (unsigned)f->width_bits);
      goto out;
    }
    if (f->required) {
      continue;
    }
    size_t n = f->per_device ? NF_MAX_DEVICES : 1;
    for (size_t d = 0; d < n; d++) {
      store(cfg, f, d, f->default_value);
    }
  }

  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      result = VIG_FLAGS_HELP;
      goto out;
    }
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      flag_error(NULL, "unexpected argument '%s' (flags look like --name value; see --help)", arg);
      goto out;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const char *value = eq != NULL ? eq + 1 : NULL;
    size_t index = 0;
    const struct nf_flag *f = find_nf_flag(name, name_len, &index);
    if (f != NULL) {
      if (value == NULL) {
        if (f->kind == NF_FLAG_BOOL && !f->per_device) {
          if (i + 1 < argc && is_bool_literal(argv[i + 1])) {
            value = argv[++i];
          } else {
            value = "true";
          }
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
          value = argv[++i];
        } else {
          flag_error(f->name, "missing value (expected %s<%s>)", f->per_device ? "<device>," : "",
                     kind_name(f->kind));
          goto out;
        }
      }
      uint64_t v = 0;
      if (f->per_device) {
        uint64_t d = 0;
        if (!parse_per_device(f, value, device_count, &d, &v)) {
          goto out;
        }
        if (seen[index] & (UINT64_C(1) << d)) {
          flag_error(f->name, "device %" PRIu64 " given more than once", d);
          goto out;
        }
        seen[index] |= UINT64_C(1) << d;
        store(cfg, f, (size_t)d, v);
      } else {
        if (seen[index]) {
          flag_error(f->name, "given more than once");
          goto out;
        }
        seen[index] = 1;
        if (!parse_value(f, value, device_count, &v)) {
          goto out;
        }
        if (f->kind == NF_FLAG_DEVICE && !check_device(f->name, value, v, device_count)) {
          goto out;
        }
        store(cfg, f, 0, v);
      }
      continue;
    }
    const struct vig_shell_flag *s = find_shell_flag(spec, name, name_len, &index);
    if (s == NULL) {
      fprintf(stderr, "error: --%.*s: unknown flag (see --help)\n", (int)name_len, name);
      goto out;
    }
    if (shell_seen[index]) {
      flag_error(s->name, "given more than once");
      goto out;
    }
    shell_seen[index] = true;
    if (s->kind == VIG_SHELL_SWITCH) {
      if (value != NULL) {
        flag_error(s->name, "takes no value");
        goto out;
      }
      *s->value = 1;
      continue;
    }
    if (value == NULL) {
      if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
        value = argv[++i];
      } else {
        flag_error(s->name, "missing value (expected <uint>)");
        goto out;
      }
    }
    uint64_t v = 0;
    int r = parse_u64(value, strlen(value), &v);
    if (r == -1) {
      flag_error(s->name, "'%s' is not an unsigned integer (decimal or 0x hex)", value);
      goto out;
    }
    if (r == -2 || v < s->min || v > s->max) {
      flag_error(s->name, "%s is out of range %" PRIu64 "..%" PRIu64, value, s->min, s->max);
      goto out;
    }
    *s->value = v;
  }

  for (size_t i = 0; i < nf_flag_count; i++) {
    const struct nf_flag *f = &nf_flags[i];
    if (f->required && seen[i] == 0) {
      flag_error(f->name, "required flag is missing (%s%s, see --help)",
                 f->per_device ? "<device>," : "", kind_name(f->kind));
      goto out;
    }
  }
  if (env != NULL) {
    /* Defaults of device flags must also name existing devices. */
    for (size_t i = 0; i < nf_flag_count; i++) {
      const struct nf_flag *f = &nf_flags[i];
      if (f->kind == NF_FLAG_DEVICE && !f->per_device && seen[i] == 0 &&
          f->default_value >= device_count) {
        char text[24];
        snprintf(text, sizeof text, "%" PRIu64, f->default_value);
        fprintf(stderr,
                "error: --%s: the default device %s does not exist (%u device%s): give --%s\n",
                f->name, text, (unsigned)device_count, device_count == 1 ? "" : "s", f->name);
        goto out;
      }
    }
    const char *msg = nf_config_check(cfg, env);
    if (msg != NULL) {
      fprintf(stderr, "error: configuration constraint violated: %s\n", msg);
      goto out;
    }
  }
  result = VIG_FLAGS_OK;
out:
  free(seen);
  free(shell_seen);
  return result;
}
