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
import type { K8sObject } from './lib/kube/manifests.ts';
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

const routeRef = inNamespace(namespace, 'httproutes.gateway.networking.k8s.io', 'bookinfo');
const programmed = (o: K8sObject | undefined) =>
  ((o?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Programmed' && c.status === 'True',
  );

// istio.io makes the gateway's Service a ClusterIP: a LoadBalancer stays without an address (Programmed=False) unless
// `minikube tunnel` runs. A port-forward reaches it either way.
const exposeBookinfo = step('Expose it through a Gateway-API gateway (gateway-api/bookinfo-gateway.yaml, ClusterIP)', {
  done: async (ctx) => {
    const found = await getObject(ctx, gatewayRef);
    const ready = annotationOf(found, serviceTypeAnnotation) === 'ClusterIP' && programmed(found);
    return ready && (await getObject(ctx, routeRef)) !== undefined && `gateway ${gateway} is Programmed, its route in place`;
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

/** What changed of the pods since before the label: the ones recreated (a new UID) or no longer ready without a sidecar. */
function restarted(before: Pod[] | undefined, now: Pod[]): Pod[] {
  if (!before) return [];
  const uids = new Set(before.map((p) => p.metadata.uid));
  return now.filter((p) => !uids.has(p.metadata.uid) || !mode.podReady(p));
}

// The CNI agent marks each pod once its traffic goes to ztunnel: the enrolment a user can see (istiod serves the pod
// to ztunnel as HBONE from that mark on). A restart caused by joining would show by then.
const proveRedirected = step('Prove the CNI agent redirected every Bookinfo pod to ztunnel, none restarted', {
  run: async (ctx, task) => {
    if (await cannotLookHere(ctx, task)) return;
    const all = (pods: Pod[]) => pods.length > 0 && enrolled(pods).length === pods.length;
    const marked = await untilSettled(ctx, () => bookinfoPods(ctx), all, {
      waiting: { task, says: (pods) => `${enrolled(pods).length} of ${pods.length} pods redirected to ztunnel` },
    });
    await judgeSeen(ctx, marked, () => {
      if (!marked.length) throw new StepError(`no Bookinfo pods in ${namespace}`, 'run `npm run ambient-bookinfo` again');
      const missing = marked.filter((p) => !enrolled([p]).length);
      if (missing.length)
        throw new StepError(
          `not redirected to ztunnel (no ${redirection.key}=${redirection.value}): ${missing.map((p) => p.metadata.name).join(', ')}`,
          `see \`kubectl --context ${ctx.config.context} -n ${names.istioNamespace} logs daemonset/${names.ambient.cniAgent}\``,
        );
      const before = beforeLabel.get(ctx.run);
      const changed = restarted(before, marked);
      if (changed.length)
        throw new StepError(`pods changed on joining the mesh: ${changed.map((p) => p.metadata.name).join(', ')}`);
      const kept = before ? `, the same ${marked.length} pods as before the label (same UIDs, ${mode.ready})` : '';
      task.output = `${marked.length} pods: ${redirection.key}=${redirection.value}${kept}`;
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
  notOnOtherTrack(mode),
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
namespace ${dataplaneLabel}=ambient, waits until the CNI agent has redirected every pod to ztunnel
(${redirection.key}=${redirection.value}) and checks they are the pods from before the label (same UIDs: joining
restarted nothing), and loads /productpage through a port-forward to the gateway. On a cluster whose nodes run no
containers (the test lab) the last two say so. Refused if ${namespace} holds the sidecar track's Bookinfo.
Runs: kubectl --context <ctx> create|apply -f -|label|wait|get|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, ambientRunning, gatewayApiInstalled, getRelease, ...ambientBookinfoSteps()],
};

runIfMain(import.meta.url, ambientBookinfo);
