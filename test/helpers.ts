// Test doubles for the shell: a runner (the shell's seam, as kind's exec fake) that answers commands from a script.

import { spawn as spawnProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../Taskfile.ts';
import type { Clock } from '../tasks/lib/base/clock.ts';
import { run } from '../tasks/lib/cli/runner.ts';
import { ensureCa } from '../tasks/lib/istio/ca.ts';
import type { Runner } from '../tasks/lib/run/commands.ts';
import type { ObjectRef, Query } from '../tasks/lib/run/requests.ts';
import type { Command } from '../tasks/lib/run/types.ts';

/** Splits a command line as a POSIX shell would: plain words and '...' (the dry run's quoting). */
export function unquote(cmd: string): string[] {
  const out: string[] = [];
  for (const [, quoted, plain] of cmd.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g))
    out.push(quoted === undefined ? plain : quoted.replace(/'\\''/g, "'"));
  return out;
}

export interface Reply {
  stdout?: string;
  stderr?: string;
  code?: number;
  /** Keep running after printing stdout (a port-forward) until the command's signal aborts it. */
  hold?: boolean;
}
export interface Call {
  argv: string[];
  input: string;
  /** What the command asks, when kube/ built it. */
  query?: Query;
}
export type Responder = (argv: string[], input: string, query?: Query) => Reply | undefined;

/** A runner that records each command and answers it from `respond` (exit 0, no output, by default). */
export function fakeRunner(respond: Responder = () => undefined): { runner: Runner; calls: Call[] } {
  const calls: Call[] = [];
  const runner: Runner = ({ argv, input = '', query }, { signal, output }) => {
    calls.push({ argv, input, query });
    const reply = respond(argv, input, query) ?? {};
    const exit = new Promise<Awaited<ReturnType<Runner>['exit']>>((resolve) => {
      const stdout = reply.stdout ?? '';
      const stderr = reply.stderr ?? '';
      // Output arrives after the start, as a process's would.
      setImmediate(() => {
        if (stdout) output('stdout', stdout);
        if (stderr) output('stderr', stderr);
        if (!reply.hold) return resolve({ exitCode: reply.code ?? 0, signal: null, stdout, stderr });
        const stop = () => resolve({ exitCode: null, signal: 'SIGTERM', stdout, stderr });
        if (signal?.aborted) stop();
        else signal?.addEventListener('abort', stop, { once: true });
      });
    });
    return { exit };
  };
  return { runner, calls };
}

/** Whether a command asks `op` about objects of `kind` (and `name`, `namespace` when given). */
export function asks(query: Query | undefined, op: Query['op'], ref: Partial<ObjectRef>): boolean {
  if (!query || query.op !== op) return false;
  const refs: ObjectRef[] =
    'ref' in query ? [query.ref] : 'refs' in query ? query.refs : 'objects' in query ? query.objects.map(sentRef) : [];
  return refs.some(
    (r) =>
      r.kind.toLowerCase() === ref.kind?.toLowerCase() &&
      (ref.name === undefined || r.name === ref.name) &&
      (ref.namespace === undefined || r.namespace === ref.namespace),
  );
}
/** The jsonpath a field query asks for ('' for any other question). */
export const jsonpathOf = (query: Query | undefined): string => (query?.op === 'field' ? query.jsonpath : '');

/** The answer to a version question, for a reachable API server and tools at these versions. */
export function versionAnswer(query: Query | undefined, v: { kubernetes?: string; minikube?: string } = {}): Reply | undefined {
  if (query?.op !== 'version') return undefined;
  const kubernetes = v.kubernetes ?? 'v1.36.3';
  if (query.tool === 'minikube') return { stdout: JSON.stringify({ minikubeVersion: v.minikube ?? 'v1.39.0' }) };
  if (query.tool === 'istioctl') return { stdout: JSON.stringify({ clientVersion: { version: '1.31.1' } }) };
  const key = query.of === 'client' ? 'clientVersion' : 'serverVersion';
  return { stdout: JSON.stringify({ [key]: { gitVersion: kubernetes } }) };
}

const sentRef = (o: { kind?: string; metadata?: { name?: string; namespace?: string } }): ObjectRef => ({
  kind: o.kind ?? '',
  name: o.metadata?.name,
  namespace: o.metadata?.namespace,
});

export const tmpDir = (prefix = 'fwi-') => mkdtempSync(path.join(os.tmpdir(), prefix));

/**
 * A clock whose sleeps pass at once: each moves its time on by what was asked, so a wait that gives up after
 * WAIT_TIMEOUT gives up after as many asks as it would have made, without the seconds. `slept` lists the sleeps.
 */
export function virtualClock(start = Date.now()): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  /** Time limits, ended only by sleeps that pass them: a request on this clock never times out on its own. */
  const limits: { at: number; controller: AbortController }[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
      for (const l of limits.filter((l) => l.at <= now)) l.controller.abort(new DOMException('timed out', 'TimeoutError'));
      await new Promise(setImmediate);
      signal?.throwIfAborted();
    },
    timeout: (ms) => {
      const controller = new AbortController();
      limits.push({ at: now + ms, controller });
      return controller.signal;
    },
  };
}

const madeCas = new Map<string, Promise<string>>();

/**
 * A new CACHE_DIR that already holds a plug-in CA for `cluster`: the keys are made once per test process and copied
 * (an RSA-4096 key takes a second or more), for tests about something else than making them.
 */
export async function cacheWithCa(cluster = 'fun-with-istio'): Promise<string> {
  let made = madeCas.get(cluster);
  if (!made) {
    const certs = tmpDir('fwi-ca-');
    made = ensureCa(certs, cluster).then(() => certs);
    madeCas.set(cluster, made);
  }
  const cache = tmpDir('fwi-cache-');
  cpSync(await made, path.join(cache, 'certs'), { recursive: true });
  return cache;
}

export interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with a scripted shell, a silent renderer, no `.env` and a clock whose waits pass at once. */
export async function runCli(
  argv: string[],
  o: { env?: Record<string, string>; runner?: Runner; clock?: Clock; envFile?: string; signal?: AbortSignal } = {},
): Promise<Outcome> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    env: { HOME: os.homedir(), PATH: process.env.PATH ?? '', ...o.env },
    envFile: o.envFile ?? '/nonexistent/.env',
    runner: o.runner ?? fakeRunner(() => ({ code: 99, stderr: 'unexpected command' })).runner,
    renderer: 'silent',
    clock: o.clock ?? virtualClock(),
    signal: o.signal,
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  process.exitCode = 0;
  return { code, out, err };
}

/**
 * Runs commands of a test's own (not the Taskfile's) in-process, on an existing cluster `lab`, with a scripted
 * runner, a silent renderer and a clock whose waits pass at once; `err` holds what the run printed there.
 */
export async function runCommands(
  commands: Command[],
  argv: string[],
  o: { runner: Runner; env?: Record<string, string> },
): Promise<{ code: number; err: string; log: string }> {
  let err = '';
  const code = await run(commands, argv, {
    env: {
      HOME: tmpDir('fwi-home-'),
      CACHE_DIR: tmpDir('fwi-cache-'),
      CLUSTER: 'existing',
      KUBE_CONTEXT: 'lab',
      PATH: '',
      ...o.env,
    },
    envFile: '/nonexistent/.env',
    runner: o.runner,
    renderer: 'silent',
    clock: virtualClock(),
    out: () => {},
    err: (t) => (err += t),
  });
  const logFile = /\(log: (\S+\.log)\)/.exec(err)?.[1];
  return { code, err, log: logFile ? readFileSync(logFile, 'utf8') : '' };
}

/** The commands a dry run lists, as argv arrays. */
export const dryRunCommands = (out: string): string[][] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => unquote(l.slice(2).replace(/ # stdin: .*$/, '')));

export const joined = (calls: { argv: string[] }[]) => calls.map((c) => c.argv.join(' '));

/** install-istio with a fresh cache and a release URL nothing answers (so any download fails at once). */
export async function installIstioOffline(runner: Runner): Promise<{ cache: string; r: Outcome }> {
  const cache = tmpDir('fwi-cache-');
  const r = await runCli(['install-istio'], { env: { CACHE_DIR: cache, ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none' }, runner });
  return { cache, r };
}

/** The CLI as a real process, with the stand-ins in `bin` first on PATH and a fresh HOME and cache. */
export function spawnCli(args: string[], bin: string) {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'Taskfile.ts', ...args], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: {
      HOME: tmpDir('fwi-home-'),
      CACHE_DIR: tmpDir('fwi-cache-'),
      PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    },
  });
}

/** What `kubectl get <kind> <name> -o json` prints for one object (`managed`: it carries the tool's label). */
export function objectJson(
  kind: string,
  name: string,
  o: { managed?: boolean; annotations?: Record<string, string>; spec?: unknown; status?: unknown } = {},
): string {
  const labels = o.managed ? { 'app.kubernetes.io/managed-by': 'fun-with-istio' } : {};
  return JSON.stringify({ kind, metadata: { name, labels, annotations: o.annotations ?? {} }, spec: o.spec, status: o.status });
}

/**
 * What `kubectl -n istio-system get configmap istio -o jsonpath={.data.mesh}` prints: the mesh config of the demo
 * profile, whose telemetry reports metrics to Prometheus (`defaultProviders.metrics`), or of an install with
 * `values.telemetry.enabled=false`.
 */
export const meshConfigText = ({ metrics }: { metrics: boolean }): string =>
  `${metrics ? 'defaultProviders:\n  metrics:\n  - prometheus\n' : ''}enableTracing: true\nrootNamespace: istio-system\n`;

/** What `kubectl get <kind> -o json` prints for a list of objects (each from `objectJson`). */
export const listJson = (...objects: string[]): string => `{"items":[${objects.join(',')}]}`;

/** What `kubectl get nodes -o json` prints for one node with this container runtime (`kwok://...`: none runs). */
export const nodesJson = (runtime: string): string =>
  JSON.stringify({
    items: [{ kind: 'Node', metadata: { name: 'node-1' }, status: { nodeInfo: { containerRuntimeVersion: runtime } } }],
  });
