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
import { getObject, inNamespace, labelOf, namespaceRef } from './lib/kube/kube.ts';
import { step } from './lib/run/step.ts';
import type { Task, TaskCommand } from './lib/run/types.ts';
import { createIstioNamespace, generateCa, plugCa } from './lib/steps/ca.ts';
import { ownNamespace } from './lib/steps/namespace.ts';
import { clusterReachable } from './lib/steps/prerequisites.ts';
import { getPreviousRelease, getRelease } from './lib/steps/release.ts';
import { installRevision, istiodVersion, pointTag, proveProxiesOn, stableTag } from './lib/steps/upgrade.ts';

const { tag, revisionLabel } = names.upgrade;
const ns = names.istioNamespace;

// The path starts from a cluster without the tutorial's Istio: istio.io's canary upgrade begins with one revision.
const canStart = step('Check the upgrade can start here (no Istio without a revision, no sidecar-track Bookinfo)', {
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
  },
});

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
  // Once the tag exists, moving it is the later chapters' part: this one never moves it back.
  pointTag(stableTag, 'previous', { keep: true }),
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
revision's: its version and its istiod. Refused where Istio runs without a revision: start from a cluster without it.
Runs: <previous istioctl> --context <ctx> install --set revision=<rev> ...|tag set,
      kubectl --context <ctx> create|apply -f -|wait|get|port-forward.`,
  tasks: () => [clusterReachable, ...upgradeStartSteps()],
};

runIfMain(import.meta.url, upgradeStart);
