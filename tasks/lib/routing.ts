// istio.io's traffic tasks change the routing and clean up after themselves. A task chapter notes the objects of a
// kind in place before its first change and puts them back at its end (unless --keep-routing): what it added is
// deleted, what it changed gets its former spec again. Steps that apply a file skip when it is already in place.
import { inNamespace, listObjects, managed, managedLabels, onObjects, verbArgs } from './kube.ts';
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
export const sameSpec = (a: K8sObject | undefined, b: K8sObject | undefined): boolean =>
  canonical(a?.spec) === canonical(b?.spec);

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

/** Applies a sample file; done when each of its objects is in place with the same spec. */
export function applySample(title: string, sample: (ctx: Ctx) => Sample): Task {
  return step(title, {
    done: async (ctx) => {
      const { docs } = sample(ctx);
      if (!docs.length) return false;
      for (const doc of docs) {
        const kind = (doc.kind ?? '').toLowerCase();
        const found = (await listObjects(ctx, inNamespace(doc.metadata?.namespace ?? '', kind))).find(
          (o) => nameOf(o) === nameOf(doc),
        );
        if (!found || !sameSpec(found, doc)) return false;
      }
      return `${docs.map((d) => `${d.kind}/${nameOf(d)}`).join(', ')} in place`;
    },
    run: async (ctx) => {
      const { docs, label } = sample(ctx);
      await onObjects(ctx, 'apply', docs, { label });
    },
  });
}

/** A former object, ready to apply again: its name, namespace, labels and spec. */
const restorable = (o: K8sObject): K8sObject => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, labels: o.metadata?.labels ?? managedLabels() },
  spec: o.spec,
});

/** The last step of a task chapter: the objects as they were before it, or kept with --keep-routing. */
export const restoreBefore = (scope: Scope): Task =>
  step(`Put ${scope.what} back as it was (--keep-routing keeps it)`, {
    done: async (ctx) => {
      if (ctx.options.keepRouting) return 'kept (--keep-routing)';
      const [was, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
      const same =
        was.length === now.length &&
        was.every((o) =>
          sameSpec(
            o,
            now.find((n) => nameOf(n) === nameOf(o)),
          ),
        );
      return same && `${scope.what} is as it was`;
    },
    run: async (ctx, task) => {
      const [was, now] = await Promise.all([before(ctx, scope), listOf(ctx, scope)]);
      // What the tool added goes; what someone else added meanwhile stays theirs.
      const added = now.filter((o) => managed(o) && !was.some((w) => nameOf(w) === nameOf(o)));
      const changed = was.filter(
        (o) =>
          !sameSpec(
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
