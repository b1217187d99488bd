// The traffic chapter's judges on every shape of answer the addons can give, word for word, and what is asked of
// which addon. (test/traffic.test.ts serves the documented answers over HTTP; the lab asks the real addons.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../tasks/config.ts';
import {
  jaegerPath,
  judgeJaeger,
  judgePrometheus,
  judgeZipkin,
  prometheusPath,
  proofs,
  requestsQuery,
  traceService,
  zipkinPath,
} from '../tasks/lib/apps/traffic-proof.ts';

const long = `<html>${'x'.repeat(200)}</html>`;

describe('what the traffic proof asks', () => {
  it('Prometheus: the destination-side request count of httpbin in its namespace, through the service proxy', () => {
    assert.equal(
      requestsQuery,
      'sum(istio_requests_total{reporter="destination",destination_workload="httpbin",destination_workload_namespace="fun-with-istio-traffic"})',
    );
    assert.equal(
      prometheusPath,
      `/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/api/v1/query?query=${encodeURIComponent(requestsQuery)}`,
    );
  });

  it('Zipkin and Jaeger: one trace of httpbin.<namespace>, the service name Istio reports', () => {
    assert.equal(traceService, 'httpbin.fun-with-istio-traffic');
    assert.equal(
      zipkinPath,
      '/api/v1/namespaces/istio-system/services/zipkin:9411/proxy/zipkin/api/v2/traces?serviceName=httpbin.fun-with-istio-traffic&limit=1',
    );
    assert.equal(
      jaegerPath,
      '/api/v1/namespaces/istio-system/services/tracing:80/proxy/jaeger/api/traces?service=httpbin.fun-with-istio-traffic&limit=1',
    );
  });
});

describe('judgePrometheus, on each answer', () => {
  it('counts what the vector says, and an empty result or a sample without a value as none', () => {
    const success = (data: unknown) => JSON.stringify({ status: 'success', data });
    assert.deepEqual(judgePrometheus(success({ result: [{ value: [1, '42'] }] })), { seen: 42 });
    assert.deepEqual(judgePrometheus(success({ result: [] })), { seen: 0 });
    assert.deepEqual(judgePrometheus(success({ result: [{ metric: {} }] })), { seen: 0 });
    assert.deepEqual(judgePrometheus(success({})), { seen: 0 });
    assert.deepEqual(judgePrometheus(success(undefined)), { seen: 0 });
  });

  it("says Prometheus's own error, and what it said when it gave none", () => {
    assert.deepEqual(judgePrometheus(JSON.stringify({ status: 'error', error: 'bad_data' })), {
      problem: 'Prometheus says error: bad_data',
    });
    assert.deepEqual(judgePrometheus(JSON.stringify({ status: 'error' })), { problem: 'Prometheus says error' });
    assert.deepEqual(judgePrometheus('{}'), { problem: 'Prometheus says nothing' });
    assert.deepEqual(judgePrometheus('null'), { problem: 'Prometheus says nothing' });
    assert.deepEqual(judgePrometheus('[1]'), { problem: 'Prometheus says nothing' });
  });

  it('an answer that is not JSON is quoted, trimmed and cut at 80 characters; an empty one says so', () => {
    assert.deepEqual(judgePrometheus('  no endpoints available \n'), {
      problem: 'Prometheus did not answer JSON: no endpoints available',
    });
    assert.deepEqual(judgePrometheus(long), { problem: `Prometheus did not answer JSON: ${long.slice(0, 80)}` });
    assert.deepEqual(judgePrometheus(' \n'), { problem: 'Prometheus did not answer JSON: (nothing)' });
  });

  it('an answer that happens to carry a "problem" field is judged as an answer, not taken for a verdict', () => {
    assert.deepEqual(judgePrometheus('{"problem":"x"}'), { problem: 'Prometheus says nothing' });
  });
});

describe('judgeZipkin, on each answer', () => {
  it('counts the traces in the list', () => {
    assert.deepEqual(judgeZipkin('[[{}],[{}]]'), { seen: 2 });
    assert.deepEqual(judgeZipkin('[]'), { seen: 0 });
  });

  it('anything else is a problem that quotes it', () => {
    assert.deepEqual(judgeZipkin('{"message":"oops"}'), { problem: 'Zipkin answered no list of traces: {"message":"oops"}' });
    assert.deepEqual(judgeZipkin('{"problem":"x"}'), { problem: 'Zipkin answered no list of traces: {"problem":"x"}' });
    assert.deepEqual(judgeZipkin(`"${long}"`), { problem: `Zipkin answered no list of traces: ${`"${long}"`.slice(0, 80)}` });
    assert.deepEqual(judgeZipkin('null'), { problem: 'Zipkin answered no list of traces: null' });
    assert.deepEqual(judgeZipkin('oops'), { problem: 'Zipkin did not answer JSON: oops' });
  });
});

describe('judgeJaeger, on each answer', () => {
  it('counts the traces in data', () => {
    assert.deepEqual(judgeJaeger('{"data":[{},{}],"errors":null}'), { seen: 2 });
    assert.deepEqual(judgeJaeger('{"data":[],"errors":[]}'), { seen: 0 });
  });

  it("says Jaeger's errors, even beside data", () => {
    assert.deepEqual(judgeJaeger('{"data":[{}],"errors":[{"msg":"a"},{"msg":"b"}]}'), { problem: 'Jaeger says a; b' });
  });

  it('an answer without a list of traces is a problem that quotes it', () => {
    assert.deepEqual(judgeJaeger('{"data":null}'), { problem: 'Jaeger answered no list of traces: {"data":null}' });
    assert.deepEqual(judgeJaeger('null'), { problem: 'Jaeger answered no list of traces: null' });
    assert.deepEqual(judgeJaeger(` ${long}`), { problem: `Jaeger did not answer JSON: ${long.slice(0, 80)}` });
  });
});

describe('proofs: what is asked, given the addons and tracing', () => {
  const config = (addons: string[], tracing: Config['tracing']) =>
    ({ addons: addons.map((name) => ({ name })), tracing }) as unknown as Pick<Config, 'addons' | 'tracing'>;
  const on: Config['tracing'] = { to: 'zipkin', sampling: 100 };
  const asked = (c: Pick<Config, 'addons' | 'tracing'>) => proofs(c).map((p) => [p.what, p.path, p.judge, p.metrics]);

  it('Prometheus (metrics) and the tracing backend that is installed', () => {
    assert.deepEqual(asked(config(['prometheus', 'zipkin'], on)), [
      ['istio_requests_total in Prometheus', prometheusPath, judgePrometheus, true],
      ['a trace in Zipkin', zipkinPath, judgeZipkin, undefined],
    ]);
    assert.deepEqual(asked(config(['jaeger'], on)), [['a trace in Jaeger', jaegerPath, judgeJaeger, undefined]]);
  });

  it('no trace is asked for when tracing is off, and nothing of an addon that is not installed', () => {
    assert.deepEqual(asked(config(['prometheus', 'zipkin'], { to: 'off' })), [
      ['istio_requests_total in Prometheus', prometheusPath, judgePrometheus, true],
    ]);
    assert.deepEqual(asked(config(['jaeger'], { to: 'off' })), []);
    assert.deepEqual(asked(config(['kiali', 'grafana'], on)), []);
  });
});
