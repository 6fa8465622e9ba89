/** replay / test: being written. */
export const replay = (_args: string[]): number => 3;
export { test } from "./spec-test.ts";
