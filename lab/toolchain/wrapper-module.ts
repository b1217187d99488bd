// A wrapper module: a go.mod, the packages `go get` resolves, and any generated sources those packages include.
// Everything `go get` is given is written first, and the `.resolved` marker is keyed on all of it, so a warm
// cache can never keep a resolution that a fresh directory would not reproduce.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface WrapperModule {
  name: string;
  goMod: string;
  /** Arguments to `go get`: `pkg@version`, or `./dir` for a generated main package. */
  packages: string[];
  /** Generated sources, relative path -> text; written before `go get` (a `./dir` package needs its source). */
  files: Record<string, string>;
}

/** Runs a Go command in a directory; throws with the command line on failure. Injectable for tests. */
export type GoRunner = (args: string[], cwd: string) => void;

export const runGo =
  (env: NodeJS.ProcessEnv): GoRunner =>
  (args, cwd) => {
    const r = spawnSync('go', args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`go ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}`);
  };

/** The marker's content: a digest of everything that decides the resolution. */
export function resolutionKey(m: WrapperModule): string {
  return createHash('sha256')
    .update(JSON.stringify([m.goMod, m.packages, Object.entries(m.files).sort()]))
    .digest('hex');
}

/** Writes go.mod and the generated sources into `dir`, then fills go.sum with `go get`. */
export function resolveModule(m: WrapperModule, dir: string, go: GoRunner): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), m.goMod);
  rmSync(path.join(dir, 'go.sum'), { force: true });
  writeSources(m, dir);
  go(['get', ...m.packages], dir);
}

/** (Re)writes the generated sources; a build calls this too, so a resolved module always has current sources. */
export function writeSources(m: WrapperModule, dir: string): void {
  for (const [rel, text] of Object.entries(m.files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

/** Resolves `m` in `dir` unless the marker says this exact module was resolved there. Returns whether it resolved. */
export function prepareModule(m: WrapperModule, dir: string, go: GoRunner): boolean {
  const marker = path.join(dir, '.resolved');
  const key = resolutionKey(m);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === key) {
    writeSources(m, dir);
    return false;
  }
  rmSync(marker, { force: true });
  resolveModule(m, dir, go);
  writeFileSync(marker, `${key}\n`);
  return true;
}
