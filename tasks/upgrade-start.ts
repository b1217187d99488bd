// istio.io's canary upgrade, the starting point: the previous Istio (ISTIO_PREVIOUS_VERSION) installed as a revision
// named after its version, with the same CA and tracing as `all`; the revision tag prod-stable on it; Bookinfo in a
// namespace that names the tag, not the revision. Proven by what injected each pod: the previous revision's proxy,
// pointed at the previous revision's istiod, and the product page through the gateway.
import { names } from './config.ts';
import { bookinfoPods, bookinfoPodsReady, ingressGatewayPods, namespace } from './lib/apps/bookinfo.ts';
import { deployBookinfo, exposeBookinfo, proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { installFlags } from './lib/istio/install-flags.ts';
import { sidecarMode } from './lib/istio/mesh-mode.ts';
import {
  discoveryAddressOf,
  imageVersion,
  istioctlOf,
  istiodOf,
  offRevision,
  revisionOf,
  tagRevision,
} from './lib/istio/revisions.ts';
import { findObject, getObject, inNamespace, labelOf, namespaceRef } from './lib/kube/kube.ts';
import type { K8sObject } from './lib/kube/manifests.ts';
import { judgeSeen } from './lib/run/poll.ts';
import { step } from './lib/run/step.ts';
import type { Ctx, Task, TaskCommand } from './lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa } from './lib/steps/ca.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getPreviousRelease, getRelease } from './lib/steps/release.ts';

const { tag, revisionLabel } = names.upgrade;
const ns = names.istioNamespace;
const previousRevision = (ctx: Ctx) => revisionOf(ctx.config.previous.version);

// The path starts from a cluster without the tutorial's Istio: istio.io's canary upgrade begins with one revision.
const canStart = step('Check the upgrade can start here (no Istio without a revision, no sidecar-track Bookinfo)', {
  run: async (ctx) => {
    const { previous } = ctx.config;
    if (previous.unusable) throw new StepError(previous.unusable, 'set ISTIO_PREVIOUS_VERSION');
    const istiod = await findObject(ctx, inNamespace(ns, 'deployment', names.istiod));
    if (istiod)
      throw new StepError(
        `Istio ${imageVersion(istiodImage(istiod))} is installed without a revision (by \`npm run all\` or install-istio)`,
        'the upgrade path starts from a cluster without it: run `npm run teardown` first',
      );
    const injected = labelOf(await getObject(ctx, namespaceRef(namespace)), names.injection.namespaceLabel);
    if (injected)
      throw new StepError(
        `namespace ${namespace} is on the sidecar track (${names.injection.namespaceLabel}=${injected})`,
        'run `npm run teardown` first',
      );
  },
});

const istiodImage = (d: K8sObject) =>
  (d.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec?.containers?.[0]?.image;

const installPrevious = step('Install the previous Istio as a revision of its own', {
  done: async (ctx) => {
    const revision = previousRevision(ctx);
    const found = await findObject(ctx, istiodOf(revision));
    const version = found && imageVersion(istiodImage(found));
    return version === ctx.config.previous.version && `istiod-${revision} runs Istio ${version}`;
  },
  run: async (ctx, task) => {
    const { config } = ctx;
    const revision = previousRevision(ctx);
    task.title = `Install Istio ${config.previous.version} as revision ${revision} (profile ${config.istioProfile})`;
    const args = ['install', ...installFlags(config), '--set', `revision=${revision}`];
    await istioctlOf(ctx, config.previous, [...args, '--readiness-timeout', config.waitTimeout, '-y'], {
      onLine: (l) => {
        if (/[A-Za-z]/.test(l)) task.output = l;
      },
    });
  },
});

const tagPrevious = step(`Point the revision tag ${tag} at it (istioctl tag set)`, {
  // Once the tag exists, moving it is the later chapters' part: this one never moves it back.
  done: async (ctx) => {
    const at = await tagRevision(ctx, tag);
    return at !== undefined && `tag ${tag} points at revision ${at}`;
  },
  run: async (ctx, task) => {
    const revision = previousRevision(ctx);
    // --overwrite: a tag is its webhook and a Service; a half-removed one (the Service left) would stop `tag set`.
    await istioctlOf(ctx, ctx.config.previous, ['tag', 'set', tag, '--revision', revision, '--overwrite']);
    task.output = `${tag} -> ${revision}`;
  },
});

const createBookinfoNamespace = ownNamespace(
  `Create the namespace ${namespace} on the tag (${revisionLabel}=${tag})`,
  namespace,
  {
    [revisionLabel]: tag,
  },
);

const proveOnPrevious = step("Prove every proxy is the previous revision's (Bookinfo and the ingress gateway)", {
  run: async (ctx, task) => {
    const { version } = ctx.config.previous;
    const revision = previousRevision(ctx);
    const pods = [...(await bookinfoPods(ctx)), ...(await ingressGatewayPods(ctx))];
    await judgeSeen(ctx, pods, () => {
      const wrong = offRevision(pods, revision, version);
      if (wrong.length)
        throw new StepError(
          `not on revision ${revision} (Istio ${version}, ${discoveryAddressOf(revision)}): ${wrong.join('; ')}`,
        );
      task.output = `${pods.length} proxies: revision ${revision}, Istio ${version}, ${discoveryAddressOf(revision)}`;
    });
  },
});

const upgradeStartSteps = (): Task[] => [
  canStart,
  getPreviousRelease,
  // Bookinfo comes from the pinned release's samples, and the next chapter installs it.
  getRelease,
  generateCa,
  createIstioNamespace,
  plugCa,
  installPrevious,
  tagPrevious,
  createBookinfoNamespace,
  deployBookinfo,
  bookinfoPodsReady(sidecarMode),
  exposeBookinfo,
  proveOnPrevious,
  proveProductPage,
];

export const upgradeStart: TaskCommand = {
  kind: 'tasks',
  name: 'upgrade-start',
  track: { mode: 'sidecar' },
  reads: ['install', 'upgrade'],
  owns: { namespaces: [namespace] },
  summary: `the canary upgrade's start: the previous Istio as a revision, tag ${tag} on it, Bookinfo on the tag`,
  examples: ['npm run upgrade-start', 'ISTIO_PREVIOUS_VERSION=1.30.4 npm run upgrade-start -- --dry-run'],
  details: `
Gets ISTIO_PREVIOUS_VERSION's release as install-istio gets the pinned one (checksum, cache; ISTIO_PREVIOUS_HOME
skips it), and the pinned one (Bookinfo's samples; the next chapter installs it), plugs in the same CA, installs it with its own istioctl as revision <version with dashes> (the same
profile, tracing and overlay as install-istio), points the revision tag ${tag} at it, deploys Bookinfo in
${namespace} labelled ${revisionLabel}=${tag}, and proves each proxy (Bookinfo's and the ingress gateway's) is that
revision's: its version and its istiod. Refused where Istio runs without a revision: start from a cluster without it.
Runs: <previous istioctl> --context <ctx> install --set revision=<rev> ...|tag set,
      kubectl --context <ctx> create|apply -f -|wait|get|port-forward.`,
  tasks: () => [clusterReachable, ...upgradeStartSteps()],
};

runIfMain(import.meta.url, upgradeStart);
