// The images the real-node lab assembles, under the exact names the product and the pinned release reference. Adding an
// image is adding an entry here: its name, its files (a root filesystem staged from this machine) and its config.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import {
  bin,
  type IstioLine,
  imageModulePins,
  istioDockerHub,
  istioHomeOf,
  istioLines,
  prometheusRelease,
} from '../base/common.ts';
import { base } from './base.ts';
import { bookinfoRecipes } from './bookinfo/images.ts';
import {
  envoyBinary,
  javaRuntime,
  moduleFile,
  pauseBinary,
  pauseVersion,
  zipkinJar,
  zipkinModules,
  zipkinServerJar,
} from './inputs.ts';
import type { ImageRecipe } from './recipe.ts';
import { type RootfsEntry, sharedLibraries } from './rootfs.ts';

export const pauseImage: ImageRecipe = {
  ref: `registry.k8s.io/pause:${pauseVersion}`,
  rootfs: () => [{ copy: pauseBinary(), to: '/pause' }],
  // As build/pause/Dockerfile: ENTRYPOINT ["/pause"], USER 65535:65535.
  config: { Entrypoint: ['/pause'], User: '65535:65535' },
};

/**
 * The curl sample (samples/curl, and the product's sleep manifest): curl, sleep and a shell, as user curl_user (uid 100)
 * like the upstream image. The name is the release's; the curl inside is Debian's (7.88), not 8.16.
 */
export const curlImage: ImageRecipe = {
  ref: 'docker.io/curlimages/curl:8.16.0',
  rootfs: () => [
    ...base([{ name: 'curl_user', uid: 100 }]),
    { copy: '/usr/bin/curl' },
    { copy: '/usr/bin/sleep', to: '/bin/sleep' },
    { copy: '/usr/bin/dash', to: '/bin/sh' },
  ],
  config: { Entrypoint: ['/usr/bin/curl'], User: '100', Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] },
};

/** iptables (nf_tables backend) as istio-iptables runs it: every name it may call, and the extensions it loads. */
export function iptables(): RootfsEntry[] {
  const multi = '/usr/sbin/xtables-nft-multi';
  // The extensions are loaded at run time from libxtables' own directory (XTABLES_LIBDIR, Debian's multiarch dir).
  const libxtables = sharedLibraries(multi).find((l) => path.basename(l).startsWith('libxtables.so'));
  const extensions = libxtables && path.join(path.dirname(realpathSync(libxtables)), 'xtables');
  if (!extensions || !existsSync(extensions))
    throw new Error(`no iptables extensions next to ${libxtables ?? 'libxtables'} (Debian: apt-get install iptables)`);
  const names = ['iptables', 'ip6tables'].flatMap((t) =>
    ['', '-nft'].flatMap((v) => ['', '-save', '-restore'].map((suffix) => `${t}${v}${suffix}`)),
  );
  return [
    { copy: multi },
    ...names.map((n) => ({ link: 'xtables-nft-multi', to: `/usr/sbin/${n}` })),
    ...readdirSync(extensions).map((f) => ({ copy: path.join(extensions, f), mode: 0o644 })),
  ];
}

/**
 * istio/proxyv2 of an Istio line as pilot/docker/Dockerfile.proxyv2 builds it: the bootstrap template, Envoy, pilot-agent
 * as the entrypoint, on a base with iptables and the istio-proxy user (uid 1337). Envoy is upstream's (envoyBinary), the
 * same wheel for every line; the bootstrap template is the line's own release's (tools/packaging/common).
 */
export const proxyv2ImageOf = (l: IstioLine): ImageRecipe => ({
  ref: `${istioDockerHub}/proxyv2:${l.version}`,
  rootfs: () => [
    ...base([{ name: 'istio-proxy', uid: 1337 }]),
    ...iptables(),
    {
      copy: path.join(istioHomeOf(l), 'tools', 'packaging', 'common', 'envoy_bootstrap.json'),
      to: '/var/lib/istio/envoy/envoy_bootstrap_tmpl.json',
      mode: 0o644,
    },
    { copy: envoyBinary(), to: '/usr/local/bin/envoy' },
    { copy: bin(`pilot-agent${l.suffix}`), to: '/usr/local/bin/pilot-agent' },
  ],
  config: {
    Entrypoint: ['/usr/local/bin/pilot-agent'],
    Env: ['PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    WorkingDir: '/',
  },
});

/** istio/pilot of an Istio line as pilot/docker/Dockerfile.pilot: pilot-discovery as the entrypoint, user 1337. */
export const pilotImageOf = (l: IstioLine): ImageRecipe => ({
  ref: `${istioDockerHub}/pilot:${l.version}`,
  rootfs: () => [
    ...base([{ name: 'istio-proxy', uid: 1337 }]),
    { copy: bin(`pilot-discovery${l.suffix}`), to: '/usr/local/bin/pilot-discovery' },
  ],
  config: {
    Entrypoint: ['/usr/local/bin/pilot-discovery'],
    User: '1337:1337',
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
  },
});

/**
 * istio/install-cni as cni/deployments/kubernetes/Dockerfile.install-cni: the CNI plugin (istio-cni) it copies onto the
 * node and the installer that is also the ambient node agent, on a base with iptables (it programs each enrolled pod's).
 */
export const installCniImage: ImageRecipe = {
  ref: `${istioDockerHub}/install-cni:${istioLines[0].version}`,
  rootfs: () => [
    ...base(),
    ...iptables(),
    { copy: bin('istio-cni'), to: '/opt/cni/bin/istio-cni' },
    { copy: bin('install-cni'), to: '/usr/local/bin/install-cni' },
  ],
  config: {
    Cmd: ['/usr/local/bin/install-cni'],
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/cni/bin'],
    WorkingDir: '/opt/cni/bin',
  },
};

/** istio/ztunnel as Istio's pilot/docker/Dockerfile.ztunnel: the Rust binary built from istio/ztunnel (lab/toolchain/ztunnel.ts). */
export const ztunnelImage: ImageRecipe = {
  ref: `${istioDockerHub}/ztunnel:${istioLines[0].version}`,
  rootfs: () => [...base(), ...iptables(), { copy: bin('ztunnel'), to: '/usr/local/bin/ztunnel' }],
  config: {
    Entrypoint: ['/usr/local/bin/ztunnel'],
    Env: ['PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `ISTIO_META_ISTIO_VERSION=${istioLines[0].version}`],
    WorkingDir: '/',
  },
};

/** CoreDNS as its Dockerfile builds it (distroless static, nonroot). Port 53 binds through containerd's unprivileged ports. */
export const corednsImage: ImageRecipe = {
  ref: `registry.k8s.io/coredns/coredns:${imageModulePins.coredns.version}`,
  rootfs: () => [...base([{ name: 'nonroot', uid: 65532 }]), { copy: bin('coredns'), to: '/coredns' }],
  config: { Entrypoint: ['/coredns'], User: '65532:65532', WorkingDir: '/' },
};

/** The httpbin sample (samples/httpbin): go-httpbin as its Dockerfile installs it, listening on 8080. */
export const httpbinImage: ImageRecipe = {
  ref: `docker.io/mccutchen/go-httpbin:${imageModulePins.httpbin.version}`,
  rootfs: () => [...base(), { copy: bin('go-httpbin'), to: '/bin/go-httpbin' }],
  config: { Cmd: ['/bin/go-httpbin'], Env: ['PATH=/bin'] },
};

/** The Zipkin addon (samples/addons/extras/zipkin.yaml): the slim server jar on a jlinked Java 17, listening on 9411. */
export const zipkinImage: ImageRecipe = {
  ref: `docker.io/openzipkin/zipkin-slim:${zipkinJar.version}`,
  rootfs: () => [
    ...base(),
    { tree: javaRuntime('zipkin', zipkinModules), to: '/opt/java' },
    { copy: zipkinServerJar(), to: '/zipkin/zipkin-server-slim.jar', mode: 0o644 },
  ],
  config: {
    Entrypoint: [
      '/opt/java/bin/java',
      '-XX:+ExitOnOutOfMemoryError',
      '-Xms64m',
      '-Xmx256m',
      '-jar',
      '/zipkin/zipkin-server-slim.jar',
    ],
    Env: ['PATH=/opt/java/bin:/usr/bin:/bin', 'JAVA_HOME=/opt/java'],
    WorkingDir: '/zipkin',
  },
};

/** Prometheus as its Dockerfile lays it out (the example config, /prometheus owned by nobody), API only (no UI assets). */
export const prometheusImage: ImageRecipe = {
  ref: `docker.io/prom/prometheus:${prometheusRelease(imageModulePins.prometheus.version)}`,
  rootfs: () => [
    ...base(),
    { copy: bin('prometheus'), to: '/bin/prometheus' },
    {
      copy: moduleFile(imageModulePins.prometheus, 'documentation/examples/prometheus.yml'),
      to: '/etc/prometheus/prometheus.yml',
      mode: 0o644,
    },
    { dir: '/prometheus', mode: 0o777 },
  ],
  config: {
    Entrypoint: ['/bin/prometheus'],
    Cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
    User: '65534',
    WorkingDir: '/prometheus',
  },
};

/** The Prometheus pod's config-reloader sidecar, as cmd/prometheus-config-reloader/Dockerfile installs it. */
export const reloaderImage: ImageRecipe = {
  ref: `ghcr.io/prometheus-operator/prometheus-config-reloader:${imageModulePins.reloader.version}`,
  rootfs: () => [...base(), { copy: bin('prometheus-config-reloader'), to: '/bin/prometheus-config-reloader' }],
  config: { Entrypoint: ['/bin/prometheus-config-reloader'], User: '65534' },
};

/**
 * The same image under its `-distroless` tag too: the ambient profile sets `global.variant: distroless`, so its pods
 * ask for `<image>:<tag>-distroless` (the lab's images are distroless-like already: no shell, no package manager).
 */
export const withDistroless = (r: ImageRecipe): ImageRecipe => ({
  ...r,
  variants: [...(r.variants ?? []), { ref: `${r.ref}-distroless`, config: r.config }],
});

export const imageRecipes: ImageRecipe[] = [
  pauseImage,
  corednsImage,
  curlImage,
  httpbinImage,
  // N and N-1 (the upgrade chapters): istio/pilot and istio/proxyv2 at each line's version.
  ...istioLines.flatMap((l) => [proxyv2ImageOf(l), pilotImageOf(l)]).map(withDistroless),
  zipkinImage,
  prometheusImage,
  reloaderImage,
];

/** Every image of the real node: the lab's own and the product's, then Bookinfo's (which need the laid-out release). */
export const allImageRecipes = (): ImageRecipe[] => [
  ...imageRecipes,
  // The ambient data plane, only when the lab could build ztunnel (its source is a local snapshot: lab/toolchain/ztunnel.ts).
  ...(existsSync(bin('ztunnel')) ? [installCniImage, ztunnelImage].map(withDistroless) : []),
  ...bookinfoRecipes(),
];
