// Tracing, as istio.io's "Zipkin" and "Telemetry API" tasks set it up: a zipkin extension provider in the mesh
// config (at install) and a mesh-wide Telemetry that selects it, with the configured sampling. Since Istio 1.22
// nothing traces without them.
import { load } from 'js-yaml';
import { type Config, names } from '../../config.ts';
import { field, getObject, inNamespace, ourLabels } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';

const { provider, service, port, telemetry } = names.tracing;
export const telemetryRef = inNamespace(names.istioNamespace, 'telemetry', telemetry);
/** The mesh config's ConfigMap (its `mesh` key): what the install set, read by tracing and the metrics check. */
export const meshConfigRef = inNamespace(names.istioNamespace, 'configmap', names.meshConfigMap);

/** `istioctl install` flags that add the provider (none when tracing is off). */
export function providerFlags(config: Pick<Config, 'tracing'>): string[] {
  if (config.tracing.to === 'off') return [];
  const p = 'meshConfig.extensionProviders[0]';
  return [
    ['meshConfig.enableTracing', 'true'],
    [`${p}.name`, provider],
    [`${p}.zipkin.service`, service],
    [`${p}.zipkin.port`, String(port)],
  ].flatMap(([k, v]) => ['--set', `${k}=${v}`]);
}

interface MeshConfig {
  extensionProviders?: { name?: string; zipkin?: { service?: string; port?: number } }[];
}

/** Whether the installed mesh config (ConfigMap `istio`) has the provider pointing at the Zipkin Service. */
export async function meshHasProvider(ctx: Ctx): Promise<boolean> {
  const mesh = await field(ctx, meshConfigRef, '{.data.mesh}');
  const parsed = (mesh ? load(mesh) : undefined) as MeshConfig | undefined;
  return (parsed?.extensionProviders ?? []).some(
    (p) => p.name === provider && p.zipkin?.service === service && Number(p.zipkin?.port) === port,
  );
}

/** The mesh-wide Telemetry: traces to the provider, `sampling` percent of requests. */
export function telemetryObject(sampling: number): K8sObject {
  return {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: { name: telemetry, namespace: names.istioNamespace, labels: ourLabels() },
    spec: { tracing: [{ providers: [{ name: provider }], randomSamplingPercentage: sampling }] },
  };
}

/** The applied Telemetry's provider and sampling, as `zipkin 100` ('' when there is none). */
export async function telemetryState(ctx: Ctx): Promise<string> {
  const o = await getObject(ctx, telemetryRef);
  if (!o) return '';
  type Tracing = { providers?: { name?: string }[]; randomSamplingPercentage?: number };
  const tracing = (o.spec as { tracing?: Tracing[] } | undefined)?.tracing?.[0];
  return `${tracing?.providers?.[0]?.name ?? ''} ${tracing?.randomSamplingPercentage ?? ''}`;
}
