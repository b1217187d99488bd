// istio.io's canary upgrade, the rollback: the tag prod-stable moved back to the previous revision, Bookinfo
// restarted onto it. Proven the same way as the switch. The ingress gateway stays on the new revision: istio.io
// upgrades gateways in place, and moving one back means installing the previous revision's gateway again.
import { proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { runIfMain } from './lib/cli/main.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';
import { pointTag, proveProxiesOn, requireRevision, requireTag, restartBookinfo, stableTag } from './lib/steps/upgrade.ts';

const upgradeRollbackSteps = (): Task[] => [
  requireTag(stableTag),
  requireRevision('previous', 'upgrade-start'),
  pointTag(stableTag, 'previous'),
  restartBookinfo('previous'),
  proveProxiesOn('previous', 'bookinfo'),
  proveProxiesOn('current', 'gateway', ' (gateways are upgraded in place: it stays)'),
  proveProductPage,
];

export const upgradeRollback: TaskCommand = {
  kind: 'tasks',
  name: 'upgrade-rollback',
  track: { mode: 'sidecar' },
  reads: ['upgrade'],
  summary: `the canary upgrade's rollback: the tag ${stableTag} moved back, Bookinfo restarted onto the previous revision`,
  details: `
Points the revision tag ${stableTag} back at the previous Istio's revision, restarts Bookinfo's Deployments and
proves every Bookinfo proxy is that revision's again (its version and its istiod), then the product page. The
ingress gateway stays on the new revision (istio.io upgrades gateways in place). npm run upgrade-switch goes
forward again; npm run upgrade-finish removes the previous revision once the tag is on the new one.
Runs: istioctl --context <ctx> tag set, kubectl --context <ctx> rollout restart|rollout status|get|port-forward.`,
  tasks: () => [clusterReachable, getRelease, ...upgradeRollbackSteps()],
};

runIfMain(import.meta.url, upgradeRollback);
