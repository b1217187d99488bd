// A small API server for the scripted runner: it keeps objects by kind, namespace and name, and answers what the
// commands kube/ builds ask (one object or a list as JSON, objects sent or deleted), so a test can look at what is
// left. It never reads a command line: commands that ask nothing it keeps are answered elsewhere.
import type { K8sObject } from '../tasks/lib/kube/manifests.ts';
import type { ObjectRef, Query } from '../tasks/lib/run/requests.ts';
import type { Reply } from './helpers.ts';

const key = (kind: string, namespace: string | undefined, name: string) => `${kind.toLowerCase()}/${namespace ?? ''}/${name}`;
const refKey = (r: ObjectRef) => key(r.kind, r.namespace, r.name ?? '');

/** Whether an object's labels match a selector of `key=value` terms. */
const matches = (o: K8sObject, selector: string | undefined) =>
  (selector ?? '')
    .split(',')
    .filter(Boolean)
    .every((term) => {
      const [k, v] = term.split('=');
      return o.metadata?.labels?.[k] === v;
    });

export class FakeApi {
  readonly objects = new Map<string, K8sObject>();

  /** Puts an object in place, as if someone had applied it. */
  put(o: K8sObject): void {
    this.objects.set(key(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? ''), structuredClone(o));
  }

  /** The objects of a kind in a namespace. */
  list(kind: string, namespace: string, selector?: string): K8sObject[] {
    return [...this.objects.values()].filter(
      (o) =>
        (o.kind ?? '').toLowerCase() === kind.toLowerCase() &&
        (o.metadata?.namespace ?? '') === namespace &&
        matches(o, selector),
    );
  }

  /** The reply to what a command asks, or undefined when it asks nothing this server keeps. */
  answer(query: Query | undefined): Reply | undefined {
    switch (query?.op) {
      case 'get': {
        const { ref } = query;
        const o = this.objects.get(refKey(ref));
        if (o) return { stdout: JSON.stringify(o) };
        return query.required
          ? { code: 1, stderr: `Error from server (NotFound): ${ref.kind} "${ref.name}" not found\n` }
          : { stdout: '' };
      }
      case 'list':
        return { stdout: JSON.stringify({ items: this.list(query.ref.kind, query.ref.namespace ?? '', query.selector) }) };
      case 'send':
        for (const doc of query.objects as K8sObject[]) {
          if (!doc.apiVersion || !doc.kind)
            return { code: 1, stderr: `error: unable to decode "STDIN": Object 'apiVersion' or 'kind' is missing\n` };
          const k = key(doc.kind, doc.metadata?.namespace, doc.metadata?.name ?? '');
          if (query.verb === 'create' && this.objects.has(k))
            return { code: 1, stderr: `Error from server (AlreadyExists): ${doc.kind} "${doc.metadata?.name}" already exists\n` };
          if (query.verb === 'delete') this.objects.delete(k);
          else this.objects.set(k, structuredClone(doc));
        }
        return { stdout: '' };
      case 'delete':
        for (const r of query.refs) this.objects.delete(refKey(r));
        return { stdout: '' };
      default:
        return undefined;
    }
  }
}
