// Whether a mesh reports Istio's metrics: judged from the mesh config's defaults and the root namespace's Telemetries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMetricsProviders, reportsMetrics } from '../tasks/lib/istio/mesh-metrics.ts';

const demoMesh = 'defaultProviders:\n  metrics:\n  - prometheus\nenableTracing: true\n';
const telemetryOff = 'enableTracing: true\nrootNamespace: istio-system\n';
const telemetry = (providers: string[]) => ({
  kind: 'Telemetry',
  spec: { metrics: [{ providers: providers.map((name) => ({ name })) }] },
});

test("the demo profile's mesh reports metrics; an install with telemetry off does not", () => {
  assert.deepEqual(defaultMetricsProviders(demoMesh), ['prometheus']);
  assert.equal(reportsMetrics(demoMesh, []), true);
  assert.equal(reportsMetrics(telemetryOff, []), false);
  assert.equal(reportsMetrics(undefined, []), false, 'no mesh config at all: no metrics');
});

test('a root-namespace Telemetry naming prometheus turns them on; one naming another provider does not', () => {
  assert.equal(reportsMetrics(telemetryOff, [telemetry(['prometheus'])]), true);
  assert.equal(reportsMetrics(telemetryOff, [telemetry(['stackdriver'])]), false);
  assert.equal(reportsMetrics(telemetryOff, [{ kind: 'Telemetry', spec: { tracing: [{}] } }]), false);
});

test('only the prometheus provider counts among the defaults', () => {
  assert.equal(reportsMetrics('defaultProviders:\n  metrics:\n  - stackdriver\n', []), false);
});

test('a Telemetry that selects some workloads, or names prometheus only to disable it, does not turn metrics on mesh-wide', () => {
  const scoped = {
    ...telemetry(['prometheus']),
    spec: { ...telemetry(['prometheus']).spec, selector: { matchLabels: { app: 'x' } } },
  };
  assert.equal(reportsMetrics(telemetryOff, [scoped]), false);
  const disabled = {
    kind: 'Telemetry',
    spec: { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ disabled: true }] }] },
  };
  assert.equal(reportsMetrics(telemetryOff, [disabled]), false);
  const partly = {
    kind: 'Telemetry',
    spec: { metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ disabled: false }] }] },
  };
  assert.equal(reportsMetrics(telemetryOff, [partly]), true);
});
