// Builds each recipe's docker-archive into the lab cache, skipped while its inputs are unchanged (the key is the recipe
// with the size and mtime of every staged file, of a copied tree too). Returns the archives to import, in recipe order.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { labCacheDir } from '../base/common.ts';
import { writeDockerArchive } from './archive.ts';
import { filesUnder } from './cached-dir.ts';
import { type ImageRecipe, imagesOf } from './recipe.ts';
import { type RootfsEntry, sharedLibraries, stageRootfs } from './rootfs.ts';

export const imagesDir = path.join(labCacheDir, 'images');

/** A file name for a reference: docker.io/istio/proxyv2:1.31 -> docker.io_istio_proxyv2_1.31 */
export const slug = (ref: string): string => ref.replace(/[^A-Za-z0-9.-]+/g, '_');

function recipeKey(r: ImageRecipe, entries: RootfsEntry[]): string {
  const files = entries.flatMap((e) =>
    'copy' in e ? [e.copy, ...sharedLibraries(e.copy)] : 'tree' in e ? [e.tree, ...filesUnder(e.tree)] : [],
  );
  const stats = files.map((f) => {
    const s = statSync(f);
    return [f, s.size, Math.round(s.mtimeMs)];
  });
  return createHash('sha256')
    .update(JSON.stringify({ images: imagesOf(r), entries, stats }))
    .digest('hex')
    .slice(0, 16);
}

/** Older archives of the same image (its slug, then a 16-hex key): never another image whose tag starts alike. */
export function staleArchives(files: string[], ref: string, current: string): string[] {
  const ofThisImage = new RegExp(`^${slug(ref).replace(/[.]/g, '\\.')}-[0-9a-f]{16}\\.tar$`);
  return files.filter((f) => ofThisImage.test(f) && f !== current);
}

export function buildImage(r: ImageRecipe, log: (m: string) => void = () => undefined): string {
  mkdirSync(imagesDir, { recursive: true });
  const entries = r.rootfs();
  const out = path.join(imagesDir, `${slug(r.ref)}-${recipeKey(r, entries)}.tar`);
  if (existsSync(out)) return out;
  const started = Date.now();
  const rootfs = `${out}.rootfs`;
  rmSync(rootfs, { recursive: true, force: true });
  try {
    stageRootfs(rootfs, entries);
    writeDockerArchive(rootfs, imagesOf(r), out);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  // Older archives of the same image are stale.
  for (const f of staleArchives(readdirSync(imagesDir), r.ref, path.basename(out))) rmSync(path.join(imagesDir, f));
  log(
    `image ${imagesOf(r)
      .map((i) => i.ref)
      .join(', ')}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
  return out;
}

export const buildImages = (recipes: ImageRecipe[], log?: (m: string) => void): string[] =>
  recipes.map((r) => buildImage(r, log));
