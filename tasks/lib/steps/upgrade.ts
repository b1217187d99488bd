// The canary upgrade's steps, shared by its chapters: the previous or the current release installed as a revision of
// its own, a revision tag moved to one of them, Bookinfo restarted onto it, and the proof of which control plane
// each proxy was given (its revision, its version, its istiod).
import { type Config, type IstioRelease, names } from '../../config.ts';
import { bookinfoPodSelector, bookinfoPods, ingressGatewayPods, namespace } from '../apps/bookinfo.ts';
import { StepError } from '../base/errors.ts';
import { installFlags } from '../istio/install-flags.ts';
import {
  discoveryAddressOf,
  imageVersion,
  istioctlOf,
  istiodOf,
  offRevision,
  revisionOf,
  tagRevision,
} from '../istio/revisions.ts';
import { findObject, inNamespace, type ObjectRef, verbArgs } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import type { Pod } from '../kube/pods.ts';
import { judgeSeen } from '../run/poll.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task } from '../run/types.ts';

/** The two ends of the upgrade: the previous release (ISTIO_PREVIOUS_VERSION) and the pinned one. */
export type End = 'previous' | 'current';

/** An end's release and the revision it is installed as. */
export function endOf(config: Config, end: End): IstioRelease & { revision: string } {
  const release: IstioRelease =
    end === 'previous'
      ? config.previous
      : { version: config.istioVersion, istioHome: config.istioHome, istioctl: config.istioctl, release: config.release };
  return { ...release, revision: revisionOf(release.version) };
}

const istiodImage = (d: K8sObject) =>
  (d.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec?.containers?.[0]?.image;

/** The Istio version an istiod Deployment runs (its image tag); undefined when there is none. */
export async function istiodVersion(ctx: Ctx, ref: ObjectRef): Promise<string | undefined> {
  const found = await findObject(ctx, ref);
  return found && imageVersion(istiodImage(found));
}

/** The Istio version a revision's istiod runs; undefined when the revision is not installed. */
export const revisionVersion = (ctx: Ctx, revision: string) => istiodVersion(ctx, istiodOf(revision));

/** A step: `end`'s release installed with its own istioctl as its revision, with the install chapter's flags. */
export function installRevision(end: End): Task {
  return step(`Install the ${end} Istio as a revision of its own`, {
    done: async (ctx) => {
      const { revision, version } = endOf(ctx.config, end);
      const running = await revisionVersion(ctx, revision);
      return running === version && `istiod-${revision} runs Istio ${running}`;
    },
    run: async (ctx, task) => {
      const { config } = ctx;
      const r = endOf(config, end);
      task.title = `Install Istio ${r.version} as revision ${r.revision} (profile ${config.istioProfile})`;
      const args = ['install', ...installFlags(config), '--set', `revision=${r.revision}`];
      await istioctlOf(ctx, r, [...args, '--readiness-timeout', config.waitTimeout, '-y'], {
        onLine: (l) => {
          if (/[A-Za-z]/.test(l)) task.output = l;
        },
      });
    },
  });
}

/**
 * A step: the revision tag `tag` pointed at `end`'s revision (`istioctl tag set --overwrite`: a tag is a webhook and
 * a Service, and a half-removed one would stop a plain `tag set`).
 */
export function pointTag(tag: string, end: End): Task {
  return step(`Point the revision tag ${tag} at the ${end} revision (istioctl tag set)`, {
    done: async (ctx) => {
      const at = await tagRevision(ctx, tag);
      const wanted = endOf(ctx.config, end).revision;
      return at === wanted && `tag ${tag} points at revision ${at}`;
    },
    // With the pinned release's istioctl, whichever revision the tag goes to (istio.io moves tags with one istioctl).
    run: async (ctx, task) => {
      const r = endOf(ctx.config, end);
      await istioctlOf(ctx, endOf(ctx.config, 'current'), ['tag', 'set', tag, '--revision', r.revision, '--overwrite']);
      task.output = `${tag} -> ${r.revision}`;
    },
  });
}

/** A step: `tag` exists (the upgrade has started), else the chapter that sets it is named. */
export function requireTag(tag: string): Task {
  return step(`Check the revision tag ${tag} is set`, {
    run: async (ctx, task) => {
      const at = await tagRevision(ctx, tag);
      await judgeSeen(ctx, at, () => {
        if (at === undefined) throw new StepError(`no revision tag ${tag}`, 'run `npm run upgrade-start` first');
        task.output = `${tag} -> ${at}`;
      });
    },
  });
}

/** A step: `end`'s revision is installed, else the chapter that installs it is named. */
export function requireRevision(end: End, chapter: string): Task {
  return step(`Check the ${end} revision is installed`, {
    run: async (ctx, task) => {
      const { revision, version } = endOf(ctx.config, end);
      const running = await revisionVersion(ctx, revision);
      await judgeSeen(ctx, running, () => {
        if (running !== version)
          throw new StepError(
            `istiod-${revision} ${running ? `runs Istio ${running}, not ${version}` : 'is not installed'}`,
            `run \`npm run ${chapter}\` first`,
          );
        task.output = `istiod-${revision}: Istio ${running}`;
      });
    },
  });
}

const bookinfoDeployments = inNamespace(namespace, 'deployment');

/** A step: Bookinfo's Deployments restarted so the tag's revision injects their new pods, and rolled out. */
export function restartBookinfo(end: End): Task {
  return step(`Restart Bookinfo so the ${end} revision injects it (kubectl rollout restart)`, {
    done: async (ctx) => {
      const { revision, version } = endOf(ctx.config, end);
      const pods = await bookinfoPods(ctx);
      return (
        pods.length > 0 && offRevision(pods, revision, version).length === 0 && `every Bookinfo proxy is revision ${revision}'s`
      );
    },
    run: async (ctx, task) => {
      const selected = ['-l', bookinfoPodSelector];
      await ctx.sh.kubectl(verbArgs(['rollout', 'restart'], bookinfoDeployments, selected));
      await ctx.sh.kubectl(
        verbArgs(['rollout', 'status'], bookinfoDeployments, [...selected, `--timeout=${ctx.config.waitTimeout}`]),
        {
          onLine: (l) => (task.output = l),
        },
      );
    },
  });
}

/** Whose proxies a proof looks at. */
export type Proxies = 'bookinfo' | 'gateway' | 'both';

const proxiesOf = async (ctx: Ctx, whose: Proxies): Promise<Pod[]> => [
  ...(whose === 'gateway' ? [] : await bookinfoPods(ctx)),
  ...(whose === 'bookinfo' ? [] : await ingressGatewayPods(ctx)),
];

const described: Record<Proxies, string> = {
  bookinfo: "Bookinfo's",
  gateway: "the ingress gateway's",
  both: "Bookinfo's and the ingress gateway's",
};

/** A step: every proxy of `whose` is `end`'s revision's: its revision, its version, its istiod. */
export function proveProxiesOn(end: End, whose: Proxies, why = ''): Task {
  return step(`Prove ${described[whose]} proxies are the ${end} revision's${why}`, {
    run: async (ctx, task) => {
      const { revision, version } = endOf(ctx.config, end);
      const pods = await proxiesOf(ctx, whose);
      await judgeSeen(ctx, pods, () => {
        if (!pods.length) throw new StepError(`no ${described[whose]} pods found`);
        const wrong = offRevision(pods, revision, version);
        if (wrong.length)
          throw new StepError(
            `not on revision ${revision} (Istio ${version}, ${discoveryAddressOf(revision)}): ${wrong.join('; ')}`,
          );
        task.output = `${pods.length} proxies: revision ${revision}, Istio ${version}, ${discoveryAddressOf(revision)}`;
      });
    },
  });
}

export const { tag: stableTag } = names.upgrade;
