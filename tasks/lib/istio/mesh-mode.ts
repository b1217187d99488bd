// How an app's pods join the mesh. The tutorial's way: a sidecar injected into each pod, chosen by the namespace's
// injection label. A chapter that deploys an app into the mesh takes its mode as a parameter, so the same steps can
// serve another mode (istio.io's ambient track: no sidecar, ztunnel on each node carries the traffic).
import { names } from '../../config.ts';
import { hasSidecar, type Pod, readiness } from '../kube/pods.ts';

export interface MeshMode {
  /** How a step's title says it, after the namespace: "with sidecar injection". */
  joined: string;
  /** The labels that put a namespace's pods in the mesh. */
  namespaceLabels: Record<string, string>;
  /** What each of its pods shows once it is ready, and why: "READY 2/2", "the app and its sidecar". */
  ready: string;
  readyWhy: string;
  /** Whether a pod is ready as the mode wants it. */
  podReady: (pod: Pod) => boolean;
  /** What every pod lacked, for the error: "READY 2/2 with istio-proxy". */
  wanted: string;
}

export const sidecarMode: MeshMode = {
  joined: 'with sidecar injection',
  namespaceLabels: { [names.injection.namespaceLabel]: 'enabled' },
  ready: 'READY 2/2',
  readyWhy: 'the app and its sidecar',
  podReady: (p) => hasSidecar(p) && readiness(p).ready === 2 && readiness(p).total === 2,
  wanted: `READY 2/2 with ${names.sidecarContainer}`,
};

/** istio.io's ambient track: the namespace label enrols running pods as they are; ztunnel on the node carries them. */
export const ambientMode: MeshMode = {
  joined: 'in ambient mode',
  namespaceLabels: { [names.ambient.dataplaneLabel]: 'ambient' },
  ready: 'READY 1/1',
  readyWhy: 'no sidecar: ztunnel on the node carries the traffic',
  podReady: (p) => !hasSidecar(p) && readiness(p).total > 0 && readiness(p).ready === readiness(p).total,
  wanted: `all containers ready, without ${names.sidecarContainer}`,
};
