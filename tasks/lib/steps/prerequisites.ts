// What a chapter run alone needs first, checked before it changes anything, with the command that provides it.
import { names } from '../../config.ts';
import { namespace as bookinfoNamespace, bookinfoRunning } from '../apps/bookinfo.ts';
import { StepError } from '../base/errors.ts';
import { failureReason } from '../exec/failure.ts';
import { kubectlVersions } from '../exec/tool-output.ts';
import { daemonSetsReadyPath, dataplaneModePath, gatewayApiCrdPath, notReadyDaemonSets, programmedPath } from '../kube/fields.ts';
import { field, inNamespace, namespaceRef, type ObjectRef } from '../kube/kube.ts';
import { apiServerVersion } from '../kube/tool-versions.ts';
import { step } from '../run/step.ts';
import type { Ctx } from '../run/types.ts';

const provider = (ctx: Ctx): string =>
  ctx.config.cluster.kind === 'minikube' ? 'run `npm run minikube` first' : 'check KUBE_CONTEXT and KUBECONFIG';

/** The Kubernetes version the context's API server reports, or why it did not answer. */
export async function serverVersion(ctx: Ctx): Promise<{ server: string } | { why: string }> {
  const r = await apiServerVersion(ctx.sh, '20s', { allowFailure: true, read: true });
  const { server } = kubectlVersions(r.stdout);
  if (r.exitCode === 0 && server) return { server };
  return { why: failureReason('kubectl', r.stderr).reason ?? 'no answer' };
}

/** The Kubernetes version of a reachable cluster; otherwise a failure that says which command provides one. */
export async function requireCluster(ctx: Ctx): Promise<string> {
  const v = await serverVersion(ctx);
  if ('why' in v) throw new StepError(`context ${ctx.config.context} is not reachable: ${v.why}`, provider(ctx));
  return v.server;
}

export const clusterReachable = step('Check the cluster is reachable', {
  run: async (ctx, task) => {
    task.output = `Kubernetes ${await requireCluster(ctx)}`;
  },
});

export const istioRunning = step('Check Istio runs (istiod ready)', {
  run: async (ctx, task) => {
    const ready = await field(ctx, inNamespace(names.istioNamespace, 'deployment', names.istiod), '{.status.readyReplicas}');
    if (!(Number(ready) >= 1))
      throw new StepError(
        `istiod is not ready in ${names.istioNamespace} (context ${ctx.config.context})`,
        'run `npm run install-istio` first',
      );
    task.output = `istiod: ${ready} ready`;
  },
});

const ambientInstall = 'run `ISTIO_MODE=ambient npm run install-istio` first';

/** The ambient profile's node agents: ztunnel (the data plane) and the CNI agent that redirects pods' traffic to it. */
export const ambientAgents = [names.ambient.ztunnel, names.ambient.cniAgent].map((n) =>
  inNamespace(names.istioNamespace, 'daemonset', n),
);

/** The agents not ready on every node they want, in one read; `answer` is what the read said. */
export async function agentsNotReady(ctx: Ctx): Promise<{ notReady: ObjectRef[]; answer: string }> {
  const answer = await field(ctx, ambientAgents, daemonSetsReadyPath);
  const unready = notReadyDaemonSets(
    answer,
    ambientAgents.map((a) => a.name ?? ''),
  );
  return { notReady: ambientAgents.filter((a) => unready.includes(a.name ?? '')), answer: answer.trim() };
}

export const ambientRunning = step('Check the ambient data plane runs (ztunnel and the CNI agent on every node)', {
  run: async (ctx, task) => {
    const { notReady, answer } = await agentsNotReady(ctx);
    if (notReady.length)
      throw new StepError(
        `not ready on every node in ${names.istioNamespace} (context ${ctx.config.context}): ${notReady.map((a) => a.name).join(', ')}`,
        ambientInstall,
      );
    task.output = answer;
  },
});

export const gatewayApiInstalled = step('Check the Gateway API CRDs are installed', {
  run: async (ctx, task) => {
    const [name, version] = (
      await field(ctx, { kind: 'customresourcedefinition', name: names.gatewayApiCrd }, gatewayApiCrdPath)
    ).split(' ');
    if (!name)
      throw new StepError(`no Gateway API CRDs (${names.gatewayApiCrd}) in context ${ctx.config.context}`, ambientInstall);
    task.output = `Gateway API ${version || 'of an unknown version'}`;
  },
});

export const bookinfoEnrolled = step(`Check Bookinfo is in the ambient mesh (namespace ${bookinfoNamespace})`, {
  run: async (ctx, task) => {
    const mode = await field(ctx, namespaceRef(bookinfoNamespace), dataplaneModePath);
    if (mode !== 'ambient')
      throw new StepError(`namespace ${bookinfoNamespace} is not in the ambient mesh`, 'run `npm run ambient-bookinfo` first');
    task.output = `${names.ambient.dataplaneLabel}=ambient`;
  },
});

export const waypointReady = step(`Check Bookinfo's waypoint is ready (${names.ambient.waypoint})`, {
  run: async (ctx, task) => {
    const ref = inNamespace(bookinfoNamespace, 'gateways.gateway.networking.k8s.io', names.ambient.waypoint);
    const programmed = await field(ctx, ref, programmedPath);
    if (programmed !== 'True')
      throw new StepError(
        `no programmed waypoint ${names.ambient.waypoint} in ${bookinfoNamespace}`,
        'run `npm run ambient-waypoint` first',
      );
    task.output = `waypoint ${names.ambient.waypoint}: Programmed`;
  },
});

/** What every chapter after ambient-bookinfo checks first: the cluster, Istio's ambient data plane, Bookinfo enrolled. */
export const ambientBookinfoRuns = () => [clusterReachable, istioRunning, ambientRunning, bookinfoRunning, bookinfoEnrolled];
