// Started by lab:up, stopped by lab:down. Plays the kubelet for istiod's pods: while a live pod labelled app=istiod exists in
// istio-system (kwok makes it Ready without a container), the real pilot-discovery runs here as a local process, with the
// env and args of the pod's `discovery` container, listening on 127.0.0.1 only, and the cacerts Secret written to its
// ROOT_CA_DIR the way the pod's volume would be. Deleting the pod stops it; a new pod restarts it.
// One pilot-discovery per revision (the pod's `istio.io/rev` label; the oldest live pod of each), the binary of the
// pod's image tag (the lab's N or N-1 build). The default revision's webhooks are on 127.0.0.1:15017 (the overlay's
// URL); every other revision's on a port of its own, and the watcher points the webhook configurations labelled with
// that revision (its injector, validator and revision tags) there.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stateDir } from './base/common.ts';
import {
  daemonName,
  defaultWebhookPort,
  istiodWorkDir,
  lineForImage,
  pilotBinary,
  revisionOf,
  withWebhookPort,
} from './base/istiod.ts';
import { getJson, request, type WatchEvent, watch } from './base/kube.ts';
import { freePort, portInUse } from './base/probe.ts';
import { startDaemon, stopDaemon } from './base/proc.ts';

const ns = 'istio-system';
const selector = 'app=istiod';
const kubeconfigFile = path.join(stateDir, 'kubeconfig');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } };
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvVar[];
  resources?: { limits?: Record<string, string> };
}
interface Pod {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: { serviceAccountName?: string; containers: Container[] };
}
interface Secret {
  metadata: { name: string; resourceVersion: string };
  data?: Record<string, string>;
}
interface WebhookConfiguration {
  kind?: string;
  apiVersion?: string;
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  webhooks?: { name: string; clientConfig?: { url?: string } }[];
}
interface List<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

const log = (m: string): void => console.log(`${new Date().toISOString()} ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pods = new Map<string, Pod>();
/** What runs per revision. */
const running = new Map<string, { uid: string; name: string; child: ChildProcess }>();
const restarts = new Map<string, number>();
/** Each revision's webhook port, fixed for the watcher's life (webhook configurations may name it before its pod runs). */
const webhookPorts = new Map<string, number>([['default', defaultWebhookPort]]);
/** Pods whose image the lab has no binary for, reported once each. */
const refused = new Set<string>();
let shuttingDown = false;
const abort = new AbortController();

async function webhookPort(rev: string): Promise<number> {
  let port = webhookPorts.get(rev);
  if (port === undefined) {
    port = await freePort();
    webhookPorts.set(rev, port);
    log(`revision ${rev}: webhooks on 127.0.0.1:${port}`);
  }
  return port;
}

const discovery = (pod: Pod): Container => pod.spec.containers.find((x) => x.name === 'discovery') ?? pod.spec.containers[0];

function cpuCount(q: string | undefined): number {
  const cores = q === undefined ? os.cpus().length : q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
  return Math.max(1, Math.min(os.cpus().length, Math.ceil(cores)));
}

/** The container env as the kubelet would resolve it (fieldRef and the cpu resourceFieldRef), then the lab's overrides. */
function podEnv(pod: Pod, caDir: string): NodeJS.ProcessEnv {
  const c = discovery(pod);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    const f = v.valueFrom?.fieldRef?.fieldPath;
    if (f === 'metadata.name') env[v.name] = pod.metadata.name;
    else if (f === 'metadata.namespace') env[v.name] = ns;
    else if (f === 'spec.serviceAccountName') env[v.name] = pod.spec.serviceAccountName ?? 'default';
    if (v.valueFrom?.resourceFieldRef?.resource === 'limits.cpu') env[v.name] = String(cpuCount(c.resources?.limits?.cpu));
  }
  const custom = env.ISTIOD_CUSTOM_HOST ? `${env.ISTIOD_CUSTOM_HOST},` : '';
  return {
    ...env,
    KUBECONFIG: kubeconfigFile, // the pod's points into a remote-secret mount
    POD_NAMESPACE: ns,
    REVISION: env.REVISION ?? 'default',
    ISTIOD_CUSTOM_HOST: `${custom}localhost,127.0.0.1`, // SANs of the webhook serving cert: the apiserver calls 127.0.0.1
    ROOT_CA_DIR: caDir,
  };
}

async function writeCacerts(caDir: string): Promise<void> {
  const s = await getJson<Secret>(`/api/v1/namespaces/${ns}/secrets/cacerts`);
  mkdirSync(caDir, { recursive: true });
  if (!s?.data) {
    log('no cacerts Secret: istiod will use its self-signed CA (istio-ca-secret)');
    return;
  }
  for (const [k, v] of Object.entries(s.data)) writeFileSync(path.join(caDir, k), Buffer.from(v, 'base64'), { mode: 0o600 });
  log(`cacerts Secret (rv ${s.metadata.resourceVersion}) written to ${caDir}: ${Object.keys(s.data).sort().join(', ')}`);
}

const caDirOf = (rev: string): string => path.join(istiodWorkDir(rev), 'etc', 'cacerts');

async function startIstiod(rev: string, pod: Pod): Promise<void> {
  const c = discovery(pod);
  const choice = lineForImage(c.image);
  if ('error' in choice) {
    if (!refused.has(pod.metadata.uid))
      log(`ERROR pod ${pod.metadata.name} (revision ${rev}): ${choice.error}; not starting pilot-discovery for it`);
    refused.add(pod.metadata.uid);
    return;
  }
  const webhook = await webhookPort(rev);
  const name = daemonName(rev);
  if (await portInUse(webhook)) {
    log(`127.0.0.1:${webhook} is taken by another process: not starting ${name}`);
    return;
  }
  const workDir = istiodWorkDir(rev);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  await writeCacerts(caDirOf(rev));
  const ports = {
    http: await freePort(),
    grpc: await freePort(),
    secureGrpc: await freePort(),
    monitoring: await freePort(),
    ctrlz: await freePort(),
    webhook,
  };
  writeFileSync(path.join(workDir, 'ports.json'), `${JSON.stringify(ports)}\n`);
  const args = [
    ...(c.args ?? ['discovery']),
    `--kubeconfig=${kubeconfigFile}`,
    `--httpAddr=127.0.0.1:${ports.http}`,
    `--grpcAddr=127.0.0.1:${ports.grpc}`,
    `--secureGRPCAddr=127.0.0.1:${ports.secureGrpc}`,
    `--monitoringAddr=127.0.0.1:${ports.monitoring}`,
    `--httpsAddr=127.0.0.1:${ports.webhook}`,
    '--ctrlz_address=127.0.0.1',
    `--ctrlz_port=${ports.ctrlz}`,
  ];
  const binary = pilotBinary(choice.line);
  const s = startDaemon(name, binary, args, { env: podEnv(pod, caDirOf(rev)), cwd: workDir });
  const uid = pod.metadata.uid;
  running.set(rev, { uid, name: pod.metadata.name, child: s.child });
  log(
    `started ${name} (pid ${s.child.pid}, ${path.basename(binary)} ${choice.line.version}) for pod ${pod.metadata.name} ` +
      `(revision ${rev}); ports ${JSON.stringify(ports)}`,
  );
  void s.exited.then(async (why) => {
    const now = running.get(rev);
    if (now?.uid !== uid || now.child !== s.child) return; // stopped on purpose
    running.delete(rev);
    const n = (restarts.get(rev) ?? 0) + 1;
    restarts.set(rev, n);
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(n, 5));
    log(`${name} ended (${why}); restarting in ${delay / 1000}s (restart ${n}), as the kubelet would`);
    await sleep(delay);
    enqueue();
  });
}

async function stopIstiod(rev: string, reason: string): Promise<void> {
  const now = running.get(rev);
  if (!now) return;
  running.delete(rev);
  const r = await stopDaemon(daemonName(rev), 15_000);
  log(`stopped ${daemonName(rev)} of pod ${now.name} (${reason}): ${r}`);
}

async function reconcile(): Promise<void> {
  if (shuttingDown) return;
  const live = [...pods.values()]
    .filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
  for (const [rev, now] of [...running]) {
    const p = pods.get(now.uid);
    if (!p || p.metadata.deletionTimestamp) {
      await stopIstiod(rev, p ? 'pod terminating' : 'pod gone');
      restarts.delete(rev);
    }
  }
  const revisions = [...new Set(live.map((p) => revisionOf(p.metadata.labels)))];
  for (const rev of revisions) {
    const first = live.find((p) => revisionOf(p.metadata.labels) === rev);
    if (!running.has(rev) && first) await startIstiod(rev, first);
  }
}

let queue: Promise<void> = Promise.resolve();
function enqueue(): void {
  queue = queue.then(reconcile).catch((e: unknown) => log(`reconcile: ${(e as Error).message}`));
}

/**
 * Points a webhook configuration labelled `istio.io/rev=<rev>` at that revision's istiod (an update with the
 * resourceVersion read: a conflict means a newer version is on its way through the watch).
 */
async function routeWebhooks(kind: 'mutating' | 'validating', config: WebhookConfiguration): Promise<void> {
  const rev = revisionOf(config.metadata.labels);
  const changed = withWebhookPort(config, await webhookPort(rev));
  if (!changed) return;
  const resource = `${kind}webhookconfigurations`;
  const r = await request('PUT', `/apis/admissionregistration.k8s.io/v1/${resource}/${config.metadata.name}`, {
    ...changed,
    kind: `${kind === 'mutating' ? 'Mutating' : 'Validating'}WebhookConfiguration`,
    apiVersion: 'admissionregistration.k8s.io/v1',
  });
  if (r.status === 200) log(`${resource}/${config.metadata.name} -> revision ${rev} (127.0.0.1:${await webhookPort(rev)})`);
  else if (r.status !== 409 && r.status !== 404)
    log(`${resource}/${config.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
}

/** List, then watch from the list's resourceVersion; on any end or error, list again (bounded backoff). */
async function informer<T extends { metadata: { resourceVersion: string } }>(
  what: string,
  listPath: string,
  onList: (items: T[]) => void,
  onEvent: (e: WatchEvent<T>) => void,
): Promise<void> {
  let backoff = 500;
  while (!abort.signal.aborted) {
    try {
      const list = await getJson<List<T>>(listPath);
      if (!list) throw new Error(`${listPath}: 404`);
      onList(list.items);
      backoff = 500;
      const sep = listPath.includes('?') ? '&' : '?';
      log(`watching ${what} from rv ${list.metadata.resourceVersion}`);
      await watch<T>(`${listPath}${sep}resourceVersion=${list.metadata.resourceVersion}`, onEvent, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) break;
      log(`${what}: ${(e as Error).message}; retrying in ${backoff}ms`);
      await sleep(backoff);
      backoff = Math.min(5000, backoff * 2);
    }
  }
}

async function shutdown(sig: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${sig}: stopping`);
  abort.abort();
  await queue;
  await Promise.all([...running.keys()].map((rev) => stopIstiod(rev, 'lab stopping')));
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const podPath = `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`;
void informer<Pod>(
  'pods app=istiod',
  podPath,
  (items) => {
    pods.clear();
    for (const p of items) pods.set(p.metadata.uid, p);
    enqueue();
  },
  (e) => {
    if (e.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(e.object)}`);
    if (e.type === 'BOOKMARK') return;
    if (e.type === 'DELETED') pods.delete(e.object.metadata.uid);
    else pods.set(e.object.metadata.uid, e.object);
    enqueue();
  },
);

// Like a Secret volume, the files follow the Secret while istiod runs (istiod watches them for rotation).
void informer<Secret>(
  'secret cacerts',
  `/api/v1/namespaces/${ns}/secrets?fieldSelector=${encodeURIComponent('metadata.name=cacerts')}`,
  () => undefined,
  (e) => {
    if (e.type === 'ADDED' || e.type === 'MODIFIED')
      for (const rev of running.keys())
        queue = queue.then(() => writeCacerts(caDirOf(rev))).catch((err: unknown) => log(`cacerts: ${(err as Error).message}`));
  },
);

// Each revision's webhook configurations (injector, validator, revision tags: all labelled istio.io/rev) call its istiod.
for (const kind of ['mutating', 'validating'] as const) {
  const route = (c: WebhookConfiguration): void => {
    queue = queue.then(() => routeWebhooks(kind, c)).catch((err: unknown) => log(`webhooks: ${(err as Error).message}`));
  };
  void informer<WebhookConfiguration>(
    `${kind} webhooks istio.io/rev`,
    `/apis/admissionregistration.k8s.io/v1/${kind}webhookconfigurations?labelSelector=${encodeURIComponent('istio.io/rev')}`,
    (items) => items.forEach(route),
    (e) => {
      if (e.type === 'ADDED' || e.type === 'MODIFIED') route(e.object);
    },
  );
}
