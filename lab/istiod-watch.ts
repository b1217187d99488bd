// Started by lab:up, stopped by lab:down. Plays the kubelet for istiod's pod: while a live pod labelled app=istiod exists in
// istio-system (kwok makes it Ready without a container), the real pilot-discovery runs here as a local process, with the
// env and args of the pod's `discovery` container, listening on 127.0.0.1 only (webhooks on 127.0.0.1:15017), and the
// cacerts Secret written to its ROOT_CA_DIR the way the pod's volume would be. Deleting the pod stops it; a new pod restarts it.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, stateDir } from './base/common.ts';
import { getJson, type WatchEvent, watch } from './base/kube.ts';
import { freePort, portInUse } from './base/probe.ts';
import { startDaemon, stopDaemon } from './base/proc.ts';

const ns = 'istio-system';
const selector = 'app=istiod';
const webhookPort = 15017;
const workDir = path.join(stateDir, 'istiod');
const caDir = path.join(workDir, 'etc', 'cacerts');
const kubeconfigFile = path.join(stateDir, 'kubeconfig');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; resourceFieldRef?: { resource: string } };
}
interface Pod {
  metadata: { name: string; uid: string; resourceVersion: string; creationTimestamp: string; deletionTimestamp?: string };
  spec: {
    serviceAccountName?: string;
    containers: { name: string; args?: string[]; env?: EnvVar[]; resources?: { limits?: Record<string, string> } }[];
  };
}
interface Secret {
  metadata: { name: string; resourceVersion: string };
  data?: Record<string, string>;
}
interface List<T> {
  metadata: { resourceVersion: string };
  items: T[];
}

const log = (m: string): void => console.log(`${new Date().toISOString()} ${m}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const pods = new Map<string, Pod>();
let current: { uid: string; name: string; child: ChildProcess } | undefined;
let restarts = 0;
let shuttingDown = false;
const abort = new AbortController();

function cpuCount(q: string | undefined): number {
  const cores = q === undefined ? os.cpus().length : q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
  return Math.max(1, Math.min(os.cpus().length, Math.ceil(cores)));
}

/** The container env as the kubelet would resolve it (fieldRef and the cpu resourceFieldRef), then the lab's overrides. */
function podEnv(pod: Pod): NodeJS.ProcessEnv {
  const c = pod.spec.containers.find((x) => x.name === 'discovery') ?? pod.spec.containers[0];
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

async function writeCacerts(): Promise<void> {
  const s = await getJson<Secret>(`/api/v1/namespaces/${ns}/secrets/cacerts`);
  mkdirSync(caDir, { recursive: true });
  if (!s?.data) {
    log('no cacerts Secret: istiod will use its self-signed CA (istio-ca-secret)');
    return;
  }
  for (const [k, v] of Object.entries(s.data)) writeFileSync(path.join(caDir, k), Buffer.from(v, 'base64'), { mode: 0o600 });
  log(`cacerts Secret (rv ${s.metadata.resourceVersion}) written to ${caDir}: ${Object.keys(s.data).sort().join(', ')}`);
}

async function startIstiod(pod: Pod): Promise<void> {
  if (await portInUse(webhookPort)) {
    log(`127.0.0.1:${webhookPort} is taken by another process: not starting pilot-discovery`);
    return;
  }
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  await writeCacerts();
  const ports = {
    http: await freePort(),
    grpc: await freePort(),
    secureGrpc: await freePort(),
    monitoring: await freePort(),
    ctrlz: await freePort(),
    webhook: webhookPort,
  };
  writeFileSync(path.join(workDir, 'ports.json'), `${JSON.stringify(ports)}\n`);
  const c = pod.spec.containers.find((x) => x.name === 'discovery') ?? pod.spec.containers[0];
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
  const s = startDaemon('pilot-discovery', bin('pilot-discovery'), args, { env: podEnv(pod), cwd: workDir });
  const uid = pod.metadata.uid;
  current = { uid, name: pod.metadata.name, child: s.child };
  log(`started pilot-discovery (pid ${s.child.pid}) for pod ${pod.metadata.name}; ports ${JSON.stringify(ports)}`);
  void s.exited.then(async (why) => {
    if (current?.uid !== uid || current.child !== s.child) return; // stopped on purpose
    current = undefined;
    restarts++;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(restarts, 5));
    log(`pilot-discovery ended (${why}); restarting in ${delay / 1000}s (restart ${restarts}), as the kubelet would`);
    await sleep(delay);
    enqueue();
  });
}

async function stopIstiod(reason: string): Promise<void> {
  if (!current) return;
  const { name } = current;
  current = undefined;
  const r = await stopDaemon('pilot-discovery', 15_000);
  log(`stopped pilot-discovery of pod ${name} (${reason}): ${r}`);
}

async function reconcile(): Promise<void> {
  if (shuttingDown) return;
  const live = [...pods.values()]
    .filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
  if (current) {
    const p = pods.get(current.uid);
    if (!p || p.metadata.deletionTimestamp) {
      await stopIstiod(p ? 'pod terminating' : 'pod gone');
      restarts = 0;
    }
  }
  if (!current && live.length) await startIstiod(live[0]);
}

let queue: Promise<void> = Promise.resolve();
function enqueue(): void {
  queue = queue.then(reconcile).catch((e: unknown) => log(`reconcile: ${(e as Error).message}`));
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
  await stopIstiod('lab stopping');
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
    if (current && (e.type === 'ADDED' || e.type === 'MODIFIED'))
      queue = queue.then(writeCacerts).catch((err: unknown) => log(`cacerts: ${(err as Error).message}`));
  },
);
