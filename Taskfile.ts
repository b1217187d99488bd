// The runner's table of contents: every entry point, composed from the chapter scripts in tasks/.
// `npm run <command>` lands here. Only this file imports chapters; chapters import lib/ and the config.
import { addonInstallSteps, addonsCommand, tracingSteps } from './tasks/addons.ts';
import { ambientBookinfo, ambientBookinfoSteps } from './tasks/ambient-bookinfo.ts';
import { ambientL4Policy } from './tasks/ambient-l4-policy.ts';
import { ambientMigrate } from './tasks/ambient-migrate.ts';
import { ambientSplit } from './tasks/ambient-split.ts';
import { ambientWaypoint } from './tasks/ambient-waypoint.ts';
import { bookinfo } from './tasks/bookinfo.ts';
import { check } from './tasks/check.ts';
import { dashboard } from './tasks/dashboard.ts';
import { faultInjection } from './tasks/fault-injection.ts';
import { injection, injectionSteps } from './tasks/injection.ts';
import { installIstio, installSteps } from './tasks/install-istio.ts';
import { kubeInject } from './tasks/kube-inject.ts';
import { isMain } from './tasks/lib/cli/main.ts';
import { type RunIO, run } from './tasks/lib/cli/runner.ts';
import { group, together } from './tasks/lib/run/step.ts';
import type { Command, Ctx, Task, TaskCommand } from './tasks/lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa } from './tasks/lib/steps/ca.ts';
import { finishImagesAhead, pullImagesAhead } from './tasks/lib/steps/images.ts';
import { getRelease } from './tasks/lib/steps/release.ts';
import { clusterParts, minikube } from './tasks/minikube.ts';
import { mtls } from './tasks/mtls.ts';
import { requestRouting } from './tasks/request-routing.ts';
import { teardown } from './tasks/teardown.ts';
import { traffic, trafficSendSteps, trafficServerSteps } from './tasks/traffic.ts';
import { trafficShifting } from './tasks/traffic-shifting.ts';
import { upgradeCanary } from './tasks/upgrade-canary.ts';
import { upgradeFinish } from './tasks/upgrade-finish.ts';
import { upgradeRollback } from './tasks/upgrade-rollback.ts';
import { upgradeStart } from './tasks/upgrade-start.ts';
import { upgradeSwitch } from './tasks/upgrade-switch.ts';
import { versions } from './tasks/versions.ts';
import { webhookCerts } from './tasks/webhook-certs.ts';

/** The cluster, the Istio release and the CA, overlapped. */
function clusterReleaseAndCa(ctx: Ctx): Task {
  const { name, checks, start } = clusterParts(ctx);
  // The release waits for the checks, so a missing tool or a wrong context is the first error (an offline download
  // cannot win the race); the CA needs neither and starts at once.
  const clusterThenRelease = start.length
    ? [
        group(`${name}: the tools`, checks),
        together(`${name} and the Istio release (together)`, [group(name, start), getRelease]),
      ]
    : [group(name, checks), getRelease];
  return together('Cluster, Istio release and CA (together)', [
    group(`${name}, then the Istio release`, clusterThenRelease),
    generateCa,
  ]);
}

/** The tutorial's track: Istio, the injection demo, the addons and the traffic chapter. */
const sidecarChapters = (): Task[] => [
  // The addons need only istio-system: they install (and their images pull) while Istio installs.
  together('Istio and the addons (together)', [
    group('install-istio, then the injection demo and the traffic server', [
      ...installSteps(),
      // Both need only the injector: the demo and httpbin's rollout overlap.
      together('Injection demo and the traffic server (together)', [
        group('injection', injectionSteps()),
        group('traffic: the server', trafficServerSteps()),
      ]),
    ]),
    group('addons', addonInstallSteps()),
  ]),
  // The Telemetry needs Istio's API and the mesh's provider; the requests need the addons.
  group('addons: tracing and URLs', tracingSteps()),
  group('traffic: the requests and their proof', trafficSendSteps()),
];

/** istio.io's ambient track (ISTIO_MODE=ambient): Istio's ambient profile, the addons, Bookinfo enrolled. */
const ambientChapters = (): Task[] => [
  together('Istio and the addons (together)', [
    group('install-istio, then Bookinfo in the ambient mesh', [
      ...installSteps(),
      group('ambient-bookinfo', ambientBookinfoSteps()),
    ]),
    group('addons', addonInstallSteps()),
  ]),
  group('addons: tracing and URLs', tracingSteps()),
];

const all: TaskCommand = {
  kind: 'tasks',
  name: 'all',
  // What the chapters it runs read.
  reads: [...new Set([minikube, webhookCerts, installIstio, injection, addonsCommand, traffic].flatMap((c) => c.reads ?? []))],
  examples: ['npm run all', 'npm run all -- --dry-run', 'npm run all -- --keep-sample   # leave sleep running'],
  summary:
    'every chapter in order: minikube, webhook-certs, install-istio, injection, addons, traffic (ISTIO_MODE=ambient: ambient-bookinfo for injection and traffic)',
  flags: injection.flags,
  details: `
Runs the chapters in the tutorial's order, overlapping what does not depend on each other: the Istio
download and the CA generation run while minikube starts (an existing cluster is checked first); the addons install (their images pull) while
Istio does; the traffic chapter's server rolls out during the injection demo. On minikube, once the node is
up, it pulls every image the chapters will use in the background (minikube image load, kept in minikube's
host cache for the next cluster). A dry run lists each branch in turn. Every step skips itself when
already done, so a second run changes nothing. With ISTIO_MODE=ambient it installs the ambient profile (and the
Gateway API CRDs), then runs ambient-bookinfo beside the addons instead of injection and traffic.
Runs: what each chapter's help lists, on the same context.`,
  tasks: (ctx) => [
    clusterReleaseAndCa(ctx),
    pullImagesAhead,
    group('webhook-certs', [createIstioNamespace, plugCa]),
    ...(ctx.config.mode === 'ambient' ? ambientChapters() : sidecarChapters()),
    finishImagesAhead,
  ],
};

export const commands: Command[] = [
  minikube,
  webhookCerts,
  installIstio,
  injection,
  addonsCommand,
  traffic,
  bookinfo,
  requestRouting,
  faultInjection,
  trafficShifting,
  mtls,
  ambientBookinfo,
  ambientL4Policy,
  ambientWaypoint,
  ambientSplit,
  ambientMigrate,
  upgradeStart,
  upgradeCanary,
  upgradeSwitch,
  upgradeRollback,
  upgradeFinish,
  teardown,
  all,
  versions,
  check,
  kubeInject,
  dashboard,
];

export async function main(argv: string[], io?: RunIO): Promise<number> {
  const code = await run(commands, argv, io);
  process.exitCode = code;
  return code;
}

if (isMain(import.meta.url)) void main(process.argv.slice(2));
