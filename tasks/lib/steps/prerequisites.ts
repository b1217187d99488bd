// What a chapter run alone needs first, checked before it changes anything, with the command that provides it.
import { names } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { failureReason } from '../exec/failure.ts';
import { kubectlVersions } from '../exec/tool-output.ts';
import { bundleVersionPath, daemonSetReadyPath } from '../kube/dry-run.ts';
import { field, inNamespace } from '../kube/kube.ts';
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

export const ambientRunning = step('Check the ambient data plane runs (ztunnel on every node)', {
  run: async (ctx, task) => {
    const ztunnel = inNamespace(names.istioNamespace, 'daemonset', names.ambient.ztunnel);
    const [ready, wanted] = (await field(ctx, ztunnel, daemonSetReadyPath)).split(' ');
    if (!(Number(wanted) >= 1 && ready === wanted))
      throw new StepError(
        `ztunnel is not ready on every node in ${names.istioNamespace} (context ${ctx.config.context}): ${ready || 0} of ${wanted || 0}`,
        ambientInstall,
      );
    task.output = `ztunnel: ${ready} of ${wanted} nodes ready`;
  },
});

export const gatewayApiInstalled = step('Check the Gateway API CRDs are installed', {
  run: async (ctx, task) => {
    const version = await field(ctx, { kind: 'customresourcedefinition', name: names.gatewayApiCrd }, bundleVersionPath);
    if (!version)
      throw new StepError(`no Gateway API CRDs (${names.gatewayApiCrd}) in context ${ctx.config.context}`, ambientInstall);
    task.output = `Gateway API ${version}`;
  },
});
