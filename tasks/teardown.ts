// Chapter 6, "Final teardown": remove what the tool created, in reverse order. Only objects that carry
// the tool's managed-by label are deleted; the minikube profile only when it is the tool's own cluster.
// Its dry run stands for a cluster where `all` has run (the 'finished' view), so it lists every removal.
import { names } from './config.ts';
import { deleteSample, sampleDeployment } from './lib/apps/sleep.ts';
import { runIfMain } from './lib/cli/main.ts';
import { type Addon, addonManifest, addons } from './lib/istio/addons.ts';
import { ensureRelease } from './lib/istio/release.ts';
import { tagWebhook } from './lib/istio/revisions.ts';
import { telemetryRef } from './lib/istio/tracing.ts';
import {
  annotationOf,
  deleteObjects,
  exists,
  getObject,
  inNamespace,
  isOurs,
  labelOf,
  listEverywhere,
  listObjects,
  namespaceRef,
  type ObjectRef,
  onObjects,
  ourNames,
  ours,
  ownerOf,
  verbArgs,
} from './lib/kube/kube.ts';
import type { K8sObject } from './lib/kube/manifests.ts';
import { minikubeStatus } from './lib/kube/minikube.ts';
import { oncePerRun } from './lib/run/once-per-run.ts';
import { type StepDefinition, step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';

const ns = names.istioNamespace;
const sampleNs = (ctx: Ctx) => namespaceRef(ctx.config.sampleNamespace);

/** With the tool's own minikube cluster about to be deleted, removing things inside it first is wasted time. */
const clusterGoes = (ctx: Ctx) => ctx.config.cluster.kind === 'minikube' && !ctx.options.keepCluster;
const inCluster = (title: string, def: Required<Pick<StepDefinition, 'done' | 'run'>>): Task =>
  step(title, {
    ...def,
    done: async (ctx) => (clusterGoes(ctx) ? 'the minikube cluster is deleted below' : def.done(ctx)),
  });

/** The addons whose Deployment carries the tool's label: only those are removed. */
const ourAddons = oncePerRun(async (ctx): Promise<Addon[]> => {
  // kubectl refuses names together with a selector: list ours, then look for the addons among them.
  const ourDeployments = new Set(await ourNames(ctx, inNamespace(ns, 'deployment')));
  return addons.filter((a) => ourDeployments.has(a.deployment));
});

/** Whether the sample namespace is the tool's (it is deleted by the step that asks last). */
const sampleNsIsOurs = oncePerRun((ctx) => isOurs(ctx, sampleNs(ctx)));

const removeAddons = inCluster('Remove the addons', {
  done: async (ctx) => (await ourAddons(ctx)).length === 0 && 'no addons installed by fun-with-istio',
  run: async (ctx, task) => {
    await ensureRelease(ctx);
    for (const addon of (await ourAddons(ctx)).reverse()) {
      task.output = `removing ${addon.title}`;
      const { docs, label } = addonManifest(ctx, addon);
      await onObjects(ctx, 'delete', docs, { flags: ['--ignore-not-found', '--wait=true'], label });
    }
  },
});

const removeTelemetry = inCluster(`Stop tracing (Telemetry ${telemetryRef.name})`, {
  done: async (ctx) => !(await isOurs(ctx, telemetryRef)) && 'no Telemetry of fun-with-istio',
  run: async (ctx) => {
    await deleteObjects(ctx, telemetryRef);
  },
});

/**
 * The namespaces the chapters own (the traffic chapter and the Istio tasks), last made first: deleted together
 * (each delete waits ~5-10 s).
 */
const ownNamespaces = (ctx: Ctx) => [...ctx.ownNamespaces].reverse();
const ourNamespaces = oncePerRun(async (ctx) => {
  const all = await listObjects(ctx, { kind: 'namespace' });
  return ownNamespaces(ctx).filter((n) => ours(all.find((o) => o.metadata?.name === n)));
});
const removeOwnNamespaces = (ctx: Ctx) =>
  inCluster(`Delete the namespaces of the traffic chapter and the Istio tasks (${ownNamespaces(ctx).join(', ')})`, {
    done: async (ctx) => (await ourNamespaces(ctx)).length === 0 && 'none of them was made by fun-with-istio',
    run: async (ctx, task) => {
      const doomed = await ourNamespaces(ctx);
      task.output = doomed.join(', ');
      await deleteObjects(ctx, doomed.map(namespaceRef), { wait: true, within: ctx.config.waitTimeout });
    },
  });

const peerAuthentication = inNamespace(ns, 'peerauthentication', names.bookinfo.peerAuthentication);
const removePeerAuthentication = inCluster(`Delete the mTLS task's PeerAuthentication ${peerAuthentication.name}`, {
  done: async (ctx) => !(await isOurs(ctx, peerAuthentication)) && 'no PeerAuthentication of fun-with-istio',
  run: async (ctx) => {
    await deleteObjects(ctx, peerAuthentication);
  },
});

const removeSample = inCluster(`Delete the ${names.sampleApp} sample`, {
  done: async (ctx) => {
    // Teardown only takes away: someone else's sleep is left where it is, and the rest goes on.
    const owner = await ownerOf(ctx, sampleDeployment(ctx));
    return (
      owner !== 'ours' && (owner === 'none' ? 'the sample is not deployed' : "this sleep is not fun-with-istio's: left alone")
    );
  },
  run: deleteSample,
});

const deleteNamespace = (ctx: Ctx, name: string) =>
  deleteObjects(ctx, namespaceRef(name), { wait: true, within: ctx.config.waitTimeout });

const removeSampleNamespace = inCluster('Remove the injection label (and the sample namespace the tool made)', {
  done: async (ctx) => {
    const namespace = await getObject(ctx, sampleNs(ctx));
    if (!namespace) return `namespace ${ctx.config.sampleNamespace} does not exist`;
    if (await sampleNsIsOurs(ctx)) return false;
    const carriesOurs = [names.injection.labelSetByToolAnnotation, names.injection.verifiedAnnotation].some((key) =>
      annotationOf(namespace, key),
    );
    return !carriesOurs && `namespace ${ctx.config.sampleNamespace} carries nothing of fun-with-istio`;
  },
  run: async (ctx) => {
    const namespace = sampleNs(ctx);
    if (await sampleNsIsOurs(ctx)) return void (await deleteNamespace(ctx, ctx.config.sampleNamespace));
    // Someone else's namespace: take back only what the tool added (the label only if the tool set it).
    if (annotationOf(await getObject(ctx, namespace), names.injection.labelSetByToolAnnotation))
      await ctx.sh.kubectl(verbArgs('label', namespace, [`${names.injection.namespaceLabel}-`]));
    await ctx.sh.kubectl(
      verbArgs('annotate', namespace, [`${names.injection.verifiedAnnotation}-`, `${names.injection.labelSetByToolAnnotation}-`]),
    );
  },
});

/** Only an istio-system the tool created (and so the Istio in it) is its to remove; else why not. */
const istioIsOurs = oncePerRun(async (ctx): Promise<string | false> => {
  if (!(await exists(ctx, namespaceRef(ns)))) return `namespace ${ns} does not exist`;
  if (!(await isOurs(ctx, namespaceRef(ns)))) return `${ns} was not made by fun-with-istio: left alone`;
  return false;
});

/** One of Istio's own CRDs as istioctl installs them (their API groups end in istio.io; istioctl labels its objects). */
const isIstioCrd = (crd: K8sObject) =>
  crd.metadata?.name?.endsWith('.istio.io') === true && labelOf(crd, 'operator.istio.io/component') !== '';

const uninstallIstio = inCluster('Uninstall Istio (istioctl uninstall --purge)', {
  done: async (ctx) => {
    const notOurs = await istioIsOurs(ctx);
    if (notOurs) return notOurs;
    const installed =
      (await exists(ctx, inNamespace(ns, 'deployment', names.istiod))) ||
      (await exists(ctx, { kind: 'mutatingwebhookconfiguration', name: names.injectorWebhook })) ||
      // Only revisions (the upgrade chapters'): each istiod-<rev> carries app=istiod.
      (await listObjects(ctx, inNamespace(ns, 'deployment'))).some((d) => labelOf(d, 'app') === names.istiod) ||
      // An uninstall cut short: --purge deletes Istio's CRDs last.
      (await listObjects(ctx, { kind: 'customresourcedefinition' })).some(isIstioCrd);
    return !installed && 'Istio is not installed';
  },
  run: async (ctx, task) => {
    await ensureRelease(ctx);
    await ctx.sh.istioctl(['uninstall', '--purge', '-y'], { onLine: (l) => (task.output = l) });
  },
});

// `istioctl tag set` makes a webhook outside the install's manifests: uninstall --purge leaves it (seen on the lab).
const removeRevisionTag = inCluster(`Remove the revision tag ${names.upgrade.tag} (the upgrade chapters')`, {
  done: async (ctx) => {
    const notOurs = await istioIsOurs(ctx);
    if (notOurs) return notOurs;
    return !(await exists(ctx, tagWebhook(names.upgrade.tag))) && `no revision tag ${names.upgrade.tag}`;
  },
  run: async (ctx) => {
    await ctx.sh.kubectl(verbArgs('delete', tagWebhook(names.upgrade.tag), ['--ignore-not-found']));
  },
});

/** The Gateway API objects the tool applied (its CRDs and their upgrade policy), only if it installed them. */
const gatewayApiKinds = ['customresourcedefinition', 'validatingadmissionpolicybinding', 'validatingadmissionpolicy'];
const ourGatewayApi = oncePerRun(async (ctx): Promise<ObjectRef[]> => {
  const found = await Promise.all(
    gatewayApiKinds.map(async (kind) =>
      (await ourNames(ctx, { kind })).filter((n) => n.endsWith('gateway.networking.k8s.io')).map((name) => ({ kind, name })),
    ),
  );
  return found.flat();
});
/**
 * Objects of the Gateway API kinds still in the cluster, which deleting the CRDs would delete too (a user's Gateways
 * and routes, another controller's). The GatewayClasses istiod made for itself go with Istio.
 */
const gatewayApiInUse = oncePerRun(async (ctx): Promise<string[]> => {
  const kinds = (await ourGatewayApi(ctx)).filter((r) => r.kind === 'customresourcedefinition').map((r) => r.name ?? '');
  if (!kinds.length) return [];
  const objects = await listEverywhere(ctx, kinds);
  // Of the standard kinds only a GatewayClass names a controller.
  const istiods = (o: K8sObject) =>
    String((o.spec as { controllerName?: string } | undefined)?.controllerName).startsWith('istio.io/');
  const named = (o: K8sObject) => [o.kind, o.metadata?.namespace, o.metadata?.name].filter(Boolean).join('/');
  return objects.filter((o) => !istiods(o)).map(named);
});

const removeGatewayApi = inCluster('Delete the Gateway API CRDs fun-with-istio installed', {
  done: async (ctx) => {
    if ((await ourGatewayApi(ctx)).length === 0) return 'no Gateway API CRDs installed by fun-with-istio';
    const inUse = await gatewayApiInUse(ctx);
    const shown = inUse.slice(0, 3).join(', ') + (inUse.length > 3 ? `, and ${inUse.length - 3} more` : '');
    return inUse.length > 0 && `left as they are: deleting them would delete ${shown}`;
  },
  run: async (ctx, task) => {
    const doomed = await ourGatewayApi(ctx);
    task.output = doomed.map((r) => `${r.kind}/${r.name}`).join('\n');
    await deleteObjects(ctx, doomed, { wait: true, within: ctx.config.waitTimeout });
  },
});

const cacerts = inNamespace(ns, 'secret', names.cacertsSecret);
const removeCacerts = inCluster(`Delete the ${names.cacertsSecret} secret`, {
  done: async (ctx) => !(await isOurs(ctx, cacerts)) && `no ${names.cacertsSecret} secret made by fun-with-istio`,
  run: async (ctx) => {
    await deleteObjects(ctx, cacerts);
  },
});

const removeIstioNamespace = inCluster(`Delete the ${ns} namespace`, {
  done: istioIsOurs,
  run: async (ctx) => {
    await deleteNamespace(ctx, ns);
  },
});

const deleteMinikube = step('Delete the minikube cluster', {
  enabled: clusterGoes,
  done: async (ctx) => {
    if (!ctx.sh.has('minikube')) return 'minikube is not installed: there is no minikube cluster to delete';
    const s = await minikubeStatus(ctx);
    return (!s.Host || s.Host === 'Nonexistent') && `profile ${ctx.config.context} does not exist`;
  },
  run: async (ctx, task) => {
    await ctx.sh.minikube(['delete'], { onLine: (l) => (task.output = l) });
  },
});

export const teardown: TaskCommand = {
  kind: 'tasks',
  name: 'teardown',
  reads: ['sample'],
  examples: [
    'npm run teardown               # asks first',
    'npm run teardown -- --yes',
    'npm run teardown -- --keep-cluster --dry-run',
  ],
  summary: 'remove everything the tool created, in reverse order',
  flags: ['keep-cluster'],
  dryRunView: 'finished',
  confirm: (ctx) =>
    clusterGoes(ctx)
      ? `Delete the minikube profile ${ctx.config.context} and everything in it?`
      : `Remove the addons, the sample, Istio and ${names.cacertsSecret} that fun-with-istio made in context ${ctx.config.context}?`,
  details: `
With the tool's own minikube cluster: deletes the profile (minikube -p <profile> delete), unless
--keep-cluster. Otherwise, in reverse order: the Istio tasks' PeerAuthentication, the namespaces of the
Istio tasks and the traffic chapter (deleted together), the tracing Telemetry, the addons, the sleep
sample, the injection label (or the sample namespace the tool made), Istio (istioctl uninstall --purge), the
upgrade chapters' revision tag ${names.upgrade.tag}, the Gateway API
CRDs if the tool installed them (the ambient track), the ${names.cacertsSecret} secret and ${ns}.
Only objects labelled ${names.managedBy.key}=${names.managedBy.value} are deleted; on a clean cluster
it is a fast no-op. Asks first unless --yes. The CA files in CACHE_DIR/certs are kept.
Runs: minikube -p <profile> status|delete, or kubectl --context <ctx> get|delete and istioctl --context <ctx>
uninstall --purge -y.`,
  tasks: (ctx) => [
    // What is inside a kept cluster is removed from it: it must answer first (else each step fails on its own).
    ...(clusterGoes(ctx) ? [] : [clusterReachable]),
    removePeerAuthentication,
    removeOwnNamespaces(ctx),
    removeTelemetry,
    removeAddons,
    removeSample,
    removeSampleNamespace,
    uninstallIstio,
    removeRevisionTag,
    removeGatewayApi,
    removeCacerts,
    removeIstioNamespace,
    deleteMinikube,
  ],
};

runIfMain(import.meta.url, teardown);
