#!/bin/sh
# Proves C files with Frama-C WP + RTE (z3, cvc4) the way vigorc does, and prints a summary:
#   runtime-c/contracts/prove.sh [-I dir]... [--fct f,g] [--skip f,g] [--timeout s] [--steps n] [--cache dir] file.c...
# e.g. runtime-c/contracts/prove.sh runtime-c/structures/vector.c
# It runs compiler/verifier/c-proof.ts (one definition of the frama-c command line), which makes
# the project-local why3 configuration with why3-config.sh. Exit status 0 iff every goal is proven.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/compiler/verifier/c-proof.ts" "$@"
