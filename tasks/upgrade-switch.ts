// istio.io's canary upgrade, the switch: the tag prod-stable moved to the new revision, Bookinfo's Deployments
// restarted so its webhook injects them. Proven by each proxy's revision, version and istiod (Bookinfo's and the
// gateway's), and the product page answering as before. Run after upgrade-rollback, it goes forward again.
import { proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { runIfMain } from './lib/cli/main.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';
import { pointTag, proveProxiesOn, requireRevision, requireTag, restartBookinfo, stableTag } from './lib/steps/upgrade.ts';

const upgradeSwitchSteps = (): Task[] => [
  requireTag(stableTag),
  requireRevision('current', 'upgrade-canary'),
  pointTag(stableTag, 'current'),
  restartBookinfo('current'),
  proveProxiesOn('current', 'both'),
  proveProductPage,
];

export const upgradeSwitch: TaskCommand = {
  kind: 'tasks',
  name: 'upgrade-switch',
  track: { mode: 'sidecar' },
  reads: ['upgrade'],
  summary: `the canary upgrade's switch: the tag ${stableTag} moved to the new revision, Bookinfo restarted onto it`,
  details: `
Needs npm run upgrade-canary first. Points the revision tag ${stableTag} at the pinned Istio's revision
(istioctl tag set --overwrite), restarts Bookinfo's Deployments (kubectl rollout restart) so that revision's
webhook injects them, and proves every proxy (Bookinfo's and the ingress gateway's) is that revision's: its
version and its istiod; then the product page. After npm run upgrade-rollback it goes forward again.
Runs: istioctl --context <ctx> tag set, kubectl --context <ctx> rollout restart|rollout status|get|port-forward.`,
  tasks: () => [clusterReachable, getRelease, ...upgradeSwitchSteps()],
};

runIfMain(import.meta.url, upgradeSwitch);
