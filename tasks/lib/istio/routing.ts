// istio.io's traffic tasks change the routing and clean up after themselves. A task chapter takes a snapshot of
// the objects of a kind in place before its first change and puts them back at its end (unless --keep-routing):
// what it added is deleted, what it changed gets its former spec again. Steps that apply a file skip when it is
// already in place. Until the objects are put back, the snapshot is kept in the cluster (a ConfigMap), so a run
// stopped midway (Ctrl-C) is followed by one that puts back what was there before it, not its half-done routing.

import { isDeepStrictEqual } from 'node:util';
import { StepError } from '../base/errors.ts';
import { inPlace, nameOf } from '../kube/in-place.ts';
import { deleteObjects, getObject, inNamespace, listObjects, onObjects, ourLabels, ours } from '../kube/kube.ts';
import type { K8sObject } from '../kube/manifests.ts';
import { oncePerRun } from '../run/once-per-run.ts';
import { step } from '../run/step.ts';
import type { Ctx, Task } from '../run/types.ts';
import type { ReleaseFile } from './release-file.ts';

/** A kind of Istio object in one namespace (e.g. the VirtualServices in bookinfo). */
export interface Scope {
  kind: string;
  namespace: string;
  /** What the objects are to a reader: "the routing", "the mTLS mode". */
  what: string;
  /** The namespace that keeps the snapshot until the objects are put back (removed with it by teardown). */
  snapshotIn: string;
}

/** The same object for a restore: the same spec, and the same owner (a user's object that got the tool's label is not). */
const same = (a: K8sObject | undefined, b: K8sObject | undefined): boolean =>
  isDeepStrictEqual(a?.spec, b?.spec) && ours(a) === ours(b);

const listOf = (ctx: Ctx, scope: Scope) => listObjects(ctx, inNamespace(scope.namespace, scope.kind));
const snapshotRef = (scope: Scope) => inNamespace(scope.snapshotIn, 'configmap', `fun-with-istio-${scope.kind}-before`);

/** The tool's snapshot of a run that has not put back yet; a ConfigMap of that name that is a user's is none. */
async function snapshotObject(ctx: Ctx, scope: Scope): Promise<K8sObject | undefined> {
  const o = await getObject(ctx, snapshotRef(scope));
  return ours(o) ? o : undefined;
}

/** The objects in a stopped run's snapshot (kept in its ConfigMap), if one took it. */
async function snapshotOfStopped(ctx: Ctx, scope: Scope): Promise<K8sObject[] | undefined> {
  const text = ((await snapshotObject(ctx, scope))?.data as { objects?: string } | undefined)?.objects;
  try {
    return text ? (JSON.parse(text) as K8sObject[]) : undefined;
  } catch {
    return undefined; // not ours to read: treated as no snapshot
  }
}

/** The objects in place when the chapter began (or before a run that stopped midway): asked once per run. */
const before = oncePerRun(async (ctx, scope: Scope) => {
  const stopped = await snapshotOfStopped(ctx, scope);
  return stopped ? { objects: stopped, stopped: true } : { objects: await listOf(ctx, scope), stopped: false };
});

/** Keeps the snapshot in the cluster before the chapter's first change (once per run). */
const keepSnapshot = oncePerRun(async (ctx, scope: Scope) => {
  const { objects, stopped } = await before(ctx, scope);
  if (stopped) return;
  const ref = snapshotRef(scope);
  const existing = await getObject(ctx, ref);
  if (existing && !ours(existing))
    throw new StepError(
      `configmap ${ref.name} in ${ref.namespace} is not fun-with-istio's, but the task keeps its snapshot under that name: rename it, then re-run`,
    );
  const snapshot = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ref.name, namespace: ref.namespace, labels: ourLabels() },
  };
  // A snapshot of the tool's that could not be read is replaced.
  await onObjects(ctx, existing ? 'apply' : 'create', [{ ...snapshot, data: { objects: JSON.stringify(objects) } }]);
});

/** The first step of a task chapter: what is in place now is what its last step restores. */
export const noteBefore = (scope: Scope): Task =>
  step(`Note ${scope.what} in place (put back at the end)`, {
    run: async (ctx, task) => {
      const { objects, stopped } = await before(ctx, scope);
      const names = objects.length ? objects.map(nameOf).join(', ') : `no ${scope.kind} in ${scope.namespace}`;
      task.output = stopped ? `${names} (as before a run that stopped midway)` : names;
      if (stopped) ctx.sh.note(`${scope.what} to put back: ${task.output}`);
    },
  });

/**
 * Where a task chapter ends when its changes are kept (--keep-routing): then a re-run changes nothing, and the
 * states on the way there are not applied or checked again.
 */
export interface EndState {
  scope: Scope;
  reached: (ctx: Ctx) => Promise<string | false>;
}

/** Each object of the samples, the last one of a name winning: what applying them in order leaves. */
function lastOfEach(ctx: Ctx, samples: ((ctx: Ctx) => ReleaseFile)[]): K8sObject[] {
  const byName = new Map<string, K8sObject>();
  for (const doc of samples.flatMap((s) => s(ctx).docs)) byName.set(`${doc.kind}/${doc.metadata?.namespace}/${nameOf(doc)}`, doc);
  return [...byName.values()];
}

export const endState = (scope: Scope, samples: ((ctx: Ctx) => ReleaseFile)[]): EndState => ({
  scope,
  // The tool's own objects only: a user's policy that happens to match is no task that was kept.
  reached: async (ctx) => (await inPlace(ctx, lastOfEach(ctx, samples), true)) && "the task's end state is in place (kept)",
});

/**
 * Applies a sample file; done when each of its objects holds what the file says, or the task's end is reached.
 * A step of a task (with `end`) first keeps the snapshot in the cluster.
 */
export function applyFile(title: string, sample: (ctx: Ctx) => ReleaseFile, end?: EndState): Task {
  return step(title, {
    done: async (ctx) => {
      const reached = await end?.reached(ctx);
      if (reached) return reached;
      const { docs } = sample(ctx);
      return (await inPlace(ctx, docs)) && `${docs.map((d) => `${d.kind}/${nameOf(d)}`).join(', ')} in place`;
    },
    run: async (ctx) => {
      if (end) await keepSnapshot(ctx, end.scope);
      const { docs, label } = sample(ctx);
      await onObjects(ctx, 'apply', docs, { label });
    },
  });
}

/**
 * A former object, ready to apply again: its name, namespace, own labels (a user's object does not become the
 * tool's: apply drops the label the task's file added) and spec.
 */
const restorable = (o: K8sObject): K8sObject => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, labels: o.metadata?.labels ?? {} },
  spec: o.spec,
});

/** The last step of a task chapter: the objects as they were before it, or kept with --keep-routing. */
export const restoreBefore = (scope: Scope): Task =>
  step(`Put ${scope.what} back as it was (--keep-routing keeps it)`, {
    done: async (ctx) => {
      if (await snapshotObject(ctx, scope)) return false; // the snapshot goes in any case
      if (ctx.options.keepRouting) return 'kept (--keep-routing)';
      const [{ objects: was }, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
      const asItWas =
        was.length === now.length &&
        was.every((o) =>
          same(
            o,
            now.find((n) => nameOf(n) === nameOf(o)),
          ),
        );
      return asItWas && `${scope.what} is as it was`;
    },
    run: async (ctx, task) => {
      const snapshot = await snapshotObject(ctx, scope); // asked before the changes below, as done asked it
      if (!ctx.options.keepRouting) {
        const [{ objects: was }, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
        // What the tool added goes; what someone else added meanwhile stays theirs.
        const added = now.filter((o) => ours(o) && !was.some((w) => nameOf(w) === nameOf(o)));
        const changed = was.filter(
          (o) =>
            !same(
              o,
              now.find((n) => nameOf(n) === nameOf(o)),
            ),
        );
        const refs = added.map((o) => inNamespace(scope.namespace, scope.kind, nameOf(o)));
        if (refs.length) await deleteObjects(ctx, refs);
        if (changed.length) await onObjects(ctx, 'apply', changed.map(restorable));
        task.output = [...added.map((o) => `removed ${nameOf(o)}`), ...changed.map((o) => `restored ${nameOf(o)}`)].join(', ');
      }
      if (snapshot) await deleteObjects(ctx, snapshotRef(scope));
    },
  });
