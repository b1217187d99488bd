// Whether the cluster runs containers at all. The test lab is a control plane whose kwok nodes mark pods Ready
// without running them: there no request can be sent, and a step that would judge responses says so instead.
import { field } from './kube.ts';
import type { Ctx } from './types.ts';

/** True when every node is kwok's (a control plane without a data plane). */
export async function noDataPlane(ctx: Ctx): Promise<boolean> {
  const runtimes = await field(ctx, { kind: 'nodes' }, '{.items[*].status.nodeInfo.containerRuntimeVersion}');
  return runtimes !== '' && runtimes.split(' ').every((r) => r.startsWith('kwok'));
}

/** The title suffix of a step that could not look because nothing runs. */
export const notHere = 'not here: this cluster runs no containers, so no request was sent';
