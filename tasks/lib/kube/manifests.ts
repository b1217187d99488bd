// Kubernetes manifests as data: read with js-yaml, labelled, namespaced and patched in memory, then
// fed to kubectl through stdin.
import { readFileSync } from 'node:fs';
import { dump, loadAll } from 'js-yaml';
import { StepError, type UsageError } from '../base/errors.ts';

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Files the user names are a usage error when bad (exit 2); the project's and the release's, a failed step (exit 1). */
type Blame = typeof UsageError | typeof StepError;

export function parseManifests(text: string, source: string, blame: Blame = StepError): K8sObject[] {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (e) {
    throw new blame(`${source} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return docs
    .filter((d) => d !== null && d !== undefined)
    .map((d, i) => {
      if (!isObject(d)) throw new blame(`${source}: document ${i + 1} is not a Kubernetes object`);
      return d as K8sObject;
    });
}

export function readManifests(file: string, blame: Blame = StepError): K8sObject[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new blame(`no such file or directory: ${file}`);
    throw new blame(`cannot read ${file}: ${code ?? (e as Error).message}`);
  }
  return parseManifests(text, file, blame);
}

export const objectName = (o: K8sObject) => `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;

/** What a stdin manifest carries, for dry-run and the log: "ServiceAccount/sleep, Deployment/sleep". */
export const describe = (docs: K8sObject[]) => docs.map(objectName).join(', ');

export const dumpAll = (docs: K8sObject[]) => docs.map((d) => dump(d, { noRefs: true, lineWidth: -1 })).join('---\n');

const clusterScoped = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
]);

/** Sets the namespace of namespaced objects that name none, and adds labels to every object. */
export function prepare(docs: K8sObject[], o: { namespace?: string; labels?: Record<string, string> }): K8sObject[] {
  return docs.map((d) => {
    const metadata = { ...d.metadata };
    if (o.namespace && !metadata.namespace && !clusterScoped.has(d.kind ?? '')) metadata.namespace = o.namespace;
    if (o.labels) metadata.labels = { ...metadata.labels, ...o.labels };
    return { ...d, metadata };
  });
}

/** Deep merge: objects merge key by key, anything else (arrays included) is replaced. */
export function merge(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = v === null ? undefined : merge(base[k], v);
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * Applies partial manifests (the files in patches/) to the objects they name by kind and name, as
 * `kubectl patch --type merge` would. A patch that matches nothing is an error: upstream changed.
 */
export function applyPatches(docs: K8sObject[], patches: K8sObject[], source: string): K8sObject[] {
  const used = new Set<K8sObject>();
  const out = docs.map((d) => {
    const p = patches.find((x) => x.kind === d.kind && x.metadata?.name === d.metadata?.name);
    if (!p) return d;
    used.add(p);
    const { apiVersion: _a, kind: _k, metadata: _m, ...body } = p;
    return merge(d, body) as K8sObject;
  });
  const unused = patches.filter((p) => !used.has(p));
  if (unused.length) throw new StepError(`${source}: ${describe(unused)} not found in the upstream manifest`);
  return out;
}
