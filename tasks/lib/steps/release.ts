// Getting the pinned Istio release: a step of install-istio, also run first by addons and `all`.
import { formatBytes } from '../istio/download.ts';
import { downloadOf, obtainRelease, releaseReady } from '../istio/release.ts';
import { step } from '../run/step.ts';

export const getRelease = step('Get the Istio release', {
  done: async (ctx) => {
    const { config } = ctx;
    if (config.release.kind === 'given') return `using ISTIO_HOME=${config.istioHome}`;
    return releaseReady(config) && `Istio ${config.istioVersion} is in ${config.istioHome}`;
  },
  run: async (ctx, task) => {
    const { config } = ctx;
    const release = downloadOf(config);
    task.title = `Get Istio ${config.istioVersion} (${release.asset})`;
    // A dry run downloads nothing.
    if (ctx.options.dryRun) {
      ctx.sh.note(`would download ${release.url} and check it against ${release.shaUrl}`);
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
    task.output = `${how === 'cached' ? 'verified cached' : 'downloaded and verified'} ${release.asset}; unpacked into ${config.istioHome}`;
  },
});
