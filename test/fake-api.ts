// A small API server for the scripted shell: it keeps objects by kind, namespace and name, and answers the kubectl
// commands kube.ts builds (get one or a list as JSON, create, apply, delete), so a test can look at what is left.
import { loadAll } from 'js-yaml';
import type { K8sObject } from '../tasks/lib/kube/manifests.ts';
import type { Reply } from './helpers.ts';

const key = (kind: string, namespace: string | undefined, name: string) => `${kind.toLowerCase()}/${namespace ?? ''}/${name}`;

export class FakeApi {
  readonly objects = new Map<string, K8sObject>();

  /** Puts an object in place, as if someone had applied it. */
  put(o: K8sObject): void {
    this.objects.set(key(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? ''), structuredClone(o));
  }

  /** The objects of a kind in a namespace, by name. */
  list(kind: string, namespace: string): K8sObject[] {
    return [...this.objects.values()].filter(
      (o) => (o.kind ?? '').toLowerCase() === kind.toLowerCase() && (o.metadata?.namespace ?? '') === namespace,
    );
  }

  /** The reply to `kubectl --context <c> [-n ns] <verb> ...`, or undefined when it is not a command about objects. */
  answer(argv: string[], input: string): Reply | undefined {
    const rest = argv.slice(3);
    const namespace = rest[0] === '-n' ? rest[1] : undefined;
    const [verb, ...args] = namespace ? rest.slice(2) : rest;
    const words = args.filter((a) => !a.startsWith('-') && a !== 'json');
    if (verb === 'get' && args.includes('json')) {
      const [kind, name] = words;
      if (!name) return { stdout: JSON.stringify({ items: this.list(kind, namespace ?? '') }) };
      const o = this.objects.get(key(kind, namespace, name));
      if (o) return { stdout: JSON.stringify(o) };
      return args.includes('--ignore-not-found')
        ? { stdout: '' }
        : { code: 1, stderr: `Error from server (NotFound): ${kind} "${name}" not found\n` };
    }
    if ((verb === 'apply' || verb === 'create') && args.includes('-')) {
      for (const doc of loadAll(input) as K8sObject[]) {
        if (!doc.apiVersion || !doc.kind)
          return { code: 1, stderr: `error: unable to decode "STDIN": Object 'apiVersion' or 'kind' is missing\n` };
        const k = key(doc.kind ?? '', doc.metadata?.namespace, doc.metadata?.name ?? '');
        if (verb === 'create' && this.objects.has(k))
          return { code: 1, stderr: `Error from server (AlreadyExists): ${doc.kind} "${doc.metadata?.name}" already exists\n` };
        this.objects.set(k, doc);
      }
      return { stdout: '' };
    }
    if (verb === 'delete') {
      if (!words.length) return { code: 1, stderr: 'error: resource(s) were provided, but no name was specified\n' };
      const refs = words.length === 2 && !words[0].includes('/') ? [`${words[0]}/${words[1]}`] : words;
      for (const ref of refs) {
        const [kind, name] = ref.split('/');
        this.objects.delete(key(kind, namespace, name));
      }
      return { stdout: '' };
    }
    return undefined;
  }
}
