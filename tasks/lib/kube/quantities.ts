// Kubernetes resource quantities as numbers: CPUs ("4", "3500m") and memory in MiB ("8Gi", "8048236Ki", "8G").

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** CPUs in a quantity ("3500m" is 3.5); NaN for what is not one. */
export function cpus(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : Number.NaN;
}

/** MiB in a memory quantity ("8Gi" is 8192); NaN for what is not one. */
export function mebibytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]i|[kMGTP])?$/.exec(q.trim());
  if (!m) return Number.NaN;
  const unit = m[2] ? (binary[m[2]] ?? decimal[m[2]]) : 1;
  return (Number(m[1]) * unit) / 2 ** 20;
}
