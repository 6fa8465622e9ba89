/**
 * The C stage reuses prover answers from WP's cache (compiler/verifier/c-stage.ts wpCacheArgs). The
 * cache keeps failures too: cvc4 answers "unknown" at its time limit, which a goal it proves in a
 * second can reach on a loaded machine, and every later run replayed that answer. Claim: a run
 * whose goals are not all proven is proven again by the provers before it counts, and the cache then
 * holds their new answers. Planted here by rewriting every cached answer of a proven function to
 * "unknown": without the second attempt the stage reports the function unproven.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCStage } from "../compiler/verifier/c-stage.ts";

test("a failure replayed from the WP cache is proven again by the provers", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vigorc-wp-cache-"));
  const saved = process.env.VIGORC_CACHE_DIR;
  process.env.VIGORC_CACHE_DIR = dir;
  try {
    const stage = () => runCStage({ nfFile: "nfs/nat.ts", functions: ["FlowId_hash"] });
    const first = await stage();
    assert.ok(first.proven && first.goals.total > 0, `proven first: ${JSON.stringify(first.goals)}`);
    const entries = () => fs.readdirSync(path.join(dir, "wp")).map((f) => path.join(dir, "wp", f));
    const verdicts = () => entries().map((f) => (JSON.parse(fs.readFileSync(f, "utf8")) as { verdict: string }).verdict);
    assert.ok(verdicts().includes("valid"), "the provers' answers are cached");
    for (const f of entries()) {
      const e = JSON.parse(fs.readFileSync(f, "utf8")) as { prover: string };
      fs.writeFileSync(f, JSON.stringify({ prover: e.prover, verdict: "unknown" }));
    }
    const again = await stage();
    assert.ok(again.proven, `proven again despite the cached failures: ${JSON.stringify(again.failures)}`);
    assert.equal(again.goals, first.goals);
    assert.ok(verdicts().includes("valid"), "the cache holds the new answers");
  } finally {
    if (saved === undefined) delete process.env.VIGORC_CACHE_DIR;
    else process.env.VIGORC_CACHE_DIR = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
