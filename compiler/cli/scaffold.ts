/** `vigorc new <name>`: a starting NF that checks and builds, and its spec, which verifies. */
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "./main.ts";

function nfTemplate(name: string): string {
  return `/**
 * ${name}: describe what this NF does. It starts as a learning forwarder between devices 0 and 1
 * that remembers for how long each source IPv4 address has been seen.
 */
import {
  defineConfig,
  drop,
  field,
  FlowTable,
  forward,
  type Action,
  type ConfigOf,
  type Context,
  type Packet,
  type u32,
} from "../dsl/index.ts";

export const config = defineConfig({
  capacity: field.u32({ min: 1, max: 1000000, default: 1024, doc: "how many hosts to remember" }),
  expiration: field.duration({ default: "60s", min: "1ms", doc: "forget a host idle for longer" }),
});
export type Config = ConfigOf<typeof config>;

/** A record: fixed-width fields only. */
export interface Host {
  ip: u32;
}

export function state(c: Config) {
  return { hosts: new FlowTable<Host>(c.capacity, c.expiration) };
}
export type State = ReturnType<typeof state>;

export function process(pkt: Packet, ctx: Context, cfg: Config, st: State): Action {
  st.hosts.expire(ctx.time);
  const ip = pkt.ipv4();
  if (ip === undefined) return drop();
  const host: Host = { ip: ip.src };
  const known = st.hosts.find(host);
  if (known === undefined) {
    st.hosts.add(host, ctx.time);
  } else {
    st.hosts.refresh(known, ctx.time);
  }
  if (ctx.device === 0 && ctx.deviceCount > 1) return forward(1);
  if (ctx.device === 1) return forward(0);
  return drop();
}
`;
}

/** The starting spec: what the starting NF does, which `vigorc verify nfs/<name>.ts` proves. */
function specTemplate(name: string): string {
  return `/**
 * ${name} reference spec: what the NF must do with one packet, over the abstract state (tables as
 * sets of entries). \`vigorc verify nfs/${name}.ts\` proves the NF does exactly this, or prints a
 * counterexample. Change it together with the NF.
 */
import type { Config, Host, State } from "../nfs/${name}.ts";
import { drop, forward, type Abstract, type Context, type Outcome, type Packet } from "./lib/spec.ts";

export function spec(pkt: Packet, ctx: Context, cfg: Config, st: Abstract<State>): Outcome<State> {
  // Hosts idle for longer than the expiration are forgotten first.
  const hosts = st.hosts.expire(ctx.time);
  const ip = pkt.ipv4();
  if (ip === undefined) return drop({ hosts: hosts });
  // The source is remembered (refreshed if known, added if there is room).
  const host: Host = { ip: ip.src };
  const known = hosts.find(host);
  let after = hosts;
  if (known !== undefined) after = hosts.refresh(known.index, ctx.time);
  else if (hosts.size < cfg.capacity) after = hosts.add(host, ctx.time).table;
  // Frames go from device 0 to 1 and from 1 to 0, unchanged.
  if (ctx.device === 0 && ctx.deviceCount > 1) return forward(1, { hosts: after });
  if (ctx.device === 1) return forward(0, { hosts: after });
  return drop({ hosts: after });
}
`;
}

export function scaffold(name: string, root: string): string[] {
  const nf = path.join(root, "nfs", `${name}.ts`);
  if (fs.existsSync(nf)) throw new UsageError(`${path.relative(root, nf)} already exists`);
  const spec = path.join(root, "specs", `${name}.spec.ts`);
  if (fs.existsSync(spec)) throw new UsageError(`${path.relative(root, spec)} already exists`);
  fs.mkdirSync(path.dirname(nf), { recursive: true });
  fs.writeFileSync(nf, nfTemplate(name));
  fs.mkdirSync(path.dirname(spec), { recursive: true });
  fs.writeFileSync(spec, specTemplate(name));
  return [path.relative(root, nf), path.relative(root, spec)];
}
