// What istiod serves ztunnel, as plain values to compare with assert.deepEqual: each workload's tunnel protocol (HBONE
// once the pod is captured into ambient), the waypoint its services use, and the L4 authorizations with the principals
// they allow. Pure functions over a ztunnel dump (lab/xds/xds.ts ztunnelDump); no lab needed.
import type { Resource, WorkloadDump } from './xds.ts';

export interface WorkloadView {
  namespace: string;
  name: string;
  /** `HBONE` (ambient: ztunnel tunnels to it), `NONE` (protojson omits the default), `LEGACY_ISTIO_MTLS`. */
  protocol: string;
  /** Its IPs, as text. */
  addresses: string[];
  serviceAccount: string;
  /** The waypoint it uses, `<namespace>/<hostname>`, if any. */
  waypoint?: string;
  /** The authorizations that select it, `<namespace>/<name>`. */
  policies: string[];
}

export interface ServiceView {
  namespace: string;
  name: string;
  hostname: string;
  waypoint?: string;
}

export interface AuthorizationView {
  namespace: string;
  name: string;
  /** `GLOBAL` (root namespace), `NAMESPACE`, `WORKLOAD_SELECTOR`. */
  scope: string;
  action: string;
  /** Every principal a rule matches: the exact value, `prefix*`, `*suffix`, or `*` (present). */
  principals: string[];
}

/** An address field (protojson bytes: base64) as an IPv4 or IPv6 text. */
export function ipOf(base64: string): string {
  const b = Buffer.from(base64, 'base64');
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
  throw new Error(`not an IP address: ${base64} (${b.length} bytes)`);
}

const waypointOf = (g: Resource | undefined): string | undefined =>
  g?.hostname ? `${g.hostname.namespace}/${g.hostname.hostname}` : g?.address ? ipOf(g.address.address) : undefined;

const byName = <T extends { namespace: string; name: string }>(a: T, b: T) =>
  `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);

/** The workloads (pods) of the dump, sorted by namespace and name; optional fields only when set. */
export function workloadsOf(dump: WorkloadDump): WorkloadView[] {
  return dump.addresses
    .flatMap((a) => (a.workload ? [a.workload as Resource] : []))
    .map((w) => {
      const view: WorkloadView = {
        namespace: w.namespace,
        name: w.name,
        protocol: w.tunnelProtocol ?? 'NONE',
        addresses: (w.addresses ?? []).map(ipOf),
        serviceAccount: w.serviceAccount ?? '',
        policies: w.authorizationPolicies ?? [],
      };
      const waypoint = waypointOf(w.waypoint);
      if (waypoint) view.waypoint = waypoint;
      return view;
    })
    .sort(byName);
}

/** The services of the dump, sorted by namespace and name. */
export function servicesOf(dump: WorkloadDump): ServiceView[] {
  return dump.addresses
    .flatMap((a) => (a.service ? [a.service as Resource] : []))
    .map((s) => {
      const view: ServiceView = { namespace: s.namespace, name: s.name, hostname: s.hostname };
      const waypoint = waypointOf(s.waypoint);
      if (waypoint) view.waypoint = waypoint;
      return view;
    })
    .sort(byName);
}

function describe(m: Resource): string {
  if (m.exact !== undefined) return m.exact;
  if (m.prefix !== undefined) return `${m.prefix}*`;
  if (m.suffix !== undefined) return `*${m.suffix}`;
  return '*';
}

/** The L4 authorizations (istio.security.Authorization), sorted by namespace and name. */
export function authorizationsOf(dump: WorkloadDump): AuthorizationView[] {
  return dump.authorizations
    .map((a) => ({
      namespace: a.namespace,
      name: a.name,
      scope: a.scope ?? 'GLOBAL',
      action: a.action ?? 'ALLOW',
      principals: (a.groups ?? []).flatMap((g: Resource) =>
        (g.rules ?? []).flatMap((r: Resource) => (r.matches ?? []).flatMap((m: Resource) => (m.principals ?? []).map(describe))),
      ),
    }))
    .sort(byName);
}
