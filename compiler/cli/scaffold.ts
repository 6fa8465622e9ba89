/** `vigorc new <name>`: a starting NF (and its spec, once specs exist for it) that checks and builds. */
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
  if (ctx.device === 0) return forward(1);
  if (ctx.device === 1) return forward(0);
  return drop();
}
`;
}

export function scaffold(name: string, root: string): string[] {
  const nf = path.join(root, "nfs", `${name}.ts`);
  if (fs.existsSync(nf)) throw new UsageError(`${path.relative(root, nf)} already exists`);
  fs.mkdirSync(path.dirname(nf), { recursive: true });
  fs.writeFileSync(nf, nfTemplate(name));
  return [path.relative(root, nf)];
}
