// istio.io's ambient track, "Deploy the application" and "Add the application to the mesh": Bookinfo without sidecars,
// reached through a Gateway-API gateway, then enrolled by one namespace label: no pod restarts, ztunnel on the node
// carries its traffic from then on (mTLS between the pods). Proven by the pods kept as they were, the CNI agent's
// mark on each of them, and the product page a user would get.
import { names } from './config.ts';
import { checkPageThroughGateway } from './lib/apps/ambient-checks.ts';
import {
  bookinfoFile,
  bookinfoPods,
  bookinfoPodsReady,
  gatewayService,
  namespace,
  notOnOtherTrack,
} from './lib/apps/bookinfo.ts';
import { checkRedirected, exposeThroughGatewayApi, redirection } from './lib/apps/bookinfo-ambient.ts';
import { runIfMain } from './lib/cli/main.ts';
import { ambientMode } from './lib/istio/mesh-mode.ts';
import { getObject, inNamespace, labelOf, listObjects, namespaceRef, onObjects, verbArgs } from './lib/kube/kube.ts';
import type { Pod } from './lib/kube/pods.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { ambientRunning, clusterReachable, gatewayApiInstalled, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const mode = ambientMode;
const { dataplaneLabel, serviceTypeAnnotation } = names.ambient;
const app = bookinfoFile('platform/kube/bookinfo.yaml');
const versions = bookinfoFile('platform/kube/bookinfo-versions.yaml');

// Not in the mesh yet: istio.io deploys first and enrols after, to show that joining restarts nothing.
const createNamespace = ownNamespace(`Create the namespace ${namespace} (not in the mesh yet)`, namespace);

const deployBookinfo = step('Deploy Bookinfo and its per-version Services (bookinfo.yaml, bookinfo-versions.yaml)', {
  done: async (ctx) => {
    const wanted = [...app(ctx).docs, ...versions(ctx).docs].filter((d) => d.kind === 'Deployment' || d.kind === 'Service');
    const found = [
      ...(await listObjects(ctx, inNamespace(namespace, 'deployment'))),
      ...(await listObjects(ctx, inNamespace(namespace, 'service'))),
    ].map((d) => `${d.kind}/${d.metadata?.name}`);
    const missing = wanted.filter((d) => !found.includes(`${d.kind}/${d.metadata?.name}`));
    return wanted.length > 0 && !missing.length && `its ${wanted.length} Deployments and Services exist`;
  },
  run: async (ctx) => {
    const docs = [...app(ctx).docs, ...versions(ctx).docs];
    await onObjects(ctx, 'apply', docs, { label: `${app(ctx).label}; ${versions(ctx).label}` });
  },
});

/** Bookinfo's pods as this run found them before it labelled the namespace (none when an earlier run did). */
const beforeLabel = new WeakMap<object, Pod[]>();

const addToMesh = step(`Add Bookinfo to the ambient mesh (label ${dataplaneLabel}=ambient; no pod restarts)`, {
  done: async (ctx) =>
    labelOf(await getObject(ctx, namespaceRef(namespace)), dataplaneLabel) === 'ambient' &&
    `namespace ${namespace} is in the ambient mesh`,
  run: async (ctx, task) => {
    beforeLabel.set(ctx.run, await bookinfoPods(ctx));
    await ctx.sh.kubectl(verbArgs('label', namespaceRef(namespace), [`${dataplaneLabel}=ambient`, '--overwrite']));
    task.output = `${names.ambient.dataplaneLabel}=ambient: new and running pods join the mesh`;
  },
});

const proveRedirected = checkRedirected('Prove the CNI agent redirected every Bookinfo pod to ztunnel, none restarted', (ctx) =>
  beforeLabel.get(ctx.run),
);

const proveProductPage = checkPageThroughGateway('Prove the product page answers through the gateway, over the mesh');

const printUrl = step('Print how to open it', {
  run: async (ctx, task) => {
    // A LoadBalancer gets an address on minikube only while `minikube tunnel` runs (minikube#10085).
    const tunnel = ctx.config.cluster.kind === 'minikube' ? ` and keep \`minikube -p ${ctx.config.context} tunnel\` running` : '';
    task.output = [
      `kubectl --context ${ctx.config.context} -n ${namespace} port-forward service/${gatewayService.name} 8080:80   # then http://127.0.0.1:8080/productpage`,
      `(an address of its own: remove the Gateway's ${serviceTypeAnnotation} annotation${tunnel})`,
    ].join('\n');
  },
});

/** The chapter's own steps, after Istio (as `all` runs them in ambient mode). */
export const ambientBookinfoSteps = (): Task[] => [
  notOnOtherTrack(mode),
  createNamespace,
  deployBookinfo,
  bookinfoPodsReady(mode),
  exposeThroughGatewayApi,
  addToMesh,
  proveRedirected,
  proveProductPage,
  printUrl,
];

export const ambientBookinfo: TaskCommand = {
  kind: 'tasks',
  name: 'ambient-bookinfo',
  track: { mode: 'ambient', instead: 'bookinfo' },
  owns: { namespaces: [namespace] },
  summary: "istio.io's ambient getting started: Bookinfo without sidecars, enrolled by a namespace label",
  examples: ['ISTIO_MODE=ambient npm run ambient-bookinfo', 'ISTIO_MODE=ambient npm run ambient-bookinfo -- --dry-run'],
  details: `
Needs ISTIO_MODE=ambient (install-istio then installs the ambient profile and the Gateway API CRDs). Deploys the
release's samples/bookinfo/platform/kube/bookinfo.yaml and bookinfo-versions.yaml into ${namespace}, waits until
every pod is READY 1/1 (no sidecar), exposes it with gateway-api/bookinfo-gateway.yaml (its Service made ClusterIP,
as istio.io does: no LoadBalancer address needed) and waits until the Gateway is Programmed. Then labels the
namespace ${dataplaneLabel}=ambient, waits until the CNI agent has redirected every pod to ztunnel
(${redirection.key}=${redirection.value}) and checks they are the pods from before the label (same UIDs: joining
restarted nothing), and loads /productpage through a port-forward to the gateway. On a cluster whose nodes run no
containers (the test lab) the last two say so. Refused if ${namespace} holds the sidecar track's Bookinfo.
Runs: kubectl --context <ctx> create|apply -f -|label|wait|get|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, ambientRunning, gatewayApiInstalled, getRelease, ...ambientBookinfoSteps()],
};

runIfMain(import.meta.url, ambientBookinfo);
