// How an app's pods join the mesh. The tutorial's way: a sidecar injected into each pod, chosen by the namespace's
// injection label. A chapter that deploys an app into the mesh takes its mode as a parameter, so the same steps can
// serve another mode (istio.io's ambient track: no sidecar, ztunnel on each node carries the traffic).
import { type MeshModeName, names } from '../../config.ts';
import { labelOf } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import { hasSidecar, type Pod, readiness } from '../kube/pods.ts';

export interface MeshMode {
  name: MeshModeName;
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
  /** What an install of the other mode takes from this mode's apps (why a switch under them is refused). */
  switchBreaks: string;
}

export const sidecarMode: MeshMode = {
  name: 'sidecar',
  joined: 'with sidecar injection',
  namespaceLabels: { [names.injection.namespaceLabel]: 'enabled' },
  ready: 'READY 2/2',
  readyWhy: 'the app and its sidecar',
  podReady: (p) => hasSidecar(p) && readiness(p).ready === 2 && readiness(p).total === 2,
  wanted: `READY 2/2 with ${names.sidecarContainer}`,
  switchBreaks: 'the ambient profile has no ingress gateway, which the sidecar track reaches them through',
};

/** istio.io's ambient track: the namespace label enrols running pods as they are; ztunnel on the node carries them. */
export const ambientMode: MeshMode = {
  name: 'ambient',
  joined: 'in ambient mode',
  namespaceLabels: { [names.ambient.dataplaneLabel]: 'ambient' },
  ready: 'READY 1/1',
  readyWhy: 'no sidecar: ztunnel on the node carries the traffic',
  podReady: (p) => !hasSidecar(p) && readiness(p).total > 0 && readiness(p).ready === readiness(p).total,
  wanted: `all containers ready, without ${names.sidecarContainer}`,
  switchBreaks: 'the demo profile has no ztunnel, which carries their traffic',
};

export const meshModes: Record<MeshModeName, MeshMode> = { sidecar: sidecarMode, ambient: ambientMode };

/** Whether a namespace carries the labels that put its pods in `mode`'s mesh. */
export const joins = (mode: MeshMode, namespace: K8sObject | undefined): boolean =>
  Object.entries(mode.namespaceLabels).every(([key, value]) => labelOf(namespace, key) === value);

/** The mode that is not `name`. */
export const otherMode = (name: MeshModeName): MeshMode => (name === 'sidecar' ? ambientMode : sidecarMode);

/**
 * Why Istio may not be installed in `mode` now: namespaces in the other mode's mesh, whose pods such an install would
 * cut off. Undefined when there are none.
 */
export function switchRefusal(mode: MeshModeName, namespaces: K8sObject[]): string | undefined {
  const other = otherMode(mode);
  const theirs = namespaces.filter((n) => joins(other, n)).map((n) => n.metadata?.name);
  if (!theirs.length) return undefined;
  return `namespace ${theirs.join(', ')} ${theirs.length > 1 ? 'are' : 'is'} on the ${other.name} track, and ${other.switchBreaks}: run \`npm run teardown\` first, or keep ISTIO_MODE=${other.name}`;
}
