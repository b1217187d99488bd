// istio.io's canary upgrade, the canary: `istioctl x precheck` first (its findings shown), then the pinned Istio
// installed beside the previous one as a revision of its own. Its install upgrades the ingress gateway in place (as
// istio.io says gateways are upgraded); Bookinfo stays on the previous revision until the tag moves. Proven by which
// control plane each proxy was given, and the product page still answering.
import { proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { istioctlOf } from './lib/istio/revisions.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';
import {
  endOf,
  installRevision,
  proveProxiesOn,
  requireRevision,
  requireTag,
  revisionVersion,
  stableTag,
} from './lib/steps/upgrade.ts';

// What istio.io asks before any upgrade. Shown as it is: its findings (IST0169 and the compatibilityVersion hint
// among them, where they apply) are for the user to read; a failing precheck stops the upgrade.
const precheck = step('Check the cluster for the upgrade (istioctl x precheck)', {
  done: async (ctx) => {
    const { revision, version } = endOf(ctx.config, 'current');
    return (await revisionVersion(ctx, revision)) === version && `revision ${revision} is installed`;
  },
  run: async (ctx, task) => {
    const current = endOf(ctx.config, 'current');
    const r = await istioctlOf(ctx, current, ['x', 'precheck'], { allowFailure: true });
    const findings = `${r.stdout}${r.stderr}`.trim();
    if (r.exitCode !== 0)
      throw new StepError(
        `istioctl x precheck found what stops the upgrade: ${findings.split('\n').slice(0, 3).join(' ')}`,
        'read its findings in the log; a compatibilityVersion setting may keep the previous behaviour',
      );
    task.output = findings;
  },
});

const upgradeCanarySteps = (): Task[] => [
  requireTag(stableTag),
  requireRevision('previous', 'upgrade-start'),
  getRelease,
  precheck,
  installRevision('current'),
  proveProxiesOn('current', 'gateway', ' (upgraded in place)'),
  proveProxiesOn('previous', 'bookinfo', ` (the tag ${stableTag} has not moved)`),
  proveProductPage,
];

export const upgradeCanary: TaskCommand = {
  kind: 'tasks',
  name: 'upgrade-canary',
  track: { mode: 'sidecar' },
  reads: ['install', 'upgrade'],
  summary: 'the canary upgrade: istioctl x precheck, then the pinned Istio installed beside the previous one',
  details: `
Needs npm run upgrade-start first. Runs the pinned release's istioctl x precheck (its findings shown; a failing
precheck stops here), then installs the pinned Istio as revision <version with dashes> beside the previous one,
with the same profile, tracing and overlay. The ingress gateway moves to the new revision in place (as istio.io
says gateways are upgraded); Bookinfo stays on the previous revision until the tag ${stableTag} moves
(npm run upgrade-switch). Proven by each proxy's revision, version and istiod, and the product page.
Runs: istioctl --context <ctx> x precheck|install --set revision=<rev> ..., kubectl --context <ctx> get|port-forward.`,
  tasks: () => [clusterReachable, ...upgradeCanarySteps()],
};

runIfMain(import.meta.url, upgradeCanary);
