// Whether what a file says is what the cluster has. The API server adds defaults to what it keeps, so "in place"
// means its copy holds every field the file sets; lists must match item by item.

import type { Ctx } from '../run/types.ts';
import { inNamespace, listObjects, ours } from './kube.ts';
import type { K8sObject } from './manifests.ts';

/** Whether `have` (the server's copy) says everything `want` (a file) says. */
export function holds(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => holds(have[i], w));
  if (want && typeof want === 'object')
    return (
      !!have && typeof have === 'object' && Object.entries(want).every(([k, w]) => holds((have as Record<string, unknown>)[k], w))
    );
  return have === want;
}

export const nameOf = (o: K8sObject): string => o.metadata?.name ?? '';

/**
 * Whether each object is in place, holding what its file says (one list read per kind and namespace); with `onlyOurs`,
 * also carrying the tool's label (the tool put it there, not the user).
 */
export async function inPlace(ctx: Ctx, docs: K8sObject[], onlyOurs = false): Promise<boolean> {
  if (!docs.length) return false;
  for (const doc of docs) {
    const kind = (doc.kind ?? '').toLowerCase();
    const found = (await listObjects(ctx, inNamespace(doc.metadata?.namespace ?? '', kind))).find(
      (o) => nameOf(o) === nameOf(doc),
    );
    if (!found || !holds(found.spec, doc.spec) || (onlyOurs && !ours(found))) return false;
  }
  return true;
}
