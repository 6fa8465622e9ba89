/** NOP: forwards every frame from device 0 to device 1 and from device 1 to device 0 (drops when there is no device 1). */
import { drop, forward, type Action, type Context, type Packet } from "../dsl/index.ts";

export const config = {};

export function process(_pkt: Packet, ctx: Context): Action {
  if (ctx.device === 0 && ctx.deviceCount > 1) return forward(1);
  if (ctx.device === 1) return forward(0);
  return drop();
}
