// istio.io's ambient track, "Enforce authorization policies", layer 7: a waypoint proxy for the namespace, and an
// L7 policy it enforces on productpage: the curl client may GET, nothing else. The L4 policy then lets the waypoint
// connect too (it is the waypoint, not the client, that connects to productpage). Proven as a user would: GET gets
// the page, DELETE gets "RBAC: access denied".

import { names } from './config.ts';
import { checkFromClient, expect } from './lib/apps/ambient-checks.ts';
import { accounts, l4Policy, l7Policy } from './lib/apps/ambient-policies.ts';
import { namespace } from './lib/apps/bookinfo.ts';
import { deployMeshClient } from './lib/apps/in-mesh-client.ts';
import { runIfMain } from './lib/cli/main.ts';
import { applyFile } from './lib/istio/routing.ts';
import { programmedPath } from './lib/kube/fields.ts';
import { field, inNamespace, labelPath, namespaceRef } from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { ambientBookinfoRuns, gatewayApiInstalled } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const { waypoint, useWaypointLabel } = names.ambient;
const waypointGateway = inNamespace(namespace, 'gateways.gateway.networking.k8s.io', waypoint);

const deployWaypoint = step(`Deploy a waypoint for ${namespace} and enrol the namespace (istioctl waypoint apply)`, {
  done: async (ctx) => {
    const [programmed, used] = await Promise.all([
      field(ctx, waypointGateway, programmedPath),
      field(ctx, namespaceRef(namespace), labelPath(useWaypointLabel)),
    ]);
    return programmed === 'True' && used === waypoint && `waypoint ${waypoint} is Programmed and ${namespace} uses it`;
  },
  run: async (ctx, task) => {
    const wait = ['--wait', '--waypoint-timeout', ctx.config.waitTimeout];
    await ctx.sh.istioctl(['waypoint', 'apply', '-n', namespace, '--enroll-namespace', ...wait], {
      onLine: (l) => (task.output = l),
    });
  },
});

const l7 = applyFile(
  `Let only the client GET productpage, at the waypoint (L7 AuthorizationPolicy: sa/${accounts.client}, GET)`,
  l7Policy,
);

const letWaypointIn = applyFile(
  `Let the waypoint connect to productpage too (L4 policy: + sa/${waypoint})`,
  l4Policy([accounts.gateway, accounts.waypoint]),
);

/** The chapter's own steps, after the L4 policy chapter. */
export const ambientWaypointSteps = (): Task[] => [
  ...deployMeshClient(),
  deployWaypoint,
  l7,
  letWaypointIn,
  checkFromClient('Check the client may GET the product page and may not DELETE it (RBAC: access denied)', [
    expect.page,
    expect.rbacDenied('DELETE'),
  ]),
];

export const ambientWaypoint: TaskCommand = {
  kind: 'tasks',
  name: 'ambient-waypoint',
  track: { mode: 'ambient' },
  summary: "istio.io's ambient L7 authorization: a waypoint for Bookinfo, and a policy it enforces per method",
  examples: ['ISTIO_MODE=ambient npm run ambient-waypoint', 'ISTIO_MODE=ambient npm run ambient-waypoint -- --dry-run'],
  details: `
Needs ambient-bookinfo first (ambient-l4-policy before it, as istio.io goes). Deploys the curl client if
missing, runs istioctl waypoint apply -n ${namespace}
--enroll-namespace --wait (a Gateway-API Gateway of class istio-waypoint, and the namespace label
${useWaypointLabel}=${waypoint}), then an AuthorizationPolicy productpage-waypoint on the productpage Service: the
principal of sa/${accounts.client} may GET. The L4 policy productpage-ztunnel is extended with the waypoint's own
identity. Then the curl client GETs /productpage (HTTP 200) and DELETEs it (HTTP 403, RBAC: access denied).
On a cluster whose nodes run no containers (the test lab) the check says so.
Runs: istioctl --context <ctx> waypoint apply, kubectl --context <ctx> get|apply -f -|exec.`,
  tasks: () => [...ambientBookinfoRuns(), gatewayApiInstalled, getRelease, ...ambientWaypointSteps()],
};

runIfMain(import.meta.url, ambientWaypoint);
