// istio.io's canary upgrade, the end: once every proxy is on the new revision, the default tag moved to it too and
// the previous revision uninstalled (`istioctl uninstall --revision`). Proven by what is left: no istiod, webhook or
// tag of the previous revision, every tag on the new one, every proxy the new revision's.
import { names } from './config.ts';
import { proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { istioctlOf, istiodOf, proxyOf, tagRevision } from './lib/istio/revisions.ts';
import { getObject, inNamespace, labelOf, listObjects, type ReadOptions } from './lib/kube/kube.ts';
import { livePods, type Pod } from './lib/kube/pods.ts';
import { judgeSeen, observe } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';
import { endOf, pointTag, proveProxiesOn, requireRevision, requireTag, stableTag } from './lib/steps/upgrade.ts';

const { revisionLabel } = names.upgrade;
const tagLabel = 'istio.io/tag';

const tagMoved = step(`Check the tag ${stableTag} is on the new revision`, {
  run: async (ctx, task) => {
    const { revision } = endOf(ctx.config, 'current');
    const at = await tagRevision(ctx, stableTag);
    await judgeSeen(ctx, at, () => {
      if (at !== revision)
        throw new StepError(
          `the tag ${stableTag} points at revision ${at}, not ${revision}`,
          'run `npm run upgrade-switch` first',
        );
      task.output = `${stableTag} -> ${at}`;
    });
  },
});

/** The webhooks of every revision and tag: each carries its revision's label, a tag's its tag's too. */
async function webhooks(ctx: Ctx, o: ReadOptions = {}) {
  const kinds = ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'];
  return (await Promise.all(kinds.map((kind) => listObjects(ctx, { kind }, o)))).flat();
}

/** What still points at the previous revision: its istiod, its webhooks, tags on it. */
async function leftOf(ctx: Ctx, revision: string, o: ReadOptions = {}): Promise<string[]> {
  const istiod = (await getObject(ctx, istiodOf(revision), o)) ? [`deployment istiod-${revision}`] : [];
  const hooks = (await webhooks(ctx, o))
    .filter((w) => labelOf(w, revisionLabel) === revision)
    .map((w) => `${w.kind} ${w.metadata?.name}${labelOf(w, tagLabel) ? ` (tag ${labelOf(w, tagLabel)})` : ''}`);
  return [...istiod, ...hooks];
}

const uninstallPrevious = step('Uninstall the previous revision (istioctl uninstall --revision)', {
  done: async (ctx) => {
    const { revision } = endOf(ctx.config, 'previous');
    // Not only its istiod: an uninstall cut short may have left its webhooks, which a re-run must remove.
    return (await leftOf(ctx, revision)).length === 0 && `nothing of revision ${revision} is installed`;
  },
  run: async (ctx, task) => {
    const previous = endOf(ctx.config, 'previous');
    const current = endOf(ctx.config, 'current');
    task.title = `Uninstall revision ${previous.revision} (Istio ${previous.version})`;
    await istioctlOf(ctx, current, ['uninstall', '--revision', previous.revision, '-y'], {
      onLine: (l) => {
        if (/[A-Za-z]/.test(l)) task.output = l;
      },
    });
  },
});

// The API server removes what istioctl deleted a moment later: asked until it is gone, or the wait ends.
const proveGone = step('Prove nothing points at the previous revision (istiod, webhooks, tags)', {
  run: async (ctx, task) => {
    const previous = endOf(ctx.config, 'previous');
    const current = endOf(ctx.config, 'current');
    const look = async () => ({
      // Asked anew each time: the API server removes what istioctl deleted a moment later.
      left: await leftOf(ctx, previous.revision, { fresh: true }),
      tags: (await webhooks(ctx, { fresh: true })).filter(
        (w) => w.kind === 'MutatingWebhookConfiguration' && labelOf(w, tagLabel),
      ),
    });
    await observe(
      ctx,
      look,
      ({ left }) => left.length === 0,
      ({ left, tags }) => {
        if (left.length) throw new StepError(`still there for revision ${previous.revision}: ${left.join(', ')}`);
        const elsewhere = tags.filter((t) => labelOf(t, revisionLabel) !== current.revision);
        if (elsewhere.length)
          throw new StepError(
            `tags not on revision ${current.revision}: ${elsewhere.map((t) => `${labelOf(t, tagLabel)} -> ${labelOf(t, revisionLabel)}`).join(', ')}`,
          );
        task.output = `no istiod or webhook of revision ${previous.revision}; tags ${tags.map((t) => labelOf(t, tagLabel)).join(', ')} on ${current.revision}`;
      },
      { waiting: { task, says: ({ left }) => `waiting for ${left.length} object(s) of revision ${previous.revision} to go` } },
    );
  },
});

// Any proxy in the cluster, not only Bookinfo's: a workload the switch did not restart would lose its control plane.
const noProxyLeft = step('Check no proxy in the cluster is left on the previous revision', {
  run: async (ctx, task) => {
    const { revision } = endOf(ctx.config, 'previous');
    // Namespace by namespace: a read of every namespace's pods at once is not answered in-process as kubectl would.
    const namespaces = (await listObjects(ctx, { kind: 'namespace' })).map((n) => n.metadata?.name ?? '');
    const inEach = await Promise.all(
      namespaces.map(async (ns) =>
        (await listObjects(ctx, inNamespace(ns, 'pods'))).map((p) => ({ ...(p as unknown as Pod), namespace: ns })),
      ),
    );
    const pods = livePods(inEach.flat());
    await judgeSeen(ctx, pods, () => {
      const left = pods.filter((p) => proxyOf(p)?.revision === revision);
      if (left.length)
        throw new StepError(
          `proxies still on revision ${revision}: ${left.map((p) => `${p.namespace}/${p.metadata.name}`).join(', ')}`,
          `restart them onto the new revision (kubectl rollout restart), or label their namespace istio.io/rev=${stableTag}`,
        );
      task.output = `${pods.filter((p) => proxyOf(p)).length} proxies, none on revision ${revision}`;
    });
  },
});

const upgradeFinishSteps = (): Task[] => [
  requireTag(stableTag),
  requireRevision('current', 'upgrade-canary'),
  tagMoved,
  proveProxiesOn('current', 'both'),
  noProxyLeft,
  pointTag('default', 'current'),
  uninstallPrevious,
  proveGone,
  proveProductPage,
];

export const upgradeFinish: TaskCommand = {
  kind: 'tasks',
  name: 'upgrade-finish',
  track: { mode: 'sidecar' },
  reads: ['upgrade'],
  // What it removes must be there to show its removal: the dry run stands for a cluster where the upgrade has run.
  dryRunView: 'finished',
  summary: 'the canary upgrade done: the previous revision uninstalled, nothing left pointing at it',
  details: `
Needs npm run upgrade-switch first (the tag ${stableTag} on the new revision). Proves every proxy is on the new
revision, points the default tag at it too (istioctl tag set default), uninstalls the previous revision with
istioctl uninstall --revision <rev> -y, and proves nothing points at it any more: no istiod, no webhook of it, every
tag on the new revision. Then the product page.
Runs: istioctl --context <ctx> tag set|uninstall --revision <rev> -y, kubectl --context <ctx> get|port-forward.`,
  tasks: () => [clusterReachable, getRelease, ...upgradeFinishSteps()],
};

runIfMain(import.meta.url, upgradeFinish);
