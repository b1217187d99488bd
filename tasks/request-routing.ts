// istio.io's "Request routing" task: every Bookinfo service to v1, then the user jason to reviews v2. Proof: jason
// sees black stars (v2), everyone else none (v1). The routing before the chapter is put back at its end.
import { bookinfoFile, bookinfoRunning, namespace } from './lib/apps/bookinfo.ts';
import { checkPages, sees } from './lib/apps/bookinfo-checks.ts';
import { runIfMain } from './lib/cli/main.ts';
import { applyFile, endState, noteBefore, restoreBefore, type Scope } from './lib/istio/routing.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const routing: Scope = { kind: 'virtualservice', namespace, what: 'the routing', snapshotIn: namespace };
const allV1 = bookinfoFile('networking/virtual-service-all-v1.yaml');
const jasonV2 = bookinfoFile('networking/virtual-service-reviews-test-v2.yaml');
const end = endState(routing, [allV1, jasonV2]);

const requestRoutingSteps = (): Task[] => [
  noteBefore(routing),
  applyFile('Route every service to v1 (virtual-service-all-v1.yaml)', allV1, end),
  checkPages('Check everyone sees reviews v1 (no stars)', [{ what: 'no stars (reviews v1)', ok: sees.noStars }], end),
  applyFile('Route jason to reviews v2 (virtual-service-reviews-test-v2.yaml)', jasonV2, end),
  checkPages('Check jason sees black stars (v2), everyone else none (v1)', [
    { user: 'jason', what: 'black stars (reviews v2)', ok: sees.blackStars },
    { what: 'no stars (reviews v1)', ok: sees.noStars },
  ]),
  restoreBefore(routing),
];

export const requestRouting: TaskCommand = {
  kind: 'tasks',
  name: 'request-routing',
  track: { mode: 'sidecar' },
  flags: ['keep-routing'],
  summary: "istio.io's request routing: all to v1, then jason to reviews v2 (black stars), proven per user",
  examples: ['npm run request-routing', 'npm run request-routing -- --keep-routing'],
  details: `
Applies the release's virtual-service-all-v1.yaml, then virtual-service-reviews-test-v2.yaml, in ${namespace}; after
each, loads the product page through the ingress gateway as the user jason and anonymously and checks the
stars each sees. At the end the VirtualServices are put back as they were (--keep-routing keeps these).
Needs npm run bookinfo first. On a cluster whose nodes run no containers (the test lab) the checks say so.
Runs: kubectl --context <ctx> version|get|create|apply -f - (stdin)|delete|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, bookinfoRunning, getRelease, ...requestRoutingSteps()],
};

runIfMain(import.meta.url, requestRouting);
