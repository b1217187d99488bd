// The lab as the e2e tests reach it (not a test file: importing it runs nothing): its scripts, its kubectl pinned
// to the context "lab", and the product run as a user runs it, with the lab's settings and binaries first on PATH.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { bin, binDir, stateDir } from '../../lab/base/common.ts';
import { missingHostPrograms } from '../../lab/toolchain/host-packages.ts';
import { names } from '../../tasks/config.ts';
import { ourLabels } from '../../tasks/lib/kube/kube.ts';
import { type K8sObject, prepare, readManifests } from '../../tasks/lib/kube/manifests.ts';

export const root = path.resolve(import.meta.dirname, '..', '..');

/** The settings `lab:up` wrote (.lab/env): CLUSTER=existing, KUBE_CONTEXT=lab, KUBECONFIG, ISTIO_HOME, ... */
export const readLabEnv = (): Record<string, string> => parseDotenv(readFileSync(path.join(stateDir, 'env')));

/** Runs `lab/<script>.ts` (up, down, ctl, ...); it must succeed. */
export function lab(script: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `lab/${script}.ts`, ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `lab/${script}.ts ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

export interface Run {
  code: number | null;
  /** The signal that ended it, when one did. */
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  ms: number;
}

/**
 * The product as the npm scripts start it, with `env` over a minimal environment and the lab's binaries first on PATH;
 * `detached`: in a process group of its own, as a terminal's job is (a kill of the group reaches all of it).
 */
export function runProduct(
  args: string[],
  env: Record<string, string>,
  o: { detached?: boolean } = {},
): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, ['tasks/lib/cli/start.mjs', ...args], {
    cwd: root,
    env: { HOME: process.env.HOME, PATH: `${binDir}:${process.env.PATH}`, ...env },
    detached: o.detached,
  });
  const started = Date.now();
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, out, err, ms: Date.now() - started })),
  );
  return Object.assign(done, { child });
}

/** An object as kubectl prints it, with what the tests read. */
export interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    deletionTimestamp?: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, any>;
  status?: Record<string, any>;
  data?: Record<string, string>;
  webhooks?: { name: string; clientConfig: { caBundle?: string; url?: string } }[];
}
export type List = { items: Obj[] };

/** The lab's kubectl for the kubeconfig `env()` names (read when called: the env exists once the lab is up). */
export function labKubectl(env: () => Record<string, string>) {
  const run = (args: string[], input?: string) =>
    spawnSync(bin('kubectl'), ['--kubeconfig', env().KUBECONFIG, '--context', 'lab', ...args], {
      encoding: 'utf8',
      input,
      maxBuffer: 1 << 28,
    });
  /** Must succeed; returns stdout. */
  const kubectl = (...args: string[]): string => {
    const r = run(args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const kjson = <T>(...args: string[]): T => JSON.parse(kubectl(...args, '-o', 'json')) as T;
  const listNames = (...args: string[]) =>
    kubectl('get', ...args, '-o', 'name', '--ignore-not-found')
      .split('\n')
      .filter(Boolean);
  /** Applies objects (`kubectl apply -f -`) through the real webhook; it must accept them. */
  const apply = (docs: K8sObject[]): void => {
    const r = run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
    assert.equal(r.status, 0, `kubectl apply: ${r.stderr}`);
  };
  return { run, kubectl, kjson, listNames, apply };
}

/** A file of the release's Bookinfo networking samples, prepared as the chapters prepare it (namespace, label). */
export const bookinfoNetworking = (istioHome: string, file: string): K8sObject[] =>
  prepare(readManifests(path.join(istioHome, 'samples', 'bookinfo', 'networking', file)), {
    namespace: names.bookinfo.namespace,
    labels: ourLabels(),
  });

/** The first http://127.0.0.1:<port> a running `dashboard` prints; an error if it ends first. */
export function dashboardUrl(run: ReturnType<typeof runProduct>): Promise<string> {
  let seen = '';
  return new Promise<string>((resolve, reject) => {
    run.child.stdout?.on('data', (d) => {
      seen += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)[/\s]/.exec(seen); // the whole port, not a chunk's part of it
      if (m) resolve(m[1]);
    });
    void run.then((x) => reject(new Error(`dashboard ended: ${x.out}${x.err}`)));
  });
}

/**
 * `namespace/name/uid` -> resourceVersion of everything the chapters create or that Istio installs: equal before and
 * after a run means the run changed no object. istiod's leader-election ConfigMaps renew themselves and are left out.
 */
export function objectVersions(kjson: <T>(...args: string[]) => T, sampleNs: string): Map<string, string> {
  const lists = [
    kjson<List>(
      'get',
      'namespaces,mutatingwebhookconfigurations,validatingwebhookconfigurations,customresourcedefinitions,clusterroles,clusterrolebindings',
    ),
    kjson<List>('-n', names.istioNamespace, 'get', 'deployments,services,secrets,configmaps,serviceaccounts'),
    kjson<List>('-n', sampleNs, 'get', 'deployments,services,serviceaccounts'),
  ];
  const objects = lists
    .flatMap((l) => l.items)
    .filter((o) => !o.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader']);
  return new Map(
    objects.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}/${o.metadata.uid}`, o.metadata.resourceVersion]),
  );
}

/** Why the real-node lab cannot run here (not root, Debian packages missing), or false where it can. */
export function realNodeUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'the real node needs root';
  const missing = missingHostPrograms();
  return missing.length ? `the real node needs ${missing.join(', ')} (npm run lab:build -- --node=real, as root)` : false;
}

/** The commands a run log lists (`+1.234s [step] $ ...` lines), as `$ ...`. */
export const commandsOf = (log: string): string[] =>
  log
    .split('\n')
    .map((l) => /^\+\d+\.\d{3}s (?:\[.*?\] )?(\$ .*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
