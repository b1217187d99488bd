// A root filesystem staged from this machine's files: binaries with the shared libraries they load (read from ldd),
// files written from text, and empty directories. What a Dockerfile's COPY and a distroless base give an image.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export type RootfsEntry =
  /** A host file copied to `to` (default: the same path); an ELF program brings its libraries along. */
  | { copy: string; to?: string; mode?: number }
  /** A file written from text. */
  | { text: string; to: string; mode?: number }
  /** An empty directory. */
  | { dir: string; mode?: number }
  /** A symbolic link at `to` (multi-call programs choose by the name they are run as). */
  | { link: string; to: string }
  /** A host directory copied whole to `to`; its programs and libraries bring what they load from outside it. */
  | { tree: string; to: string };

/**
 * The shared libraries (and the loader) a dynamically linked program needs, as absolute host paths. `provided` names
 * libraries that come with the program's own tree (a JVM's libjvm.so, which its libraries find at run time, not ldd).
 */
export function sharedLibraries(program: string, provided: ReadonlySet<string> = new Set()): string[] {
  const r = spawnSync('ldd', [program], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (/not a dynamic executable|statically linked/.test(out)) return [];
  if (r.status !== 0) throw new Error(`ldd ${program}: ${out.trim()}`);
  const missing = [...out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]).find((lib) => !provided.has(lib));
  if (missing) throw new Error(`${program} needs ${missing}, which this machine does not have`);
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}

/** Regular files under `dir` that start with the ELF magic number. */
export function elfFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => {
      const fd = openSync(f, 'r');
      try {
        const head = Buffer.alloc(4);
        return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
      } finally {
        closeSync(fd);
      }
    });
}

const inside = (root: string, p: string): string => path.join(root, p.replace(/^\/+/, ''));

function place(root: string, from: string, to: string, mode?: number): void {
  const dest = inside(root, to);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(realpathSync(from), dest);
  chmodSync(dest, mode ?? 0o755);
}

/** Stages `entries` under `root` (which must be empty or absent). */
export function stageRootfs(root: string, entries: RootfsEntry[]): void {
  mkdirSync(root, { recursive: true });
  const libraries = new Set<string>();
  for (const e of entries) {
    if ('tree' in e) {
      cpSync(e.tree, inside(root, e.to), { recursive: true, verbatimSymlinks: true });
      const elves = elfFiles(e.tree);
      const own = new Set(elves.map((f) => path.basename(f)));
      for (const f of elves) for (const lib of sharedLibraries(f, own)) if (!lib.startsWith(`${e.tree}/`)) libraries.add(lib);
    } else if ('link' in e) {
      mkdirSync(path.dirname(inside(root, e.to)), { recursive: true });
      symlinkSync(e.link, inside(root, e.to));
    } else if ('dir' in e) {
      mkdirSync(inside(root, e.dir), { recursive: true });
      chmodSync(inside(root, e.dir), e.mode ?? 0o755);
    } else if ('text' in e) {
      mkdirSync(path.dirname(inside(root, e.to)), { recursive: true });
      writeFileSync(inside(root, e.to), e.text);
      chmodSync(inside(root, e.to), e.mode ?? 0o644);
    } else {
      if (!existsSync(e.copy)) throw new Error(`${e.copy} is missing on this machine`);
      place(root, e.copy, e.to ?? e.copy, e.mode);
      for (const lib of sharedLibraries(e.copy)) libraries.add(lib);
    }
  }
  for (const lib of libraries) if (!existsSync(inside(root, lib))) place(root, lib, lib);
}
