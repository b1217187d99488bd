// What the lab's istiod serves a pod's proxy, through lab/go/xds-dump (the lab has no Envoy and no ztunnel to ask): as
// its sidecar or, for a waypoint's pod, as the waypoint (CDS, LDS, RDS), or as the node's ztunnel (the workload API).
// Usage: node --import tsx lab/xds/xds.ts <namespace> <pod> [sidecar|waypoint|ztunnel]   (prints the dump as JSON)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMain } from '../../tasks/lib/cli/main.ts';
import { bin, ISTIO_LAB_VERSION, stateDir } from '../base/common.ts';
import { request } from '../base/kube.ts';

/** Envoy resources as JSON (protojson: camelCase fields, typed configs with their `@type`). */
// biome-ignore lint/suspicious/noExplicitAny: Envoy's configuration is deep and varied; tests walk it by path.
export type Resource = Record<string, any>;
export interface XdsDump {
  clusters: Resource[];
  listeners: Resource[];
  routes: Resource[];
}

/** What istiod serves ztunnel (delta xDS): `istio.workload.Address` (workloads and services) and `istio.security.Authorization`. */
export interface WorkloadDump {
  addresses: Resource[];
  authorizations: Resource[];
}

/** The Envoy roles the dump connects as: the node type of the id, as pilot-agent's `proxy sidecar|waypoint` sends it. */
export type EnvoyRole = 'sidecar' | 'waypoint';

export interface PodIdentity {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  /** spec.nodeName (ztunnel reports its node). */
  node?: string;
}

/** The plaintext xDS address of the pilot-discovery the istiod watcher runs. */
function xdsAddress(): string {
  const ports = JSON.parse(readFileSync(path.join(stateDir, 'istiod', 'ports.json'), 'utf8')) as { grpc: number };
  return `127.0.0.1:${ports.grpc}`;
}

function dump(pod: PodIdentity, as: EnvoyRole | 'ztunnel'): unknown {
  const args = [
    `-addr=${xdsAddress()}`,
    `-as=${as}`,
    `-namespace=${pod.namespace}`,
    `-pod=${pod.name}`,
    `-ip=${pod.ip}`,
    `-node-name=${pod.node ?? ''}`,
    `-labels=${JSON.stringify(pod.labels)}`,
    `-istio-version=${ISTIO_LAB_VERSION}`,
  ];
  const r = spawnSync(bin('istio-xds-dump'), args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`xds-dump -as=${as} ${pod.namespace}/${pod.name}: ${r.stderr.trim() || r.error?.message}`);
  return JSON.parse(r.stdout);
}

/**
 * Connects as `pod`'s sidecar, or as the waypoint whose pod it is (node type `waypoint`: what the waypoint's
 * `pilot-agent proxy waypoint` sends; its labels say which Gateway), and returns what istiod serves it. A waypoint's
 * HTTP routes are inline in its listeners (`main_internal`), not in `routes` (RDS).
 */
export const xdsDump = (pod: PodIdentity, as: EnvoyRole = 'sidecar'): XdsDump => dump(pod, as) as XdsDump;

/** Connects as ztunnel (its pod in istio-system, see `ztunnelPod`) and returns the workload API istiod serves it. */
export const ztunnelDump = (ztunnel: PodIdentity): WorkloadDump => dump(ztunnel, 'ztunnel') as WorkloadDump;

/** A live pod's identity, read from the lab's API server. */
export async function podIdentity(namespace: string, name: string): Promise<PodIdentity> {
  const r = await request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  if (r.status !== 200) throw new Error(`pod ${namespace}/${name}: HTTP ${r.status}`);
  const pod = JSON.parse(r.body) as {
    metadata: { labels?: Record<string, string> };
    spec: { nodeName?: string };
    status: { podIP?: string };
  };
  if (!pod.status.podIP) throw new Error(`pod ${namespace}/${name} has no IP yet`);
  return { namespace, name, ip: pod.status.podIP, labels: pod.metadata.labels ?? {}, node: pod.spec.nodeName };
}

/** The live pod of `selector` in `namespace` (one, running, not being deleted): the ztunnel is `istio-system`, `app=ztunnel`. */
export async function podOf(namespace: string, selector: string): Promise<PodIdentity> {
  const r = await request('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  if (r.status !== 200) throw new Error(`pods ${namespace} ${selector}: HTTP ${r.status}`);
  const pods = (
    JSON.parse(r.body) as { items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase?: string } }[] }
  ).items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
  if (pods.length !== 1) throw new Error(`${pods.length} running pods ${namespace} ${selector}, want one`);
  return podIdentity(namespace, pods[0].metadata.name);
}

export const ztunnelPod = (): Promise<PodIdentity> => podOf('istio-system', 'app=ztunnel');

/** The HTTP connection managers of every listener (where tracing, routes and filters live). */
export function connectionManagers(listeners: Resource[]): { listener: string; hcm: Resource }[] {
  return listeners.flatMap((l) =>
    [...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])].flatMap((c: Resource) =>
      (c.filters ?? [])
        .filter((f: Resource) => f.typedConfig?.['@type']?.endsWith('HttpConnectionManager'))
        .map((f: Resource) => ({ listener: l.name as string, hcm: f.typedConfig as Resource })),
    ),
  );
}

if (isMain(import.meta.url)) {
  const [namespace, name, as = 'sidecar'] = process.argv.slice(2);
  if (!namespace || !name || !['sidecar', 'waypoint', 'ztunnel'].includes(as)) {
    console.error('usage: node --import tsx lab/xds/xds.ts <namespace> <pod> [sidecar|waypoint|ztunnel]');
    process.exit(2);
  }
  podIdentity(namespace, name).then(
    (pod) => console.log(JSON.stringify(dump(pod, as as EnvoyRole | 'ztunnel'), null, 2)),
    (e: unknown) => {
      console.error(`[lab xds] ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
