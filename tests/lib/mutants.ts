/**
 * Planted bugs in TypeScript sources: a copy of a real file (an NF or a spec) with a few exact
 * edits, written under build/ at test time, so a wrong variant never drifts from the code it is
 * the wrong version of. Relative imports are rewritten for the copy's folder.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/** One edit: `from` must occur exactly once in the source. */
export type Edit = readonly [from: string, to: string];

/**
 * Writes `source` (relative to the project root) with `edits` applied and a header naming the bug,
 * as build/<folder>/<name>.ts; returns its absolute path.
 */
export function writeMutant(source: string, folder: string, name: string, bug: string, edits: readonly Edit[]): string {
  const from = path.join(ROOT, source);
  const out = path.join(ROOT, "build", folder, `${name}.ts`);
  let text = fs.readFileSync(from, "utf8");
  for (const [find, replace] of edits) {
    const count = text.split(find).length - 1;
    if (count !== 1) throw new Error(`mutant ${name}: ${JSON.stringify(find)} occurs ${count} times in ${source} (must be once)`);
    text = text.replace(find, replace);
  }
  text = text.replace(/(from ")(\.\.?\/[^"]+)(")/g, (_m, pre: string, rel: string, post: string) => {
    const moved = path.relative(path.dirname(out), path.resolve(path.dirname(from), rel));
    return `${pre}${moved.startsWith(".") ? moved : `./${moved}`}${post}`;
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `/* PLANTED BUG (a test-time copy of ${source}): ${bug} */\n${text}`);
  return out;
}
