// The address of the cluster's node, as URLs built for this machine use it.
import { field } from './kube.ts';
import type { Ctx } from './types.ts';

/** minikube's node IP (`minikube ip`), or the first node's InternalIP on an existing cluster. */
export async function nodeAddress(ctx: Ctx): Promise<string> {
  if (ctx.config.cluster.kind === 'minikube') return (await ctx.sh.minikube(['ip'], { read: true })).stdout.trim();
  return field(ctx, { kind: 'nodes' }, '{.items[0].status.addresses[?(@.type=="InternalIP")].address}');
}
