// istio.io's ambient track, "Manage traffic": with the waypoint in place, an HTTPRoute on the reviews Service sends
// 90% of its requests to reviews v1 and 10% to v2, and the waypoint carries the split out. Proven as a user would:
// over SHIFT_REQUESTS product pages through the gateway, black stars (v2) on about 10% (within 10 points, at least
// one), and no page from v3.
import { bookinfoFile, gatewayService, namespace } from './lib/apps/bookinfo.ts';
import { checkShare } from './lib/apps/bookinfo-checks.ts';
import { runIfMain } from './lib/cli/main.ts';
import { applyFile } from './lib/istio/routing.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { ambientBookinfoRuns, waypointReady } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const split = bookinfoFile('gateway-api/route-reviews-90-10.yaml');

/** The chapter's own steps, after the waypoint. */
export const ambientSplitSteps = (): Task[] => [
  applyFile('Split reviews 90/10 between v1 and v2, through the waypoint (gateway-api/route-reviews-90-10.yaml)', split),
  checkShare('Count black stars (v2): about 10% of the pages, none from v3', {
    bucket: 'black',
    what: 'black stars',
    percent: 10,
    via: gatewayService,
    only: ['none', 'black'],
  }),
];

export const ambientSplit: TaskCommand = {
  kind: 'tasks',
  name: 'ambient-split',
  track: { mode: 'ambient', instead: 'traffic-shifting' },
  reads: ['shift'],
  summary: "istio.io's ambient traffic management: an HTTPRoute splits reviews 90/10 at the waypoint, proven by counting stars",
  examples: ['ISTIO_MODE=ambient npm run ambient-split', 'ISTIO_MODE=ambient SHIFT_REQUESTS=200 npm run ambient-split'],
  details: `
Needs ambient-waypoint first (an HTTPRoute on a Service is carried out by the Service's waypoint). Applies the
release's samples/bookinfo/gateway-api/route-reviews-90-10.yaml in ${namespace} (reviews-v1 90, reviews-v2 10),
then loads SHIFT_REQUESTS product pages through the gateway and counts those with black stars (reviews v2):
within 10 points of 10% and at least one, every other page without stars (v1). The route stays; teardown removes it.
On a cluster whose nodes run no containers (the test lab) the count says so.
Runs: kubectl --context <ctx> get|apply -f -|port-forward.`,
  tasks: () => [...ambientBookinfoRuns(), waypointReady, getRelease, ...ambientSplitSteps()],
};

runIfMain(import.meta.url, ambientSplit);
