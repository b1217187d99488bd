// Naming Kubernetes objects, and the read-only kubectl queries every chapter shares. Chapters say which object
// (kind, name, namespace); the argv is built here and nowhere else.
import { names } from '../../config.ts';
import { parseJson } from '../exec/tool-output.ts';
import type { ObjectRef, Query } from '../run/requests.ts';
import type { Ctx } from '../run/types.ts';
import { describe, dumpAll, type K8sObject } from './manifests.ts';

export type { ObjectRef };

export const namespaceRef = (name: string): ObjectRef => ({ kind: 'namespace', name });
export const inNamespace = (namespace: string, kind: string, name?: string): ObjectRef => ({ kind, name, namespace });

const address = (ref: ObjectRef): string => (ref.name ? `${ref.kind}/${ref.name}` : ref.kind);

/**
 * `[-n ns] <verb...> <objects> <args>`: the one way objects are addressed on a kubectl command line. One object is
 * `kind name` (or just `kind`: all of them); several are `kind/name ...` and must share a namespace.
 */
export function verbArgs(verb: string | string[], refs: ObjectRef | ObjectRef[], args: string[] = []): string[] {
  const list = [refs].flat();
  const namespace = list[0]?.namespace;
  if (list.some((r) => r.namespace !== namespace))
    throw new Error(`one kubectl command, one namespace: ${list.map(address).join(', ')}`);
  const objects = list.length === 1 ? [list[0].kind, ...(list[0].name ? [list[0].name] : [])] : list.map(address);
  return [...(namespace ? ['-n', namespace] : []), ...[verb].flat(), ...objects, ...args];
}

/** `kubectl port-forward` of a Service's `port` to a free local port on 127.0.0.1 (kubectl picks it). */
export const portForwardArgs = (service: ObjectRef, port: number): string[] => [
  ...(service.namespace ? ['-n', service.namespace] : []),
  'port-forward',
  address(service),
  `:${port}`,
  '--address',
  '127.0.0.1',
];

/** `kubectl exec <kind>/<name> -c <container> -- <command...>` (kubectl picks one of a workload's pods). */
export const execArgs = (ref: ObjectRef, container: string, command: string[]): string[] => [
  ...(ref.namespace ? ['-n', ref.namespace] : []),
  'exec',
  address(ref),
  '-c',
  container,
  '--',
  ...command,
];

/** The label every object the tool creates carries, so teardown can tell its own from the user's. */
export function ourLabels(): Record<string, string> {
  return { [names.managedBy.key]: names.managedBy.value };
}
export const ourSelector = `${names.managedBy.key}=${names.managedBy.value}`;

/**
 * `kubectl <verb> -f - <flags>` with the objects on stdin, never in argv (a Secret's key stays out of `ps`, logs and
 * dry runs); they are described by kind/name, or by `label` (e.g. a file a dry run does not have).
 */
export async function onObjects(
  ctx: Ctx,
  verb: 'create' | 'apply' | 'delete',
  docs: K8sObject[],
  o: { flags?: string[]; label?: string } = {},
): Promise<void> {
  await ctx.sh.kubectl([verb, '-f', '-', ...(o.flags ?? [])], {
    input: dumpAll(docs),
    inputLabel: o.label ?? describe(docs),
    query: { op: 'send', verb, objects: docs },
  });
}

/**
 * Deletes the objects by name (`kubectl delete --ignore-not-found`): a missing one is no error. `wait`: until they
 * are gone; `within`: at most this long (e.g. the configured timeout).
 */
export async function deleteObjects(
  ctx: Ctx,
  refs: ObjectRef | ObjectRef[],
  o: { wait?: boolean; within?: string } = {},
): Promise<void> {
  const flags = ['--ignore-not-found', ...(o.wait ? ['--wait=true'] : []), ...(o.within ? [`--timeout=${o.within}`] : [])];
  await ctx.sh.kubectl(verbArgs('delete', refs, flags), { query: { op: 'delete', refs: [refs].flat() } });
}

/** Creates a namespace that carries the tool's label (and `labels`). */
export async function createNamespace(ctx: Ctx, name: string, labels: Record<string, string> = {}): Promise<void> {
  await onObjects(ctx, 'create', [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...ourLabels(), ...labels } } },
  ]);
}

// Reads are questions (`read: true`): the shell asks each once until something changes, so steps ask freely.

/**
 * A read's output. The shell asks it once until something changes; an object of a kind the server does not serve
 * (Istio's, before Istio is installed) does not exist.
 */
async function ask(ctx: Ctx, args: string[], query: Query, o: ReadOptions = {}): Promise<string> {
  const read = !o.fresh;
  return (await ctx.sh.kubectl(args, { read, nothingIf: /the server doesn't have a resource type/, query })).stdout;
}

/** `fresh`: asked anew, never the shell's remembered answer: for a poll that waits to see a change. */
export interface ReadOptions {
  fresh?: boolean;
}

/** Secrets are read field by field: their data stays out of the log. */
const isSecret = (ref: ObjectRef) => /^secrets?$/i.test(ref.kind);

/** The object (`kubectl get -o json --ignore-not-found`), undefined when it does not exist. Not for Secrets. */
export async function getObject(ctx: Ctx, ref: ObjectRef, o: ReadOptions = {}): Promise<K8sObject | undefined> {
  if (isSecret(ref) || !ref.name) throw new Error(`getObject: ${address(ref)} is not one object that may be logged`);
  const out = await ask(ctx, verbArgs('get', ref, ['-o', 'json', '--ignore-not-found']), { op: 'get', ref }, o);
  return out.trim() ? (parseJson(out, `kubectl get ${address(ref)}`) as K8sObject) : undefined;
}

/** Every object of `ref.kind` in its namespace, in one read that every step asking about one of them shares. */
export async function listObjects(ctx: Ctx, ref: ObjectRef, o: ReadOptions = {}): Promise<K8sObject[]> {
  const all = { kind: ref.kind, namespace: ref.namespace };
  if (isSecret(ref)) throw new Error('listObjects: Secrets are read field by field');
  const out = await ask(ctx, verbArgs('get', all, ['-o', 'json']), { op: 'list', ref: all }, o);
  return (parseJson(out || '{}', `kubectl get ${ref.kind}`) as { items?: K8sObject[] }).items ?? [];
}

/** Every object of these kinds in every namespace (`kubectl get a,b -A -o json`), in one read. */
export async function listEverywhere(ctx: Ctx, kinds: string[]): Promise<K8sObject[]> {
  const all = kinds.join(',');
  const out = await ask(ctx, ['get', all, '-A', '-o', 'json'], { op: 'list-all', kinds: all });
  return (parseJson(out || '{}', `kubectl get ${all} -A`) as { items?: K8sObject[] }).items ?? [];
}

/** One object, found in the list of its kind (`listObjects`): for kinds several steps ask about. */
export async function findObject(ctx: Ctx, ref: ObjectRef): Promise<K8sObject | undefined> {
  return (await listObjects(ctx, ref)).find((o) => o.metadata?.name === ref.name);
}

export const labelOf = (o: K8sObject | undefined, key: string): string => o?.metadata?.labels?.[key] ?? '';
export const annotationOf = (o: K8sObject | undefined, key: string): string => o?.metadata?.annotations?.[key] ?? '';
/** Whether the object is the tool's ("ours" throughout: it carries the tool's managed-by label). */
export const ours = (o: K8sObject | undefined): boolean => labelOf(o, names.managedBy.key) === names.managedBy.value;

/** Whether a workload reports the Available condition. */
export function available(o: K8sObject | undefined): boolean {
  const conditions = (o?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Available' && c.status === 'True');
}

/** True when the object exists. */
export async function exists(ctx: Ctx, ref: ObjectRef): Promise<boolean> {
  if (!isSecret(ref)) return (await getObject(ctx, ref)) !== undefined;
  return (await ask(ctx, verbArgs('get', ref, ['-o', 'name', '--ignore-not-found']), { op: 'names', ref })).trim() !== '';
}

/** One field of one object through jsonpath, '' when the object or field is missing. */
export async function field(ctx: Ctx, ref: ObjectRef | ObjectRef[], jsonpath: string): Promise<string> {
  const query: Query = { op: 'field', refs: [ref].flat(), jsonpath };
  return (await ask(ctx, verbArgs('get', ref, ['-o', `jsonpath=${jsonpath}`, '--ignore-not-found']), query)).trim();
}

/** The object, or the objects of the kind (those matching `selector`), as JSON text (`kubectl get -o json`). */
export async function getJson(ctx: Ctx, ref: ObjectRef, selector?: string, o: ReadOptions = {}): Promise<string> {
  if (isSecret(ref)) throw new Error('getJson: Secrets are read field by field');
  const query: Query = ref.name ? { op: 'get', ref, required: true } : { op: 'list', ref, selector };
  const args = [...(selector ? ['-l', selector] : []), '-o', 'json'];
  return (await ctx.sh.kubectl(verbArgs('get', ref, args), { read: !o.fresh, query })).stdout;
}

/** The names of the objects of `ref.kind` that carry the tool's label. */
export async function ourNames(ctx: Ctx, ref: ObjectRef): Promise<string[]> {
  return (await ask(ctx, verbArgs('get', ref, ['-o', 'name', '-l', ourSelector]), { op: 'names', ref, selector: ourSelector }))
    .split('\n')
    .map((l) => l.trim().split('/').pop() ?? '')
    .filter(Boolean);
}

/** Who has an object: nobody, the tool, or someone else (whose it stays). */
export async function ownerOf(ctx: Ctx, ref: ObjectRef): Promise<'none' | 'ours' | 'theirs'> {
  if (!(await exists(ctx, ref))) return 'none';
  return (await isOurs(ctx, ref)) ? 'ours' : 'theirs';
}

/** Why a step refuses to change an object the tool did not make (`what`: e.g. "namespace bookinfo"). */
export const notOurs = (what: string, why = 'refusing to change it') => `${what} was not made by fun-with-istio: ${why}`;

/** True when the object carries the tool's managed-by label. */
export async function isOurs(ctx: Ctx, ref: ObjectRef): Promise<boolean> {
  if (!isSecret(ref)) return ours(await getObject(ctx, ref));
  return (await field(ctx, ref, labelPath(names.managedBy.key))) === names.managedBy.value;
}

/**
 * Waits for a condition (`--for=...`) with the configured timeout, streaming progress to `onLine`; for a kind, on
 * every object of it, or on those matching `selector`.
 */
export async function waitFor(
  ctx: Ctx,
  refs: ObjectRef | ObjectRef[],
  condition: string,
  onLine?: (l: string) => void,
  selector?: string,
): Promise<void> {
  const kind = [refs].flat().some((r) => !r.name);
  const all = kind ? (selector ? ['-l', selector] : ['--all']) : [];
  await ctx.sh.kubectl(verbArgs('wait', refs, [`--for=${condition}`, ...all, `--timeout=${ctx.config.waitTimeout}`]), { onLine });
}

/** `kubectl rollout status` of a workload, bounded by the configured timeout. */
export async function rolloutStatus(ctx: Ctx, ref: ObjectRef): Promise<void> {
  await ctx.sh.kubectl(verbArgs(['rollout', 'status'], ref, [`--timeout=${ctx.config.waitTimeout}`]));
}

const escapeKey = (key: string) => key.replace(/\./g, '\\.');

/** jsonpath of a label, on the object itself or at `at` (e.g. '.spec.template.metadata'). */
export const labelPath = (key: string, at = '.metadata') => `{${at}.labels.${escapeKey(key)}}`;
