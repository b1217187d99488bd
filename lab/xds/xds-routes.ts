// What a sidecar's routes and inbound listener say, as plain values to compare with assert.deepEqual: which
// clusters a virtual host's routes send to (and with what weights), the fault a route injects, and whether an
// inbound port takes mutual TLS only. Pure functions over an xDS dump (lab/xds/xds.ts); no lab needed.
import type { Resource, XdsDump } from './xds.ts';

/** A fault a route injects (Envoy's HTTPFault, as Istio writes it per route), percentages out of 100. */
export interface FaultView {
  delay?: { fixedDelay: string; percent: number };
  abort?: { httpStatus: number; percent: number };
}

/** One route of a virtual host: what it matches, where it sends (cluster -> weight), and its fault if any. */
export interface RouteView {
  /** `prefix /`, then each header condition: `prefix / & end-user exact jason`. */
  match: string;
  /** One cluster: weight 100. Weighted clusters: each with its weight. */
  to: Record<string, number>;
  fault?: FaultView;
}

const faultFilter = 'envoy.filters.http.fault';

/** Envoy's FractionalPercent denominators; protojson omits the default, HUNDRED. */
const per: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** A FractionalPercent (`{numerator, denominator}`) as a percentage. */
export function percentOf(p: Resource | undefined): number {
  const scale = per[p?.denominator ?? 'HUNDRED'];
  if (!scale) throw new Error(`unknown FractionalPercent denominator ${p?.denominator}`);
  return (Number(p?.numerator ?? 0) * 100) / scale;
}

/** The route configuration `routeConfig` (e.g. `9080`) and its virtual host `host` (e.g. `reviews.bookinfo.svc.cluster.local:9080`). */
export function virtualHost(dump: XdsDump, routeConfig: string, host: string): Resource {
  const config = dump.routes.find((r) => r.name === routeConfig);
  if (!config) throw new Error(`no route configuration ${routeConfig} (served: ${dump.routes.map((r) => r.name).join(', ')})`);
  const vh = (config.virtualHosts ?? []).find((v: Resource) => v.name === host);
  if (!vh)
    throw new Error(
      `no virtual host ${host} in ${routeConfig} (served: ${(config.virtualHosts ?? []).map((v: Resource) => v.name).join(', ')})`,
    );
  return vh;
}

function describeMatch(m: Resource | undefined): string {
  const path =
    m?.prefix !== undefined
      ? `prefix ${m.prefix}`
      : m?.path !== undefined
        ? `path ${m.path}`
        : m?.safeRegex
          ? `regex ${m.safeRegex.regex}`
          : m?.pathSeparatedPrefix !== undefined
            ? `prefix ${m.pathSeparatedPrefix}`
            : 'any path';
  const headers = (m?.headers ?? []).map((h: Resource) => {
    const [kind, value] = Object.entries(h.stringMatch ?? {}).find(([k]) => k !== 'ignoreCase') ?? ['present', ''];
    return `${h.name}${h.invertMatch ? ' not' : ''} ${kind} ${value}`.trim();
  });
  return [path, ...headers].join(' & ');
}

/** The fault of a route, or undefined when it injects none. */
export function faultOf(route: Resource): FaultView | undefined {
  const f = route.typedPerFilterConfig?.[faultFilter];
  if (!f) return undefined;
  const view: FaultView = {};
  if (f.delay) view.delay = { fixedDelay: f.delay.fixedDelay, percent: percentOf(f.delay.percentage) };
  if (f.abort) view.abort = { httpStatus: f.abort.httpStatus, percent: percentOf(f.abort.percentage) };
  return view;
}

function destinations(action: Resource | undefined): Record<string, number> {
  if (action?.cluster) return { [action.cluster]: 100 };
  return Object.fromEntries((action?.weightedClusters?.clusters ?? []).map((c: Resource) => [c.name, Number(c.weight ?? 0)]));
}

/** The routes of a virtual host (an RDS one or, as a waypoint's, inline), in Envoy's order (the first that matches wins). */
export function routeViews(vh: Resource): RouteView[] {
  return (vh.routes ?? []).map((r: Resource) => {
    const view: RouteView = { match: describeMatch(r.match), to: destinations(r.route) };
    const fault = faultOf(r);
    if (fault) view.fault = fault;
    return view;
  });
}

/** The routes of one virtual host of a sidecar's RDS route configuration. */
export const routesOf = (dump: XdsDump, routeConfig: string, host: string): RouteView[] =>
  routeViews(virtualHost(dump, routeConfig, host));

/**
 * What the inbound listener (`virtualInbound`) accepts on `port`, one entry per filter chain, sorted: `mutual TLS`
 * (TLS with a client certificate required), `TLS` (without), `TLS passthrough` (TLS matched, not terminated) or
 * `plaintext`. STRICT mTLS: `['mutual TLS']`; PERMISSIVE: `['mutual TLS', 'plaintext']`.
 */
export function inboundModes(dump: XdsDump, port: number): string[] {
  const inbound = dump.listeners.find((l) => l.name === 'virtualInbound');
  if (!inbound) throw new Error(`no virtualInbound listener (served: ${dump.listeners.map((l) => l.name).join(', ')})`);
  return (inbound.filterChains ?? [])
    .filter((c: Resource) => c.filterChainMatch?.destinationPort === port)
    .map((c: Resource) => {
      const tls = c.transportSocket?.name === 'envoy.transport_sockets.tls';
      if (tls) return c.transportSocket.typedConfig?.requireClientCertificate === true ? 'mutual TLS' : 'TLS';
      return c.filterChainMatch?.transportProtocol === 'tls' ? 'TLS passthrough' : 'plaintext';
    })
    .sort();
}
