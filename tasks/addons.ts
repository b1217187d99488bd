// Chapter 5, "Addons": Prometheus first (Grafana's datasource is http://prometheus:9090), then Grafana
// and Zipkin from the pinned release, their Services turned into NodePorts by patches/, and their URLs.
import { names } from './config.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { addonLinks, nodeReachable } from './lib/istio/addon-links.ts';
import { type Addon, addonManifest, addons } from './lib/istio/addons.ts';
import { meshHasProvider, telemetryObject, telemetryRef, telemetryState } from './lib/istio/tracing.ts';
import { nodeAddress } from './lib/kube/data-plane.ts';
import {
  available,
  deleteObjects,
  findObject,
  inNamespace,
  listObjects,
  notOurs,
  onObjects,
  ours,
  ownerOf,
  waitFor,
} from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const ns = names.istioNamespace;

function installAddon(addon: Addon): Task {
  const how = addon.expose ? ` (Service ${addon.expose.service} as NodePort)` : '';
  return step(`Install ${addon.title}${how}`, {
    enabled: (ctx) => ctx.config.addons.includes(addon),
    done: async (ctx) => {
      // One read of the namespace's Deployments (and one of its Services) answers every addon's step.
      const deployment = await findObject(ctx, inNamespace(ns, 'deployment', addon.deployment));
      if (!ours(deployment)) return false;
      const service = addon.expose && (await findObject(ctx, inNamespace(ns, 'service', addon.expose.service)));
      if (addon.expose && (service?.spec as { type?: string } | undefined)?.type !== 'NodePort') return false;
      return `${addon.title} is installed`;
    },
    // Someone else's addon is theirs: applying ours over it would make teardown delete it later.
    refuse: async (ctx) => {
      const deployment = await findObject(ctx, inNamespace(ns, 'deployment', addon.deployment));
      return deployment !== undefined && !ours(deployment) && notOurs(`deployment/${addon.deployment} in ${ns}`);
    },
    run: async (ctx) => {
      const { docs, label } = addonManifest(ctx, addon);
      await onObjects(ctx, 'apply', docs, { label });
    },
  });
}

const addonDeployments = (ctx: Ctx) => ctx.config.addons.map((a) => inNamespace(ns, 'deployment', a.deployment));

const waitForAddons = step('Wait for the addons to be ready', {
  done: async (ctx) => {
    const found = await Promise.all(addonDeployments(ctx).map((d) => findObject(ctx, d)));
    return found.every(available) && `${found.length} Deployment(s) Available`;
  },
  run: async (ctx, task) => {
    await waitFor(ctx, addonDeployments(ctx), 'condition=Available', (l) => (task.output = l));
  },
});

/** The share of requests to trace, or undefined with TRACING=off. */
const sampling = (ctx: Ctx): number | undefined => (ctx.config.tracing.to === 'off' ? undefined : ctx.config.tracing.sampling);

const sendTraces = step(`Send the mesh's traces to Zipkin (Telemetry ${telemetryRef.name})`, {
  enabled: (ctx) => sampling(ctx) !== undefined,
  done: async (ctx) => {
    const wanted = `${names.tracing.provider} ${sampling(ctx)}`;
    return (
      (await telemetryState(ctx)) === wanted &&
      (await ownerOf(ctx, telemetryRef)) === 'ours' &&
      `${sampling(ctx)}% of requests traced`
    );
  },
  refuse: async (ctx) => (await ownerOf(ctx, telemetryRef)) === 'theirs' && notOurs(`telemetry/${telemetryRef.name} in ${ns}`),
  run: async (ctx, task) => {
    // A Telemetry naming a provider the mesh does not have traces nothing (Istio installed with tracing off).
    if (!(await meshHasProvider(ctx)))
      throw new StepError(
        `the mesh config has no ${names.tracing.provider} provider`,
        'run `npm run install-istio` (it adds it)',
      );
    const telemetry = telemetryObject(sampling(ctx) ?? 0);
    await onObjects(ctx, 'apply', [telemetry]);
    task.output = `${sampling(ctx)}% of requests traced`;
  },
});

const stopTraces = step(`Keep tracing off (no Telemetry ${telemetryRef.name})`, {
  enabled: (ctx) => sampling(ctx) === undefined,
  done: async (ctx) => {
    const owner = await ownerOf(ctx, telemetryRef);
    return (
      owner !== 'ours' &&
      (owner === 'none' ? 'no Telemetry of fun-with-istio' : "the Telemetry is not fun-with-istio's: left alone")
    );
  },
  run: async (ctx) => {
    await deleteObjects(ctx, telemetryRef);
  },
});

/** Service name -> node port of the tool's Services (from the one list of istio-system's Services). */
async function ourNodePorts(ctx: Ctx): Promise<Record<string, string>> {
  const services = (await listObjects(ctx, inNamespace(ns, 'service'))).filter(ours);
  return Object.fromEntries(
    services.flatMap((s) => {
      const port = (s.spec as { ports?: { nodePort?: number }[] } | undefined)?.ports?.[0]?.nodePort;
      return port ? [[s.metadata?.name ?? '', String(port)]] : [];
    }),
  );
}

const printUrls = step('Print how to open the addons', {
  run: async (ctx, task) => {
    const reachable = nodeReachable(ctx.config.cluster, process.platform);
    const exposed = reachable ? ctx.config.addons.flatMap((a) => (a.expose ? [a.expose.service] : [])) : [];
    const nodePorts = exposed.length ? await ourNodePorts(ctx) : {};
    const address = exposed.length ? await nodeAddress(ctx) : undefined;
    const missing = exposed.filter((s) => !nodePorts[s]);
    // A dry run without the release on this machine made no Services to read node ports from.
    if (missing.length && ctx.options.dryRun) return ctx.sh.note('dry run: the URLs are printed once the addons exist');
    if (missing.length) throw new StepError(`no nodePort for Service ${missing.join(', ')} in ${ns}`);
    task.output = addonLinks(ctx.config.addons, { reachable, address, nodePorts }).join('\n');
  },
});

/** What needs only the istio-system namespace: `all` runs it while Istio installs. */
export const addonInstallSteps = (): Task[] => [...addons.map(installAddon), waitForAddons];
/** What needs Istio installed (the Telemetry API and the mesh's provider). */
export const tracingSteps = (): Task[] => [sendTraces, stopTraces, printUrls];
export const addonSteps = (): Task[] => [...addonInstallSteps(), ...tracingSteps()];

export const addonsCommand: TaskCommand = {
  kind: 'tasks',
  name: 'addons',
  reads: ['addons'],
  summary: 'install the addons (Prometheus, Grafana, Zipkin by default), turn tracing on, print their URLs',
  details: `
Applies the ADDONS from the release (${addons.map((a) => a.name).join(', ')}; Grafana and Kiali bring
Prometheus; Zipkin or Jaeger, not both), their Services patched to NodePort by patches/, waits for their
Deployments, sends the mesh's traces to the tracing addon (Telemetry ${names.tracing.telemetry}, TRACING_SAMPLING
percent) and prints http://<node>:<nodePort> URLs. Each addon is skipped when already installed.
Runs: kubectl --context <ctx> apply -f - (stdin)|wait|get service, minikube -p <profile> ip.`,
  tasks: () => [clusterReachable, istioRunning, getRelease, ...addonSteps()],
};

runIfMain(import.meta.url, addonsCommand);
