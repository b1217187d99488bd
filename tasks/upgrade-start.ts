// istio.io's canary upgrade, the starting point: the previous Istio (ISTIO_PREVIOUS_VERSION) installed as a revision
// named after its version, with the same CA and tracing as `all`; the revision tag prod-stable on it; Bookinfo in a
// namespace that names the tag, not the revision. Proven by what injected each pod: the previous revision's proxy,
// pointed at the previous revision's istiod, and the product page through the gateway.
import { names } from './config.ts';
import { bookinfoPodsReady, namespace } from './lib/apps/bookinfo.ts';
import { deployBookinfo, exposeBookinfo, proveProductPage } from './lib/apps/bookinfo-sidecar.ts';
import { StepError } from './lib/base/errors.ts';
import { runIfMain } from './lib/cli/main.ts';
import { sidecarMode } from './lib/istio/mesh-mode.ts';
import { tagRevision } from './lib/istio/revisions.ts';
import { getObject, inNamespace, labelOf, namespaceRef } from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa } from './lib/steps/ca.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getPreviousRelease, getRelease } from './lib/steps/release.ts';
import {
  endOf,
  installRevision,
  istiodVersion,
  pointTag,
  proveProxiesOn,
  revisionVersion,
  stableTag,
} from './lib/steps/upgrade.ts';

const { tag, revisionLabel } = names.upgrade;
const ns = names.istioNamespace;

// The path starts from a cluster without the tutorial's Istio: istio.io's canary upgrade begins with one revision.
const canStart = step(
  'Check the upgrade can start here (no Istio without a revision, no sidecar-track Bookinfo, no later step done)',
  {
    run: async (ctx) => {
      const { previous } = ctx.config;
      if (previous.unusable) throw new StepError(previous.unusable, 'set ISTIO_PREVIOUS_VERSION');
      const unrevisioned = await istiodVersion(ctx, inNamespace(ns, 'deployment', names.istiod));
      if (unrevisioned)
        throw new StepError(
          `Istio ${unrevisioned} is installed without a revision (by \`npm run all\` or install-istio)`,
          'the upgrade path starts from a cluster without it: run `npm run teardown` first',
        );
      const injected = labelOf(await getObject(ctx, namespaceRef(namespace)), names.injection.namespaceLabel);
      if (injected)
        throw new StepError(
          `namespace ${namespace} is on the sidecar track (${names.injection.namespaceLabel}=${injected})`,
          'run `npm run teardown` first',
        );
      // A re-run is for finishing this chapter; once the upgrade has gone on, its proofs would no longer hold.
      const canary = endOf(ctx.config, 'current').revision;
      const canaryVersion = await revisionVersion(ctx, canary);
      if (canaryVersion)
        throw new StepError(`the upgrade is past its start: istiod-${canary} (Istio ${canaryVersion}) is installed`, goOn);
      const at = await tagRevision(ctx, tag);
      const old = endOf(ctx.config, 'previous').revision;
      if (at !== undefined && at !== old)
        throw new StepError(`the revision tag ${tag} points at revision ${at}, not at the previous revision ${old}`, goOn);
    },
  },
);

const goOn = 'go on with the upgrade chapter after the last one you ran, or start over: `npm run teardown`';

const createBookinfoNamespace = ownNamespace(
  `Create the namespace ${namespace} on the tag (${revisionLabel}=${tag})`,
  namespace,
  {
    [revisionLabel]: tag,
  },
);

const upgradeStartSteps = (): Task[] => [
  canStart,
  getPreviousRelease,
  // Bookinfo comes from the pinned release's samples, and the next chapter installs it.
  getRelease,
  generateCa,
  createIstioNamespace,
  plugCa,
  installRevision('previous'),
  pointTag(stableTag, 'previous'),
  createBookinfoNamespace,
  deployBookinfo,
  bookinfoPodsReady(sidecarMode),
  exposeBookinfo,
  proveProxiesOn('previous', 'both'),
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
revision's: its version and its istiod. Refused where Istio runs without a revision: start from a cluster without it;
refused once the upgrade has gone on (the new revision installed, or the tag moved to another revision).
Runs: <previous istioctl> --context <ctx> install --set revision=<rev> ...|tag set,
      kubectl --context <ctx> create|apply -f -|wait|get|port-forward.`,
  tasks: () => [clusterReachable, ...upgradeStartSteps()],
};

runIfMain(import.meta.url, upgradeStart);
