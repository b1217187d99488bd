// What the lab's istiod serves a pod's sidecar, through lab/go/xds-dump (the lab has no Envoy to ask).
// Usage: node --import tsx lab/xds/xds.ts <namespace> <pod>   (prints the clusters, listeners and routes as JSON)
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

export interface PodIdentity {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
}

/** The plaintext xDS address of the pilot-discovery the istiod watcher runs. */
function xdsAddress(): string {
  const ports = JSON.parse(readFileSync(path.join(stateDir, 'istiod', 'ports.json'), 'utf8')) as { grpc: number };
  return `127.0.0.1:${ports.grpc}`;
}

/** Connects as `pod`'s sidecar and returns what istiod serves it. */
export function xdsDump(pod: PodIdentity): XdsDump {
  const args = [
    `-addr=${xdsAddress()}`,
    `-namespace=${pod.namespace}`,
    `-pod=${pod.name}`,
    `-ip=${pod.ip}`,
    `-labels=${JSON.stringify(pod.labels)}`,
    `-istio-version=${ISTIO_LAB_VERSION}`,
  ];
  const r = spawnSync(bin('istio-xds-dump'), args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`xds-dump ${pod.namespace}/${pod.name}: ${r.stderr.trim() || r.error?.message}`);
  return JSON.parse(r.stdout) as XdsDump;
}

/** A live pod's identity, read from the lab's API server. */
export async function podIdentity(namespace: string, name: string): Promise<PodIdentity> {
  const r = await request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  if (r.status !== 200) throw new Error(`pod ${namespace}/${name}: HTTP ${r.status}`);
  const pod = JSON.parse(r.body) as { metadata: { labels?: Record<string, string> }; status: { podIP?: string } };
  if (!pod.status.podIP) throw new Error(`pod ${namespace}/${name} has no IP yet`);
  return { namespace, name, ip: pod.status.podIP, labels: pod.metadata.labels ?? {} };
}

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
  const [namespace, name] = process.argv.slice(2);
  if (!namespace || !name) {
    console.error('usage: node --import tsx lab/xds/xds.ts <namespace> <pod>');
    process.exit(2);
  }
  podIdentity(namespace, name).then(
    (pod) => console.log(JSON.stringify(xdsDump(pod), null, 2)),
    (e: unknown) => {
      console.error(`[lab xds] ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
