/** verify / replay / test: the verifier's commands (exit codes: 0 ok, 1 disproven / disagreement, 2 bad input). */
import { parseArgs, reportInternalError, UsageError } from "../cli/main.ts";
import { runCStage } from "./c-stage.ts";
import { formatCounterexample } from "./report.ts";
import { BadInput, formatDiagnostics, TRUSTED_BASE, verifyHelper, verifyNf, type VerifyResult } from "./verify.ts";
import { isWasmTrap, rerunOnZ3Trap } from "./z3.ts";

/** The programmatic entry point is verifyNf in ./verify.ts (kept out of this module, whose exports are commands). */

export async function verify(args: string[]): Promise<number> {
  const { positional, options } = parseArgs(args, ["--spec", "--property", "--out"], ["--json", "--no-c", "--quiet"], ["--property"]);
  const nfFile = positional[0];
  if (!nfFile) throw new UsageError("missing NF file: vigorc verify <nf.ts> [--spec FILE] [--property FILE|NAME]... [--json]");
  const json = options.has("--json");
  const onZ3Trap = rerunOnZ3Trap("verify", (e) => reportInternalError("verify", e));
  let r: VerifyResult;
  try {
    r = await verifyNf({
      nfFile,
      specFile: options.get("--spec")?.[0],
      properties: options.get("--property"),
      counterexampleDir: options.get("--out")?.[0],
      progress: json || options.has("--quiet") ? undefined : (l) => console.error(`  ${l}`),
    });
  } catch (e) {
    if (e instanceof BadInput) {
      if (e.diagnostics.length > 0) console.error(formatDiagnostics(e.diagnostics) + "\n");
      console.error(`vigorc verify: ${e.message}`);
      return 2;
    }
    if (isWasmTrap(e)) onZ3Trap(e);
    throw e;
  }
  if (!options.has("--no-c")) {
    // The C stage: Frama-C WP+RTE on the generated code (minutes; --no-c skips it).
    if (!json && !options.has("--quiet")) console.error("  c stage: Frama-C WP + RTE on the generated C (this takes minutes; --no-c skips it)");
    const c = await runCStage({ nfFile });
    r.stages.push(c);
    r.proven = r.proven && c.proven;
  }
  if (json) {
    console.log(JSON.stringify({ nf: r.nf, proven: r.proven, stages: r.stages.map((s) => ({ name: s.name, proven: s.proven, goals: s.goals, seconds: Number(s.seconds.toFixed(3)) })) }));
  } else {
    printSummary(r);
  }
  return r.proven ? 0 : 1;
}

function printSummary(r: VerifyResult): void {
  const s = r.stages[0]!;
  console.log(`\n${r.nf}: ${r.proven ? "PROVEN" : "NOT PROVEN"} — ${s.goals.proven}/${s.goals.total} goals over ${r.paths} paths in ${r.seconds.toFixed(2)}s`);
  for (const g of r.groups) console.log(`  ${g.proven === g.total ? "✓" : "✗"} ${g.name} (${g.proven}/${g.total}, ${g.seconds.toFixed(2)}s)`);
  console.log(`  (each path's goals checked together first: ${r.togetherSeconds.toFixed(2)}s; a group's time is its own goals' building and separate checks)`);
  console.log(
    `\n  For every packet up to 1514 bytes, every input device and device count (1..32), every arrival\n` +
      `  time not earlier than the stored times, every configuration in the declared ranges satisfying\n` +
      `  the constraints, and every prior state satisfying the structures' invariants.`,
  );
  for (const c of r.stages.slice(1)) {
    console.log(`  ${c.proven ? "✓" : "✗"} stage ${c.name}: ${c.goals.proven}/${c.goals.total} goals, ${c.seconds.toFixed(1)}s`);
    for (const f of c.failures) console.log(`      ${f.file ?? ""}:${f.line ?? "?"} (${f.cLocation ?? "?"}): ${f.message}`);
  }
  console.log(`  Trusted: ${TRUSTED_BASE.join("; ")}.`);
  for (const cx of r.counterexamples) console.log("\n" + formatCounterexample(cx));
}

/** `vigorc verify-helper`: not for users; verifyNf starts it to check paths side by side. */
export const verifyHelperCommand = (): Promise<number> => verifyHelper();

export { replay, test } from "./concrete-commands.ts";
