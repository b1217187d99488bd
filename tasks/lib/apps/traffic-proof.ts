// Proof that the mesh saw the traffic chapter's requests, from the addons' own APIs reached through the API
// server's service proxy (`kubectl get --raw`, so every driver works without a port-forward): Prometheus's
// istio_requests_total for httpbin, and a trace of httpbin in Zipkin or Jaeger. Each judge takes the raw answer.
import { type Config, names } from '../../config.ts';

const { namespace, server } = names.traffic;
const proxy = (service: string, port: number, rest: string) =>
  `/api/v1/namespaces/${names.istioNamespace}/services/${service}:${port}/proxy${rest}`;

export const requestsQuery = `sum(istio_requests_total{reporter="destination",destination_workload="${server}",destination_workload_namespace="${namespace}"})`;
/** The span service name Istio reports for httpbin. */
export const traceService = `${server}.${namespace}`;

export const prometheusPath = proxy('prometheus', 9090, `/api/v1/query?query=${encodeURIComponent(requestsQuery)}`);
export const zipkinPath = proxy('zipkin', 9411, `/zipkin/api/v2/traces?serviceName=${traceService}&limit=1`);
export const jaegerPath = proxy('tracing', 80, `/jaeger/api/traces?service=${traceService}&limit=1`);

/** A verdict: how many (requests, traces) were seen, or why the answer says nothing. */
export type Verdict = { seen: number } | { problem: string };

/** The first 80 characters of an answer, for a message. */
const excerpt = (text: string) => text.trim().slice(0, 80);

/** The answer as JSON, or the problem to report when it is none. */
type Parsed = { json: unknown } | { problem: string };

function parse(text: string, what: string): Parsed {
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { problem: `${what} did not answer JSON: ${excerpt(text) || '(nothing)'}` };
  }
}

/** Prometheus `/api/v1/query`: the request count in a vector result (0 when the result is empty). */
export function judgePrometheus(text: string): Verdict {
  const parsed = parse(text, 'Prometheus');
  if ('problem' in parsed) return parsed;
  const b = (parsed.json ?? {}) as { status?: string; error?: string; data?: { result?: { value?: [number, string] }[] } };
  if (b.status !== 'success') return { problem: `Prometheus says ${b.status ?? 'nothing'}${b.error ? `: ${b.error}` : ''}` };
  const value = b.data?.result?.[0]?.value?.[1];
  return { seen: value === undefined ? 0 : Number(value) };
}

/** Zipkin `/api/v2/traces`: an array of traces (each an array of spans). */
export function judgeZipkin(text: string): Verdict {
  const parsed = parse(text, 'Zipkin');
  if ('problem' in parsed) return parsed;
  return Array.isArray(parsed.json)
    ? { seen: parsed.json.length }
    : { problem: `Zipkin answered no list of traces: ${excerpt(text)}` };
}

/** Jaeger's query API `/api/traces`: `{ data: [...] }`, or `errors`. */
export function judgeJaeger(text: string): Verdict {
  const parsed = parse(text, 'Jaeger');
  if ('problem' in parsed) return parsed;
  const b = (parsed.json ?? {}) as { data?: unknown[]; errors?: { msg?: string }[] | null };
  if (b.errors?.length) return { problem: `Jaeger says ${b.errors.map((e) => e.msg).join('; ')}` };
  return Array.isArray(b.data) ? { seen: b.data.length } : { problem: `Jaeger answered no list of traces: ${excerpt(text)}` };
}

/** What to ask, given the addons: Prometheus when it is installed, the tracing backend when tracing is on. */
export function proofs(
  config: Pick<Config, 'addons' | 'tracing'>,
): { what: string; path: string; judge: (t: string) => Verdict; metrics?: true }[] {
  const has = (name: string) => config.addons.some((a) => a.name === name);
  return [
    ...(has('prometheus')
      ? [{ what: 'istio_requests_total in Prometheus', path: prometheusPath, judge: judgePrometheus, metrics: true as const }]
      : []),
    ...(config.tracing.to !== 'off' && has('zipkin')
      ? [{ what: 'a trace in Zipkin', path: zipkinPath, judge: judgeZipkin }]
      : []),
    ...(config.tracing.to !== 'off' && has('jaeger')
      ? [{ what: 'a trace in Jaeger', path: jaegerPath, judge: judgeJaeger }]
      : []),
  ];
}
