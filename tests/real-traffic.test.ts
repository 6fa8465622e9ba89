// Real Linux traffic through the NAT: three network namespaces (client, nat, server) joined by
// veth pairs with offloads off. The vigorc NAT runs on DPDK net_af_packet vdevs in the nat
// namespace; the same scenario then runs with Linux netfilter masquerading there instead, and
// both must give the same observable results:
//   - a TCP download with curl (client) from python3 -m http.server (server) succeeds, intact;
//   - a UDP request/response exchange succeeds;
//   - the server sees the NAT's external IP as the source of both;
//   - unsolicited packets from the server (to every port of the external IP, and straight to the
//     client's private address) never reach the client.
// For the vigorc NAT, a flood of malformed frames is then sent from the client while good traffic
// flows; the NAT must keep running and keep translating.
//
// Addresses: 10.99.0.0/24 (client side) and 198.18.0.0/24 (server side), only inside the
// namespaces this test creates. Every command is time-bounded; processes and namespaces are
// removed in finally blocks. Skipped (with a message) only if namespaces cannot be created.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildNf, ROOT } from "./lib/build.ts";
import { Bg, canCreateNetns, macOf, offloadsOff, sh, sleep } from "./fixtures/real-traffic/netns.ts";

const SCRIPTS = join(ROOT, "tests", "fixtures", "real-traffic");
const CLIENT_IP = "10.99.0.2";
const GATEWAY_IP = "10.99.0.1";
const EXTERNAL_IP = "198.18.0.1";
const SERVER_IP = "198.18.0.2";
const HTTP_PORT = 8080;
const UDP_PORT = 5555;
const START_PORT = 20000;
const MAX_FLOWS = 4096;

type Mode = "vigorc" | "netfilter";

interface Observed {
  download: string;
  httpSourceIps: string[];
  udpReplies: number;
  udpSourceIps: string[];
  unsolicitedAtClient: number;
}

interface Topology {
  client: string;
  nat: string;
  server: string;
  natLanMac: string;
  natWanMac: string;
  clientMac: string;
  serverMac: string;
}

let seq = 0;
function topology(): Topology {
  seq++;
  const id = `vgc${process.pid}x${seq}x${randomBytes(2).toString("hex")}`;
  const t = { client: `${id}-c`, nat: `${id}-n`, server: `${id}-s` };
  for (const ns of [t.client, t.nat, t.server]) {
    sh(["ip", "netns", "add", ns]);
    for (const k of ["all", "default"]) sh(["sysctl", "-q", "-w", `net.ipv6.conf.${k}.disable_ipv6=1`], { ns, allowFail: true });
    sh(["ip", "link", "set", "lo", "up"], { ns });
  }
  sh(["ip", "-n", t.client, "link", "add", "eth0", "type", "veth", "peer", "name", "lan", "netns", t.nat]);
  sh(["ip", "-n", t.server, "link", "add", "eth0", "type", "veth", "peer", "name", "wan", "netns", t.nat]);
  for (const [ns, ifc] of [[t.client, "eth0"], [t.server, "eth0"], [t.nat, "lan"], [t.nat, "wan"]] as const) {
    offloadsOff(ns, ifc);
    sh(["ip", "link", "set", ifc, "up"], { ns });
  }
  const topo: Topology = { ...t, natLanMac: macOf(t.nat, "lan"), natWanMac: macOf(t.nat, "wan"), clientMac: macOf(t.client, "eth0"), serverMac: macOf(t.server, "eth0") };
  // Client: default route via the NAT; the NAT (vigorc) does not answer ARP: static neighbour.
  sh(["ip", "addr", "add", `${CLIENT_IP}/24`, "dev", "eth0"], { ns: t.client });
  sh(["ip", "route", "add", "default", "via", GATEWAY_IP], { ns: t.client });
  sh(["ip", "neigh", "replace", GATEWAY_IP, "lladdr", topo.natLanMac, "dev", "eth0", "nud", "permanent"], { ns: t.client });
  // Server: the NAT's external IP is a neighbour; the client's private network is routed via the
  // NAT only so that the test can try to reach the client directly (it must not work).
  sh(["ip", "addr", "add", `${SERVER_IP}/24`, "dev", "eth0"], { ns: t.server });
  sh(["ip", "neigh", "replace", EXTERNAL_IP, "lladdr", topo.natWanMac, "dev", "eth0", "nud", "permanent"], { ns: t.server });
  sh(["ip", "route", "add", "10.99.0.0/24", "via", EXTERNAL_IP], { ns: t.server });
  return topo;
}

function destroy(t: Topology): void {
  for (const ns of [t.client, t.nat, t.server]) sh(["ip", "netns", "del", ns], { allowFail: true, timeoutMs: 10_000 });
}

function netfilterNat(t: Topology): void {
  const ns = t.nat;
  sh(["ip", "addr", "add", `${GATEWAY_IP}/24`, "dev", "lan"], { ns });
  sh(["ip", "addr", "add", `${EXTERNAL_IP}/24`, "dev", "wan"], { ns });
  sh(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], { ns });
  sh(["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE"], { ns });
  sh(["iptables", "-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"], { ns });
  sh(["iptables", "-A", "FORWARD", "-i", "wan", "-j", "DROP"], { ns });
}

function vigorcNat(t: Topology, binary: string): Bg {
  const lcore = cpus().length > 1 ? "1" : "0";
  return new Bg("vigorc NAT", t.nat, [
    binary, "-l", lcore, "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry",
    "--vdev=net_af_packet0,iface=lan", "--vdev=net_af_packet1,iface=wan",
    "--",
    "--wan", "1", "--external-ip", EXTERNAL_IP, "--start-port", String(START_PORT), "--max-flows", String(MAX_FLOWS), "--expiration", "60s",
    "--eth-dest", `0,${t.clientMac}`, "--eth-dest", `1,${t.serverMac}`, "--stats",
  ]);
}

function udpExchange(t: Topology, count: number, deadlineS: number, tag = ""): { ok: number; sources: string[] } {
  const r = sh(["python3", join(SCRIPTS, "udp_client.py"), SERVER_IP, String(UDP_PORT), String(count), String(deadlineS), tag], { ns: t.client, timeoutMs: (deadlineS + 5) * 1000 });
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: number; sources: string[] };
}

function download(t: Topology, dir: string, expected: string): string {
  const out = join(dir, `download-${Date.now()}`);
  const r = sh(["curl", "-sS", "--max-time", "20", "--connect-timeout", "10", "-o", out, `http://${SERVER_IP}:${HTTP_PORT}/blob.bin`], { ns: t.client, timeoutMs: 30_000, allowFail: true });
  if (r.code !== 0) return `curl failed (exit ${r.code}): ${r.stderr.trim()}`;
  const got = createHash("sha256").update(readFileSync(out)).digest("hex");
  rmSync(out, { force: true });
  return got === expected ? "intact" : `corrupted (sha256 ${got})`;
}

async function unsolicited(t: Topology): Promise<number> {
  const marker = `UNSOLICITED-${randomBytes(4).toString("hex")}`;
  const control = `CONTROL-${randomBytes(4).toString("hex")}`;
  const sink = new Bg("sink", t.client, ["python3", join(SCRIPTS, "sink.py"), "eth0", marker, control, "60"]);
  try {
    if (!(await sink.waitFor(/ready/, 5000))) throw new Error(`sink did not start: ${sink.stderr}`);
    sh(["python3", join(SCRIPTS, "unsolicited.py"), EXTERNAL_IP, "1-65535", CLIENT_IP, "7777", marker], { ns: t.server, timeoutMs: 20_000 });
    // Positive control: a solicited reply carrying the control tag must be seen by the sink.
    assert.is(udpExchange(t, 1, 5, control).ok, 1, "control exchange");
    if (!(await sink.wait(65_000))) throw new Error("sink did not finish");
    const r = JSON.parse(sink.stdout.trim().split("\n").pop()!) as { marker: number; control: number };
    assert.ok(r.control >= 1, `the sink saw no control reply: it cannot see incoming traffic (${sink.stdout})`);
    return r.marker;
  } finally {
    await sink.stop();
  }
}

/** Runs the scenario with one NAT; `extra` runs while everything is up (vigorc: the flood). */
async function scenario(mode: Mode, binary: string, extra?: (t: Topology, dir: string, sha: string, nat: Bg) => Promise<void>): Promise<Observed> {
  const dir = mkdtempSync(join(tmpdir(), "vigorc-real-"));
  const blob = randomBytes(2 * 1024 * 1024 + 123);
  writeFileSync(join(dir, "blob.bin"), blob);
  const sha = createHash("sha256").update(blob).digest("hex");
  const procs: Bg[] = [];
  const t = topology();
  try {
    const http = new Bg("http.server", t.server, ["python3", "-m", "http.server", String(HTTP_PORT), "--bind", SERVER_IP, "--directory", dir]);
    procs.push(http);
    const echo = new Bg("udp echo", t.server, ["python3", join(SCRIPTS, "udp_echo.py"), SERVER_IP, String(UDP_PORT)]);
    procs.push(echo);
    let nat: Bg | undefined;
    if (mode === "netfilter") {
      netfilterNat(t);
    } else {
      nat = vigorcNat(t, binary);
      procs.push(nat);
    }
    // Wait for the HTTP server (locally, inside the server namespace).
    const end = Date.now() + 10_000;
    while (sh(["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${SERVER_IP}:${HTTP_PORT}/`], { ns: t.server, allowFail: true }).code !== 0) {
      if (Date.now() > end) throw new Error(`http.server did not start: ${http.stderr}`);
      await sleep(100);
    }
    // The first exchange also waits for the NAT to come up (DPDK start-up).
    const first = udpExchange(t, 1, 20);
    assert.is(first.ok, 1, `${mode}: no UDP reply through the NAT within 20 s${nat ? `; NAT alive: ${nat.alive}; NAT stderr:\n${nat.stderr.slice(-1500)}` : ""}`);
    const udp = udpExchange(t, 20, 15);
    const got = download(t, dir, sha);
    await sleep(300); // sh() blocks the event loop: let the servers' output arrive
    const httpSourceIps = [...new Set([...http.stderr.matchAll(/^(\d+\.\d+\.\d+\.\d+) - - .*"GET \/blob\.bin/gm)].map((m) => m[1]!))].sort();
    const udpSourceIps = [...new Set([...echo.stdout.matchAll(/^udp from (\d+\.\d+\.\d+\.\d+):/gm)].map((m) => m[1]!))].sort();
    assert.equal(udpSourceIps, [...new Set([...udp.sources, ...first.sources])].sort(), "the replies carry what the server saw");
    const unsolicitedAtClient = await unsolicited(t);
    if (extra) await extra(t, dir, sha, nat!);
    return { download: got, httpSourceIps, udpReplies: udp.ok, udpSourceIps, unsolicitedAtClient };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    destroy(t);
    rmSync(dir, { recursive: true, force: true });
  }
}

const EXPECTED: Observed = { download: "intact", httpSourceIps: [EXTERNAL_IP], udpReplies: 20, udpSourceIps: [EXTERNAL_IP], unsolicitedAtClient: 0 };

const netns = canCreateNetns();
const results = new Map<Mode, Observed>();

function skip(): boolean {
  if (!netns.ok) console.warn(`SKIP real-traffic: this machine cannot create network namespaces (${netns.why}); run as root with iproute2`);
  return !netns.ok;
}

test("real traffic through the vigorc NAT (DPDK af_packet): TCP download, UDP exchange, source = external IP, unsolicited dropped; survives a malformed-frame flood", async () => {
  if (skip()) return;
  const binary = await buildNf("nfs/nat.ts", "dpdk");
  const observed = await scenario("vigorc", binary, async (t, dir, sha, nat) => {
    // Malformed frames, while good UDP traffic flows.
    const flood = new Bg("flood", t.client, ["python3", join(SCRIPTS, "flood.py"), "eth0", t.natLanMac, CLIENT_IP, SERVER_IP, "30000", "7"]);
    let during: { ok: number; sources: string[] };
    try {
      during = udpExchange(t, 30, 20);
      assert.ok(await flood.wait(30_000), "the flood did not finish within 30 s");
    } finally {
      await flood.stop();
    }
    const floodSent = Number(flood.stdout.trim());
    assert.ok(floodSent > 20_000, `the flood sent only ${floodSent} frames: ${flood.stderr}`);
    assert.ok(nat.alive, `the NAT died during the flood (exit ${nat.exitCode}, signal ${nat.exitSignal}):\n${nat.stderr.slice(-2000)}`);
    assert.is(during.ok, 30, "UDP exchange during the flood");
    // After the flood: still translating, TCP and UDP.
    assert.is(download(t, dir, sha), "intact", "download after the flood");
    const after = udpExchange(t, 10, 10);
    assert.is(after.ok, 10, "UDP exchange after the flood");
    assert.equal(after.sources, [EXTERNAL_IP]);
    assert.ok(nat.alive, "the NAT is still running");
    await nat.stop(5000);
    assert.is(nat.exitCode, 0, `NAT exit status after SIGTERM:\n${nat.stderr.slice(-2000)}`);
    const packetsIn = Number(/packets_in=(\d+)/.exec(nat.stdout)?.[1] ?? "0");
    const dropped = Number(/dropped=(\d+)/.exec(nat.stdout)?.[1] ?? "0");
    assert.ok(packetsIn >= floodSent, `the NAT received ${packetsIn} packets, fewer than the ${floodSent} flood frames`);
    assert.ok(dropped >= floodSent * 0.5, `the NAT dropped only ${dropped} packets of a ${floodSent}-frame malformed flood`);
  });
  results.set("vigorc", observed);
  assert.equal(observed, EXPECTED);
});

test("the same scenario with Linux netfilter masquerading gives the same observable results", async () => {
  if (skip()) return;
  const observed = await scenario("netfilter", "");
  results.set("netfilter", observed);
  assert.equal(observed, EXPECTED);
  const v = results.get("vigorc");
  if (v) assert.equal(v, observed, "vigorc NAT and netfilter differ");
});

test.run();
