// The pinned, mutually consistent version set and what each setting may be (see README "Versions").

/** The pinned versions. */
export const pins = {
  istio: '1.31.1',
  /** The release the upgrade chapters start from (N-1): the newest 1.30 patch. */
  istioPrevious: '1.30.5',
  kubernetes: 'v1.36.3',
  minikube: 'v1.39.0',
} as const;

/** Kubernetes minors each Istio minor supports (istio.io support table). Unknown minors are not checked. */
export const istioKubernetesSupport: Record<string, { min: number; max: number }> = {
  '1.31': { min: 32, max: 36 },
  '1.30': { min: 32, max: 36 },
  '1.29': { min: 31, max: 35 },
};

/**
 * Whether Istio `istio` (1.31.1) supports Kubernetes `kubernetes` (v1.36.3): 'unknown' when the Istio line is
 * not in the table, else undefined when supported or the reason it is not.
 */
export function kubernetesSupport(istio: string, kubernetes: string): string | 'unknown' | undefined {
  const [, iMajor, iMinor] = /^(\d+)\.(\d+)/.exec(istio) ?? [];
  const [, kMajor, kMinor] = /^v?(\d+)\.(\d+)/.exec(kubernetes) ?? [];
  const range = istioKubernetesSupport[`${iMajor}.${iMinor}`];
  if (!range) return 'unknown';
  const minor = Number(kMinor);
  return kMajor === '1' && minor >= range.min && minor <= range.max
    ? undefined
    : `Istio ${iMajor}.${iMinor} supports Kubernetes 1.${range.min} to 1.${range.max}`;
}

/**
 * The Kubernetes Gateway API the ambient track installs (waypoints and Gateway-API gateways need its CRDs; Istio does not
 * ship them): the version the pinned Istio line is built against (its go.mod), the standard channel. `objectsSha256`
 * is the digest of the release file's objects (objectsDigest in lib/istio/gateway-api.ts), taken from the
 * sigs.k8s.io/gateway-api module's own config/crd/standard, which the release file concatenates.
 */
export const gatewayApi = {
  version: 'v1.6.0',
  asset: 'standard-install.yaml',
  releaseUrl: 'https://github.com/kubernetes-sigs/gateway-api/releases/download',
  objectsSha256: 'aa2831bdf44a6d81b52c1c04bfdee17ccb56a8205a0ea2fe12e73c33e02c8371',
} as const;

export const minimums = { memoryMiB: 8192, cpus: 4 } as const;

/** How pods join the mesh: a sidecar in each (the tutorial), or ambient (ztunnel on each node, waypoints for L7). */
export const meshModes = ['sidecar', 'ambient'] as const;
export type MeshModeName = (typeof meshModes)[number];

export const istioProfiles = ['ambient', 'default', 'demo', 'empty', 'minimal', 'preview', 'remote', 'stable'] as const;

// `minikube start --help` (v1.39): the drivers it accepts.
export const minikubeDrivers = [
  'docker',
  'podman',
  'kvm2',
  'qemu2',
  'qemu',
  'virtualbox',
  'vfkit',
  'krunkit',
  'hyperkit',
  'hyperv',
  'parallels',
  'vmware',
  'none',
  'ssh',
] as const;
