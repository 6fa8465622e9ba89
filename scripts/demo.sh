#!/usr/bin/env bash
# The main job on a bundled example: set up, build the NAT for DPDK, run it on a bundled
# capture (pcap vdevs: no NIC, no hugepages) and show what came out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsx examples/demo.ts
