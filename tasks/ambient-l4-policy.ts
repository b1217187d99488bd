// istio.io's ambient track, "Enforce authorization policies", layer 4: ztunnel enforces who may connect at all, by
// workload identity, with no sidecar and no waypoint. Only the gateway may reach productpage: the product page still
// answers through the gateway, and the curl client inside the mesh has its connection reset (curl exit 56).

import { names } from './config.ts';
import { checkFromClient, checkPageThroughGateway, expect } from './lib/apps/ambient-checks.ts';
import { accounts, l4Policy } from './lib/apps/ambient-policies.ts';
import { namespace } from './lib/apps/bookinfo.ts';
import { deployMeshClient } from './lib/apps/in-mesh-client.ts';
import { runIfMain } from './lib/cli/main.ts';
import { inPlace } from './lib/kube/in-place.ts';
import { field, labelPath, namespaceRef, onObjects } from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { ambientBookinfoRuns } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

/**
 * After ambient-waypoint, Bookinfo's requests go through its waypoint, whose L7 policy decides, and the L4 policy lets
 * the waypoint in too: this chapter's policy and check are behind the user, not to be redone over that.
 */
async function pastThisChapter(ctx: Ctx): Promise<string | false> {
  const used = await field(ctx, namespaceRef(namespace), labelPath(names.ambient.useWaypointLabel));
  return (
    used === names.ambient.waypoint &&
    `${namespace} goes through its waypoint now (ambient-waypoint ran); npm run teardown starts the guide over`
  );
}

const policy = l4Policy([accounts.gateway]);
const allowGatewayOnly = step(
  `Let only the gateway connect to productpage (L4 AuthorizationPolicy by principal: sa/${accounts.gateway})`,
  {
    done: async (ctx) =>
      (await pastThisChapter(ctx)) || ((await inPlace(ctx, policy().docs)) && 'AuthorizationPolicy/productpage-ztunnel in place'),
    run: async (ctx) => {
      const { docs, label } = policy();
      await onObjects(ctx, 'apply', docs, { label });
    },
  },
);

/** The chapter's own steps, after Bookinfo is in the ambient mesh. */
export const ambientL4Steps = (): Task[] => [
  ...deployMeshClient(),
  allowGatewayOnly,
  checkPageThroughGateway('Check the product page still answers through the gateway'),
  checkFromClient(`Check the client's connection to productpage is reset (curl exit 56)`, [expect.reset], pastThisChapter),
];

export const ambientL4Policy: TaskCommand = {
  kind: 'tasks',
  name: 'ambient-l4-policy',
  track: { mode: 'ambient', instead: 'mtls' },
  summary: "istio.io's ambient L4 authorization: only the gateway's identity may connect to productpage",
  examples: ['ISTIO_MODE=ambient npm run ambient-l4-policy', 'ISTIO_MODE=ambient npm run ambient-l4-policy -- --dry-run'],
  details: `
Needs ambient-bookinfo first. Deploys the release's samples/curl/curl.yaml into ${namespace} (in the mesh with
it), then an AuthorizationPolicy productpage-ztunnel that allows connections to productpage only from the
principal cluster.local/ns/${namespace}/sa/${accounts.gateway} (the gateway's workload identity; ztunnel
enforces it at L4, with mutual TLS). Then loads /productpage through the gateway (it still answers) and has
curl in the client fetch it (ztunnel resets the connection: curl exit 56). The policy stays: ambient-waypoint
builds on it, and once it has run this chapter has nothing left to do. On a cluster whose nodes run no
containers (the test lab) the checks say so.
Runs: kubectl --context <ctx> get|apply -f -|rollout status|port-forward|exec.`,
  tasks: () => [...ambientBookinfoRuns(), getRelease, ...ambientL4Steps()],
};

runIfMain(import.meta.url, ambientL4Policy);
