/** replay (./replay.ts) / test (./spec-test.ts): the commands that run the compiled trace binary. */
export { replay } from "./replay.ts";
export { test } from "./spec-test.ts";
