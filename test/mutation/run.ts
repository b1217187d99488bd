// npm run mutation [-- <group> ...]: StrykerJS over each mutation group (test/mutation/groups.mjs), then one table of
// scores per module, held against test/mutation/thresholds.json. Survivors listed in equivalent.json (with why) do not
// count. Incremental: each group's results are kept in test/mutation/incremental/ (committed), so a run re-tests only
// the mutants whose code or tests changed. Exit 1 when a module is below its threshold.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMain } from '../../tasks/lib/main.ts';
// @ts-expect-error: a plain ES module shared with stryker.config.mjs (Stryker reads no TypeScript config)
import { groups } from './groups.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}
export interface Equivalent {
  file: string;
  line: number;
  column: number;
  mutator: string;
  replacement: string;
  why: string;
}

const detected = new Set(['Killed', 'Timeout']);
const undetected = new Set(['Survived', 'NoCoverage']);

/** A survivor someone showed cannot change behaviour (equivalent.json), matched by place, mutator and replacement. */
const isEquivalent = (file: string, m: Mutant, list: Equivalent[]): boolean =>
  list.some(
    (e) =>
      e.file === file &&
      e.line === m.location.start.line &&
      e.column === m.location.start.column &&
      e.mutator === m.mutatorName &&
      e.replacement === (m.replacement ?? ''),
  );

export interface Score {
  file: string;
  killed: number;
  survived: number;
  equivalent: number;
  /** Detected of those that could be: killed / (killed + survived), in percent. */
  score: number;
}

/** Scores per file of one Stryker JSON report. */
export function scores(report: Report, equivalent: Equivalent[]): Score[] {
  return Object.entries(report.files).map(([file, { mutants }]) => {
    const counted = mutants.filter((m) => detected.has(m.status) || undetected.has(m.status));
    const equivalents = counted.filter((m) => undetected.has(m.status) && isEquivalent(file, m, equivalent)).length;
    const killed = counted.filter((m) => detected.has(m.status)).length;
    const survived = counted.filter((m) => undetected.has(m.status)).length - equivalents;
    const valid = killed + survived;
    return { file, killed, survived, equivalent: equivalents, score: valid ? (100 * killed) / valid : 100 };
  });
}

/** The modules below their threshold, as lines for the error. */
export const belowThreshold = (all: Score[], thresholds: Record<string, number>): string[] =>
  all
    .filter((s) => s.score + 1e-9 < (thresholds[s.file] ?? 100))
    .map((s) => `${s.file}: ${s.score.toFixed(1)}% < ${thresholds[s.file] ?? 100}%`);

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T;

function main(names: string[]): number {
  const unknown = names.filter((n) => !(n in groups));
  if (unknown.length) {
    console.error(`mutation: no group ${unknown.join(', ')} (groups: ${Object.keys(groups).join(', ')})`);
    return 2;
  }
  const equivalent = readJson<Equivalent[]>('test/mutation/equivalent.json');
  const thresholds = readJson<Record<string, number>>('test/mutation/thresholds.json');
  const all: Score[] = [];
  for (const name of names.length ? names : Object.keys(groups)) {
    const t = Date.now();
    const r = spawnSync('npx', ['stryker', 'run', '--logLevel', 'warn'], {
      cwd: root,
      env: { ...process.env, MUTATION_GROUP: name },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) {
      console.error(`mutation: stryker failed on group ${name} (exit ${r.status})`);
      return 1;
    }
    const s = scores(readJson<Report>(`reports/mutation/${name}.json`), equivalent);
    all.push(...s);
    console.log(`mutation: ${name} in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  }
  for (const s of all)
    console.log(
      `${s.file.padEnd(32)} ${s.score.toFixed(1).padStart(5)}%  killed ${s.killed}, survived ${s.survived}, equivalent ${s.equivalent}`,
    );
  const below = belowThreshold(all, thresholds);
  if (below.length) console.error(`mutation: below the threshold:\n  ${below.join('\n  ')}`);
  return below.length ? 1 : 0;
}

if (isMain(import.meta.url)) process.exit(main(process.argv.slice(2)));
