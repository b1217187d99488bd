// npm run mutation [-- <group> ...]: StrykerJS over each mutation group (test/mutation/groups.mjs), then one table of
// scores per module, held against test/mutation/thresholds.json. Survivors listed in equivalent.json (with why) do not
// count. Incremental: each group's results are kept in test/mutation/incremental/ (committed), so a run re-tests only
// the mutants whose code changed, or every one when the group's tests changed (a digest kept beside the results).
// Exit 1 when a module is below its threshold, or when a mutant survives inside a declaration
// test/mutation/guards.json names (teardown's ownership guards, the checksum).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMain } from '../../tasks/lib/cli/main.ts';
// A plain ES module shared with stryker.config.mjs (Stryker reads no TypeScript config).
import { groups as groupTable } from './groups.mjs';

const groups: Record<string, { mutate: string[]; tests: string[] }> = groupTable;

const root = path.resolve(import.meta.dirname, '..', '..');

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
interface Report {
  files: Record<string, { source?: string; mutants: Mutant[] }>;
}
export interface Equivalent {
  file: string;
  /** Where it was when listed: a hint for a reader; it is matched by its line's text, so lines may move. */
  line: number;
  /** The text of the line the mutant starts on, as it was when listed. */
  source: string;
  column: number;
  /** Where the replaced code ends (its line as lines after the start): two mutants may start at one place. */
  end: { line: number; column: number };
  mutator: string;
  replacement: string;
  why: string;
}

const detected = new Set(['Killed', 'Timeout']);
const undetected = new Set(['Survived', 'NoCoverage']);

/** Where an entry's line is now: of the lines with its text, the one nearest where it was listed; none if it is gone. */
function lineOf(e: Equivalent, lines: string[]): number | undefined {
  let best: number | undefined;
  lines.forEach((text, i) => {
    if (text === e.source && (best === undefined || Math.abs(i + 1 - e.line) < Math.abs(best - e.line))) best = i + 1;
  });
  return best;
}

/**
 * A survivor someone showed cannot change behaviour (equivalent.json): the same text on its line, the same span on
 * it, mutator and replacement. Lines added above it do not lose it; a change to its own line does. Where the same
 * text is on several lines, only the one nearest its listed line is meant.
 */
const isEquivalent = (file: string, m: Mutant, lines: string[], list: Equivalent[]): boolean =>
  list.some(
    (e) =>
      e.file === file &&
      lineOf(e, lines) === m.location.start.line &&
      e.column === m.location.start.column &&
      e.end.line - e.line === m.location.end.line - m.location.start.line &&
      e.end.column === m.location.end.column &&
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

/** Entries for a file of this report whose line is gone: the list must say only what is true of the code. */
export const staleEquivalents = (report: Report, equivalent: Equivalent[]): string[] =>
  equivalent
    .filter((e) => report.files[e.file] && lineOf(e, (report.files[e.file].source ?? '').split('\n')) === undefined)
    .map((e) => `${e.file}:${e.line}: ${e.mutator} -> ${e.replacement} (its line is gone: ${e.source.trim()})`);

/** Scores per file of one Stryker JSON report. */
export function scores(report: Report, equivalent: Equivalent[]): Score[] {
  return Object.entries(report.files).map(([file, { source, mutants }]) => {
    const lines = (source ?? '').split('\n');
    const counted = mutants.filter((m) => detected.has(m.status) || undetected.has(m.status));
    const equivalents = counted.filter((m) => undetected.has(m.status) && isEquivalent(file, m, lines, equivalent)).length;
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

/** Lines `[first, last]` (1-based) of the top-level function or const `name`: to the next line at column 0. */
export function declarationLines(source: string, name: string): [number, number] | undefined {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^(export )?(async )?(function|const) ${name}\\b`).test(l));
  if (start < 0) return undefined;
  let next = start + 1;
  while (next < lines.length && !/^\S/.test(lines[next])) next++;
  // Its closing line (`}`, `});`) starts at column 0 too.
  if (next < lines.length && /^[)}\]]/.test(lines[next])) next++;
  return [start + 1, next];
}

/**
 * Survivors (not listed as equivalent) inside declarations that must have none, e.g. teardown's ownership guards; a
 * guard that is no longer declared is named too, so a rename cannot drop it silently.
 */
export function guardSurvivors(report: Report, equivalent: Equivalent[], guards: Record<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, names] of Object.entries(guards)) {
    const entry = report.files[file];
    if (!entry) continue; // its group did not run
    const lines = (entry.source ?? '').split('\n');
    for (const name of names) {
      const range = declarationLines(entry.source ?? '', name);
      if (!range) {
        found.push(`${file}: no declaration ${name} (guards.json names it)`);
        continue;
      }
      for (const m of entry.mutants) {
        const { line, column } = m.location.start;
        if (line < range[0] || line > range[1] || !undetected.has(m.status) || isEquivalent(file, m, lines, equivalent)) continue;
        found.push(`${file}:${line}:${column} in ${name}: ${m.mutatorName} -> ${m.replacement ?? ''} ${m.status}`);
      }
    }
  }
  return found;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T;

/** Files every group's tests lean on besides their own. */
const sharedTestFiles = ['test/helpers.ts', 'test/fake-api.ts'];

/**
 * A digest of what a group's tests are: their files and the helpers. Stryker's incremental mode cannot see a
 * change in tests the TAP runner runs (it reports no test locations), so a changed digest forces a full run.
 */
export function testsDigest(files: string[], read: (file: string) => string): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) hash.update(`${file}\0${read(file)}\0`);
  return hash.digest('hex');
}

function main(names: string[]): number {
  const unknown = names.filter((n) => !(n in groups));
  if (unknown.length) {
    console.error(`mutation: no group ${unknown.join(', ')} (groups: ${Object.keys(groups).join(', ')})`);
    return 2;
  }
  const equivalent = readJson<Equivalent[]>('test/mutation/equivalent.json');
  const guards = readJson<Record<string, string[]>>('test/mutation/guards.json');
  const unguarded: string[] = [];
  const stale: string[] = [];
  const thresholds = readJson<Record<string, number>>('test/mutation/thresholds.json');
  const all: Score[] = [];
  for (const name of names.length ? names : Object.keys(groups)) {
    const t = Date.now();
    const digestFile = path.join(root, 'test', 'mutation', 'incremental', `${name}.tests.sha256`);
    const digest = testsDigest([...groups[name].tests, ...sharedTestFiles], (f) => readFileSync(path.join(root, f), 'utf8'));
    const testsChanged = !existsSync(digestFile) || readFileSync(digestFile, 'utf8').trim() !== digest;
    if (testsChanged) console.log(`mutation: ${name}: its tests changed since its results were kept: every mutant runs`);
    const r = spawnSync('npx', ['stryker', 'run', '--logLevel', 'warn', ...(testsChanged ? ['--force'] : [])], {
      cwd: root,
      env: { ...process.env, MUTATION_GROUP: name },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) {
      console.error(`mutation: stryker failed on group ${name} (exit ${r.status})`);
      return 1;
    }
    writeFileSync(digestFile, `${digest}\n`);
    const report = readJson<Report>(`reports/mutation/${name}.json`);
    const s = scores(report, equivalent);
    unguarded.push(...guardSurvivors(report, equivalent, guards));
    stale.push(...staleEquivalents(report, equivalent));
    all.push(...s);
    console.log(`mutation: ${name} in ${((Date.now() - t) / 1000).toFixed(0)}s`);
  }
  for (const s of all)
    console.log(
      `${s.file.padEnd(32)} ${s.score.toFixed(1).padStart(5)}%  killed ${s.killed}, survived ${s.survived}, equivalent ${s.equivalent}`,
    );
  const below = belowThreshold(all, thresholds);
  if (below.length) console.error(`mutation: below the threshold:\n  ${below.join('\n  ')}`);
  if (unguarded.length) console.error(`mutation: survivors where none may be (guards.json):\n  ${unguarded.join('\n  ')}`);
  if (stale.length) console.error(`mutation: equivalent.json lists lines that are gone:\n  ${stale.join('\n  ')}`);
  return below.length || unguarded.length || stale.length ? 1 : 0;
}

if (isMain(import.meta.url)) process.exit(main(process.argv.slice(2)));
