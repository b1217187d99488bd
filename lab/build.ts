// Builds the lab's binaries from the Go module proxy (wrapper modules under the cache) and lays out an Istio
// release directory. Warm runs build nothing. Usage: npx tsx lab/build.ts [--node=real] [--check-recipe]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatewayApi } from '../tasks/config.ts';
import { isMain } from '../tasks/lib/cli/main.ts';
import {
  bin,
  binDir,
  gatewayApiFile,
  goEnv,
  type IstioLine,
  imageModulePins,
  istioDockerHub,
  istioHomeOf,
  istioLines,
  labCacheDir,
  labKey,
  labPins,
  minikubeModuleVersion,
  projectRoot,
  prometheusRelease,
  srcDir,
} from './base/common.ts';
import { buildImages } from './images/build-images.ts';
import { allImageRecipes } from './images/recipes.ts';
import { ensureHostPackages } from './toolchain/host-packages.ts';
import { prepareModule, resolveModule, runGo, type WrapperModule } from './toolchain/wrapper-module.ts';
import { buildZtunnel, ztunnelSource } from './toolchain/ztunnel.ts';

export interface Target {
  name: string;
  module: string; // wrapper module directory name under src/
  pkg: string;
  tags?: string;
  /** Computed when the binary is built (may read the downloaded module). */
  ldflags: string[] | (() => string[]);
  /** Rebuilt when `<bin>.version` differs (for a target outside `labKey`; a generated source's is its digest). */
  version?: string;
  /** Build with cgo (minikube's kvm driver: libvirt-go needs it even with `libvirt_dlopen`, which only avoids linking libvirt). */
  cgo?: boolean;
  /** A main package written into the wrapper module (`<dir>/main.go`) and built from there (`pkg` is `./<dir>`). */
  goSource?: { dir: string; text: string };
  /** For the e2e tests only (the command audit, the xDS harness): built by the CLI (`lab/build.ts`, the first step of
   * test:e2e), not by `build()` from up.ts. */
  testsOnly?: boolean;
  /** Only the real-node flavour runs it (or puts it in an image): built by `build({ realNode: true })`. */
  realNode?: boolean;
  /** Only the real node's ambient data plane needs it: built only where ztunnel can be (a ztunnel source exists). */
  ambientNode?: boolean;
}

const k8sVersion = labPins.kubernetes; // v1.36.3
const [k8sMajor, k8sMinor] = k8sVersion.replace(/^v/, '').split('.');
const stagingVersion = `v0.${k8sMinor}.${k8sVersion.split('.')[2]}`; // v0.36.3
const k8sLd = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
  `-X ${p}.gitVersion=${k8sVersion}`,
  `-X ${p}.gitMajor=${k8sMajor}`,
  `-X ${p}.gitMinor=${k8sMinor}`,
  `-X ${p}.gitTreeState=clean`,
]);
/** An Istio line's version stamp (`istioctl version`, pilot-discovery's and pilot-agent's). */
export const istioLd = (l: IstioLine): string[] => [
  `-X istio.io/istio/pkg/version.buildVersion=${l.version}`,
  `-X istio.io/istio/pkg/version.buildGitRevision=${l.commit}`,
  `-X istio.io/istio/pkg/version.buildTag=${l.module}`,
  `-X istio.io/istio/pkg/version.buildHub=${istioDockerHub}`,
  `-X istio.io/istio/pkg/version.buildStatus=Clean`,
  '-X istio.io/istio/pkg/version.buildOS=linux',
  `-X istio.io/istio/pkg/version.buildArch=${process.arch === 'arm64' ? 'arm64' : 'amd64'}`,
];
const istioTags = 'vtprotobuf,disable_pgv';
/** The wrapper module (and source copy) of an Istio line: `istio`, `istio-1.30`. */
export const istioModuleName = (l: IstioLine): string => `istio${l.suffix}`;

/**
 * An Istio line's binaries (`<name><suffix>`): istioctl and pilot-discovery always, pilot-agent for the real node's
 * proxyv2 image of that line (`pilot-agent`, `pilot-agent-1.30`), and N's CNI agent and plugin for its install-cni image.
 */
export function istioTargets(l: IstioLine): Target[] {
  const common = { module: istioModuleName(l), tags: istioTags, ldflags: istioLd(l) };
  return [
    { name: `istioctl${l.suffix}`, pkg: 'istio.io/istio/istioctl/cmd/istioctl', ...common },
    { name: `pilot-discovery${l.suffix}`, pkg: 'istio.io/istio/pilot/cmd/pilot-discovery', ...common },
    // The sidecar's agent, for the real node's istio/proxyv2 image of the line (lab/images).
    { name: `pilot-agent${l.suffix}`, pkg: 'istio.io/istio/pilot/cmd/pilot-agent', ...common, realNode: true },
    // The ambient CNI node agent and its plugin, for the real node's istio/install-cni image (N only: the ambient track).
    ...(l.id === 'current'
      ? [
          { name: 'install-cni', pkg: 'istio.io/istio/cni/cmd/install-cni', ...common, realNode: true, ambientNode: true },
          { name: 'istio-cni', pkg: 'istio.io/istio/cni/cmd/istio-cni', ...common, realNode: true, ambientNode: true },
        ]
      : []),
  ];
}

/**
 * Istio's own analyzers (the set `istioctl analyze` runs) on YAML files, Services and Pods included.
 * `istioctl analyze --use-kube=false` cannot judge Service port names: its file source drops the "runtime" kinds
 * Service, Pod, Namespace, Node and Secret (kuberesource.DefaultExcludedSchemas), so IST0118 only ever comes from a
 * live cluster. This harness feeds the files through `AddTestReaderKubeSource` (same analyzers, runtime kinds kept),
 * adds the defaults istioctl adds without a cluster, and prints the messages as `istioctl analyze -o json` does.
 */
const goDir = path.join(projectRoot, 'lab', 'go');
const analyzeFilesGo = readFileSync(path.join(goDir, 'analyze-files', 'main.go'), 'utf8');
/** What istiod serves one pod's sidecar (lab/go/xds-dump): the lab's view of Envoy's configuration. */
const xdsDumpGo = readFileSync(path.join(goDir, 'xds-dump', 'main.go'), 'utf8');
/** The real-node lab's host ports into its network namespace (lab/go/netns-relay, standard library only). */
const netnsRelayGo = readFileSync(path.join(goDir, 'netns-relay', 'main.go'), 'utf8');
/** A target's version: the pinned one, or for a generated source the digest of its text. */
const versionOf = (t: Target): string | undefined =>
  t.version ?? (t.goSource && createHash('sha256').update(t.goSource.text).digest('hex').slice(0, 12));

const allTargets: Target[] = [
  { name: 'etcd', module: 'etcd', pkg: 'go.etcd.io/etcd/server/v3', ldflags: [] },
  { name: 'kube-apiserver', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', ldflags: k8sLd },
  { name: 'kube-controller-manager', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', ldflags: k8sLd },
  { name: 'kube-scheduler', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', ldflags: k8sLd },
  { name: 'kubectl', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kubectl', ldflags: k8sLd },
  // The real-node flavour (lab/node): a kubelet and kube-proxy from the same module, and the namespace relay.
  { name: 'kubelet', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kubelet', ldflags: k8sLd, realNode: true },
  { name: 'kube-proxy', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-proxy', ldflags: k8sLd, realNode: true },
  {
    name: 'netns-relay',
    module: 'kubernetes',
    pkg: './netns-relay',
    ldflags: [],
    goSource: { dir: 'netns-relay', text: netnsRelayGo },
    realNode: true,
  },
  {
    name: 'kwok',
    module: 'kwok',
    pkg: 'sigs.k8s.io/kwok/cmd/kwok',
    ldflags: [`-X sigs.k8s.io/kwok/pkg/consts.Version=${labPins.kwok}`],
  },
  ...istioLines.flatMap(istioTargets),
  // The real node's CoreDNS and the httpbin sample, built as their Makefiles do (CGO off, stripped).
  {
    name: 'coredns',
    module: 'coredns',
    pkg: imageModulePins.coredns.module,
    ldflags: () => [`-X github.com/coredns/coredns/coremain.GitCommit=${originHash(imageModulePins.coredns)}`],
    version: imageModulePins.coredns.version,
    realNode: true,
  },
  {
    name: 'go-httpbin',
    module: 'httpbin',
    pkg: `${imageModulePins.httpbin.module}/cmd/go-httpbin`,
    ldflags: [],
    version: imageModulePins.httpbin.version,
    realNode: true,
  },
  // The Prometheus addon as its .promu.yml builds it (netgo; not builtinassets: the UI's assets are npm-built, not in the
  // module, so the lab's Prometheus serves its API and no web UI), and the pod's config-reloader as its Makefile does.
  {
    name: 'prometheus',
    module: 'prometheus',
    pkg: `${imageModulePins.prometheus.module}/cmd/prometheus`,
    tags: 'netgo',
    ldflags: () => [
      `-X github.com/prometheus/common/version.Version=${prometheusRelease(imageModulePins.prometheus.version).slice(1)}`,
      `-X github.com/prometheus/common/version.Revision=${originHash(imageModulePins.prometheus)}`,
    ],
    version: imageModulePins.prometheus.version,
    realNode: true,
  },
  {
    name: 'prometheus-config-reloader',
    module: 'reloader',
    pkg: `${imageModulePins.reloader.module}/cmd/prometheus-config-reloader`,
    ldflags: () => [
      `-X github.com/prometheus/common/version.Version=${imageModulePins.reloader.version.slice(1)}`,
      `-X github.com/prometheus/common/version.Revision=${originHash(imageModulePins.reloader)}`,
    ],
    version: imageModulePins.reloader.version,
    realNode: true,
  },
  // For the command audit only (never run against a cluster). Tags and ldflags as minikube's Makefile (MINIKUBE_BUILD_TAGS,
  // MINIKUBE_LDFLAGS); `version --short` then prints v1.38.1 like the release binary.
  {
    name: 'minikube',
    module: 'minikube',
    pkg: 'k8s.io/minikube/cmd/minikube',
    tags: 'libvirt_dlopen',
    ldflags: minikubeLd,
    version: minikubeModuleVersion,
    testsOnly: true,
    cgo: true,
  },
  {
    name: 'istio-analyze-files',
    module: 'istio',
    pkg: './analyze-files',
    tags: istioTags,
    ldflags: istioLd(istioLines[0]),
    testsOnly: true,
    goSource: { dir: 'analyze-files', text: analyzeFilesGo },
  },
  {
    name: 'istio-xds-dump',
    module: 'istio',
    pkg: './xds-dump',
    tags: istioTags,
    ldflags: istioLd(istioLines[0]),
    testsOnly: true,
    goSource: { dir: 'xds-dump', text: xdsDumpGo },
  },
];

/** The commit a module version was cut from, as the proxy records it. */
const originHash = (m: { module: string; version: string }): string => download(`${m.module}@${m.version}`).Origin?.Hash ?? '';

/** `-X k8s.io/minikube/pkg/version.*` as the module's Makefile sets them, read from the module itself. */
function minikubeLd(): string[] {
  const mod = download(`k8s.io/minikube@${minikubeModuleVersion}`);
  const makefile = readFileSync(path.join(mod.Dir, 'Makefile'), 'utf8');
  const makeVar = (name: string): string => {
    const m = new RegExp(`^${name}\\s*\\?=\\s*(\\S+)\\s*$`, 'm').exec(makefile);
    if (!m) throw new Error(`${name} not found in ${mod.Dir}/Makefile`);
    return m[1];
  };
  const raw = ['VERSION_MAJOR', 'VERSION_MINOR', 'VERSION_BUILD'].map(makeVar).join('.');
  if (`v${raw}` !== minikubeModuleVersion) throw new Error(`minikube Makefile says v${raw}, expected ${minikubeModuleVersion}`);
  const commit = mod.Origin?.Hash ?? '';
  return [
    `-X k8s.io/minikube/pkg/version.version=${minikubeModuleVersion}`,
    `-X k8s.io/minikube/pkg/version.isoVersion=${makeVar('ISO_VERSION')}`,
    `-X k8s.io/minikube/pkg/version.gitCommitID=${commit}`,
    `-X k8s.io/minikube/pkg/version.storageProvisionerVersion=${makeVar('STORAGE_PROVISIONER_TAG')}`,
  ];
}

/**
 * The `replace` directives of a dependency's go.mod, as lines for a wrapper module (a dependency's replaces are ignored
 * by Go, so a wrapper must repeat them). Replacements by a module path carry over; a local directory (`=> ./x`) cannot.
 */
function carriedReplaces(goModFile: string, { skipLocal = false } = {}): string[] {
  const text = readFileSync(goModFile, 'utf8').replace(/\/\/.*$/gm, '');
  const lines = [
    ...[...text.matchAll(/^replace\s*\(([\s\S]*?)^\)/gm)].flatMap((m) => m[1].split('\n')),
    ...[...text.matchAll(/^replace\s+([^(\s].*)$/gm)].map((m) => m[1]),
  ]
    .map((l) => l.trim())
    .filter(Boolean);
  const isLocal = (l: string): boolean => /^[./]/.test(l.split('=>')[1]?.trim() ?? '');
  return lines
    .filter((l) => !(skipLocal && isLocal(l)))
    .map((l) => {
      if (!l.includes('=>') || isLocal(l)) throw new Error(`cannot carry over local replace "${l}" from ${goModFile}`);
      return l;
    });
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = goEnv()): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}`);
  return r.stdout;
}

/** `go mod download -json` of one module version; returns its GoMod file and Dir. */
function download(mod: string): { GoMod: string; Dir: string; Origin?: { Hash?: string } } {
  return JSON.parse(run('go', ['mod', 'download', '-json', mod], labCacheDir)) as {
    GoMod: string;
    Dir: string;
    Origin?: { Hash?: string };
  };
}

/** Staging modules of k8s.io/kubernetes: the `=> ./staging/...` replace lines of its own go.mod. */
function stagingModules(goModFile: string): string[] {
  const mods = [...readFileSync(goModFile, 'utf8').matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
  if (mods.length < 20) throw new Error(`only ${mods.length} staging replaces found in ${goModFile}`);
  return mods;
}

/** Release-builder style: charts carry the release version, values the release hub and tag. */
function sanitizeCharts(root: string, version: string): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
    );
  for (const f of walk(path.join(root, 'manifests'))) {
    const base = path.basename(f);
    if (base !== 'Chart.yaml' && base !== 'values.yaml') continue;
    const text = readFileSync(f, 'utf8');
    const out =
      base === 'Chart.yaml'
        ? text.replace(/^version: .*$/m, `version: ${version}`).replace(/^appVersion: .*$/m, `appVersion: ${version}`)
        : text
            .replace(/^(\s*)hub: registry\.istio\.io\/testing\s*$/gm, `$1hub: ${istioDockerHub}`)
            .replace(/^(\s*)tag: latest\s*$/gm, `$1tag: ${version}`);
    if (out !== text) writeFileSync(f, out);
  }
}

function makeWritable(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    chmodSync(p, e.isDirectory() ? 0o755 : statSync(p).mode & 0o111 ? 0o755 : 0o644);
    if (e.isDirectory()) makeWritable(p);
  }
}

/** A release-builder-style copy of an Istio line's module (charts stamped with its version): `src/istio<suffix>-src`. */
function prepareIstioSource(l: IstioLine): string {
  const src = path.join(srcDir, `${istioModuleName(l)}-src`);
  const marker = path.join(src, '.sanitized');
  if (existsSync(marker)) return src;
  const { Dir } = download(`istio.io/istio@${l.module}`);
  const fileVersion = readFileSync(path.join(Dir, 'VERSION'), 'utf8').trim();
  if (fileVersion !== l.minor) throw new Error(`istio module ${l.module} VERSION is ${fileVersion}, the pin says ${l.minor}`);
  rmSync(src, { recursive: true, force: true });
  cpSync(Dir, src, { recursive: true });
  makeWritable(src);
  sanitizeCharts(src, l.version);
  writeFileSync(marker, `${l.module} -> ${l.version}\n`);
  return src;
}

/**
 * An Istio line's wrapper module as data: the module at its pseudo-version, replaced by the stamped copy, plus the
 * line's own replaces. `go get` names the version: without it Go resolves istio.io/istio to the newest commit it
 * knows (the N build moved N-1's require to the release-1.31 commit).
 */
export function istioWrapperModule(l: IstioLine, src: string): WrapperModule {
  const name = istioModuleName(l);
  const replaces = l.replaces.length
    ? `\n// not served by the Go module proxy at the versions ${l.commit} requires: the nearest served\nreplace (\n${l.replaces.map((r) => `\t${r}`).join('\n')}\n)\n`
    : '';
  return {
    name,
    goMod: `module lab.local/${name}\n\ngo 1.26.0\n\nrequire istio.io/istio ${l.module}\n\n// release-builder style copy of the module: charts stamped with ${l.version}\nreplace istio.io/istio => ${JSON.stringify(src)}\n${replaces}`,
    packages: getArgs(name, l.module),
    files: generatedSources(name),
  };
}

/** minikube's wrapper: its go.mod says `go 1.25.0`; its replace lines (none in v1.38.1) are carried over. */
function minikubeModule(): WrapperModule {
  const mk = download(`k8s.io/minikube@${minikubeModuleVersion}`);
  const goLine = /^go\s+(\S+)/m.exec(readFileSync(mk.GoMod, 'utf8'))?.[1] ?? '1.25.0';
  const replaces = carriedReplaces(mk.GoMod);
  const replaceBlock = replaces.length
    ? `\n// carried over from k8s.io/minikube@${minikubeModuleVersion} go.mod\nreplace (\n${replaces.map((r) => `\t${r}`).join('\n')}\n)\n`
    : '';
  return {
    name: 'minikube',
    goMod: `module lab.local/minikube\n\ngo ${goLine}\n\nrequire k8s.io/minikube ${minikubeModuleVersion}\n${replaceBlock}`,
    packages: [`k8s.io/minikube/cmd/minikube@${minikubeModuleVersion}`],
    files: {},
  };
}

const targetsOf = (module: string): Target[] => allTargets.filter((t) => t.module === module);
/** `go get` arguments: a module's packages at its version, a generated package by its directory. */
const getArgs = (module: string, version?: string): string[] =>
  targetsOf(module).map((t) => (t.pkg.startsWith('./') || !version ? t.pkg : `${t.pkg}@${version}`));
const generatedSources = (module: string): Record<string, string> =>
  Object.fromEntries(targetsOf(module).flatMap((t) => (t.goSource ? [[`${t.goSource.dir}/main.go`, t.goSource.text]] : [])));

/** What each wrapper module is: go.mod text, `go get` packages and generated sources (nothing is resolved here). */
function wrapperModules(only?: Set<string>): WrapperModule[] {
  const wanted = (name: string): boolean => !only || only.has(name);
  const out: WrapperModule[] = [];
  if (only?.has('minikube')) out.push(minikubeModule());
  if (wanted('etcd')) {
    out.push({
      name: 'etcd',
      goMod: `module lab.local/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 ${labPins.etcd}\n`,
      packages: getArgs('etcd', labPins.etcd),
      files: generatedSources('etcd'),
    });
  }
  if (wanted('kubernetes')) {
    const k8s = download(`k8s.io/kubernetes@${k8sVersion}`);
    const replaces = stagingModules(k8s.GoMod)
      .map((m) => `\t${m} => ${m} ${stagingVersion}`)
      .join('\n');
    out.push({
      name: 'kubernetes',
      goMod: `module lab.local/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes ${k8sVersion}\n\nreplace (\n${replaces}\n)\n`,
      packages: getArgs('kubernetes', k8sVersion),
      files: generatedSources('kubernetes'),
    });
  }
  if (wanted('kwok')) {
    out.push({
      name: 'kwok',
      goMod: `module lab.local/kwok\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kwok ${labPins.kwok}\n`,
      packages: getArgs('kwok', labPins.kwok),
      files: generatedSources('kwok'),
    });
  }
  for (const [name, pin] of Object.entries(imageModulePins)) {
    if (!wanted(name)) continue;
    // A dependency's module-path replaces are ignored by Go, so a wrapper repeats them; its local ones (prometheus-
    // operator's ./pkg/... sub-modules) resolve as the nested modules the proxy serves at the required versions.
    const replaces = [
      ...carriedReplaces(download(`${pin.module}@${pin.version}`).GoMod, { skipLocal: true }),
      ...('replaces' in pin ? pin.replaces : []),
    ];
    out.push({
      name,
      goMod: `module lab.local/${name}\n\ngo 1.26.0\n\nrequire ${pin.module} ${pin.version}\n${replaces.map((r) => `\nreplace ${r}\n`).join('')}`,
      packages: getArgs(name, pin.version),
      files: generatedSources(name),
    });
  }
  for (const l of istioLines) if (wanted(istioModuleName(l))) out.push(istioWrapperModule(l, prepareIstioSource(l)));
  return out;
}

/** Resolves each wanted wrapper module under srcDir (skipped when its marker matches); returns name -> directory. */
function modules(only?: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of wrapperModules(only)) {
    const dir = path.join(srcDir, m.name);
    const t = Date.now();
    if (prepareModule(m, dir, loggedGo(m.name)))
      console.log(`[lab build] resolved ${m.name} in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    out[m.name] = dir;
  }
  return out;
}

const loggedGo = (name: string) => {
  const go = runGo(goEnv());
  return (args: string[], cwd: string): void => {
    console.log(`[lab build] resolving ${name} module`);
    go(args, cwd);
  };
};

/**
 * The recipe check: every wrapper module resolved from nothing in a fresh directory (against the module cache the
 * build filled), then every target's packages loaded with the resulting go.sum, as `go build` would. A warm srcDir
 * cannot hide a recipe that a new machine would fail on. Returns seconds taken.
 */
export function checkRecipe(): number {
  const t = Date.now();
  mkdirSync(labCacheDir, { recursive: true });
  const root = mkdtempSync(path.join(os.tmpdir(), 'lab-recipe-'));
  try {
    for (const m of wrapperModules(new Set(allTargets.map((x) => x.module)))) {
      const dir = path.join(root, m.name);
      const s = Date.now();
      resolveModule(m, dir, runGo(goEnv()));
      for (const target of targetsOf(m.name)) {
        const env = { ...goEnv(), ...(target.cgo ? { CGO_ENABLED: '1' } : {}) };
        runGo(env)(['list', '-deps', ...(target.tags ? [`-tags=${target.tags}`] : []), target.pkg], dir);
      }
      console.log(`[lab recipe] ${m.name}: resolved and loaded in ${((Date.now() - s) / 1000).toFixed(1)}s`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return (Date.now() - t) / 1000;
}

function buildAll(audit: boolean, realNode: boolean): Record<string, number> {
  const times: Record<string, number> = {};
  const ambientNode = realNode && 'gitDir' in ztunnelSource();
  const targets = allTargets.filter(
    (t) => (audit || !t.testsOnly) && (realNode || !t.realNode) && (ambientNode || !t.ambientNode),
  );
  const stale = (t: Target) =>
    versionOf(t) !== undefined &&
    (!existsSync(`${bin(t.name)}.version`) || readFileSync(`${bin(t.name)}.version`, 'utf8').trim() !== versionOf(t));
  const missing = targets.filter((t) => !existsSync(bin(t.name)) || stale(t));
  if (missing.length === 0) {
    console.log(`[lab build] all ${targets.length} binaries present in ${binDir}`);
    return times;
  }
  const mods = modules(new Set(missing.map((t) => t.module)));
  mkdirSync(binDir, { recursive: true });
  missing.forEach((t, i) => {
    const tmp = `${bin(t.name)}.tmp`;
    const ldflags = typeof t.ldflags === 'function' ? t.ldflags() : t.ldflags;
    const args = ['build', '-p', '2', '-trimpath', '-ldflags', ['-s', '-w', ...ldflags].join(' '), '-o', tmp];
    if (t.tags) args.push(`-tags=${t.tags}`);
    args.push(t.pkg);
    console.log(`[lab build] (${i + 1}/${missing.length}) ${t.name} <- ${t.pkg}`);
    const start = Date.now();
    run('go', args, mods[t.module], { ...goEnv(), ...(t.cgo ? { CGO_ENABLED: '1' } : {}) });
    renameSync(tmp, bin(t.name));
    const version = versionOf(t);
    if (version !== undefined) writeFileSync(`${bin(t.name)}.version`, `${version}\n`);
    times[t.name] = Math.round((Date.now() - start) / 1000);
    console.log(`[lab build] ${t.name} built in ${times[t.name]}s`);
  });
  const timesFile = path.join(labCacheDir, 'build-times.json');
  const old = existsSync(timesFile) ? (JSON.parse(readFileSync(timesFile, 'utf8')) as Record<string, number>) : {};
  writeFileSync(timesFile, `${JSON.stringify({ ...old, ...times }, null, 2)}\n`);
  return times;
}

/**
 * An Istio line's unpacked-release look-alike: bin/istioctl, manifests/, samples/, tools/, manifest.yaml (as
 * istio/release-builder lays it out).
 */
function layoutRelease(l: IstioLine): void {
  const home = istioHomeOf(l);
  const marker = path.join(home, '.complete');
  if (existsSync(marker)) return;
  const src = prepareIstioSource(l);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(path.join(home, 'bin'), { recursive: true });
  for (const d of ['manifests', 'samples', 'tools']) cpSync(path.join(src, d), path.join(home, d), { recursive: true });
  for (const f of ['LICENSE', 'README.md']) cpSync(path.join(src, f), path.join(home, f));
  cpSync(bin(`istioctl${l.suffix}`), path.join(home, 'bin', 'istioctl'));
  writeFileSync(
    path.join(home, 'manifest.yaml'),
    `# Laid out by lab/build.ts from the Go module istio.io/istio@${l.module}, not an official release.\n` +
      `version: ${l.version}\ndocker: ${istioDockerHub}\ndependencies:\n  istio:\n    goversion: ${l.module}\n    sha: ${l.commit}\n`,
  );
  writeFileSync(marker, '');
  console.log(`[lab build] release directory ${home}`);
}

/**
 * The Gateway API release file, as the module's hack/build-install-yaml.sh joins it (each config/crd/standard file after
 * a comment naming it), from the module version the lab's Istio requires; it must be the version the product pins.
 */
function layoutGatewayApi(): void {
  if (existsSync(gatewayApiFile)) return;
  const found = JSON.parse(run('go', ['list', '-m', '-json', 'sigs.k8s.io/gateway-api'], path.join(srcDir, 'istio'))) as {
    Version: string;
    Dir: string;
  };
  if (found.Version !== gatewayApi.version)
    throw new Error(`the lab's Istio builds against gateway-api ${found.Version}; the product pins ${gatewayApi.version}`);
  // Listed in the build list but not in the module cache (a cache cleared since the binaries were built): download it.
  const dir = found.Dir || download(`sigs.k8s.io/gateway-api@${found.Version}`).Dir;
  const standard = path.join(dir, 'config', 'crd', 'standard');
  const files = readdirSync(standard)
    .filter((f) => f.startsWith('gateway') && f.endsWith('.yaml'))
    .sort();
  const text = files
    .map((f) => `---\n#\n# config/crd/standard/${f}\n#\n${readFileSync(path.join(standard, f), 'utf8')}`)
    .join('');
  writeFileSync(
    `${gatewayApiFile}.tmp`,
    `#\n# Gateway API Standard channel install (joined by lab/build.ts from ${dir})\n#\n${text}`,
  );
  renameSync(`${gatewayApiFile}.tmp`, gatewayApiFile);
  console.log(`[lab build] Gateway API ${found.Version} CRDs ${gatewayApiFile} (${files.length} files)`);
}

/**
 * Builds what is missing and lays out the release directory; returns seconds per binary built now.
 * `audit: true` also builds the command audit's minikube (the CLI does; `lab/up.ts` does not need it).
 * `realNode: true` also installs the real node's host packages and assembles its images (lab/images).
 */
export function build({ audit = false, realNode = false }: { audit?: boolean; realNode?: boolean } = {}): {
  times: Record<string, number>;
  /** The real node's image archives (none without `realNode`). */
  images: string[];
} {
  const t = Date.now();
  console.log(
    `[lab build] key ${labKey}\n[lab build] cache ${labCacheDir}\n[lab build] istio version strings ${istioLines.map((l) => l.version).join(', ')}`,
  );
  mkdirSync(labCacheDir, { recursive: true });
  const istio = Object.fromEntries(istioLines.map((l) => [l.id, l.version]));
  writeFileSync(path.join(labCacheDir, 'versions.json'), `${JSON.stringify({ labPins, istio }, null, 2)}\n`);
  const say = (m: string): void => console.log(`[lab build] ${m}`);
  const hostPackages = realNode ? ensureHostPackages(say) : undefined;
  const times = buildAll(audit, realNode);
  if (realNode) {
    const z = ztunnelSource();
    if ('gitDir' in z) times.ztunnel = buildZtunnel(z.gitDir, say);
    else say(`no ztunnel for the real node: ${z.missing}`);
    if (!times.ztunnel) delete times.ztunnel;
  }
  for (const l of istioLines) layoutRelease(l);
  // N only: N-1's module requires an older gateway-api than the product pins; the lab's one file serves both lines.
  layoutGatewayApi();
  let images: string[] = [];
  if (realNode) {
    if (hostPackages) say(`${hostPackages}; the images wait for them`);
    else {
      const s = Date.now();
      images = buildImages(allImageRecipes(), say);
      times.images = Math.round((Date.now() - s) / 1000);
    }
  }
  const total = Math.round((Date.now() - t) / 1000);
  console.log(
    `[lab build] done in ${total}s${Object.keys(times).length ? ` (built: ${JSON.stringify(times)})` : ' (nothing to build)'}`,
  );
  return { times, images };
}

if (isMain(import.meta.url)) {
  try {
    if (process.argv.includes('--check-recipe'))
      console.log(`[lab recipe] every wrapper module resolves from nothing: ${checkRecipe().toFixed(0)}s`);
    // The real node's parts (Debian packages as root, its binaries and images) only when asked: --node=real.
    else build({ audit: true, realNode: process.argv.includes('--node=real') });
  } catch (e) {
    console.error(`[lab build] ${(e as Error).message}`);
    process.exit(1);
  }
}
