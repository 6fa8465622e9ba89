/** What process() receives besides the packet, and what it returns. */
import type { Device, MacAddr, Nanos, u16 } from "./types.ts";

export interface Context {
  /** The device the packet arrived on. */
  readonly device: Device;
  /** Arrival time in ns; never earlier than the previous packet's. */
  readonly time: Nanos;
  /** Number of devices; every device number is below it. */
  readonly deviceCount: u16;
  /** The device's own MAC address. */
  deviceMac(device: Device): MacAddr;
}

export type Action =
  | { readonly kind: "drop" }
  | { readonly kind: "forward"; readonly device: Device }
  | { readonly kind: "flood" };

export function drop(): Action {
  return { kind: "drop" };
}
/** Send the (possibly modified) packet out of `device`. */
export function forward(device: Device): Action {
  return { kind: "forward", device };
}
/** Send the packet out of every device but the input one. */
export function flood(): Action {
  return { kind: "flood" };
}
