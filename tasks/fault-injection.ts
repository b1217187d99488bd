// istio.io's "Fault injection" task, on the request routing (all to v1, jason to reviews v2): a 7 s delay on
// ratings for jason, then an HTTP 500 abort. Proof: jason's page loses its reviews (the delay outlasts
// productpage's timeout), then its ratings; everyone else's page is unaffected. The routing is put back at the end.
import { bookinfoFile, bookinfoRunning, namespace } from './lib/apps/bookinfo.ts';
import { checkPages, sees } from './lib/apps/bookinfo-checks.ts';
import { runIfMain } from './lib/cli/main.ts';
import { applyFile, endState, noteBefore, restoreBefore, type Scope } from './lib/istio/routing.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const routing: Scope = { kind: 'virtualservice', namespace, what: 'the routing', snapshotIn: namespace };
const others = { what: 'the reviews, no stars (unaffected)', ok: sees.noStars };
const allV1 = bookinfoFile('networking/virtual-service-all-v1.yaml');
const jasonV2 = bookinfoFile('networking/virtual-service-reviews-test-v2.yaml');
const delay = bookinfoFile('networking/virtual-service-ratings-test-delay.yaml');
const abort = bookinfoFile('networking/virtual-service-ratings-test-abort.yaml');
const end = endState(routing, [allV1, jasonV2, delay, abort]);

const faultInjectionSteps = (): Task[] => [
  noteBefore(routing),
  applyFile("Apply the task's routing: every service to v1 (virtual-service-all-v1.yaml)", allV1, end),
  applyFile("Apply the task's routing: jason to reviews v2 (virtual-service-reviews-test-v2.yaml)", jasonV2, end),
  applyFile('Delay ratings 7 s for jason (virtual-service-ratings-test-delay.yaml)', delay, end),
  checkPages(
    "Check jason's reviews are unavailable (the delay outlasts productpage's timeout), others' are not",
    [{ user: 'jason', what: '"Error fetching product reviews"', ok: sees.reviewsUnavailable }, others],
    end,
  ),
  applyFile('Abort ratings with HTTP 500 for jason (virtual-service-ratings-test-abort.yaml)', abort, end),
  checkPages("Check jason's ratings are unavailable, others' page is unaffected", [
    { user: 'jason', what: '"Ratings service is currently unavailable"', ok: sees.ratingsUnavailable },
    others,
  ]),
  restoreBefore(routing),
];

export const faultInjection: TaskCommand = {
  kind: 'tasks',
  name: 'fault-injection',
  track: { mode: 'sidecar' },
  flags: ['keep-routing'],
  summary: "istio.io's fault injection: a 7 s delay, then an HTTP 500 abort, on ratings for jason only",
  examples: ['npm run fault-injection', 'npm run fault-injection -- --keep-routing'],
  details: `
Applies the task's routing (virtual-service-all-v1.yaml, virtual-service-reviews-test-v2.yaml), then
virtual-service-ratings-test-delay.yaml and virtual-service-ratings-test-abort.yaml in ${namespace}; after each
fault, loads the product page as jason and anonymously: jason's reviews, then ratings, are unavailable; the
anonymous page is unaffected. The VirtualServices are put back as they were at the end (--keep-routing keeps).
Needs npm run bookinfo first. On a cluster whose nodes run no containers (the test lab) the checks say so.
Runs: kubectl --context <ctx> version|get|create|apply -f - (stdin)|delete|port-forward.`,
  tasks: () => [clusterReachable, istioRunning, bookinfoRunning, getRelease, ...faultInjectionSteps()],
};

runIfMain(import.meta.url, faultInjection);
