// Chapter 5, "Addons": Prometheus first (Grafana's datasource is http://prometheus:9090), then Grafana
// and Zipkin from the pinned release, their Services turned into NodePorts by patches/, and their URLs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { addons, names, patchesDir, type Addon } from './config.ts';
import { StepError } from './lib/errors.ts';
import { field, managedLabels } from './lib/kube.ts';
import { runIfMain } from './lib/main.ts';
import { applyPatches, describe, dumpAll, prepare, readManifests, type K8sObject } from './lib/manifests.ts';
import { step } from './lib/step.ts';
import type { Command, Ctx, Task } from './lib/types.ts';
import { getRelease } from './install-istio.ts';

const ns = names.istioNamespace;

/** An addon's manifest from the release, labelled as ours and with its patch applied. */
export function addonObjects(ctx: Ctx, addon: Addon): K8sObject[] {
  const file = path.join(ctx.config.istioHome, addon.file);
  let docs = prepare(readManifests(file), { namespace: ns, labels: managedLabels() });
  if (addon.expose) docs = applyPatches(docs, readManifests(path.join(patchesDir, addon.expose.patch)), `patches/${addon.expose.patch}`);
  return docs;
}

/** For dry-run on a machine without the release: name the file instead of its objects. */
export function addonLabel(ctx: Ctx, addon: Addon): { docs: K8sObject[]; label: string } {
  if (ctx.options.dryRun && !existsSync(path.join(ctx.config.istioHome, addon.file)))
    return { docs: [], label: `${addon.file}${addon.expose ? ` + patches/${addon.expose.patch}` : ''}` };
  const docs = addonObjects(ctx, addon);
  return { docs, label: describe(docs) };
}

function installAddon(addon: Addon): Task {
  const how = addon.expose ? ` (Service ${addon.expose.service} as NodePort)` : '';
  return step(`Install ${addon.title}${how}`, {
    done: async (ctx) => {
      const args = ['-n', ns, 'deployment', addon.deployment];
      if (!(await field(ctx, args, '{.metadata.name}'))) return false;
      if (addon.expose && (await field(ctx, ['-n', ns, 'service', addon.expose.service], '{.spec.type}')) !== 'NodePort') return false;
      return `${addon.title} is installed`;
    },
    run: async (ctx) => {
      const { docs, label } = addonLabel(ctx, addon);
      await ctx.sh.kubectl(['apply', '-f', '-'], { input: dumpAll(docs), inputLabel: label });
    },
  });
}

const waitForAddons = step('Wait for the addons to be ready', {
  run: async (ctx, task) => {
    const deployments = addons.map((a) => `deployment/${a.deployment}`);
    await ctx.sh.kubectl(['-n', ns, 'wait', '--for=condition=Available', ...deployments, `--timeout=${ctx.config.waitTimeout}`], {
      onLine: (l) => (task.output = l),
    });
  },
});

async function nodeAddress(ctx: Ctx): Promise<string> {
  if (ctx.config.cluster === 'minikube') return (await ctx.sh.minikube(['ip'], { dryRun: { stdout: '192.168.49.2' } })).stdout.trim();
  return field(ctx, ['nodes'], '{.items[0].status.addresses[?(@.type=="InternalIP")].address}', '10.0.0.1');
}

const printUrls = step('Print the addon URLs', {
  run: async (ctx, task) => {
    const exposed = addons.flatMap((a) => (a.expose ? [a.expose.service] : []));
    const r = await ctx.sh.kubectl(['-n', ns, 'get', 'service', ...exposed, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.ports[0].nodePort}{"\\n"}{end}'], {
      dryRun: { stdout: exposed.map((s, i) => `${s} ${30000 + i}`).join('\n') },
    });
    const address = await nodeAddress(ctx);
    const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
    if (lines.some(([, port]) => !port)) throw new StepError(`a Service has no nodePort: ${r.stdout.trim()}`);
    const urls = lines.map(([svc, port]) => `${svc}: http://${address}:${port}`);
    urls.push(`prometheus: kubectl --context ${ctx.config.context} -n ${ns} port-forward svc/prometheus 9090`);
    if (ctx.config.cluster === 'minikube' && ctx.config.minikube.driver === 'docker' && process.platform !== 'linux')
      urls.push(`(docker driver on macOS/Windows: the node IP is not reachable; use \`minikube -p ${ctx.config.minikube.profile} service grafana -n ${ns}\`, which blocks while open)`);
    task.output = urls.join('\n');
  },
});

export const addonSteps = (): Task[] => [...addons.map(installAddon), waitForAddons, printUrls];

export const addonsCommand: Command = {
  name: 'addons',
  summary: 'install Prometheus, then Grafana and Zipkin (NodePort), and print their URLs',
  details: `
Applies ${addons.map((a) => a.file).join(', ')} from the release
(Grafana and Zipkin with their Service patched to NodePort by patches/), waits for their Deployments and
prints http://<node>:<nodePort> URLs. Each addon is skipped when already installed.
Runs: kubectl --context <ctx> apply -f - (stdin)|wait|get service, minikube -p <profile> ip.`,
  tasks: () => [getRelease, ...addonSteps()],
};

runIfMain(import.meta.url, 'addons');
