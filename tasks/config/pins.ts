// The pinned, mutually consistent version set and what each setting may be (see README "Versions").

/** The pinned versions. */
export const pins = {
  istio: '1.31.1',
  kubernetes: 'v1.36.3',
  minikube: 'v1.39.0',
} as const;

/** Kubernetes minors each Istio minor supports (istio.io support table). Unknown minors are not checked. */
export const istioKubernetesSupport: Record<string, { min: number; max: number }> = {
  '1.31': { min: 32, max: 36 },
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

export const minimums = { memoryMiB: 8192, cpus: 4 } as const;

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
