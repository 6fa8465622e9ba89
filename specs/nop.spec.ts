/** NOP reference spec: every frame from device 0 goes to 1 and from 1 to 0, unchanged. */
import { drop, forward, type Context, type Outcome, type Packet } from "./lib/spec.ts";

export function spec(_pkt: Packet, ctx: Context): Outcome<{}> {
  if (ctx.device === 0 && ctx.deviceCount > 1) return forward(1);
  if (ctx.device === 1) return forward(0);
  return drop();
}
