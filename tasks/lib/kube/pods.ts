// Reading pods the way the tutorial reads `kubectl get pod`: which containers, READY n/m, a sidecar or not.
import { names } from '../../config.ts';

interface Container {
  name: string;
  restartPolicy?: string;
}
interface Status {
  name: string;
  ready?: boolean;
}
export interface Pod {
  metadata: {
    name: string;
    uid?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: { containers: Container[]; initContainers?: Container[] };
  status?: { phase?: string; containerStatuses?: Status[]; initContainerStatuses?: Status[] };
}

/** Native sidecars (Kubernetes >= 1.29, used by Istio when kubelet >= 1.33) are init containers that keep running. */
const sidecarInits = (pod: Pod) => (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');

export function hasSidecar(pod: Pod): boolean {
  return [...pod.spec.containers, ...sidecarInits(pod)].some((c) => c.name === names.sidecarContainer);
}

/** READY as kubectl prints it: running containers plus native sidecars. */
export function readiness(pod: Pod): { ready: number; total: number } {
  const inits = new Set(sidecarInits(pod).map((c) => c.name));
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []).filter((s) => inits.has(s.name)),
  ];
  return { ready: statuses.filter((s) => s.ready).length, total: pod.spec.containers.length + inits.size };
}

export function describePod(pod: Pod): string {
  const { ready, total } = readiness(pod);
  const sidecar = hasSidecar(pod) ? `with ${names.sidecarContainer}` : 'no sidecar';
  return `${pod.metadata.name} ${ready}/${total} ${sidecar}`;
}

/** The pods that are not on their way out. */
export const livePods = <P extends Pod>(pods: P[]): P[] => pods.filter((p) => !p.metadata.deletionTimestamp);
