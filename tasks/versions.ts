// The tutorial's "Versions" section, live: each pin beside what this machine and cluster have.
import { existsSync } from 'node:fs';
import { pins } from './config.ts';
import { imagesAhead } from './lib/apps/images.ts';
import { compareVersions, kubectlSkewWarning } from './lib/base/version.ts';
import { runIfMain } from './lib/cli/main.ts';
import { istioctlVersion, kubectlVersions, minikubeVersion } from './lib/exec/tool-output.ts';
import { driverTool, missingTools, requiredTools } from './lib/kube/minikube.ts';
import { apiServerVersion, clientVersion } from './lib/kube/tool-versions.ts';
import type { ActionCommand, Ctx } from './lib/run/types.ts';

/** `ok`: fine; false: needs attention (exit 1); a string: a warning that says why (exit 0). */
type Row = [what: string, pinned: string, found: string, ok: boolean | string];

async function rows(ctx: Ctx): Promise<Row[]> {
  const { config, sh } = ctx;
  const driver = driverTool(ctx);
  const missing = ctx.options.dryRun ? [] : missingTools(ctx, ['minikube', 'kubectl', ...(driver ? [driver] : [])]);
  const needed = requiredTools(ctx);
  const out: Row[] = [['Node.js', '>= 20', process.version, Number(process.versions.node.split('.')[0]) >= 20]];

  if (missing.includes('minikube')) out.push(['minikube', pins.minikube, 'not installed', !needed.includes('minikube')]);
  else {
    const r = await clientVersion(sh, 'minikube', { allowFailure: true });
    const v = minikubeVersion(r.stdout) ?? 'unknown';
    out.push([
      'minikube',
      pins.minikube,
      v,
      (v !== 'unknown' && compareVersions(v, pins.minikube) >= 0) || !needed.includes('minikube'),
    ]);
  }

  if (missing.includes('kubectl')) out.push(['kubectl', `${config.kubernetesVersion} ±1 minor`, 'not installed', false]);
  else {
    const client = await clientVersion(sh, 'kubectl', { allowFailure: true });
    const v = kubectlVersions(client.stdout).client ?? 'unknown';
    const skew = kubectlSkewWarning(v, config.kubernetesVersion);
    out.push(['kubectl', `${config.kubernetesVersion} ±1 minor`, v, v === 'unknown' ? false : (skew ?? true)]);
    const server = await apiServerVersion(sh, '5s', { allowFailure: true });
    const sv = kubectlVersions(server.stdout).server;
    out.push([`Kubernetes (context ${config.context})`, config.kubernetesVersion, sv ?? 'not reachable', true]);
  }

  if (driver) out.push(await driverRow(ctx, driver, missing.includes(driver), needed.includes(driver)));

  if (!ctx.options.dryRun && !existsSync(config.istioctl))
    out.push(['Istio (istioctl)', config.istioVersion, 'not downloaded yet (install-istio gets it)', true]);
  else {
    const r = await clientVersion(sh, 'istioctl', { allowFailure: true });
    const v = istioctlVersion(r.stdout) ?? 'unknown';
    out.push(['Istio (istioctl)', config.istioVersion, v, v === config.istioVersion]);
  }
  return out;
}

/** The driver's CLI, and for docker whether its daemon answers (minikube asks the same before it starts). */
async function driverRow(ctx: Ctx, driver: string, missing: boolean, needed: boolean): Promise<Row> {
  const what = `minikube driver (${driver})`;
  if (missing) return [what, 'running', 'not installed', !needed];
  if (driver !== 'docker') return [what, 'running', 'installed', true];
  const r = await ctx.sh.run('docker', ['version', '--format', '{{.Server.Version}}'], { allowFailure: true });
  if (r.exitCode === 0) return [what, 'running', `running (server ${r.stdout.trim() || '?'})`, true];
  return [what, 'running', 'installed, but the daemon is not running (start Docker)', !needed];
}

export const versions: ActionCommand = {
  kind: 'action',
  name: 'versions',
  reads: ['minikube-start', 'install', 'addons'],
  examples: ['npm run versions'],
  summary: 'print the pinned versions beside what is installed; exit 1 if something needed is missing',
  details: `
The tutorial's "Versions" section for this machine: Node.js, minikube, kubectl, the cluster's Kubernetes
(context from the configuration), the minikube driver and the Istio release, each beside its pin; then the
images that all makes the cluster pull, derived from the release (once it is downloaded).
Runs: minikube -p <profile> version, kubectl --context <ctx> version, istioctl --context <ctx> version --remote=false,
      istioctl --context <ctx> manifest generate (the install's flags; offline).`,
  action: async (ctx) => {
    const table = await rows(ctx);
    if (ctx.options.dryRun) return 0;
    const w = [0, 1, 2].map((i) => Math.max(...table.map((r) => String(r[i]).length), ['what', 'pinned', 'found'][i].length));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(w[i] ?? 0))
        .join('  ')
        .trimEnd();
    const text = [
      line(['what', 'pinned', 'found']),
      ...table.map(([a, b, c, ok]) => line([a, b, c, ok === true ? '' : ok ? `<- warning: ${ok}` : '<- needs attention'])),
    ];
    ctx.out(`${text.join('\n')}\n`);
    if (existsSync(ctx.config.istioctl)) {
      const images = await imagesAhead(ctx);
      ctx.out(`\nImages \`all\` makes the cluster pull (from the rendered install, the addons and the samples):\n`);
      ctx.out(images.map((i) => `  ${i}\n`).join(''));
    } else ctx.out('\nThe images `all` makes the cluster pull are listed here once the release is downloaded (install-istio).\n');
    return table.some((r) => r[3] === false) ? 1 : 0;
  },
};

runIfMain(import.meta.url, versions);
