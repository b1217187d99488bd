// istio.io's "Traffic shifting" task: every service to v1, then reviews 50/50 between v1 and v3, then all to v3.
// Proof: the share of product pages with red stars (reviews v3), over SHIFT_REQUESTS pages, within 10 points of
// the weight. The routing is put back at the end.
import { bookinfoFile, bookinfoRunning, namespace } from './lib/apps/bookinfo.ts';
import { checkRedShare } from './lib/apps/bookinfo-checks.ts';
import { runIfMain } from './lib/cli/main.ts';
import { applyFile, endState, noteBefore, restoreBefore, type Scope } from './lib/istio/routing.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const routing: Scope = { kind: 'virtualservice', namespace, what: 'the routing', snapshotIn: namespace };
const allV1 = bookinfoFile('networking/virtual-service-all-v1.yaml');
const half = bookinfoFile('networking/virtual-service-reviews-50-v3.yaml');
const allV3 = bookinfoFile('networking/virtual-service-reviews-v3.yaml');
const end = endState(routing, [allV1, half, allV3]);

const trafficShiftingSteps = (): Task[] => [
  noteBefore(routing),
  applyFile('Route every service to v1 (virtual-service-all-v1.yaml)', allV1, end),
  applyFile('Shift half of reviews to v3 (virtual-service-reviews-50-v3.yaml)', half, end),
  checkRedShare('Count red stars (v3): about 50% of the pages', 50, end),
  applyFile('Shift all of reviews to v3 (virtual-service-reviews-v3.yaml)', allV3, end),
  checkRedShare('Count red stars (v3): all of the pages', 100),
  restoreBefore(routing),
];

export const trafficShifting: TaskCommand = {
  kind: 'tasks',
  name: 'traffic-shifting',
  track: { mode: 'sidecar', instead: 'ambient-split' },
  reads: ['shift'],
  flags: ['keep-routing'],
  summary: "istio.io's traffic shifting: reviews 50/50 v1/v3, then 100% v3, proven by counting red stars",
  examples: ['npm run traffic-shifting', 'SHIFT_REQUESTS=200 npm run traffic-shifting'],
  details: `
Applies the release's virtual-service-all-v1.yaml, virtual-service-reviews-50-v3.yaml, then
virtual-service-reviews-v3.yaml in ${namespace}; after each shift, loads SHIFT_REQUESTS product pages through the
ingress gateway and counts those with red stars (reviews v3): within 10 points of 50%, then of 100%. The
VirtualServices are put back as they were at the end (--keep-routing keeps these).
Needs npm run bookinfo first. On a cluster whose nodes run no containers (the test lab) the counts say so.
Runs: kubectl --context <ctx> version|get|create|apply -f - (stdin)|delete|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, bookinfoRunning, getRelease, ...trafficShiftingSteps()],
};

runIfMain(import.meta.url, trafficShifting);
