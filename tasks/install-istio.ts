// Chapter 3, "Istio": get the release (the tutorial's download and unpack), install it (today's
// `istioctl install` instead of `kubectl apply -f istio.yaml`), and monitor istio-system until it is up.
import { minimums, names } from './config.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { installFlags } from './lib/istio/install-flags.ts';
import { switchRefusal } from './lib/istio/mesh-mode.ts';
import { tagWebhook } from './lib/istio/revisions.ts';
import { meshHasProvider } from './lib/istio/tracing.ts';
import { nodesRoom } from './lib/kube/data-plane.ts';
import {
  available,
  exists,
  findObject,
  inNamespace,
  isOurs,
  listObjects,
  namespaceRef,
  rolloutStatus,
  verbArgs,
  waitFor,
} from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa, verifyCaBundle } from './lib/steps/ca.ts';
import { installGatewayApi } from './lib/steps/gateway-api.ts';
import { agentsNotReady, clusterReachable } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const ns = names.istioNamespace;

type IstiodSpec = { template?: { spec?: { containers?: { image?: string; env?: { name: string; value?: string }[] }[] } } };
const istiodContainer = async (ctx: Ctx) =>
  ((await findObject(ctx, inNamespace(ns, 'deployment', names.istiod)))?.spec as IstiodSpec | undefined)?.template?.spec
    ?.containers?.[0];

/** The Istio version istiod runs, from its image tag (e.g. docker.io/istio/pilot:1.31.1-distroless). */
async function installedIstioVersion(ctx: Ctx): Promise<string | undefined> {
  const image = (await istiodContainer(ctx))?.image;
  if (!image) return undefined;
  return image.slice(image.lastIndexOf(':') + 1).replace(/-(distroless|debug)$/, '');
}

/** Whether the installed mode is the configured one: the ambient profile turns istiod's ambient support on. */
async function modeMatches(ctx: Ctx): Promise<boolean> {
  const env = (await istiodContainer(ctx))?.env ?? [];
  const ambient = env.some((e) => e.name === 'PILOT_ENABLE_AMBIENT' && e.value === 'true');
  return (ctx.config.mode === 'ambient') === ambient;
}

const install = step('Install Istio', {
  done: async (ctx) => {
    const installed = await installedIstioVersion(ctx);
    if (!installed) return false;
    // istioctl makes the default revision tag last, once everything is up: without it, an install was cut short.
    if (!(await exists(ctx, tagWebhook('default')))) return false;
    // Re-installing in place adds a missing tracing provider (an install from before tracing was configured).
    const providerMissing = ctx.config.tracing.to !== 'off' && !(await meshHasProvider(ctx));
    return (
      installed === ctx.config.istioVersion &&
      !providerMissing &&
      (await modeMatches(ctx)) &&
      `Istio ${installed} is installed (${ctx.config.mode} mode)`
    );
  },
  // On a cluster of the user's, an Istio in a namespace the tool did not make is theirs (createIstioNamespace
  // refuses it first where it runs; this holds wherever the install steps are used).
  refuse: async (ctx) => {
    const installed = await installedIstioVersion(ctx);
    const theirs = Boolean(installed) && ctx.config.cluster.kind === 'existing' && !(await isOurs(ctx, namespaceRef(ns)));
    if (theirs)
      return `Istio ${installed} in context ${ctx.config.context} was not installed by fun-with-istio: refusing to change it`;
    // Switching the mode under the other track's apps would cut them off.
    if (installed && !(await modeMatches(ctx)))
      return switchRefusal(ctx.config.mode, await listObjects(ctx, { kind: 'namespace' }));
    return undefined;
  },
  run: async (ctx, task) => {
    const { config } = ctx;
    task.title = `Install Istio ${config.istioVersion} (profile ${config.istioProfile}, ${config.mode} mode)`;
    const args = ['install', ...installFlags(config)];
    await ctx.sh.istioctl([...args, '--readiness-timeout', config.waitTimeout, '-y'], {
      onLine: (l) => {
        if (/[A-Za-z]/.test(l)) task.output = l; // skip the lines of istioctl's sail logo
      },
    });
  },
});

/** Istio's own Deployments carry this label (istiod, the gateways); the addons in the namespace do not. */
const istioComponent = 'operator.istio.io/component';

// Not a step that can be "already done": it shows what runs (istioctl install has usually waited for it already).
const monitor = step(`Watch ${ns} come up`, {
  run: async (ctx, task) => {
    const istio = (await listObjects(ctx, inNamespace(ns, 'deployment'))).filter((d) => d.metadata?.labels?.[istioComponent]);
    if (!istio.length || !istio.every(available))
      await waitFor(ctx, inNamespace(ns, 'deployment'), 'condition=Available', (l) => (task.output = l), istioComponent);
    if (ctx.config.mode === 'ambient') await ambientAgentsReady(ctx);
    const kinds = ctx.config.mode === 'ambient' ? 'deployments,daemonsets,pods' : 'deployments,pods';
    const r = await ctx.sh.kubectl(verbArgs('get', inNamespace(ns, kinds)), { read: true });
    task.output = r.stdout.trim();
  },
});

/** ztunnel and the CNI agent ready on every node (istioctl install has usually waited for them already). */
async function ambientAgentsReady(ctx: Ctx): Promise<void> {
  for (const agent of (await agentsNotReady(ctx)).notReady) await rolloutStatus(ctx, agent);
}

// minikube is sized by its settings; a cluster of the user's is checked before the ambient data plane is added.
const nodesHaveRoom = step(
  `Check the nodes have room for Istio (at least ${minimums.cpus} CPUs and ${minimums.memoryMiB / 1024} GiB)`,
  {
    enabled: (ctx) => ctx.config.mode === 'ambient' && ctx.config.cluster.kind === 'existing',
    run: async (ctx, task) => {
      const room = await nodesRoom(ctx);
      const has = `${room.nodes} node(s) with ${room.cpus} CPUs and ${(room.memoryMiB / 1024).toFixed(1)} GiB allocatable`;
      if (room.cpus < minimums.cpus || room.memoryMiB < minimums.memoryMiB)
        throw new StepError(
          `context ${ctx.config.context}: ${has}; istiod, ztunnel and the CNI agent with the addons need at least ${minimums.cpus} CPUs and ${minimums.memoryMiB / 1024} GiB`,
          'add nodes or resources, or use CLUSTER=minikube (sized by MINIKUBE_CPUS and MINIKUBE_MEMORY)',
        );
      task.output = has;
    },
  },
);

/** The chapter's own steps, after the release and the CA (as `all` runs them). */
export const installSteps = (): Task[] => [nodesHaveRoom, installGatewayApi, install, monitor, verifyCaBundle];

export const installIstio: TaskCommand = {
  kind: 'tasks',
  name: 'install-istio',
  reads: ['install'],
  summary: 'download the pinned Istio (checksum, cache), install it and watch it come up',
  details: `
Downloads istio-<version>-<os>-<arch>.tar.gz with its .sha256 into CACHE_DIR (reused while it
verifies; ISTIO_HOME skips this), plugs in the CA as webhook-certs does (skipped when done), runs istioctl install with ISTIO_PROFILE (and ISTIO_OVERLAY),
waits for every Deployment in ${ns} to be Available, then checks the injector trusts our CA.
Skipped when istiod already runs the pinned version.
Runs: istioctl --context <ctx> install --set profile=<p> [-f overlay] --readiness-timeout <t> -y,
      kubectl --context <ctx> -n ${ns} wait|get.`,
  // Istio must find cacerts when istiod first starts: run alone, this chapter plugs the CA in first (skipped when done).
  tasks: () => [clusterReachable, getRelease, generateCa, createIstioNamespace, plugCa, ...installSteps()],
};

runIfMain(import.meta.url, installIstio);
