/**
 * The records' hash (compiler/codegen/templates/nf.c.hbs): the generated C, a sum of independent
 * products, gives the polynomial hash (((v1 * K + v2) * K + ...) * K + vn) * K modulo 2^32 that it
 * replaced (so the map's probe figures in docs/performance.md still hold), for the NAT's FlowId and
 * for a record with a 64-bit field (hashed as its low then its high 32 bits). WP proves the C equal
 * to the sum (tests/c-proof-record-hash.test.ts); this test is what shows the sum is the polynomial.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { emitC, HASH_K } from "../compiler/codegen/emit-c.ts";
import { compileNf } from "../compiler/frontend/index.ts";

const M = 1n << 32n;

/** The polynomial in Horner's form, over the record's 32-bit parts. */
function polynomialHash(parts: bigint[]): bigint {
  return (parts.reduce((h, v) => h * HASH_K + v, 0n) * HASH_K) % M;
}

/** Values of a field of `bits` bits: the extremes, then pseudo-random ones (fixed seed). */
function fieldValues(bits: number, count: number, seed: number): bigint[] {
  const max = (1n << BigInt(bits)) - 1n;
  let x = BigInt(seed);
  const out = [0n, 1n, max, max - 1n];
  while (out.length < count) {
    x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
    out.push(x & max);
  }
  return out;
}

/** Builds a C program that includes the generated nf.c and prints `<record>_hash` of each line of stdin's values. */
function hashBinary(nf: string, record: string, fields: string[]): string {
  const compiled = compileNf(nf);
  assert.ok(compiled.module, nf);
  const dir = mkdtempSync(join(tmpdir(), "vigorc-hash-"));
  writeFileSync(join(dir, "nf.c"), emitC(compiled.module));
  const reads = fields.map((f) => `    if (scanf("%llu", &v) != 1) return 0;\n    r.${f} = v;`).join("\n");
  writeFileSync(
    join(dir, "main.c"),
    `#include "nf.c"\n#include <stdio.h>\nint main(void) {\n  for (;;) {\n    struct ${record} r = {0};\n    unsigned long long v;\n${reads}\n    printf("%u\\n", ${record}_hash(&r));\n  }\n}\n`,
  );
  const runtime = resolve("runtime-c");
  const structures = join(runtime, "structures");
  const sources = readdirSync(structures).filter((n) => n.endsWith(".c")).map((n) => join(structures, n));
  const binary = join(dir, "hash");
  execFileSync("cc", ["-std=c11", "-O2", "-I", join(runtime, "shells"), "-I", structures, "-I", join(runtime, "packet"), join(dir, "main.c"), ...sources, join(runtime, "shells", "flags.c"), "-o", binary]);
  return binary;
}

for (const { nf, record, fields } of [
  { nf: "nfs/nat.ts", record: "FlowId", fields: [["srcIp", 32], ["dstIp", 32], ["srcPort", 16], ["dstPort", 16], ["device", 16], ["protocol", 8]] as const },
  { nf: "tests/fixtures/c-proof/mac-learner.ts", record: "Station", fields: [["mac", 64], ["device", 16]] as const },
]) {
  test(`${record}_hash (${nf}) is the polynomial hash modulo 2^32`, () => {
    const count = 2000;
    const columns = fields.map(([, bits], i) => fieldValues(bits, count, 17 + i));
    const rows = Array.from({ length: count }, (_, k) => columns.map((c, i) => c[(k * (i + 1)) % count]!));
    const binary = hashBinary(nf, record, fields.map(([name]) => name));
    const out = execFileSync(binary, { input: rows.map((r) => r.join(" ")).join("\n") + "\n", encoding: "utf8" }).trim().split("\n");
    assert.equal(out.length, count);
    const widths = fields.map(([, bits]) => bits);
    rows.forEach((row, k) => {
      const parts = row.flatMap((v, i) => (widths[i] === 64 ? [v % M, v / M] : [v]));
      assert.equal(BigInt(out[k]!), polynomialHash(parts), `${record} ${row.join(",")}`);
    });
  });
}

test.run();
