// Images ahead of need (minikube only): once the node is up and the release is here, minikube pulls every image
// the later chapters will use, in parallel and in the background, into its host cache and then the node. With
// --overwrite=false an image already in the host cache is not downloaded again, so a run after teardown (which
// deletes the profile, not the cache) does not need the registry for them.

import { fullImageName, imagesAhead } from '../apps/images.ts';
import { failureReason } from '../exec/failure.ts';
import { backgroundWork } from '../run/background.ts';
import type { Result } from '../run/commands.ts';
import { step } from '../run/step.ts';
import type { Ctx } from '../run/types.ts';

/** The images loaded in the background while the chapters in between run. */
const loading = backgroundWork<Result>();
const onMinikube = (ctx: Ctx) => ctx.config.cluster.kind === 'minikube';

/** The images `all` will need that the node does not have yet. */
async function missingImages(ctx: Ctx): Promise<{ all: string[]; missing: string[] }> {
  const all = await imagesAhead(ctx);
  const listed = await ctx.sh.minikube(['image', 'ls'], { read: true, allowFailure: true });
  const present = new Set(
    listed.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map(fullImageName),
  );
  return { all, missing: all.filter((image) => !present.has(image)) };
}

export const pullImagesAhead = step('Pull the images the chapters will use, in the background (minikube image load)', {
  enabled: onMinikube,
  done: async (ctx) => {
    const { all, missing } = await missingImages(ctx);
    return missing.length === 0 && `the node has all ${all.length} images`;
  },
  run: async (ctx, task) => {
    const { missing } = await missingImages(ctx);
    if (ctx.options.dryRun)
      ctx.sh.note('dry run: the list is derived at run time from the rendered install, the addons and the samples');
    task.output = missing.join('\n');
    const load = ctx.sh.minikube(['image', 'load', '--overwrite=false', ...missing], { allowFailure: true });
    loading.start(ctx, load);
  },
});

export const finishImagesAhead = step('Finish pulling the images ahead', {
  enabled: onMinikube,
  done: async (ctx) => !loading.started(ctx) && 'none were missing',
  run: async (ctx, task) => {
    const r = await loading.started(ctx);
    if (!r || r.exitCode === 0) return;
    // Not the run's failure: the cluster pulled what it needed itself. Say why the cache was not filled.
    const why = failureReason('minikube', r.stderr).reason ?? `exit ${r.exitCode}`;
    ctx.sh.note(`images ahead not loaded: ${why}`);
    task.title = `${task.title} (not done: ${why}; the cluster pulled its images itself)`;
  },
});
