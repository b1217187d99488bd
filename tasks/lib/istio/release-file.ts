// A file of the pinned release's samples (Bookinfo, httpbin, curl), as the tool applies it: in the namespace it
// names and labelled as the tool's, so teardown can tell it from the user's.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ourLabels } from '../kube/kube.ts';
import { describe, type K8sObject, prepare, readManifests } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';

export interface ReleaseFile {
  docs: K8sObject[];
  /** How a dry run and the log describe it: its objects, or the file where a dry run does not have the release. */
  label: string;
}

/** `samples/<file>` of the release, in `namespace`; a dry run on a machine without the release names the file. */
export function releaseFile(ctx: Ctx, file: string, namespace: string): ReleaseFile {
  const full = path.join(ctx.config.istioHome, 'samples', file);
  if (ctx.options.dryRun && !existsSync(full)) return { docs: [], label: `samples/${file}` };
  const docs = prepare(readManifests(full), { namespace, labels: ourLabels() });
  return { docs, label: describe(docs) };
}
