// What the cluster's nodes are: where URLs built for this machine point, and whether they run containers at all.
// The test lab is a control plane whose kwok nodes mark pods Ready without running them: there no request can be
// sent, and a step that would judge responses says so instead. One read of the nodes answers both.

import type { Ctx, TaskHandle } from '../run/types.ts';
import { listObjects } from './kube.ts';
import type { K8sObject } from './manifests.ts';
import { cpus, mebibytes } from './quantities.ts';

interface NodeStatus {
  addresses?: { type?: string; address?: string }[];
  nodeInfo?: { containerRuntimeVersion?: string };
  allocatable?: { cpu?: string; memory?: string };
}
const statusOf = (node: K8sObject) => (node.status ?? {}) as NodeStatus;

/** True when every node is kwok's (a control plane without a data plane): its pods and Jobs only seem to run. */
export async function noDataPlane(ctx: Ctx): Promise<boolean> {
  const nodes = await listObjects(ctx, { kind: 'nodes' });
  const runtimes = nodes.map((n) => statusOf(n).nodeInfo?.containerRuntimeVersion ?? '');
  return runtimes.length > 0 && runtimes.every((r) => r.startsWith('kwok'));
}

/** What a step that could not look says, because nothing runs. */
export const notHere = "not here: this cluster's nodes run no containers, so no request was sent";

/**
 * For a step that would judge responses: true where nothing runs, after saying so in the log and marking the step
 * skipped (never drawn as checked).
 */
export async function cannotLookHere(ctx: Ctx, task: TaskHandle): Promise<boolean> {
  if (!(await noDataPlane(ctx))) return false;
  ctx.sh.note(`no data plane (kwok nodes): ${notHere}`);
  task.skip(notHere);
  return true;
}

/** minikube's node IP (`minikube ip`), or the first node's InternalIP on an existing cluster. */
export async function nodeAddress(ctx: Ctx): Promise<string> {
  if (ctx.config.cluster.kind === 'minikube')
    return (await ctx.sh.minikube(['ip'], { read: true, query: { op: 'node-ip' } })).stdout.trim();
  const [first] = await listObjects(ctx, { kind: 'nodes' });
  return (first && statusOf(first).addresses?.find((a) => a.type === 'InternalIP')?.address) ?? '';
}

/** What the nodes offer pods altogether: CPUs and MiB of memory (their allocatable resources). */
export async function nodesRoom(ctx: Ctx): Promise<{ nodes: number; cpus: number; memoryMiB: number }> {
  const nodes = await listObjects(ctx, { kind: 'nodes' });
  const sum = (f: (n: K8sObject) => number) => nodes.reduce((total, n) => total + (f(n) || 0), 0);
  return {
    nodes: nodes.length,
    cpus: sum((n) => cpus(statusOf(n).allocatable?.cpu ?? '')),
    memoryMiB: sum((n) => mebibytes(statusOf(n).allocatable?.memory ?? '')),
  };
}
