/** Parses `v1.36.3`, `1.31.1`, `v1.32.4-dispatcher` into numbers; undefined when it is not a version. */
export function parseVersion(text: string | undefined): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) throw new Error(`not versions: ${a}, ${b}`);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Minor-version distance, e.g. kubectl v1.35 against a v1.36 cluster is 1. */
export function minorSkew(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return Number.POSITIVE_INFINITY;
  return pa[0] !== pb[0] ? Number.POSITIVE_INFINITY : Math.abs(pa[1] - pb[1]);
}

/**
 * The one rule for kubectl against the cluster's Kubernetes (its version skew policy: within one minor version):
 * beyond it, a warning that every command shows the same way, never a failure (kubectl mostly still works).
 */
export function kubectlSkewWarning(client: string, kubernetes: string): string | undefined {
  if (minorSkew(client, kubernetes) <= 1) return undefined;
  return `kubectl ${client} is more than one minor version from Kubernetes ${kubernetes} (kubectl supports ±1)`;
}
