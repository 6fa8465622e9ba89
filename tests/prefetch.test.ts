/**
 * Prefetches survive the compiler. gcc gives `__builtin_prefetch` no side effect, so to gcc a
 * function that only reads memory and prefetches (a generated nf_prefetch) is pure, and it deletes
 * every call to it that it does not inline: after an unrelated change to the DPDK shell, gcc 12
 * (-O3 -flto) kept nf_prefetch out of line and deleted all its calls, and the NAT ran without any
 * prefetch (docs/performance.md). runtime-c/structures/prefetch.h's vig_prefetch is a volatile asm,
 * which gcc never deletes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE_CFLAGS, RUNTIME_C_DIR } from "../compiler/cli/link.ts";
import { build } from "../compiler/cli/main.ts";

/** The instructions of each function in an objdump -d listing. */
function functionsOf(listing: string): Map<string, string[]> {
  const fns = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of listing.split("\n")) {
    const head = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (head) fns.set(head[1]!, (current = []));
    else if (current && /^\s+[0-9a-f]+:\t/.test(line)) current.push(line.trim());
  }
  return fns;
}

test("a function that only reads and calls vig_prefetch keeps its call sites at -O3", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigorc-prefetch-"));
  try {
    const src = join(dir, "only_prefetch.c");
    writeFileSync(
      src,
      [
        '#include "prefetch.h"',
        "__attribute__((noinline)) static void only_prefetch(const int *a, int i) {",
        "  if (a[i] > 3) vig_prefetch(a + a[i] * 16);",
        "}",
        "void prefetch_all(const int *a, int n);",
        "void prefetch_all(const int *a, int n) {",
        "  for (int i = 0; i < n; i++) only_prefetch(a, i);",
        "}",
      ].join("\n"),
    );
    const obj = join(dir, "only_prefetch.o");
    execFileSync("cc", [...BASE_CFLAGS.filter((f) => f !== "-flto"), "-I", join(RUNTIME_C_DIR, "structures"), "-c", src, "-o", obj]);
    const fns = functionsOf(execFileSync("objdump", ["-d", "--no-show-raw-insn", obj], { encoding: "utf8" }));
    const loop = fns.get("prefetch_all") ?? [];
    // With __builtin_prefetch, gcc 12 compiles prefetch_all to a lone `ret`.
    assert.ok(loop.some((i) => /call\s.*only_prefetch/.test(i)), loop.join("\n"));
    assert.ok((fns.get("only_prefetch") ?? []).some((i) => i.includes("prefetcht0")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the DPDK NAT binary: every function with a prefetch instruction is main or is called", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigorc-prefetch-nat-"));
  try {
    const bin = join(dir, "nat");
    assert.ok(await build("nfs/nat.ts", "dpdk", bin));
    const fns = functionsOf(execFileSync("objdump", ["-d", "--no-show-raw-insn", bin], { encoding: "utf8", maxBuffer: 1 << 28 }));
    const prefetching = [...fns].filter(([, insns]) => insns.some((i) => i.includes("prefetcht0"))).map(([name]) => name);
    assert.ok(prefetching.length > 0, "no prefetch instruction in the NAT");
    const all = [...fns.values()].flat();
    for (const name of prefetching) {
      if (name === "main") continue;
      assert.ok(
        all.some((i) => new RegExp(`(call|jmp)\\s+[0-9a-f]+ <${name.replace(/\./g, "\\.")}>`).test(i)),
        `${name} holds prefetches but nothing calls it`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
