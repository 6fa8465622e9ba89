#!/usr/bin/env node
// vigorc entry point: runs the TypeScript CLI through tsx's loader (no separate build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../compiler/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
