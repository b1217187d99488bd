// The traffic chapter's proof, judged on the answers Prometheus, Zipkin and Jaeger give (their documented API
// shapes: non-empty, empty, error, not JSON), served over HTTP at the API server's service-proxy paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAll } from 'js-yaml';
import {
  jaegerPath,
  judgeJaeger,
  judgePrometheus,
  judgeZipkin,
  prometheusPath,
  zipkinPath,
} from '../tasks/lib/apps/traffic-proof.ts';
import type { Query } from '../tasks/lib/run/requests.ts';
import { loadScript } from '../tasks/traffic.ts';
import {
  asks,
  fakeRunner,
  jsonpathOf,
  listJson,
  meshConfigText,
  nodesJson,
  objectJson,
  type Reply,
  runCli,
  tmpDir,
  versionAnswer,
} from './helpers.ts';

const answers = new Map<string, string>();
const server = createServer((req, res) => {
  const body = answers.get(req.url ?? '');
  res.writeHead(body === undefined ? 404 : 200).end(body ?? 'not found');
});
let base = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const served = async (p: string, body: string): Promise<string> => {
  answers.set(p, body);
  return (await fetch(`${base}${p}`)).text();
};
const vector = (value?: string) =>
  JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: value ? [{ metric: {}, value: [1764170000.1, value] }] : [] },
  });

describe('judging the proof', () => {
  it('Prometheus: the request count; none; an error; not JSON', async () => {
    assert.deepEqual(judgePrometheus(await served(prometheusPath, vector('100'))), { seen: 100 });
    assert.deepEqual(judgePrometheus(await served(prometheusPath, vector())), { seen: 0 });
    const error = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' });
    assert.deepEqual(judgePrometheus(await served(prometheusPath, error)), {
      problem: 'Prometheus says error: parse error at char 5',
    });
    assert.match(
      (judgePrometheus(await served(prometheusPath, '<html>no endpoints</html>')) as { problem: string }).problem,
      /did not answer JSON/,
    );
  });

  it('Zipkin: traces; none; not a list; not JSON', async () => {
    assert.deepEqual(judgeZipkin(await served(zipkinPath, JSON.stringify([[{ traceId: 'a', name: 'httpbin' }]]))), { seen: 1 });
    assert.deepEqual(judgeZipkin(await served(zipkinPath, '[]')), { seen: 0 });
    assert.ok(
      'problem' in judgeZipkin(await served(zipkinPath, '{"message":"oops"}')),
      'a JSON object, not a list, is a problem',
    );
    assert.ok('problem' in judgeZipkin(await served(zipkinPath, 'service unavailable')), 'a body that is not JSON is a problem');
  });

  it('Jaeger: traces; none; its errors; not JSON', async () => {
    assert.deepEqual(judgeJaeger(await served(jaegerPath, JSON.stringify({ data: [{ traceID: 'a' }], errors: null }))), {
      seen: 1,
    });
    assert.deepEqual(judgeJaeger(await served(jaegerPath, JSON.stringify({ data: [] }))), { seen: 0 });
    assert.deepEqual(
      judgeJaeger(await served(jaegerPath, JSON.stringify({ data: null, errors: [{ code: 500, msg: 'storage down' }] }))),
      {
        problem: 'Jaeger says storage down',
      },
    );
    assert.ok('problem' in judgeJaeger(await served(jaegerPath, '')), 'an empty body is a problem');
  });
});

describe('the traffic chapter', () => {
  const release = path.join(import.meta.dirname, 'fixtures', 'release');
  const env = (extra: Record<string, string> = {}) => ({ CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release, ...extra });
  /** `over` answers first: by what a command asks, or for `get --raw` (which asks no object) by its line. */
  const cluster = (over: (cmd: string, query?: Query) => Reply | undefined) =>
    fakeRunner((argv, _input, query) => {
      if (query?.op === 'version') return versionAnswer(query);
      if (jsonpathOf(query) === '{.status.readyReplicas}') return { stdout: '1' };
      const answer = over(argv.join(' '), query);
      if (answer) return answer;
      // The demo profile's mesh: its proxies report metrics to Prometheus.
      if (jsonpathOf(query) === '{.data.mesh}') return { stdout: meshConfigText({ metrics: true }) };
      return undefined;
    });

  it('says so on a cluster whose nodes run no containers (the lab), instead of pretending', async () => {
    const fake = cluster((_cmd, query) =>
      asks(query, 'list', { kind: 'nodes' }) ? { stdout: nodesJson('kwok://v0.8.0') } : undefined,
    );
    const r = await runCli(['traffic'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => c.argv.includes('--raw')), 'no addon was asked');
  });

  it('fails, naming what is missing, when Prometheus never counts the requests', async () => {
    const fake = cluster((cmd) => (cmd.includes('--raw') ? { stdout: vector() } : undefined));
    const r = await runCli(['traffic'], { env: env({ WAIT_TIMEOUT: '1s' }), runner: fake.runner });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: Prove the mesh saw them .*: no istio_requests_total in Prometheus for httpbin after 1s/);
  });

  it('on a mesh whose proxies report no metrics, says so in one line and proves the trace alone', async () => {
    const fake = cluster((cmd, query) =>
      jsonpathOf(query) === '{.data.mesh}'
        ? { stdout: meshConfigText({ metrics: false }) }
        : cmd.includes('--raw')
          ? { stdout: '[[{}]]' }
          : undefined,
    );
    const r = await runCli(['traffic'], { env: env({ WAIT_TIMEOUT: '1s' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.ok(!fake.calls.some((c) => c.argv.join(' ').includes('/services/prometheus')), 'Prometheus was not asked');
    assert.ok(
      fake.calls.some((c) => c.argv.join(' ').includes('/services/zipkin')),
      'Zipkin was asked',
    );
    const log = readFileSync(/\(log: (\S+\.log)\)/.exec(r.err)?.[1] ?? '', 'utf8');
    assert.match(log, /istio_requests_total in Prometheus: not in this mesh: its proxies report no Istio metrics/);
  });

  it('asks Prometheus where a mesh-wide Telemetry turns metrics on although the install defaults have none', async () => {
    const telemetry = objectJson('Telemetry', 'metrics', { spec: { metrics: [{ providers: [{ name: 'prometheus' }] }] } });
    const fake = cluster((cmd, query) =>
      jsonpathOf(query) === '{.data.mesh}'
        ? { stdout: meshConfigText({ metrics: false }) }
        : asks(query, 'list', { kind: 'telemetries' })
          ? { stdout: listJson(telemetry) }
          : cmd.includes('/services/prometheus')
            ? { stdout: vector('100') }
            : cmd.includes('--raw')
              ? { stdout: '[[{}]]' }
              : undefined,
    );
    const r = await runCli(['traffic'], { env: env(), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    assert.ok(
      fake.calls.some((c) => c.argv.join(' ').includes('/services/prometheus')),
      'Prometheus was asked',
    );
  });

  it('sends TRAFFIC_REQUESTS requests from a Job with the curl sample image', async () => {
    const fake = cluster((cmd) =>
      cmd.includes('/services/prometheus') ? { stdout: vector('7') } : cmd.includes('--raw') ? { stdout: '[[{}]]' } : undefined,
    );
    const r = await runCli(['traffic'], { env: env({ TRAFFIC_REQUESTS: '7' }), runner: fake.runner });
    assert.equal(r.code, 0, r.err);
    const job = fake.calls.find((c) => c.input.includes('kind: Job'));
    assert.ok(job, 'the chapter applied a Job');
    assert.match(job.input, /image: docker\.io\/curlimages\/curl:8\.16\.0/);
    const [manifest] = loadAll(job.input) as { spec: { template: { spec: { containers: { command: string[] }[] } } } }[];
    assert.deepEqual(manifest.spec.template.spec.containers[0].command, [
      '/bin/sh',
      '-c',
      loadScript(7, 'http://httpbin:8000/get'),
    ]);
  });
});

describe("the load Job's script, run by sh against a stand-in curl", () => {
  /** Runs the script with a curl that answers its first `answered` calls and fails the rest; returns exit and output. */
  function runScript(count: number, answered: number): { code: number | null; out: string; calls: number } {
    const dir = tmpDir('fwi-curl-');
    const counter = path.join(dir, 'calls');
    writeFileSync(counter, '0\n');
    // Shell builtins only: the PATH below has no other program.
    const fakeCurl = `#!/bin/sh\nread n < ${counter}; n=$((n+1)); echo "$n" > ${counter}; [ "$n" -le ${answered} ]\n`;
    writeFileSync(path.join(dir, 'curl'), fakeCurl, { mode: 0o755 });
    // PATH holds the stand-in curl and nothing else: no seq, as in a minimal image.
    const r = spawnSync('/bin/sh', ['-c', loadScript(count, 'http://httpbin:8000/get')], {
      env: { PATH: dir },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout, calls: Number(readFileSync(counter, 'utf8')) };
  }

  it('sends every request without seq, and passes when all are answered', () => {
    assert.deepEqual(runScript(5, 5), { code: 0, out: '5 of 5 requests answered\n', calls: 5 });
  });

  it('fails, saying how many were answered, when one is not', () => {
    assert.deepEqual(runScript(5, 4), { code: 1, out: '4 of 5 requests answered\n', calls: 5 });
  });

  it('fails when nothing answers (no Job may pass for traffic it did not send)', () => {
    assert.deepEqual(runScript(3, 0), { code: 1, out: '0 of 3 requests answered\n', calls: 3 });
  });
});

describe('re-running the traffic chapter', () => {
  const release = path.join(import.meta.dirname, 'fixtures', 'release');
  it('changes nothing with the same TRAFFIC_REQUESTS, and replaces the Job for another count', async () => {
    const sent = (n: string) =>
      fakeRunner((argv, _input, query) => {
        const cmd = argv.join(' ');
        if (query?.op === 'version') return versionAnswer(query);
        if (jsonpathOf(query) === '{.status.readyReplicas}') return { stdout: '1' };
        const job = { managed: true, annotations: { 'fun-with-istio/requests': n }, status: { succeeded: 1 } };
        if (asks(query, 'get', { kind: 'job', name: 'traffic' })) return { stdout: objectJson('Job', 'traffic', job) };
        if (jsonpathOf(query) === '{.data.mesh}') return { stdout: meshConfigText({ metrics: true }) };
        // the namespace and httpbin exist
        if (query?.op === 'get') return { stdout: objectJson('Object', 'found', { managed: true }) };
        if (cmd.includes('/services/prometheus')) return { stdout: vector('100') };
        if (cmd.includes('--raw')) return { stdout: '[[{}]]' };
        return undefined;
      });
    const env = { CACHE_DIR: tmpDir('fwi-cache-'), ISTIO_HOME: release };
    const same = sent('100');
    assert.equal((await runCli(['traffic'], { env, runner: same.runner })).code, 0);
    assert.ok(!same.calls.some((c) => / (create|delete) /.test(c.argv.join(' '))), 'nothing created or deleted');
    const other = sent('10');
    assert.equal((await runCli(['traffic'], { env, runner: other.runner })).code, 0);
    const changes = other.calls.map((c) => c.argv.join(' ')).filter((c) => / (create|delete) /.test(c));
    assert.deepEqual(changes, [
      'kubectl --context fun-with-istio -n fun-with-istio-traffic delete job traffic --ignore-not-found --wait=true',
      'kubectl --context fun-with-istio create -f -',
    ]);
  });
});
