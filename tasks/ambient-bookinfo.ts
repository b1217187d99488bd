// istio.io's ambient track, "Deploy the application" and "Add the application to the mesh": Bookinfo without sidecars,
// reached through a Gateway-API gateway, then enrolled by one namespace label: no pod restarts, ztunnel on the node
// carries its traffic from then on (mTLS between the pods). Proven by the pods kept as they were, the CNI agent's
// mark on each of them, and the product page a user would get.
import { names } from './config.ts';
import { checkPageThroughGateway } from './lib/apps/ambient-checks.ts';
import { bookinfoFile, bookinfoPods, bookinfoPodsReady, gatewayService, namespace } from './lib/apps/bookinfo.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { ambientMode } from './lib/istio/mesh-mode.ts';
import { cannotLookHere } from './lib/kube/data-plane.ts';
import {
  annotationOf,
  getObject,
  inNamespace,
  labelOf,
  listObjects,
  namespaceRef,
  onObjects,
  verbArgs,
  waitFor,
} from './lib/kube/kube.ts';
import type { Pod } from './lib/kube/pods.ts';
import { judgeSeen, untilSettled } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { ambientRunning, clusterReachable, gatewayApiInstalled, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const mode = ambientMode;
const { dataplaneLabel, gateway, serviceTypeAnnotation } = names.ambient;
const app = bookinfoFile('platform/kube/bookinfo.yaml');
const versions = bookinfoFile('platform/kube/bookinfo-versions.yaml');
const gatewayFile = bookinfoFile('gateway-api/bookinfo-gateway.yaml');
const gatewayRef = inNamespace(namespace, 'gateways.gateway.networking.k8s.io', gateway);
/** The CNI agent marks each pod whose traffic it has redirected to ztunnel. */
const redirection = { key: 'ambient.istio.io/redirection', value: 'enabled' };

const noSidecarTrack = step(`Check ${namespace} is not on the sidecar track`, {
  run: async (ctx, task) => {
    const ns = await getObject(ctx, namespaceRef(namespace));
    if (labelOf(ns, names.injection.namespaceLabel) === 'enabled')
      throw new StepError(
        `namespace ${namespace} has ${names.injection.namespaceLabel}=enabled: its pods carry sidecars (the sidecar track's Bookinfo)`,
        'run `npm run teardown` first, or set ISTIO_MODE=sidecar',
      );
    task.output = ns ? `namespace ${namespace}: no sidecar injection` : `namespace ${namespace} does not exist yet`;
  },
});

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

// istio.io makes the gateway's Service a ClusterIP: a LoadBalancer stays without an address (Programmed=False) unless
// `minikube tunnel` runs. A port-forward reaches it either way.
const exposeBookinfo = step('Expose it through a Gateway-API gateway (gateway-api/bookinfo-gateway.yaml, ClusterIP)', {
  done: async (ctx) => {
    const found = await getObject(ctx, gatewayRef);
    return annotationOf(found, serviceTypeAnnotation) === 'ClusterIP' && `gateway ${gateway} exists`;
  },
  run: async (ctx, task) => {
    const { docs, label } = gatewayFile(ctx);
    const annotated = docs.map((d) =>
      d.kind === 'Gateway'
        ? { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata?.annotations, [serviceTypeAnnotation]: 'ClusterIP' } } }
        : d,
    );
    await onObjects(ctx, 'apply', annotated, { label: `${label} (${serviceTypeAnnotation}=ClusterIP)` });
    await waitFor(ctx, gatewayRef, 'condition=Programmed', (l) => (task.output = l));
  },
});

const enrolled = (pods: Pod[]) => pods.filter((p) => p.metadata.annotations?.[redirection.key] === redirection.value);

const addToMesh = step(`Add Bookinfo to the ambient mesh (label ${dataplaneLabel}=ambient; no pod restarts)`, {
  done: async (ctx) =>
    labelOf(await getObject(ctx, namespaceRef(namespace)), dataplaneLabel) === 'ambient' &&
    `namespace ${namespace} is in the ambient mesh`,
  run: async (ctx, task) => {
    const before = await bookinfoPods(ctx);
    await ctx.sh.kubectl(verbArgs('label', namespaceRef(namespace), [`${dataplaneLabel}=ambient`]));
    const after = await bookinfoPods(ctx);
    await judgeSeen(ctx, after, () => {
      const uids = new Set(before.map((p) => p.metadata.uid));
      const recreated = after.filter((p) => !uids.has(p.metadata.uid) || !mode.podReady(p));
      if (recreated.length)
        throw new StepError(`pods changed on joining the mesh: ${recreated.map((p) => p.metadata.name).join(', ')}`);
      task.output = `${after.length} pods kept as they were (same UIDs, ${mode.ready}, no sidecar)`;
    });
  },
});

// The CNI agent marks each pod once its traffic goes to ztunnel: the enrolment a user can see (istiod serves the pod
// to ztunnel as HBONE from that mark on).
const proveRedirected = step('Prove the CNI agent redirected every Bookinfo pod to ztunnel', {
  run: async (ctx, task) => {
    if (await cannotLookHere(ctx, task)) return;
    const marked = await untilSettled(
      ctx,
      () => bookinfoPods(ctx),
      (pods) => enrolled(pods).length === pods.length,
      { waiting: { task, says: (pods) => `${enrolled(pods).length} of ${pods.length} pods redirected to ztunnel` } },
    );
    await judgeSeen(ctx, marked, () => {
      const missing = marked.filter((p) => !enrolled([p]).length);
      if (missing.length)
        throw new StepError(
          `not redirected to ztunnel (no ${redirection.key}=${redirection.value}): ${missing.map((p) => p.metadata.name).join(', ')}`,
          `see \`kubectl --context ${ctx.config.context} -n ${names.istioNamespace} logs daemonset/${names.ambient.cniAgent}\``,
        );
      task.output = `${marked.length} pods: ${redirection.key}=${redirection.value}`;
    });
  },
});

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
  noSidecarTrack,
  createNamespace,
  deployBookinfo,
  bookinfoPodsReady(mode),
  exposeBookinfo,
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
namespace ${dataplaneLabel}=ambient and proves the pods were not restarted (same UIDs) and that the CNI agent
redirected each to ztunnel (${redirection.key}=${redirection.value}), and loads /productpage through a
port-forward to the gateway. On a cluster whose nodes run no containers (the test lab) the last two say so.
Runs: kubectl --context <ctx> create|apply -f -|label|wait|get|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, ambientRunning, gatewayApiInstalled, getRelease, ...ambientBookinfoSteps()],
};

runIfMain(import.meta.url, ambientBookinfo);
