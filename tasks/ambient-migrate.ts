// istio.io's "Migrate from sidecar to ambient", for the sidecar track's Bookinfo on the same cluster. The ambient
// components are added in place (the ambient profile, with the ingress gateway the sidecar track uses kept, so the app
// stays reachable throughout); Bookinfo gets the ambient track's way in (a Gateway-API gateway) and per-version
// Services; then its namespace moves: enrolled, sidecar injection off, its pods restarted without sidecars and
// redirected to ztunnel. The ambient chapters (ambient-l4-policy and on) then apply to it as to ambient-bookinfo's.
import { names } from './config.ts';
import { checkPageThroughGateway } from './lib/apps/ambient-checks.ts';
import {
  bookinfoFile,
  bookinfoPodSelector,
  bookinfoPods,
  bookinfoPodsReady,
  bookinfoRunning,
  namespace,
  throughIngress,
} from './lib/apps/bookinfo.ts';
import { checkRedirected, exposeThroughGatewayApi } from './lib/apps/bookinfo-ambient.ts';
import { productPage } from './lib/apps/bookinfo-client.ts';
import { judgePage } from './lib/apps/bookinfo-page.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { installFlags } from './lib/istio/install-flags.ts';
import { ambientMode } from './lib/istio/mesh-mode.ts';
import { applyFile } from './lib/istio/routing.ts';
import { ambientSupportPath, trackLabelsPath } from './lib/kube/fields.ts';
import { field, getObject, inNamespace, labelOf, listObjects, namespaceRef, rolloutStatus, verbArgs } from './lib/kube/kube.ts';
import { hasSidecar } from './lib/kube/pods.ts';
import { untilSettled } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { installGatewayApi } from './lib/steps/gateway-api.ts';
import { agentsNotReady, clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const { dataplaneLabel } = names.ambient;
const bookinfoApps = ['details', 'productpage', 'ratings', 'reviews'];
const injectionLabel = names.injection.namespaceLabel;
/** The demo profile's ingress gateway, which the ambient profile leaves out: kept, the sidecar track reaches Bookinfo through it. */
const keepIngress = [
  '--set',
  `components.ingressGateways[0].name=${names.bookinfo.ingress.service}`,
  '--set',
  'components.ingressGateways[0].enabled=true',
];

/** Whether the namespace has moved: enrolled, and no longer injected. */
const moved = async (ctx: Ctx) => {
  const ns = await getObject(ctx, namespaceRef(namespace));
  return labelOf(ns, dataplaneLabel) === 'ambient' && labelOf(ns, injectionLabel) !== 'enabled';
};

const sidecarBookinfo = step(`Check ${namespace} holds the sidecar track's Bookinfo (or has moved already)`, {
  run: async (ctx, task) => {
    const [injection, enrolled] = (await field(ctx, namespaceRef(namespace), trackLabelsPath)).split('/');
    if (enrolled === 'ambient' && injection !== 'enabled') {
      task.output = `namespace ${namespace} has moved to the ambient mesh`;
      return;
    }
    if (injection !== 'enabled')
      throw new StepError(
        `namespace ${namespace} has no ${injectionLabel}=enabled: not the sidecar track's Bookinfo`,
        'run `ISTIO_MODE=sidecar npm run bookinfo` first, or `npm run ambient-bookinfo` for a Bookinfo in ambient mode from the start',
      );
    task.output = `namespace ${namespace}: ${injectionLabel}=enabled`;
  },
});

const istiod = inNamespace(names.istioNamespace, 'deployment', names.istiod);

const addAmbientComponents = step('Add the ambient components in place (ambient profile, the ingress gateway kept)', {
  done: async (ctx) => {
    if ((await field(ctx, istiod, ambientSupportPath)) !== 'true') return false;
    const { notReady } = await agentsNotReady(ctx);
    return notReady.length === 0 && 'istiod has ambient support; ztunnel and the CNI agent run on every node';
  },
  run: async (ctx, task) => {
    const { config } = ctx;
    // The sidecars keep working meanwhile: istiod still injects and configures them.
    await ctx.sh.istioctl(['install', ...installFlags(config), ...keepIngress, '--readiness-timeout', config.waitTimeout, '-y'], {
      onLine: (l) => {
        if (/[A-Za-z]/.test(l)) task.output = l;
      },
    });
    for (const agent of (await agentsNotReady(ctx)).notReady) await rolloutStatus(ctx, agent);
  },
});

const perVersionServices = applyFile(
  'Add the per-version Services HTTPRoutes send to (platform/kube/bookinfo-versions.yaml)',
  bookinfoFile('platform/kube/bookinfo-versions.yaml'),
);

// istio.io's order: enrol first (a pod with both a sidecar and ztunnel is handled by its sidecar), then no injection.
const moveNamespace = step(`Move ${namespace} to the ambient mesh (${dataplaneLabel}=ambient, ${injectionLabel} removed)`, {
  done: async (ctx) => (await moved(ctx)) && `namespace ${namespace} is in the ambient mesh, without injection`,
  run: async (ctx, task) => {
    await ctx.sh.kubectl(
      verbArgs('label', namespaceRef(namespace), [`${dataplaneLabel}=ambient`, `${injectionLabel}-`, '--overwrite']),
    );
    task.output = 'new pods join the ambient mesh and get no sidecar';
  },
});

const restartWithoutSidecars = step('Restart its pods without sidecars (kubectl rollout restart)', {
  done: async (ctx) => {
    const pods = await bookinfoPods(ctx);
    return pods.length > 0 && !pods.some(hasSidecar) && 'no Bookinfo pod has a sidecar';
  },
  run: async (ctx, task) => {
    const all = inNamespace(namespace, 'deployment');
    await ctx.sh.kubectl(verbArgs(['rollout', 'restart'], all, ['-l', bookinfoPodSelector]));
    const deployments = (await listObjects(ctx, all)).filter((d) => bookinfoApps.includes(labelOf(d, 'app')));
    for (const d of deployments) {
      task.output = `waiting for deployment/${d.metadata?.name}`;
      await rolloutStatus(ctx, inNamespace(namespace, 'deployment', d.metadata?.name));
    }
  },
});

const pageThroughIngress = step('Check the product page still answers through the ingress gateway', {
  run: async (ctx, task) => {
    await throughIngress(ctx, task, async (base) => {
      const ask = () => productPage(base, { signal: ctx.signal, clock: ctx.clock }).catch((e: Error) => e.message);
      const isPage = (html: string) => judgePage(html).kind === 'product-page';
      const html = await untilSettled(ctx, ask, isPage, { waiting: { task, says: () => 'waiting for the ingress gateway' } });
      if (!isPage(html)) throw new StepError(`${base}/productpage is not the product page: ${html.trim().slice(0, 80)}`);
      return `${base}/productpage through ${names.bookinfo.ingress.service}: <title>Simple Bookstore App</title>`;
    });
  },
});

/** The chapter's own steps, after the checks. */
export const ambientMigrateSteps = (): Task[] => [
  sidecarBookinfo,
  installGatewayApi,
  addAmbientComponents,
  perVersionServices,
  exposeThroughGatewayApi,
  moveNamespace,
  restartWithoutSidecars,
  bookinfoPodsReady(ambientMode),
  checkRedirected('Prove the CNI agent redirected every Bookinfo pod to ztunnel'),
  checkPageThroughGateway('Check the product page answers through the Gateway-API gateway, over the mesh'),
  pageThroughIngress,
];

export const ambientMigrate: TaskCommand = {
  kind: 'tasks',
  name: 'ambient-migrate',
  track: { mode: 'ambient' },
  reads: ['install'],
  summary: "istio.io's migration from sidecar to ambient: the sidecar track's Bookinfo moved in place, no sidecars left",
  examples: ['ISTIO_MODE=ambient npm run ambient-migrate', 'ISTIO_MODE=ambient npm run ambient-migrate -- --dry-run'],
  details: `
For a cluster where the sidecar track ran (npm run all, then npm run bookinfo), with ISTIO_MODE=ambient. Installs the
Gateway API CRDs if missing, then reinstalls Istio in place with the ambient profile (istiod, the CNI agent,
ztunnel) and the ingress gateway ${names.bookinfo.ingress.service} kept (the egress gateway goes), and waits for
ztunnel and the CNI agent. Adds bookinfo-versions.yaml and the Gateway-API gateway of the ambient track, then
labels ${namespace} ${dataplaneLabel}=ambient, removes ${injectionLabel}, restarts its Deployments and waits until
every pod is READY 1/1 without a sidecar and redirected to ztunnel. Checks the product page through both
gateways. Afterwards install-istio in ambient mode changes nothing, and ambient-l4-policy and the chapters after
it apply. On a cluster whose nodes run no containers (the test lab) the checks that would look say so.
Runs: istioctl --context <ctx> install, kubectl --context <ctx> get|apply -f -|label|rollout|wait|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, bookinfoRunning, getRelease, ...ambientMigrateSteps()],
};

runIfMain(import.meta.url, ambientMigrate);
