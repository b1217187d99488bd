// `dashboard ADDON`: an addon's web UI on this machine, like `istioctl dashboard`: kubectl port-forward to its
// Service on 127.0.0.1 (a free local port, chosen by kubectl), the URL printed, until Ctrl-C. It works on every
// driver, also where the node's IP is not reachable from the host (docker driver on macOS and Windows).
import { type Addon, addons, names } from './config.ts';
import { didYouMean } from './lib/base/did-you-mean.ts';
import { isAbortError, StepError, UsageError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { inNamespace, portForwardArgs } from './lib/kube/kube.ts';
import { forwardedPort } from './lib/kube/port-forward.ts';
import type { ActionCommand, Ctx } from './lib/run/types.ts';
import { requireCluster } from './lib/steps/prerequisites.ts';

function addonNamed(args: string[]): Addon {
  const known = addons.map((a) => a.name).join(', ');
  if (args.length !== 1) throw new UsageError(`dashboard needs one ADDON: ${known} (npm run dashboard -- grafana)`);
  const addon = addons.find((a) => a.name === args[0].toLowerCase());
  if (!addon)
    throw new UsageError(
      `unknown addon '${args[0]}'${didYouMean(
        args[0].toLowerCase(),
        addons.map((a) => a.name),
      )}; known: ${known}`,
    );
  return addon;
}

const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';

export const dashboard: ActionCommand = {
  kind: 'action',
  name: 'dashboard',
  args: 'ADDON',
  flags: ['open'],
  summary: "an addon's web UI at http://127.0.0.1:<port> through kubectl port-forward, until Ctrl-C",
  examples: ['npm run dashboard -- grafana', 'npm run dashboard -- zipkin --open'],
  details: `
Forwards a free local port on 127.0.0.1 to the addon's Service in ${names.istioNamespace} (kubectl port-forward,
through the API server: no NodePort or node IP needed, so it works with every minikube driver) and prints
the URL; --open also opens it (${opener}). Stays until Ctrl-C, then stops kubectl. Addons: ${addons.map((a) => a.name).join(', ')}.
Runs: kubectl --context <ctx> -n ${names.istioNamespace} port-forward service/<service> :<port> --address 127.0.0.1.`,
  checkArgs: (args) => void addonNamed(args),
  action: async (ctx: Ctx, args) => {
    await requireCluster(ctx);
    const addon = addonNamed(args);
    const { service, port, path } = addon.ui;
    let url: string | undefined;
    try {
      await ctx.sh.kubectl(portForwardArgs(inNamespace(names.istioNamespace, 'service', service), port), {
        onLine: (line) => {
          const local = forwardedPort(line);
          if (!local || url) return;
          url = `http://127.0.0.1:${local}${path}`;
          ctx.out(`${addon.title}: ${url}   (Ctrl-C to stop)\n`);
          if (ctx.options.open) ctx.sh.launch(opener, [url]);
        },
      });
    } catch (e) {
      if (url && isAbortError(e)) return 0; // Ctrl-C: the normal end of a dashboard
      throw e;
    }
    if (ctx.options.dryRun) return 0; // nothing was forwarded
    throw new StepError(`kubectl port-forward to ${service} ended${url ? '' : ' before it forwarded'}`);
  },
};

runIfMain(import.meta.url, dashboard);
