// What istiod serves a waypoint, as plain values: a service's HTTP routes (the clusters and weights an HTTPRoute sends
// to) and the RBAC policies an L7 AuthorizationPolicy becomes. A waypoint serves each captured service on a filter
// chain of its `main_internal` listener, `inbound-vip|<port>|http|<hostname>`, whose connection manager carries the
// routes inline (no RDS). Pure functions over a waypoint's dump (lab/xds/xds.ts xdsDump(pod, 'waypoint')).
import { connectionManagers, type Resource, type XdsDump } from './xds.ts';
import { type RouteView, routeViews } from './xds-routes.ts';

/** One policy of an RBAC filter: its name (`ns[<ns>]-policy[<name>]-rule[<i>]`), the filter's action and what it matches. */
export interface RbacView {
  policy: string;
  action: string;
  /** HTTP methods its permissions match (`:method` headers, exact). */
  methods: string[];
  /** Peer identities its principals match (exact), e.g. `spiffe://cluster.local/ns/<ns>/sa/<sa>`. */
  principals: string[];
}

/** The filter chain's name for a service the waypoint serves over HTTP. */
export const waypointChain = (hostname: string, port: number): string => `inbound-vip|${port}|http|${hostname}`;

/** The connection manager of the waypoint's chain for `hostname:port`. */
export function waypointHcm(dump: XdsDump, hostname: string, port: number): Resource {
  const name = waypointChain(hostname, port);
  const internal = dump.listeners.find((l) => l.name === 'main_internal');
  if (!internal) throw new Error(`no main_internal listener (served: ${dump.listeners.map((l) => l.name).join(', ')})`);
  const chain = (internal.filterChains ?? []).find((c: Resource) => c.name === name);
  if (!chain)
    throw new Error(`no filter chain ${name} (served: ${(internal.filterChains ?? []).map((c: Resource) => c.name).join(', ')})`);
  const [hcm] = connectionManagers([{ name: internal.name, filterChains: [chain] }]);
  if (!hcm) throw new Error(`filter chain ${name} has no HTTP connection manager`);
  return hcm.hcm;
}

/** The routes the waypoint applies to `hostname:port`, over all its virtual hosts, in Envoy's order. */
export function waypointRoutesOf(dump: XdsDump, hostname: string, port: number): RouteView[] {
  const hcm = waypointHcm(dump, hostname, port);
  const config = hcm.routeConfig ?? dump.routes.find((r) => r.name === hcm.rds?.routeConfigName);
  if (!config) throw new Error(`no route configuration for ${waypointChain(hostname, port)}`);
  return (config.virtualHosts ?? []).flatMap(routeViews);
}

/** Exact values under `node` where `pick` finds one; negated subtrees (`notRule`, `notId`) are not entered. */
function collect(node: unknown, pick: (o: Resource) => string | undefined, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) collect(n, pick, out);
  else if (node && typeof node === 'object') {
    const value = pick(node as Resource);
    if (value !== undefined) out.push(value);
    for (const [k, v] of Object.entries(node)) if (k !== 'notRule' && k !== 'notId') collect(v, pick, out);
  }
  return out;
}

const method = (o: Resource) => (o.header?.name === ':method' ? o.header.stringMatch?.exact : undefined);
const principal = (o: Resource) =>
  o.filterState?.key === 'io.istio.peer_principal'
    ? o.filterState.stringMatch?.exact
    : o.authenticated
      ? o.authenticated.principalName?.exact
      : undefined;

/** The policies of every RBAC filter on the waypoint's chain for `hostname:port`, sorted by name. */
export function rbacOf(dump: XdsDump, hostname: string, port: number): RbacView[] {
  return (waypointHcm(dump, hostname, port).httpFilters ?? [])
    .filter((f: Resource) => f.name === 'envoy.filters.http.rbac' && f.typedConfig?.rules)
    .flatMap((f: Resource) =>
      Object.entries(f.typedConfig.rules.policies ?? {}).map(([policy, p]) => ({
        policy,
        action: f.typedConfig.rules.action ?? 'ALLOW',
        methods: collect((p as Resource).permissions, method),
        principals: collect((p as Resource).principals, principal),
      })),
    )
    .sort((a: RbacView, b: RbacView) => a.policy.localeCompare(b.policy));
}
