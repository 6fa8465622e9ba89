#!/usr/bin/env bash
# Installs what vigorc needs on Debian 12 (run as root): system packages, then npm dependencies.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(
  build-essential pkg-config dpdk-dev libdpdk-dev libpcap-dev # C toolchain and DPDK
  frama-c-base why3 z3 cvc4                                    # C-level proofs
  clang-format tshark python3-scapy                            # formatting, independent packet checks
  iproute2 ethtool iptables curl python3                       # real-traffic tests (namespaces)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
