// npm run bench — is `all` slower than the plain shell script a user would write (lab/bench/plain-all.sh)? A benchmark
// on the lab, not a test. Both are timed as a user runs them: `npm run -s all -- --yes`, `bash plain-all.sh`. For each
// pair: a fresh lab, one of them timed, lab down; then the other, the order alternating between pairs. After each
// script run, untimed: the tool's label put on what it made (lab/bench/label-after.sh), then an `all` that must change
// nothing (the script left the end state `all` makes). Then on one fresh lab: `all` once, and the timed idempotent
// re-runs. Lab up/down is not timed; every run gets a fresh CACHE_DIR (the re-runs share theirs: the CA must match the
// plugged-in Secret).
// Prints a table and writes .lab-bench/result.json. Ctrl-C stops the run in progress and the lab.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { isMain } from '../tasks/lib/cli/main.ts';
import { binDir, projectRoot, stateDir } from './base/common.ts';
import { labMarker, stopGroup } from './base/proc.ts';
import { stopAll } from './stop.ts';

const usage = `usage: npm run bench -- [--pairs N] [--reruns M]

Times \`npm run -s all -- --yes\` against lab/bench/plain-all.sh (the same changes and waits as a plain bash script) on fresh labs,
N pairs (default 3) alternating which goes first, then M (default 5) re-runs of \`all\` on a lab it already set up.
Needs no lab running in this checkout (and none elsewhere: port 15017). Writes .lab-bench/result.json.`;

type Kind = 'all' | 'plain';
interface Pair {
  first: Kind;
  all: number;
  plain: number;
  /** What the untimed `all` after the script changed (empty: the script left `all`'s end state). */
  changedAfterPlain: string[];
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let stopping = false;
/** Whether this bench started the lab that runs now (a lab it found is never its to stop). */
let labStarted = false;

/**
 * Runs a command in its own process group (so Ctrl-C can end all of it); resolves with its time and output. It carries
 * the lab's marker, so lab down (stopAll) also ends whatever it left, e.g. a group of its own (istioctl, kubectl).
 */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; code: number; out: string }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: projectRoot,
    env: { ...env, [labMarker]: stateDir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ seconds: (performance.now() - t0) / 1000, code: code ?? (signal ? 128 : 1), out });
    });
  });
}

async function must(what: string, r: Promise<{ seconds: number; code: number; out: string }>): Promise<number> {
  const { seconds, code, out } = await r;
  if (stopping) throw new Error('interrupted');
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${out.split('\n').slice(-25).join('\n')}`);
  return seconds;
}

async function labUp(): Promise<void> {
  labStarted = true;
  await must('lab up', run(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab', 'up.ts')], process.env));
}

async function labDown(): Promise<void> {
  await stopAll({ quiet: true });
  labStarted = false;
}

function freshCache(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fwi-bench-'));
  tempDirs.add(dir);
  return dir;
}

function dropCache(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** The product's environment on the lab: .lab/env, the lab's binaries first on PATH, the given CACHE_DIR. */
function labEnv(cacheDir: string): NodeJS.ProcessEnv {
  const lab = parseEnv(readFileSync(path.join(stateDir, 'env'), 'utf8'));
  return { ...process.env, ...lab, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, CACHE_DIR: cacheDir };
}

/** As a user runs it: through npm, which starts Node and the Taskfile. */
const runAll = (cacheDir: string): Promise<number> =>
  must('all', run('npm', ['run', '-s', 'all', '--', '--yes'], labEnv(cacheDir)));
const benchScript = (name: string, cacheDir: string): Promise<number> =>
  must(name, run('bash', [path.join(projectRoot, 'lab', 'bench', name)], labEnv(cacheDir)));
const runPlain = (cacheDir: string): Promise<number> => benchScript('plain-all.sh', cacheDir);

/** The commands of the newest `all` run log in cacheDir that change something (not get/version/wait/rollout status). */
function changesLogged(cacheDir: string): string[] {
  const logs = path.join(cacheDir, 'logs');
  const newest = readdirSync(logs)
    .filter((f) => f.endsWith('-all.log'))
    .sort()
    .pop();
  if (!newest) throw new Error(`no run log of all in ${logs}`);
  return readFileSync(path.join(logs, newest), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2))
    .filter((l) => {
      const verb = l.replace(/^\S+/, '').replace(/\s(--context|-n)\s\S+/g, '');
      return !/^\s*(get|version|api-versions|wait|rollout status)\b/.test(verb);
    });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sec = (x: number): string => x.toFixed(2);
const ms = (x: number): number => Math.round(x * 1000) / 1000;

async function pair(i: number, pairs: number): Promise<Pair> {
  const first: Kind = i % 2 === 0 ? 'all' : 'plain';
  const times: Record<Kind, number> = { all: 0, plain: 0 };
  let changedAfterPlain: string[] = [];
  for (const kind of first === 'all' ? (['all', 'plain'] as const) : (['plain', 'all'] as const)) {
    const cache = freshCache();
    await labUp();
    times[kind] = ms(await (kind === 'all' ? runAll(cache) : runPlain(cache)));
    if (kind === 'plain') {
      // Untimed: the tool's label on what the script made, then an `all` that must find everything done.
      await benchScript('label-after.sh', cache);
      await runAll(cache);
      changedAfterPlain = changesLogged(cache);
    }
    await labDown();
    dropCache(cache);
    console.log(`[bench] pair ${i + 1}/${pairs}: ${kind.padEnd(5)} ${sec(times[kind])} s`);
  }
  return { first, ...times, changedAfterPlain };
}

async function reruns(count: number): Promise<number[]> {
  const cache = freshCache();
  await labUp();
  await runAll(cache);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(ms(await runAll(cache)));
    const changed = changesLogged(cache);
    if (changed.length) throw new Error(`re-run ${i + 1} of all changed something:\n${changed.join('\n')}`);
    console.log(`[bench] re-run ${i + 1}/${count}: ${sec(out[i])} s`);
  }
  await labDown();
  dropCache(cache);
  return out;
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`--${name} ${raw}: expected a whole number from 1`);
  return Number(raw);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pairs: { type: 'string' }, reruns: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return console.log(usage);
  const pairs = positive('pairs', values.pairs, 3);
  const rerunCount = positive('reruns', values.reruns, 5);
  if (existsSync(stateDir)) throw new Error(`a lab is up in ${stateDir} (npm run lab:down first): the bench starts its own`);

  const t0 = performance.now();
  const measured: Pair[] = [];
  for (let i = 0; i < pairs; i++) measured.push(await pair(i, pairs));
  const rerunTimes = await reruns(rerunCount);
  const med = { all: median(measured.map((p) => p.all)), plain: median(measured.map((p) => p.plain)) };
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    pairs: measured,
    median: med,
    ratioAllToPlain: ms(med.all / med.plain),
    /** all / plain within each pair (the machine's drift cancels within a pair), and their median. */
    pairRatios: measured.map((p) => ms(p.all / p.plain)),
    pairRatioMedian: ms(median(measured.map((p) => p.all / p.plain))),
    reruns: rerunTimes,
    rerunMedian: median(rerunTimes),
    plainReproducesEndState: measured.every((p) => p.changedAfterPlain.length === 0),
    benchSeconds: ms((performance.now() - t0) / 1000),
  };

  const row = (a: string, b: string, c: string, d = ''): string => `${a.padEnd(22)}${b.padStart(9)}${c.padStart(11)}  ${d}`;

  console.log(`\n${row('fresh lab', 'all (s)', 'plain (s)', 'first')}`);
  for (const [i, p] of measured.entries()) console.log(row(`pair ${i + 1}`, sec(p.all), sec(p.plain), p.first));
  console.log(row('median', sec(med.all), sec(med.plain)));
  console.log(row('median all / plain', result.ratioAllToPlain.toFixed(2), ''));
  console.log(
    row(
      'pairs all / plain',
      result.pairRatios.map((r) => r.toFixed(2)).join(' '),
      '',
      `median ${result.pairRatioMedian.toFixed(2)}`,
    ),
  );
  console.log(`\nre-runs of all (s): ${rerunTimes.map(sec).join('  ')}   median ${sec(result.rerunMedian)}`);
  for (const [i, p] of measured.entries())
    if (p.changedAfterPlain.length)
      console.log(`pair ${i + 1}: all after the script changed:\n  ${p.changedAfterPlain.join('\n  ')}`);
  console.log(
    result.plainReproducesEndState
      ? `after each plain run, all changed nothing (${pairs}/${pairs})`
      : 'the plain script did NOT leave the end state of all (see above)',
  );
  console.log(`bench took ${sec(result.benchSeconds)} s`);
  const dir = path.join(projectRoot, '.lab-bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written: ${path.relative(process.cwd(), path.join(dir, 'result.json'))}`);
}

/** Ends every child's process group, stops the lab, removes the temporary caches. */
async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((c) => (c.pid === undefined ? undefined : stopGroup(c.pid, 5000))));
  if (labStarted) await labDown();
  for (const dir of tempDirs) dropCache(dir);
}

if (isMain(import.meta.url)) {
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stopping) return; // npm passing the same Ctrl-C on must not cut the clean-up short
      stopping = true;
      console.error(`\n[bench] ${sig}: stopping the run and the lab`);
      cleanUp().then(
        () => process.exit(130),
        (e: unknown) => {
          console.error(`[bench] ${(e as Error).message}`);
          process.exit(1);
        },
      );
    });
  main().then(
    () => process.exit(0),
    async (e: unknown) => {
      if (stopping) return; // the signal handler cleans up and exits
      console.error(`[bench] ${(e as Error).message}`);
      await cleanUp().catch((err: unknown) => console.error(`[bench] ${(err as Error).message}`));
      process.exit(1);
    },
  );
}
