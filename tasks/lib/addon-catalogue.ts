// The addons the tool installs, from the pinned release (data only: the chapters, teardown and the dry-run model read it).

/** The addons in the tutorial's order: Prometheus first (Grafana's datasource), then Grafana and Zipkin. */
export const addons = [
  {
    name: 'prometheus',
    title: 'Prometheus',
    file: 'samples/addons/prometheus.yaml',
    deployment: 'prometheus',
    expose: undefined,
  },
  {
    name: 'grafana',
    title: 'Grafana',
    file: 'samples/addons/grafana.yaml',
    deployment: 'grafana',
    expose: { service: 'grafana', patch: 'grafana-service.yaml' },
  },
  {
    name: 'zipkin',
    title: 'Zipkin',
    file: 'samples/addons/extras/zipkin.yaml',
    deployment: 'zipkin',
    expose: { service: 'zipkin', patch: 'zipkin-service.yaml' },
  },
] as const;
export type Addon = (typeof addons)[number];
