// Getting an Istio release: the pinned one (a step of install-istio, also run first by addons and `all`), and the
// previous one the upgrade chapters start from, downloaded and verified the same way.
import type { Config, IstioRelease } from '../../config.ts';
import { formatBytes } from '../istio/download.ts';
import { downloadOf, obtainRelease, releaseReady } from '../istio/release.ts';
import { step } from '../run/step.ts';
import type { Task } from '../run/types.ts';

/** The pinned release as the configuration holds it. */
const current = (config: Config): IstioRelease => ({
  version: config.istioVersion,
  istioHome: config.istioHome,
  istioctl: config.istioctl,
  release: config.release,
});

function getReleaseOf(title: string, of: (config: Config) => IstioRelease, homeSetting: string): Task {
  return step(title, {
    done: async (ctx) => {
      const r = of(ctx.config);
      if (r.release.kind === 'given') return `using ${homeSetting}=${r.istioHome}`;
      return releaseReady(r) && `Istio ${r.version} is in ${r.istioHome}`;
    },
    run: async (ctx, task) => {
      const r = of(ctx.config);
      const release = downloadOf(r);
      task.title = `Get Istio ${r.version} (${release.asset})`;
      // A dry run downloads nothing.
      if (ctx.options.dryRun) {
        ctx.sh.note(`would download ${release.url} and check it against ${release.shaUrl}`);
        return ctx.sh.note(`would unpack it into ${r.istioHome}`);
      }
      let shown = -1;
      const how = await obtainRelease(r, {
        signal: ctx.signal,
        onProgress: (got, total) => {
          const pct = total ? Math.floor((got / total) * 100) : -1;
          if (pct === shown && total) return;
          shown = pct;
          task.output = total ? `${formatBytes(got)} of ${formatBytes(total)} (${pct}%)` : formatBytes(got);
        },
      });
      task.output = `${how === 'cached' ? 'verified cached' : 'downloaded and verified'} ${release.asset}; unpacked into ${r.istioHome}`;
    },
  });
}

export const getRelease = getReleaseOf('Get the Istio release', current, 'ISTIO_HOME');
export const getPreviousRelease = getReleaseOf(
  'Get the previous Istio release (ISTIO_PREVIOUS_VERSION)',
  (config) => config.previous,
  'ISTIO_PREVIOUS_HOME',
);
