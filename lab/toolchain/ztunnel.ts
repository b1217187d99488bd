// ztunnel, ambient mode's node proxy, for the real node's istio/ztunnel image: Rust, built with cargo (crates from
// crates.io) from istio/ztunnel's source. That source is on no registry the lab may download from, so it comes from a
// local git snapshot of the repository (LAB_ZTUNNEL_GIT; `fetch github:istio/ztunnel` leaves one at the default path).
// Without it the real node has no ztunnel: ztunnelSource() says why, and the ambient real-traffic suite skips with it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, labCacheDir } from '../base/common.ts';

/**
 * The source: the snapshot's `release-1.31` at this commit. Istio's `istio.deps` names 44beaefc, which the snapshot does
 * not hold; this is the newest commit of the same release line it does.
 */
export const ztunnelPin = { ref: 'release-1.31', commit: 'e94018b3005032317a46c4f169007bf6fee7a710' } as const;
/** ring instead of the default aws-lc (no cmake build of a C library); the FIPS `tls-boring` is a GitHub dependency. */
export const ztunnelFeatures = ['tls-ring'] as const;
export const defaultZtunnelGit = '/work/.mirror/istio+ztunnel/repo';

const git = (gitDir: string, args: string[]) =>
  spawnSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });

/** The snapshot to build from, or why there is none (a sentence for the skip). */
export function ztunnelSource(
  gitDir = process.env.LAB_ZTUNNEL_GIT ?? defaultZtunnelGit,
): { gitDir: string } | { missing: string } {
  if (!existsSync(gitDir))
    return { missing: `no istio/ztunnel source at ${gitDir} (set LAB_ZTUNNEL_GIT to a git snapshot of the repository)` };
  const at = git(gitDir, ['rev-parse', '--verify', `${ztunnelPin.commit}^{commit}`]);
  if (at.status !== 0) return { missing: `${gitDir} does not hold istio/ztunnel ${ztunnelPin.commit.slice(0, 8)}` };
  return { gitDir };
}

/**
 * Cargo.toml without the optional git dependency of the FIPS feature: cargo resolves every dependency, optional or
 * not, and GitHub is out of reach; with it goes the feature that names it.
 */
export function withoutGitDependencies(cargoToml: string): string {
  const gitDeps = [...cargoToml.matchAll(/^([\w-]+)\s*=\s*\{[^}\n]*\bgit\s*=/gm)].map((m) => m[1]);
  return cargoToml
    .split('\n')
    .filter((line) => !gitDeps.some((d) => new RegExp(`^${d}\\s*=`).test(line) || line.includes(`"${d}/`)))
    .join('\n');
}

const versionFile = (): string => bin('ztunnel.version');
const wantedVersion = `${ztunnelPin.commit} ${ztunnelFeatures.join(',')}`;

/** Builds bin/ztunnel unless the same commit and features are there. Returns the seconds it took (0 when skipped). */
export function buildZtunnel(gitDir: string, say: (m: string) => void): number {
  if (existsSync(bin('ztunnel')) && existsSync(versionFile()) && readFileSync(versionFile(), 'utf8') === wantedVersion) return 0;
  const t = Date.now();
  const src = path.join(labCacheDir, 'src', `ztunnel-${ztunnelPin.commit.slice(0, 12)}`);
  if (!existsSync(path.join(src, 'Cargo.toml'))) {
    const staging = `${src}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // vendor/ holds the FIPS BoringSSL build (unused here; the snapshot lacks its large blobs).
    const script = 'set -o pipefail; git --git-dir="$0" archive --format=tar "$1" -- . ":(exclude)vendor" | tar -x -C "$2"';
    const x = spawnSync('bash', ['-c', script, gitDir, ztunnelPin.commit, staging], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`extracting istio/ztunnel ${ztunnelPin.commit.slice(0, 8)}: ${x.stderr.trim()}`);
    const toml = path.join(staging, 'Cargo.toml');
    writeFileSync(toml, withoutGitDependencies(readFileSync(toml, 'utf8')));
    rmSync(src, { recursive: true, force: true });
    renameSync(staging, src);
  }
  say(
    `ztunnel: cargo build --no-default-features --features ${ztunnelFeatures.join(',')} (istio/ztunnel ${ztunnelPin.commit.slice(0, 8)})`,
  );
  const cargo = spawnSync('cargo', ['build', '--no-default-features', '--features', ztunnelFeatures.join(',')], {
    cwd: src,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (cargo.status !== 0) throw new Error(`cargo build of ztunnel failed (exit ${cargo.status}); see its output above`);
  // The debug build carries 200+ MB of debug info: the image gets it stripped.
  const s = spawnSync('strip', ['-o', bin('ztunnel'), path.join(src, 'out', 'rust', 'debug', 'ztunnel')], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(`strip ztunnel: ${s.stderr.trim()}`);
  writeFileSync(versionFile(), wantedVersion);
  return Math.round((Date.now() - t) / 1000);
}
