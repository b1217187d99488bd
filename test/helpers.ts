// Test doubles for the shell: zx lets a test replace `spawn`; this one answers commands from a script.

import { type spawn as nodeSpawn, spawn as spawnProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../Taskfile.ts';
import type { Clock } from '../tasks/lib/base/clock.ts';
import { ensureCa } from '../tasks/lib/istio/ca.ts';

/** Splits a command line as a shell would: plain words, '...' (POSIX quoting, dry-run lines) and $'...' (zx's quoting). */
export function unquote(cmd: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ansiC: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', '0': '\0' };
  while (i < cmd.length) {
    if (cmd[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    while (i < cmd.length && cmd[i] !== ' ') {
      if (cmd.startsWith("$'", i)) {
        i += 2;
        while (cmd[i] !== "'") {
          if (cmd[i] === '\\') {
            word += ansiC[cmd[i + 1]] ?? cmd[i + 1];
            i += 2;
          } else word += cmd[i++];
        }
        i++;
      } else if (cmd[i] === "'") {
        const end = cmd.indexOf("'", i + 1);
        word += cmd.slice(i + 1, end);
        i = end + 1;
      } else if (cmd[i] === '\\') {
        word += cmd[i + 1];
        i += 2;
      } else word += cmd[i++];
    }
    out.push(word);
  }
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
}
export type Responder = (argv: string[], input: string) => Reply | undefined;

/** A spawn that records each command and answers it from `respond` (exit 0, no output, by default). */
export function fakeSpawn(respond: Responder = () => undefined): { spawn: typeof nodeSpawn; calls: Call[] } {
  const calls: Call[] = [];
  const spawn = ((command: string, _args: unknown, options?: { signal?: AbortSignal }) => {
    const argv = unquote(command);
    const child = new EventEmitter() as EventEmitter & Record<string, unknown>;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    let input = '';
    stdin.on('data', (d) => (input += d));
    Object.assign(child, { stdout, stderr, stdin, pid: undefined, kill: () => true });
    const finish = () => {
      const call = { argv, input };
      calls.push(call);
      const reply = respond(argv, input) ?? {};
      if (reply.hold) {
        stdout.write(reply.stdout ?? '');
        const stop = () => {
          stdout.end();
          stderr.end();
          setImmediate(() => {
            child.emit('exit', null, 'SIGTERM');
            child.emit('close', null, 'SIGTERM');
          });
        };
        if (options?.signal?.aborted) stop();
        else options?.signal?.addEventListener('abort', stop, { once: true });
        return;
      }
      stdout.end(reply.stdout ?? '');
      stderr.end(reply.stderr ?? '');
      const code = reply.code ?? 0;
      setImmediate(() => {
        child.emit('exit', code, null);
        child.emit('close', code, null);
      });
    };
    // Answer once stdin is complete (zx ends it after writing `input`, or at once when there is none).
    stdin.on('finish', finish);
    setImmediate(() => {
      if (!stdin.writableEnded) stdin.end();
    });
    return child;
  }) as unknown as typeof nodeSpawn;
  return { spawn, calls };
}

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
  o: { env?: Record<string, string>; spawn?: typeof nodeSpawn; clock?: Clock; envFile?: string; signal?: AbortSignal } = {},
): Promise<Outcome> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    env: { HOME: os.homedir(), PATH: process.env.PATH ?? '', ...o.env },
    envFile: o.envFile ?? '/nonexistent/.env',
    spawn: o.spawn ?? fakeSpawn(() => ({ code: 99, stderr: 'unexpected command' })).spawn,
    renderer: 'silent',
    clock: o.clock ?? virtualClock(),
    signal: o.signal,
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  process.exitCode = 0;
  return { code, out, err };
}

/** The commands a dry run lists, as argv arrays. */
export const dryRunCommands = (out: string): string[][] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => unquote(l.slice(2).replace(/ # stdin: .*$/, '')));

export const joined = (calls: { argv: string[] }[]) => calls.map((c) => c.argv.join(' '));

/** install-istio with a fresh cache and a release URL nothing answers (so any download fails at once). */
export async function installIstioOffline(spawn: typeof nodeSpawn): Promise<{ cache: string; r: Outcome }> {
  const cache = tmpDir('fwi-cache-');
  const r = await runCli(['install-istio'], { env: { CACHE_DIR: cache, ISTIO_RELEASE_URL: 'http://127.0.0.1:9/none' }, spawn });
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
