// istio.io's traffic tasks change the routing and clean up after themselves. A task chapter notes the objects of a
// kind in place before its first change and puts them back at its end (unless --keep-routing): what it added is
// deleted, what it changed gets its former spec again. Steps that apply a file skip when it is already in place.
import { inNamespace, listObjects, managed, onObjects, verbArgs } from './kube.ts';
import type { K8sObject } from './manifests.ts';
import type { Sample } from './release-sample.ts';
import { step } from './step.ts';
import type { Ctx, Task } from './types.ts';

/** A kind of Istio object in one namespace (e.g. the VirtualServices in bookinfo). */
export interface Scope {
  kind: string;
  namespace: string;
  /** What the objects are to a reader: "the routing", "the mTLS mode". */
  what: string;
}

/** JSON with object keys sorted: two specs are the same when their canonical texts are. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
/** The same object for a restore: the same spec, and the same owner (a user's object that got the tool's label is not). */
const same = (a: K8sObject | undefined, b: K8sObject | undefined): boolean =>
  canonical(a?.spec) === canonical(b?.spec) && managed(a) === managed(b);

/**
 * Whether `have` (what the API server keeps) says everything `want` (a file) says: the server adds defaults, so
 * objects may hold more keys; lists must match item by item.
 */
export function holds(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => holds(have[i], w));
  if (want && typeof want === 'object')
    return (
      !!have && typeof have === 'object' && Object.entries(want).every(([k, w]) => holds((have as Record<string, unknown>)[k], w))
    );
  return have === want;
}

/** Each object of the samples, the last one of a name winning: what applying them in order leaves. */
function lastOfEach(ctx: Ctx, samples: ((ctx: Ctx) => Sample)[]): K8sObject[] {
  const byName = new Map<string, K8sObject>();
  for (const doc of samples.flatMap((s) => s(ctx).docs)) byName.set(`${doc.kind}/${doc.metadata?.namespace}/${nameOf(doc)}`, doc);
  return [...byName.values()];
}

/**
 * Whether each object is in place, holding what its file says (one list read per kind and namespace); with `ours`,
 * also carrying the tool's label (the tool put it there, not the user).
 */
async function inPlace(ctx: Ctx, docs: K8sObject[], ours = false): Promise<boolean> {
  if (!docs.length) return false;
  for (const doc of docs) {
    const kind = (doc.kind ?? '').toLowerCase();
    const found = (await listObjects(ctx, inNamespace(doc.metadata?.namespace ?? '', kind))).find(
      (o) => nameOf(o) === nameOf(doc),
    );
    if (!found || !holds(found.spec, doc.spec) || (ours && !managed(found))) return false;
  }
  return true;
}

/**
 * Where a task chapter ends when its changes are kept (--keep-routing): then a re-run changes nothing, and the
 * states on the way there are not applied or checked again.
 */
export interface EndState {
  reached: (ctx: Ctx) => Promise<string | false>;
}
export const endState = (samples: ((ctx: Ctx) => Sample)[]): EndState => ({
  // The tool's own objects only: a user's policy that happens to match is no task that was kept.
  reached: async (ctx) => (await inPlace(ctx, lastOfEach(ctx, samples), true)) && "the task's end state is in place (kept)",
});

const nameOf = (o: K8sObject) => o.metadata?.name ?? '';
const listOf = (ctx: Ctx, scope: Scope) => listObjects(ctx, inNamespace(scope.namespace, scope.kind));
/** The objects in place when the chapter began: asked once per run, by the first step that needs them. */
const before = (ctx: Ctx, scope: Scope) => ctx.run.once(`${scope.kind} in ${scope.namespace} before`, () => listOf(ctx, scope));

/** The first step of a task chapter: what is in place now is what its last step restores. */
export const noteBefore = (scope: Scope): Task =>
  step(`Note ${scope.what} in place (put back at the end)`, {
    run: async (ctx, task) => {
      const found = await before(ctx, scope);
      task.output = found.length ? found.map(nameOf).join(', ') : `no ${scope.kind} in ${scope.namespace}`;
    },
  });

/** Applies a sample file; done when each of its objects holds what the file says, or the task's end is reached. */
export function applySample(title: string, sample: (ctx: Ctx) => Sample, end?: EndState): Task {
  return step(title, {
    done: async (ctx) => {
      const reached = await end?.reached(ctx);
      if (reached) return reached;
      const { docs } = sample(ctx);
      return (await inPlace(ctx, docs)) && `${docs.map((d) => `${d.kind}/${nameOf(d)}`).join(', ')} in place`;
    },
    run: async (ctx) => {
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
      if (ctx.options.keepRouting) return 'kept (--keep-routing)';
      const [was, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
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
      const [was, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
      // What the tool added goes; what someone else added meanwhile stays theirs.
      const added = now.filter((o) => managed(o) && !was.some((w) => nameOf(w) === nameOf(o)));
      const changed = was.filter(
        (o) =>
          !same(
            o,
            now.find((n) => nameOf(n) === nameOf(o)),
          ),
      );
      const refs = added.map((o) => inNamespace(scope.namespace, scope.kind, nameOf(o)));
      if (refs.length) await ctx.sh.kubectl(verbArgs('delete', refs, ['--ignore-not-found']));
      if (changed.length) await onObjects(ctx, 'apply', changed.map(restorable));
      task.output = [...added.map((o) => `removed ${nameOf(o)}`), ...changed.map((o) => `restored ${nameOf(o)}`)].join(', ');
    },
  });
