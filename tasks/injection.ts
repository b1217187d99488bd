// Chapter 4, "Automatic sidecar injection": check the pod-spec requirements, deploy `sleep`, label the
// namespace, recreate the pod and see the sidecar arrive; then opt the pod out and in again per pod.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { manifestsDir, names } from './config.ts';
import { deleteSample, sampleDeployed, sampleDeployment, sampleObjects } from './lib/apps/sleep.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { parseJson } from './lib/exec/tool-output.ts';
import { formatFinding, lint } from './lib/istio/podspec.ts';
import {
  annotationOf,
  createNamespace,
  exists,
  getJson,
  getObject,
  inNamespace,
  labelOf,
  namespaceRef,
  onObjects,
  rolloutStatus,
  verbArgs,
} from './lib/kube/kube.ts';
import { readManifests } from './lib/kube/manifests.ts';
import { describePod, hasSidecar, livePods, type Pod, readiness } from './lib/kube/pods.ts';
import { oncePerRun } from './lib/run/once-per-run.ts';
import { judgeSeen } from './lib/run/poll.ts';
import { group, step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { clusterReachable, istioRunning } from './lib/steps/prerequisites.ts';

const app = names.sampleApp;
const nsOf = (ctx: Ctx) => ctx.config.sampleNamespace;
const sampleNamespace = (ctx: Ctx) => namespaceRef(nsOf(ctx));

// The demo is over once the namespace carries this annotation: a re-run then changes nothing.
const verified = oncePerRun(
  async (ctx) =>
    annotationOf(await getObject(ctx, sampleNamespace(ctx)), names.injection.verifiedAnnotation) === ctx.config.istioVersion,
);
const doneBefore = async (ctx: Ctx) => (await verified(ctx)) && `the demo ran in ${nsOf(ctx)} before; teardown resets it`;

async function pods(ctx: Ctx): Promise<Pod[]> {
  const text = await getJson(ctx, inNamespace(nsOf(ctx), 'pods'), `app=${app}`);
  return livePods(parseJson<{ items: Pod[] }>(text, 'kubectl get pods').items);
}

/** Checks the live pod of the sample has (or lacks) the sidecar and is fully ready. */
async function expectSidecar(ctx: Ctx, wanted: boolean): Promise<string> {
  return (await judgeSeen(ctx, await pods(ctx), (live) => sidecarAsWanted(ctx, live, wanted))) ?? '';
}

function sidecarAsWanted(ctx: Ctx, live: Pod[], wanted: boolean): string {
  if (live.length !== 1) throw new StepError(`expected one ${app} pod in ${nsOf(ctx)}, found ${live.length}`);
  const [pod] = live;
  if (hasSidecar(pod) !== wanted)
    throw new StepError(
      `${pod.metadata.name} ${wanted ? `has no ${names.sidecarContainer}: is istiod up and the namespace labelled?` : `still has ${names.sidecarContainer}`}`,
    );
  const { ready, total } = readiness(pod);
  if (ready !== total || total !== (wanted ? 2 : 1))
    throw new StepError(`${pod.metadata.name} is READY ${ready}/${total}, expected ${wanted ? 2 : 1}/${wanted ? 2 : 1}`);
  return describePod(pod);
}

const rollout = (ctx: Ctx) => rolloutStatus(ctx, sampleDeployment(ctx));

const checkManifests = step('Check manifests/ against the pod-spec requirements', {
  run: async (_ctx, task) => {
    const files = readdirSync(manifestsDir).filter((f) => /\.ya?ml$/.test(f));
    const findings = files.flatMap((f) => lint(readManifests(path.join(manifestsDir, f)), `manifests/${f}`));
    const errors = findings.filter((f) => f.severity === 'error');
    if (errors.length) throw new StepError(errors.map(formatFinding).join('; '));
    task.output = findings.length
      ? findings.map(formatFinding).join('\n')
      : `${files.length} file(s): named ports, app labels: ok`;
  },
});

const showNamespaces = step('Show which namespaces have injection enabled', {
  run: async (ctx, task) => {
    task.output = (
      await ctx.sh.kubectl(verbArgs('get', { kind: 'namespace' }, ['-L', names.injection.namespaceLabel]), { read: true })
    ).stdout.trim();
  },
});

const createSampleNamespace = step('Create the sample namespace', {
  done: async (ctx) => (await exists(ctx, sampleNamespace(ctx))) && `namespace ${nsOf(ctx)} exists`,
  run: async (ctx) => {
    await createNamespace(ctx, nsOf(ctx));
  },
});

const deploySleep = step(`Deploy ${app}`, {
  done: async (ctx) => (await sampleDeployed(ctx)) && `${app} is deployed`,
  run: async (ctx) => {
    await onObjects(ctx, 'apply', sampleObjects(ctx));
    await rollout(ctx);
  },
});

const isLabelled = async (ctx: Ctx) =>
  labelOf(await getObject(ctx, sampleNamespace(ctx)), names.injection.namespaceLabel) === 'enabled';

const showWithout = step(`Show ${app} runs without a sidecar`, {
  done: async (ctx) => (await isLabelled(ctx)) && 'the namespace is already labelled',
  run: async (ctx, task) => {
    task.output = await expectSidecar(ctx, false);
  },
});

const labelNamespace = step(`Label the namespace ${names.injection.namespaceLabel}=enabled`, {
  done: async (ctx) => (await isLabelled(ctx)) && `${nsOf(ctx)} is labelled`,
  run: async (ctx) => {
    await ctx.sh.kubectl(verbArgs('label', sampleNamespace(ctx), [`${names.injection.namespaceLabel}=enabled`, '--overwrite']));
    await ctx.sh.kubectl(
      verbArgs('annotate', sampleNamespace(ctx), [`${names.injection.labelSetByToolAnnotation}=true`, '--overwrite']),
    );
  },
});

/** The per-pod label on the sample's pod template ('' when absent), e.g. left by an interrupted opt-out. */
async function templateInjectLabel(ctx: Ctx): Promise<string> {
  const spec = (await getObject(ctx, sampleDeployment(ctx)))?.spec as
    | { template?: { metadata?: { labels?: Record<string, string> } } }
    | undefined;
  return spec?.template?.metadata?.labels?.[names.injection.podLabel] ?? '';
}

const recreatePod = step(`Recreate the ${app} pod (injection happens only at pod creation)`, {
  done: async (ctx) => {
    const live = await pods(ctx);
    return (
      live.length === 1 &&
      hasSidecar(live[0]) &&
      !(await templateInjectLabel(ctx)) &&
      `${live[0].metadata.name} already has ${names.sidecarContainer}`
    );
  },
  run: async (ctx) => {
    // A per-pod label left by an interrupted run would decide against the namespace: remove it (that recreates the pod).
    if (await templateInjectLabel(ctx)) return setInjectLabel(ctx, undefined);
    await ctx.sh.kubectl(verbArgs(['rollout', 'restart'], sampleDeployment(ctx)));
    await rollout(ctx);
  },
});

const verifySidecar = step(`Verify the pod has ${names.sidecarContainer} and is READY 2/2`, {
  run: async (ctx, task) => {
    task.output = await expectSidecar(ctx, true);
  },
});

/** Sets (value) or removes (undefined) the per-pod injection label on the pod template, then waits. */
async function setInjectLabel(ctx: Ctx, value: 'true' | 'false' | undefined): Promise<void> {
  const args =
    value === undefined
      ? [
          '--type',
          'json',
          '-p',
          JSON.stringify([
            { op: 'remove', path: `/spec/template/metadata/labels/${names.injection.podLabel.replace('/', '~1')}` },
          ]),
        ]
      : [
          '--type',
          'merge',
          '-p',
          JSON.stringify({ spec: { template: { metadata: { labels: { [names.injection.podLabel]: value } } } } }),
        ];
  await ctx.sh.kubectl(verbArgs('patch', sampleDeployment(ctx), args));
  await rollout(ctx);
}

const optOut = step(`Opt the pod out (${names.injection.podLabel}=false)`, {
  run: async (ctx, task) => {
    await setInjectLabel(ctx, 'false');
    task.output = await expectSidecar(ctx, false);
  },
});

const optIn = step(`Opt it back in (${names.injection.podLabel}=true)`, {
  run: async (ctx, task) => {
    await setInjectLabel(ctx, 'true');
    task.output = await expectSidecar(ctx, true);
  },
});

const removeOptLabel = step(`Remove the per-pod label (${names.injection.podLabel}-): the namespace label decides`, {
  run: async (ctx, task) => {
    await setInjectLabel(ctx, undefined);
    task.output = await expectSidecar(ctx, true);
  },
});

const recordVerified = step('Record that injection works in this namespace', {
  run: async (ctx) => {
    await ctx.sh.kubectl(
      verbArgs('annotate', sampleNamespace(ctx), [
        `${names.injection.verifiedAnnotation}=${ctx.config.istioVersion}`,
        '--overwrite',
      ]),
    );
  },
});

const cleanUp = step(`Delete the ${app} sample (as the tutorial does)`, {
  enabled: (ctx) => !ctx.options.keepSample,
  done: async (ctx) => !(await sampleDeployed(ctx)) && `${app} is not deployed`,
  run: deleteSample,
});

/** The tutorial's demo, in one group: run once per namespace and Istio version (one line says so after that). */
const demo = group(
  `The demo: ${app} without its sidecar, then with it, then opted out and back in`,
  [deploySleep, showWithout, labelNamespace, recreatePod, verifySidecar, optOut, optIn, removeOptLabel, recordVerified],
  { done: doneBefore },
);

export const injectionSteps = (): Task[] => [checkManifests, showNamespaces, createSampleNamespace, demo, cleanUp];

export const injection: TaskCommand = {
  kind: 'tasks',
  name: 'injection',
  track: { mode: 'sidecar', instead: 'ambient-bookinfo' },
  reads: ['sample'],
  examples: ['npm run injection', 'npm run injection -- --keep-sample', 'npm run injection -- --dry-run'],
  summary: 'label a namespace, deploy sleep, recreate it and verify the sidecar; per-pod opt-out/in',
  flags: ['keep-sample'],
  details: `
Lints manifests/ (named ports, app labels), deploys the sleep sample into SAMPLE_NAMESPACE and shows it
without a sidecar, labels the namespace ${names.injection.namespaceLabel}=enabled, recreates the pod (injection only
happens at creation) and checks ${names.sidecarContainer} is there (as a container or native sidecar) and
READY 2/2. Then per pod: ${names.injection.podLabel}=false (no sidecar), =true (sidecar), label removed
(the namespace decides). Deletes the sample at the end unless --keep-sample.
Runs: kubectl --context <ctx> get|create|apply|label|patch|rollout|annotate|delete.`,
  tasks: () => [clusterReachable, istioRunning, ...injectionSteps()],
};

runIfMain(import.meta.url, injection);
