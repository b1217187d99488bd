// Each addon's objects (from the pinned release, labelled as ours, patched by patches/).
// Shared by the addons chapter, which installs them, and teardown, which removes them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Addon, addons, names, patchesDir } from '../../config.ts';
import { ourLabels } from '../kube/kube.ts';
import { applyPatches, describe, type K8sObject, prepare, readManifests } from '../kube/manifests.ts';
import type { Ctx } from '../run/types.ts';

export { type Addon, addons };

/** An addon's manifest from the release, labelled as ours and with its patch applied. */
export function addonObjects(ctx: Pick<Ctx, 'config'>, addon: Addon): K8sObject[] {
  const file = path.join(ctx.config.istioHome, addon.file);
  let docs = prepare(readManifests(file), { namespace: names.istioNamespace, labels: ourLabels() });
  if (addon.expose)
    docs = applyPatches(docs, readManifests(path.join(patchesDir, addon.expose.patch)), `patches/${addon.expose.patch}`);
  return docs;
}

/** The objects and their description; a dry run on a machine without the release names the file instead. */
export function addonManifest(ctx: Ctx, addon: Addon): { docs: K8sObject[]; label: string } {
  if (ctx.options.dryRun && !existsSync(path.join(ctx.config.istioHome, addon.file)))
    return { docs: [], label: `${addon.file}${addon.expose ? ` + patches/${addon.expose.patch}` : ''}` };
  const docs = addonObjects(ctx, addon);
  return { docs, label: describe(docs) };
}
