// istio.io's mutual TLS task, mesh-wide: a client inside the mesh and one outside it (no sidecar) call Bookinfo's
// productpage; a PeerAuthentication in istio-system turns STRICT on, so only the client inside gets through; then
// it goes back to PERMISSIVE, where both do. The PeerAuthentications before the chapter are put back at its end.
import { names } from './config.ts';
import { bookinfoRunning, namespace } from './lib/apps/bookinfo.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { releaseFile } from './lib/istio/release-file.ts';
import { applyFile, type EndState, endState, noteBefore, restoreBefore, type Scope } from './lib/istio/routing.ts';
import { cannotLookHere } from './lib/kube/data-plane.ts';
import { available, execArgs, getObject, inNamespace, ourLabels, rolloutStatus } from './lib/kube/kube.ts';
import { observe } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';
import { getRelease } from './lib/steps/release.ts';

const { outside, client, peerAuthentication } = names.bookinfo;
const modes: Scope = {
  kind: 'peerauthentication',
  namespace: names.istioNamespace,
  what: 'the mTLS mode',
  snapshotIn: namespace,
};
const target = `http://productpage.${namespace}:9080/productpage`;

const createOutsideNamespace = ownNamespace(
  `Create the namespace ${outside}, without sidecar injection (outside the mesh)`,
  outside,
);

const clientIn = (ns: string) => (ctx: Ctx) => releaseFile(ctx, 'curl/curl.yaml', ns);

const clientRef = (ns: string) => inNamespace(ns, 'deployment', client);

const waitForClients = step('Wait for both clients to be ready', {
  done: async (ctx) => {
    const both = await Promise.all([namespace, outside].map((ns) => getObject(ctx, clientRef(ns))));
    return both.every(available) && 'both are Available';
  },
  run: async (ctx) => {
    for (const ns of [namespace, outside]) await rolloutStatus(ctx, clientRef(ns));
  },
});

/** Whether `client` in `ns` gets the product page: `true`, or what curl got instead; kubectl's own failure throws. */
async function reaches(ctx: Ctx, ns: string): Promise<true | string> {
  const curl = ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', target];
  const r = await ctx.sh.kubectl(execArgs(clientRef(ns), client, curl), { allowFailure: true });
  if (r.exitCode === 0 && r.stdout.trim() === '200') return true;
  const curlExit = /command terminated with exit code (\d+)/.exec(r.stderr)?.[1];
  if (r.exitCode !== 0 && !curlExit)
    throw new StepError(`kubectl exec into ${client} in ${ns}: ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`);
  return `HTTP ${r.stdout.trim() || '000'}${curlExit ? `, curl exit ${curlExit}` : ''}`;
}

function checkClients(title: string, outsideGetsIn: boolean, onTheWay?: EndState): Task {
  return step(title, {
    done: async (ctx) => (await onTheWay?.reached(ctx)) ?? false,
    run: async (ctx, task) => {
      if (await cannotLookHere(ctx, task)) return;
      // A new mTLS mode reaches the proxies a moment after it is applied: ask until it shows, or the wait ends.
      const ask = async () => [await reaches(ctx, namespace), await reaches(ctx, outside)] as const;
      await observe(
        ctx,
        ask,
        ([inside, out]) => inside === true && (out === true) === outsideGetsIn,
        ([inside, fromOutside]) => {
          if (inside !== true) throw new StepError(`the client inside the mesh (${namespace}) was refused: ${inside}`);
          if ((fromOutside === true) !== outsideGetsIn)
            throw new StepError(
              `the client outside the mesh (${outside}) ${outsideGetsIn ? `was refused: ${fromOutside}` : 'got through, though mTLS is STRICT'}`,
            );
          task.output = `inside: HTTP 200; outside: ${fromOutside === true ? 'HTTP 200' : `refused (${fromOutside})`}`;
          ctx.sh.note(task.output);
        },
        {
          waiting: {
            task,
            says: ([, out]) => `waiting for the mode to reach the proxies (outside: ${out === true ? 'HTTP 200' : out})`,
          },
        },
      );
    },
  });
}

const meshWide = (mode: 'STRICT' | 'PERMISSIVE') => () => {
  const docs = [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: peerAuthentication, namespace: names.istioNamespace, labels: ourLabels() },
      spec: { mtls: { mode } },
    },
  ];
  return { docs, label: `PeerAuthentication/${peerAuthentication} (mtls: ${mode})` };
};

// The chapter ends on PERMISSIVE, under the same name as STRICT.
const end = endState(modes, [meshWide('PERMISSIVE')]);

const mtlsSteps = (): Task[] => [
  noteBefore(modes),
  createOutsideNamespace,
  applyFile(`Deploy a client inside the mesh (curl in ${namespace})`, clientIn(namespace)),
  applyFile(`Deploy a client outside the mesh (curl in ${outside})`, clientIn(outside)),
  waitForClients,
  applyFile('Require mutual TLS mesh-wide (PeerAuthentication, mode STRICT)', meshWide('STRICT'), end),
  checkClients('Check the client inside gets the product page, the one outside is refused', false, end),
  applyFile('Back to PERMISSIVE (plain text accepted too)', meshWide('PERMISSIVE'), end),
  checkClients('Check both clients get the product page', true),
  restoreBefore(modes),
];

export const mtls: TaskCommand = {
  kind: 'tasks',
  name: 'mtls',
  track: { mode: 'sidecar', instead: 'ambient-l4-policy' },
  owns: { namespaces: [outside] },
  flags: ['keep-routing'],
  summary: "istio.io's mutual TLS: STRICT mesh-wide refuses a client outside the mesh, then back to PERMISSIVE",
  examples: ['npm run mtls', 'npm run mtls -- --keep-routing'],
  details: `
Deploys the release's curl sample into ${namespace} (inside the mesh) and into ${outside} (no injection), applies
a mesh-wide PeerAuthentication ${peerAuthentication} in ${names.istioNamespace} with mode STRICT and checks, with
kubectl exec and curl, that only the client inside reaches ${target}; then PERMISSIVE, and both do.
The PeerAuthentications are put back as they were at the end (--keep-routing keeps the last one).
Needs npm run bookinfo first. On a cluster whose nodes run no containers (the test lab) the checks say so.
Runs: kubectl --context <ctx> version|get|create|apply -f - (stdin)|rollout status|exec|delete.`,
  tasks: () => [clusterReachable, istioRunning, bookinfoRunning, getRelease, ...mtlsSteps()],
};

runIfMain(import.meta.url, mtls);
