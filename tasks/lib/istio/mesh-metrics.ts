// Whether the installed mesh makes its proxies report Istio's standard metrics to Prometheus. A mesh installed with
// `values.telemetry.enabled=false` (or one whose proxies lack Istio's stats filter) has none: istio_requests_total can
// never count there, and a proof that waits for it says so instead of timing out.
import { load } from 'js-yaml';
import { names } from '../../config.ts';
import { field, inNamespace, listObjects } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';
import { meshConfigRef } from './tracing.ts';

const provider = 'prometheus';

interface MeshConfig {
  defaultProviders?: { metrics?: string[] };
}
interface TelemetrySpec {
  selector?: unknown;
  targetRefs?: unknown[];
  targetRef?: unknown;
  metrics?: { providers?: { name?: string }[]; overrides?: { disabled?: boolean }[] }[];
}

/** The mesh's default metrics providers, from the `mesh` key of the `istio` ConfigMap (empty when it names none). */
export function defaultMetricsProviders(meshText: string | undefined): string[] {
  if (!meshText) return [];
  const mesh = (load(meshText) ?? {}) as MeshConfig;
  return mesh.defaultProviders?.metrics ?? [];
}

/**
 * A mesh-wide Telemetry (in the root namespace, selecting no workload) that turns the provider on: one that names it
 * only to disable it, or only for some workloads, does not.
 */
function telemetryEnables(t: K8sObject): boolean {
  const spec = (t.spec ?? {}) as TelemetrySpec;
  if (spec.selector || spec.targetRef || spec.targetRefs?.length) return false;
  return (
    spec.metrics?.some((m) => m.providers?.some((p) => p.name === provider) && !m.overrides?.every((o) => o.disabled === true)) ??
    false
  );
}

/** Pure judgement: the mesh config's defaults, or a root-namespace Telemetry, name the Prometheus provider. */
export function reportsMetrics(meshText: string | undefined, rootTelemetries: K8sObject[]): boolean {
  return defaultMetricsProviders(meshText).includes(provider) || rootTelemetries.some(telemetryEnables);
}

/** What a proof says where the mesh reports no metrics. */
export const metricsOff = `not in this mesh: its proxies report no Istio metrics (meshConfig.defaultProviders.metrics names no ${provider}, and no Telemetry in ${names.istioNamespace} turns it on), so istio_requests_total cannot count`;

/** The mesh config (the same read the tracing steps make) and the root namespace's Telemetries, judged. */
export async function meshReportsMetrics(ctx: Ctx): Promise<boolean> {
  const mesh = await field(ctx, meshConfigRef, '{.data.mesh}');
  const telemetries = await listObjects(ctx, inNamespace(names.istioNamespace, 'telemetries'));
  return reportsMetrics(mesh, telemetries);
}
