// The addons of the pinned release the tool can install (ADDONS picks among them), in the order they go in.
import { didYouMean } from '../lib/base/did-you-mean.ts';

export interface Addon {
  name: 'prometheus' | 'grafana' | 'zipkin' | 'jaeger' | 'kiali';
  title: string;
  /** The manifest, relative to the release directory. */
  file: string;
  /** The Deployment whose availability says the addon is up. */
  deployment: string;
  /** A Service turned into a NodePort by a file in patches/ (the tutorial's edit). */
  expose?: { service: string; patch: string };
  /** Addons it reads from (installed with it, before it). */
  needs?: Addon['name'][];
  /** Receives the mesh's traces on Service zipkin:9411 (at most one such addon). */
  traces?: true;
  /** Where its web UI answers: Service, port and path (what `npm run dashboard` forwards). */
  ui: { service: string; port: number; path: string };
}

/** Prometheus first (Grafana's and Kiali's data source), then the dashboards and the tracing backend. */
export const addons: readonly Addon[] = [
  {
    name: 'prometheus',
    title: 'Prometheus',
    file: 'samples/addons/prometheus.yaml',
    deployment: 'prometheus',
    ui: { service: 'prometheus', port: 9090, path: '/' },
  },
  {
    name: 'grafana',
    title: 'Grafana',
    file: 'samples/addons/grafana.yaml',
    deployment: 'grafana',
    expose: { service: 'grafana', patch: 'grafana-service.yaml' },
    needs: ['prometheus'],
    ui: { service: 'grafana', port: 3000, path: '/' },
  },
  {
    name: 'zipkin',
    title: 'Zipkin',
    file: 'samples/addons/extras/zipkin.yaml',
    deployment: 'zipkin',
    expose: { service: 'zipkin', patch: 'zipkin-service.yaml' },
    traces: true,
    ui: { service: 'zipkin', port: 9411, path: '/zipkin/' },
  },
  {
    name: 'jaeger',
    title: 'Jaeger',
    file: 'samples/addons/jaeger.yaml',
    deployment: 'jaeger',
    expose: { service: 'tracing', patch: 'jaeger-service.yaml' },
    traces: true,
    ui: { service: 'tracing', port: 80, path: '/jaeger' },
  },
  {
    name: 'kiali',
    title: 'Kiali',
    file: 'samples/addons/kiali.yaml',
    deployment: 'kiali',
    expose: { service: 'kiali', patch: 'kiali-service.yaml' },
    needs: ['prometheus'],
    ui: { service: 'kiali', port: 20001, path: '/kiali' },
  },
];

/** The tutorial's three. */
export const defaultAddons = ['prometheus', 'grafana', 'zipkin'] as const;

/**
 * The addons a list names, with what they need, in install order; a reason when the list is not one to install
 * (an unknown name, or two tracing backends: both define Service zipkin).
 */
export function resolveAddons(names: string[]): Addon[] | string {
  const unknown = names.filter((n) => !addons.some((a) => a.name === n));
  const known = addons.map((a) => a.name);
  if (unknown.length) return `unknown addon ${unknown.join(', ')}${didYouMean(unknown[0], known)}; known: ${known.join(', ')}`;
  const wanted = new Set(names.flatMap((n) => [n, ...(addons.find((a) => a.name === n)?.needs ?? [])]));
  const chosen = addons.filter((a) => wanted.has(a.name));
  const tracers = chosen.filter((a) => a.traces).map((a) => a.name);
  if (tracers.length > 1) return `${tracers.join(' and ')} both receive traces on Service zipkin: choose one`;
  return chosen;
}
