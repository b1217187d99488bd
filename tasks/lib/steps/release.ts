// Getting the pinned Istio release: a step of install-istio, also run first by addons and `all`.
import { formatBytes } from '../download.ts';
import { obtainRelease, releaseReady } from '../release.ts';
import { step } from '../step.ts';

export const getRelease = step('Get the Istio release', {
  done: async (ctx) => {
    const { config } = ctx;
    if (config.istioHomeGiven) return `using ISTIO_HOME=${config.istioHome}`;
    return releaseReady(config) && `Istio ${config.istioVersion} is in ${config.istioHome}`;
  },
  run: async (ctx, task) => {
    const { config } = ctx;
    task.title = `Get Istio ${config.istioVersion} (${config.release.asset})`;
    // A dry run downloads nothing.
    if (ctx.options.dryRun) {
      ctx.sh.note(`would download ${config.release.url} and check it against ${config.release.shaUrl}`);
      return ctx.sh.note(`would unpack it into ${config.istioHome}`);
    }
    let shown = -1;
    const how = await obtainRelease(config, {
      signal: ctx.signal,
      onProgress: (got, total) => {
        const pct = total ? Math.floor((got / total) * 100) : -1;
        if (pct === shown && total) return;
        shown = pct;
        task.output = total ? `${formatBytes(got)} of ${formatBytes(total)} (${pct}%)` : formatBytes(got);
      },
    });
    task.output = `${how === 'cached' ? 'verified cached' : 'downloaded and verified'} ${config.release.asset}; unpacked into ${config.istioHome}`;
  },
});
