// Chapter 1, "Starting minikube": a cluster fit for Istio (version, memory, CPUs, admission webhooks), verified.
// With CLUSTER=existing the same chapter checks the chosen context instead of starting anything.
import { kubernetesSupport, ownMinikube } from './config.ts';
import { StepError } from './lib/base/errors.ts';
import { compareVersions, kubectlSkewWarning, minorSkew, parseVersion } from './lib/base/version.ts';
import { runIfMain } from './lib/cli/main.ts';
import { kubectlVersions, minikubeVersion } from './lib/exec/tool-output.ts';
import { minikubeStatus, missingTools, requiredTools } from './lib/kube/minikube.ts';
import { clientVersion, servedApis } from './lib/kube/tool-versions.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { serverVersion } from './lib/steps/prerequisites.ts';

const installHints: Record<string, string> = {
  minikube: 'https://minikube.sigs.k8s.io/docs/start/',
  kubectl: 'https://kubernetes.io/docs/tasks/tools/',
  docker: 'https://docs.docker.com/engine/install/',
  podman: 'https://podman.io/docs/installation',
};

const checkTools = step('Check the tools and their versions', {
  run: async (ctx, task) => {
    const tools = requiredTools(ctx);
    // A dry run must work on a machine without the tools.
    if (ctx.options.dryRun) {
      ctx.sh.note(`dry run: ${tools.join(', ')} not looked for`);
    } else {
      const missing = missingTools(ctx, tools);
      if (missing.length)
        throw new StepError(`missing: ${missing.map((t) => `${t} (${installHints[t] ?? 'see README'})`).join(', ')}`);
    }
    const { config } = ctx;
    const kubectl = await clientVersion(ctx.sh, 'kubectl', { read: true });
    const client = kubectlVersions(kubectl.stdout).client ?? '?';
    const notes = [`kubectl ${client}`];
    const skew = kubectlSkewWarning(client, config.kubernetesVersion);
    if (skew) notes.push(`warning: ${skew}`);
    const { cluster } = config;
    if (cluster.kind === 'minikube') {
      const mk = await clientVersion(ctx.sh, 'minikube', { read: true });
      const version = minikubeVersion(mk.stdout);
      if (!version) throw new StepError(`minikube version did not say its version: ${mk.stdout.trim().slice(0, 80)}`);
      if (!parseVersion(version) || compareVersions(version, cluster.version) < 0)
        throw new StepError(
          `minikube ${version} is older than the pinned ${cluster.version}; upgrade it (${installHints.minikube})`,
        );
      notes.push(`minikube ${version}`);
    }
    task.output = notes.join(', ');
  },
});

const startMinikube = step('Start minikube', {
  enabled: (ctx) => ctx.config.cluster.kind === 'minikube',
  done: async (ctx) => {
    const s = await minikubeStatus(ctx);
    return s.Host === 'Running' && s.APIServer === 'Running' && `profile ${ctx.config.context} is running`;
  },
  run: async (ctx, task) => {
    const { kubernetesVersion } = ctx.config;
    const minikube = ownMinikube(ctx.config);
    task.title = `Start minikube (profile ${minikube.profile}, Kubernetes ${kubernetesVersion}, ${minikube.memoryMiB} MiB, ${minikube.cpus} CPUs)`;
    await ctx.sh.minikube(
      [
        'start',
        `--kubernetes-version=${kubernetesVersion}`,
        `--driver=${minikube.driver}`,
        `--memory=${minikube.memoryMiB}`,
        `--cpus=${minikube.cpus}`,
        // Leave the user's current kube context alone; every call names this one explicitly.
        '--keep-context=true',
      ],
      { onLine: (l) => (task.output = l) },
    );
  },
});

const checkServerVersion = step('Check the cluster is reachable and runs a Kubernetes Istio supports', {
  run: async (ctx, task) => {
    const { config } = ctx;
    const v = await serverVersion(ctx);
    if ('why' in v) throw new StepError(`cannot reach context ${ctx.sh.context}: ${v.why}`);
    const { server } = v;
    // A profile started earlier keeps its Kubernetes: say so rather than install onto the wrong one.
    if (config.cluster.kind === 'minikube' && minorSkew(server, config.kubernetesVersion) !== 0)
      throw new StepError(
        `profile ${config.context} runs Kubernetes ${server}, not ${config.kubernetesVersion}: delete it (npm run teardown) or set KUBERNETES_VERSION=${server}`,
      );
    const support = kubernetesSupport(config.istioVersion, server);
    if (support && support !== 'unknown')
      throw new StepError(`context ${ctx.sh.context} runs Kubernetes ${server}, but ${support}`);
    task.output = `Kubernetes ${server}`;
  },
});

const verifyWebhookApi = step('Verify the admissionregistration.k8s.io/v1 API is served', {
  run: async (ctx, task) => {
    const r = await servedApis(ctx.sh, { read: true });
    const apis = r.stdout.split('\n').filter((l) => l.startsWith('admissionregistration'));
    if (!apis.includes('admissionregistration.k8s.io/v1'))
      throw new StepError(
        `the cluster does not serve admissionregistration.k8s.io/v1 (mutating webhooks); got ${apis.join(', ') || 'none'}`,
      );
    task.output = apis.join(', ');
  },
});

const clusterChecks = [checkServerVersion, verifyWebhookApi];

/**
 * `all`'s cluster part, in two: the checks that come before anything is downloaded (the tools, and a cluster that
 * exists already: a wrong context is the first error, whatever the network does), then what may run beside the
 * download (minikube started and checked).
 */
export function clusterParts(ctx: Ctx): { name: string; checks: Task[]; start: Task[] } {
  if (ctx.config.cluster.kind === 'existing')
    return { name: `the cluster (context ${ctx.config.context})`, checks: [checkTools, ...clusterChecks], start: [] };
  return { name: 'minikube', checks: [checkTools], start: [startMinikube, ...clusterChecks] };
}

export const minikubeSteps = (): Task[] => [checkTools, startMinikube, ...clusterChecks];

export const minikube: TaskCommand = {
  kind: 'tasks',
  name: 'minikube',
  reads: ['minikube-start'],
  examples: [
    'npm run minikube',
    'MINIKUBE_MEMORY=12g MINIKUBE_CPUS=6 npm run minikube',
    'CLUSTER=existing KUBE_CONTEXT=kind-kind npm run minikube   # check a cluster you already have',
  ],
  summary: 'start a cluster fit for Istio and verify it (or check CLUSTER=existing)',
  details: `
Checks minikube, kubectl and the driver are installed and new enough, starts minikube on profile
MINIKUBE_PROFILE with the pinned Kubernetes version, memory and CPUs (skipped when it already runs),
then checks the cluster runs the expected Kubernetes and serves admissionregistration.k8s.io/v1, which
sidecar injection needs. With CLUSTER=existing: checks KUBE_CONTEXT instead of starting anything.
Runs: minikube -p <profile> version|status|start, kubectl --context <ctx> version|api-versions.`,
  tasks: minikubeSteps,
};

runIfMain(import.meta.url, minikube);
