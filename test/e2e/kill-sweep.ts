// The kill sweep (not a test file: importing it runs nothing). A command is run on a fresh kwok lab and interrupted at
// a point (when a step starts, read from its run log, or after some milliseconds), by SIGINT or by SIGKILL of its
// process group. Then: the cache is whole, the same command run again ends with exit 0, the end state equals an
// uninterrupted run's, a third run writes nothing, and nothing the tool started is left running.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { commands } from '../../Taskfile.ts';
import { names } from '../../tasks/config.ts';
import { tmpDir } from '../helpers.ts';
import { writes } from './ambient-client.ts';
import { commandsOf, type List, lab, labKubectl, type Obj, readLabEnv, runProduct } from './lab-client.ts';

export type Signal = 'SIGINT' | 'SIGKILL';
/** Where a run is interrupted: when the step with this title starts, or this long after the run starts. */
export type At = { step: string } | { ms: number };
export interface Point {
  signal: Signal;
  at: At;
}

/** What one interruption showed; `problems` must be empty. */
export interface Swept {
  command: string;
  point: string;
  /** How the interrupted run ended: its exit code or signal, and whether it reached the point at all. */
  interrupted: string;
  problems: string[];
  seconds: number;
}

/**
 * What each command needs done first (on the same fresh lab; a command line each). A task chapter starts from another's
 * routing, kept (as istio.io's fault injection starts from request routing): its restore must give that back.
 */
const sample = ['webhook-certs', 'install-istio', 'bookinfo'];
export const runsBefore: Record<string, string[]> = {
  all: [],
  teardown: ['all'],
  bookinfo: ['webhook-certs', 'install-istio'],
  'request-routing': [...sample, 'traffic-shifting --keep-routing'],
  'fault-injection': [...sample, 'request-routing --keep-routing'],
  'traffic-shifting': [...sample, 'request-routing --keep-routing'],
  mtls: sample,
};

let env: Record<string, string> = {};
const { kjson, run: kubectlRun } = labKubectl(() => env);

/** The product as a user runs it, in a process group of its own (as a terminal's job is), confirming with --yes. */
export function start(args: string[], cache: string) {
  const run = runProduct([...args, '--yes'], { ...env, CACHE_DIR: cache }, { detached: true });
  const done = run.then((r) => ({ ...r, out: `${r.out}${r.err}` }));
  return { child: run.child, done };
}

/** The run logs in `cache` (their paths). */
export const logsIn = (cache: string): string[] => {
  const dir = path.join(cache, 'logs');
  return existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : [];
};

/** The newest run log in `cache` (its text), or ''. */
export function newestLog(cache: string): string {
  const newest = logsIn(cache).sort().at(-1);
  return newest ? readFileSync(newest, 'utf8') : '';
}

/** The log of a run started after `earlier` were listed (its text), or '' until it has one: never an earlier run's. */
export function logSince(cache: string, earlier: Set<string>): string {
  const file = logsIn(cache).find((f) => !earlier.has(f));
  return file ? readFileSync(file, 'utf8') : '';
}

/** The chapters that do their changes again on every run and put back what was there (istio.io's tasks). */
const demos = new Set(commands.filter((c) => c.kind === 'tasks' && c.flags?.includes('keep-routing')).map((c) => c.name));

/** The titles of the steps a run started, in order, from its log (`# <title>` lines that are not remarks). */
export const stepsOf = (log: string): string[] =>
  log
    .split('\n')
    .filter((l) => /^# [A-Z]/.test(l) && !/^# (fun-with-istio|versions|cluster|settings|outcome|the run before)\b/.test(l))
    .map((l) => l.slice(2));

async function run(args: string[], cache: string) {
  const r = await start(args, cache).done;
  return { ...r, log: newestLog(cache) };
}

/** Every object the tool manages or Istio installs, without what the server or a fresh CA makes differ. */
export function endState(): Record<string, unknown> {
  const own = (o: Obj) => o.metadata.labels?.[names.managedBy.key] === names.managedBy.value;
  const namespaces = kjson<List>('get', 'namespaces').items.filter((n) => own(n) || n.metadata.name === names.istioNamespace);
  const inThem = new Set(namespaces.map((n) => n.metadata.name));
  const namespaced = kjson<List>(
    'get',
    'deployments,services,serviceaccounts,configmaps,secrets,jobs,roles,rolebindings,poddisruptionbudgets',
    '-A',
  ).items.filter((o) => inThem.has(o.metadata.namespace ?? '') && !ephemeral(o));
  const cluster = kjson<List>(
    'get',
    'mutatingwebhookconfigurations,validatingwebhookconfigurations,customresourcedefinitions,clusterroles,clusterrolebindings',
  ).items.filter((o) => Object.keys(o.metadata.labels ?? {}).some((k) => /istio|fun-with-istio/.test(k)) || own(o));
  // Istio's kinds exist only while its CRDs do.
  const meshWide = ['telemetries', 'peerauthentications', 'virtualservices', 'destinationrules', 'gateways'].flatMap((kind) => {
    const r = kubectlRun(['get', kind, '-A', '-o', 'json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as List).items : [];
  });
  return Object.fromEntries(
    [...namespaces, ...namespaced, ...cluster, ...meshWide].map((o) => [
      `${(o as { kind?: string }).kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      normalized(o),
    ]),
  );
}

/** Made by controllers on their own schedule (leader elections, the cluster's CA bundle). */
const ephemeral = (o: Obj) =>
  o.metadata.name === 'kube-root-ca.crt' ||
  o.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader'] !== undefined ||
  /(-leader|-election|leader-election)$/.test(o.metadata.name);

const serverAnnotations = [
  'deployment.kubernetes.io/revision',
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubectl.kubernetes.io/restartedAt',
  'control-plane.alpha.kubernetes.io/leader',
];

function normalized(o: Obj): unknown {
  const copy = JSON.parse(JSON.stringify(o)) as Record<string, any>;
  delete copy.status;
  const strip = (meta: Record<string, any> | undefined) => {
    if (!meta) return;
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'ownerReferences'])
      delete meta[k];
    for (const a of serverAnnotations) delete meta.annotations?.[a];
    for (const l of ['controller-uid', 'batch.kubernetes.io/controller-uid']) delete meta.labels?.[l];
    if (meta.annotations && !Object.keys(meta.annotations).length) delete meta.annotations;
  };
  strip(copy.metadata);
  strip(copy.spec?.template?.metadata);
  delete copy.spec?.selector?.matchLabels?.['batch.kubernetes.io/controller-uid'];
  delete copy.spec?.selector?.matchLabels?.['controller-uid'];
  if (copy.kind === 'Service') {
    delete copy.spec.clusterIP;
    delete copy.spec.clusterIPs;
    for (const p of copy.spec.ports ?? []) delete p.nodePort;
  }
  // A fresh CA for each run: what holds it is compared by its keys.
  if (copy.kind === 'Secret' || copy.metadata.name === 'istio-ca-root-cert') copy.data = Object.keys(copy.data ?? {}).sort();
  for (const w of copy.webhooks ?? []) delete w.clientConfig?.caBundle;
  if (copy.kind === 'CustomResourceDefinition') return copy.metadata.name;
  return copy;
}

/** Processes the tool started that still run: any with the lab's context or this cache on its command line. */
export function leftovers(cache: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    if (/ --context lab /.test(` ${cmdline} `) || cmdline.includes(cache)) out.push(`${pid} ${cmdline.slice(0, 160)}`);
  }
  return out;
}

/** The cache as an interruption may leave it: the root CA and each cluster's are whole or absent, keys never readable by others. */
export function cacheProblems(cache: string): string[] {
  const certs = path.join(cache, 'certs');
  if (!existsSync(certs)) return [];
  const problems: string[] = [];
  const check = (dir: string, whole: string[], what: string) => {
    const files = readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isFile());
    const held = whole.filter((f) => files.includes(f));
    if (held.length && held.length < whole.length) problems.push(`${what} is partial: ${files.sort().join(', ')}`);
    for (const f of files.filter((f) => f.includes('key'))) {
      const mode = statSync(path.join(dir, f)).mode & 0o777;
      if (mode & 0o077) problems.push(`${what}: ${f} is mode ${mode.toString(8)}`);
    }
  };
  check(certs, ['root-cert.pem', 'root-key.pem'], 'the root CA');
  for (const cluster of readdirSync(certs).filter((f) => statSync(path.join(certs, f)).isDirectory()))
    check(path.join(certs, cluster), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'], `CA ${cluster}`);
  return problems;
}

/** A command's reference: its end state and its steps, from one uninterrupted run on a fresh lab after `before`. */
export async function reference(command: string, before: string[]) {
  lab('up', '--fresh');
  env = readLabEnv();
  const cache = tmpDir('fwi-sweep-');
  for (const c of before) await run(c.split(' '), cache);
  const t = Date.now();
  const r = await run([command], cache);
  if (r.code !== 0) throw new Error(`${command}: exit ${r.code}\n${r.out.slice(-2000)}`);
  return { state: endState(), steps: stepsOf(r.log), ms: Date.now() - t };
}

const describeAt = (at: At) => ('step' in at ? `at "${at.step}"` : `after ${at.ms} ms`);

/** One interruption of `command` (after `before` on a fresh lab) and everything that must hold after it. */
export async function sweep(command: string, before: string[], point: Point, expected: Record<string, unknown>): Promise<Swept> {
  const t = Date.now();
  lab('up', '--fresh');
  env = readLabEnv();
  const cache = tmpDir('fwi-sweep-');
  const problems: string[] = [];
  for (const c of before) {
    const r = await run(c.split(' '), cache);
    if (r.code !== 0) problems.push(`${c} (before): exit ${r.code}`);
  }
  const earlier = new Set(logsIn(cache));
  const killed = start([command], cache);
  let ended = false;
  void killed.done.then(() => (ended = true));
  const started = Date.now();
  const reached = (): boolean =>
    'step' in point.at ? stepsOf(logSince(cache, earlier)).includes(point.at.step) : Date.now() - started >= point.at.ms;
  while (!ended && !reached()) await delay(10);
  const endedFirst = ended;
  if (!endedFirst) process.kill(-(killed.child.pid as number), point.signal);
  // Bounded: an interrupted run that does not end within 60 s hangs.
  const timer = setTimeout(() => {
    problems.push(`the run did not end within 60 s of ${point.signal}`);
    process.kill(-(killed.child.pid as number), 'SIGKILL');
  }, 60_000);
  const k = await killed.done;
  clearTimeout(timer);
  const log = logSince(cache, earlier);
  // Before its log, a run has started nothing (and may not yet listen for Ctrl-C): there is nothing to say then.
  const interrupted = endedFirst
    ? `ended first (exit ${k.code})`
    : `exit ${k.code ?? k.signal}${log ? '' : ', before its log was opened'}`;
  if (point.signal === 'SIGINT' && !endedFirst && log) {
    if (k.code !== 130) problems.push(`SIGINT: exit ${k.code ?? k.signal}, not 130`);
    if (!/# outcome: /.test(log.trimEnd().split('\n').at(-1) ?? ''))
      problems.push('SIGINT: the log does not say how the run ended');
  }
  if (/\n\s+at .*\(.*:\d+:\d+\)/.test(k.out)) problems.push(`a stack trace: ${k.out.slice(-500)}`);
  problems.push(...cacheProblems(cache));

  const again = await run([command], cache);
  if (again.code !== 0) problems.push(`the run after it: exit ${again.code}: ${again.out.slice(-600)}`);
  const unfinished = point.signal === 'SIGKILL' && !endedFirst && log !== '' && !/^# outcome: /m.test(log);
  if (unfinished && !/^# the run before this one .* has no outcome/m.test(again.log))
    problems.push('the run after a SIGKILL does not note that the killed run has no outcome');
  const differences = (when: string) => {
    const state = endState();
    for (const key of new Set([...Object.keys(expected), ...Object.keys(state)]))
      if (!isDeepStrictEqual(expected[key], state[key]))
        problems.push(
          `end state ${when} differs at ${key}: ${JSON.stringify(state[key])?.slice(0, 300)} (uninterrupted: ${JSON.stringify(expected[key])?.slice(0, 300)})`,
        );
  };
  differences('after the re-run');
  // A third run changes nothing: it writes nothing, or (a task) does its changes again and puts back all of them.
  const third = await run([command], cache);
  const wrote = writes(commandsOf(third.log));
  if (third.code !== 0) problems.push(`a third run: exit ${third.code}`);
  if (demos.has(command)) differences('after a third run');
  else if (wrote.length) problems.push(`a third run wrote ${wrote.join('; ')}`);
  const left = leftovers(cache);
  if (left.length) problems.push(`left running: ${left.join('; ')}`);
  lab('down');
  return {
    command,
    point: `${point.signal} ${describeAt(point.at)}`,
    interrupted,
    problems,
    seconds: (Date.now() - t) / 1000,
  };
}

/**
 * `count` points spread over a run: its span cut into `count` equal parts, one point in each (at a random place in it),
 * the parts taken in an order the seed shuffles; half of them when a step starts, half after a time, both signals
 * alternating. The same seed gives the same points.
 */
export function pointsFor(steps: string[], ms: number, count: number, seed: number): Point[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const parts = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  return parts.map((part, i) => {
    const at = (part + next()) / count;
    return {
      signal: i % 2 === 0 ? 'SIGKILL' : 'SIGINT',
      at: i % 4 < 2 ? { step: steps[Math.min(steps.length - 1, Math.floor(at * steps.length))] } : { ms: Math.round(at * ms) },
    };
  });
}
