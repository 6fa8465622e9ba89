#!/bin/sh
# Prints the path of a project-local why3 configuration, creating it first if needed.
# Frama-C WP reads it through the WHY3CONFIG environment variable, so proofs never depend on
# $HOME/.why3.conf. The file lives in a cache directory (never in the source tree):
#   $VIGORC_CACHE_DIR/why3/why3.conf, default <repo>/.vigorc-cache/why3/why3.conf
# It lists the provers `why3 config detect` finds; vigorc uses z3 and cvc4 (no alt-ergo here;
# cvc5 does not work with why3 1.5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${VIGORC_CACHE_DIR:-$here/../../.vigorc-cache}
dir=$cache/why3
conf=$dir/why3.conf
if [ ! -s "$conf" ] || ! grep -q '^name = "Z3"' "$conf" || ! grep -q '^name = "CVC4"' "$conf"; then
  mkdir -p "$dir"
  tmp=$dir/why3.conf.$$
  if ! WHY3CONFIG=$tmp why3 config detect >"$dir/detect.log" 2>&1; then
    cat "$dir/detect.log" >&2
    echo "why3-config.sh: 'why3 config detect' failed (apt-get install -y why3 z3 cvc4)" >&2
    rm -f "$tmp"
    exit 1
  fi
  for p in Z3 CVC4; do
    if ! grep -q "^name = \"$p\"" "$tmp"; then
      echo "why3-config.sh: why3 did not find $p (apt-get install -y z3 cvc4)" >&2
      rm -f "$tmp"
      exit 1
    fi
  done
  mv -f "$tmp" "$conf" # atomic: concurrent runs never see a half-written file
fi
cd "$dir" && echo "$(pwd)/why3.conf"
