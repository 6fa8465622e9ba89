/** Builds NFs once per test process, into build/test/ (kept for inspection). */
import * as fs from "node:fs";
import * as path from "node:path";
import { build } from "../../compiler/cli/main.ts";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const TEST_BUILD_DIR = path.join(ROOT, "build", "test");
const cache = new Map<string, Promise<string>>();

export function buildNf(nfFile: string, target: "dpdk" | "trace"): Promise<string> {
  const key = `${nfFile}:${target}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      fs.mkdirSync(TEST_BUILD_DIR, { recursive: true });
      const name = path.basename(nfFile).replace(/\.ts$/, "");
      const out = path.join(TEST_BUILD_DIR, `${name}-${target}`);
      const r = await build(path.resolve(ROOT, nfFile), target, out);
      if (!r) throw new Error(`${nfFile} was rejected by the frontend`);
      return r.binary;
    })();
    cache.set(key, p);
  }
  return p;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env["TMPDIR"] ?? "/tmp", `vigorc-${prefix}-`));
}

export { ROOT };
