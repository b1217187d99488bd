// Issue 4: the manifests through Istio's own analyzers; the pod-spec linter agrees with Istio's port rule.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { bin, ISTIO_LAB_VERSION, istioHome } from '../../lab/base/common.ts';
import { loadConfig, manifestsDir } from '../../tasks/config.ts';
import { addonObjects, addons } from '../../tasks/lib/istio/addons.ts';
import { lint, portProtocol } from '../../tasks/lib/istio/podspec.ts';
import { dumpAll, type K8sObject, readManifests } from '../../tasks/lib/kube/manifests.ts';
import type { Ctx } from '../../tasks/lib/run/types.ts';
import { type Ran, runTool, work } from './real-tools.ts';

// Manifests through Istio.

interface AnalyzeMessage {
  code: string;
  level: string;
  origin: string;
  message: string;
  reference: string;
}
const parseMessages = (stdout: string): AnalyzeMessage[] => {
  // Istio logs go to stdout too: the JSON is the last part, `[...]`, or `null` for no messages (a nil Go slice).
  const start = stdout.search(/^(\[|null$)/m);
  assert.ok(start >= 0, `no JSON in: ${stdout.slice(-400)}`);
  return (JSON.parse(stdout.slice(start)) as AnalyzeMessage[] | null) ?? [];
};
/** `istioctl analyze --use-kube=false` on files, every level shown. */
function istioctlAnalyze(files: string[]): { messages: AnalyzeMessage[]; ran: Ran } {
  const ran = runTool(bin('istioctl'), [
    'analyze',
    '--use-kube=false',
    '--all-namespaces',
    '--output-threshold=Info',
    '-o',
    'json',
    ...files,
  ]);
  assert.ok(ran.code === 0 || ran.code === 79, `istioctl analyze exited ${ran.code}: ${ran.stderr}`); // 79: warnings above threshold
  assert.doesNotMatch(ran.stderr, /could not be parsed|Error\(s\) adding files/);
  return { messages: parseMessages(ran.stdout), ran };
}
/** Istio's analyzers on files with Services and Pods kept (lab/build.ts `istio-analyze-files`). */
function analyzeFiles(files: string[]): AnalyzeMessage[] {
  const ran = runTool(bin('istio-analyze-files'), files);
  assert.equal(ran.code, 0, ran.stderr);
  return parseMessages(ran.stdout);
}

const svc = (name: string, port: Record<string, unknown>, ns = 'corpus'): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [port] },
});

/** Port names and shapes: Istio's naming rule from every side (prefixes, case, suffix dash, appProtocol, UDP, well-known ports). */
export function portCorpus(): { name: string; port: Record<string, unknown> }[] {
  const names = [
    'http',
    'http2',
    'https',
    'grpc',
    'grpc-web',
    'tcp',
    'tls',
    'udp',
    'mongo',
    'mysql',
    'redis',
    'http_proxy',
    'http2-foo',
    'HTTP',
    'Http-Web',
    'GRPC-WEB',
    'grpc-webby',
    'grpc-web-x',
    'http2foo',
    'httpx',
    'tcp-x',
    'tcp_x',
    'tls-1',
    'mongo-db',
    'redis-cache',
    'mysql-primary',
    'web',
    'metrics',
    'h2c',
    'http-',
    '-http',
    'grpcweb',
    'dns',
    'smtp',
    '',
  ];
  const out: { name: string; port: Record<string, unknown> }[] = [];
  names.forEach((n, i) => {
    for (const port of [8080, 25, 53, 3306, 27017]) {
      if (port !== 8080 && !['', 'web', 'http2foo', 'HTTP'].includes(n)) continue;
      out.push({ name: `n${i}-p${port}`, port: { ...(n ? { name: n } : {}), port, targetPort: port } });
    }
  });
  const appProtocols = [
    'http',
    'HTTP',
    'grpc-web',
    'kubernetes.io/h2c',
    'kubernetes.io/ws',
    'kubernetes.io/wss',
    'kubernetes.io/H2C',
    'h2c',
    'web',
    'tcp-x',
    'mysql',
    '',
  ];
  appProtocols.forEach((ap, i) => {
    out.push({ name: `ap${i}-web`, port: { name: 'web', port: 8080, appProtocol: ap } });
    out.push({ name: `ap${i}-http`, port: { name: 'http', port: 8080, appProtocol: ap } });
  });
  for (const [i, n] of ['web', '', 'http'].entries()) {
    out.push({ name: `udp${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'UDP' } });
    out.push({ name: `sctp${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'SCTP' } });
    out.push({ name: `tcpproto${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'TCP' } });
  }
  return out;
}

describe('manifests against Istio', () => {
  const dir = path.join(work, 'manifests');
  const addonFiles: string[] = [];

  before(() => {
    mkdirSync(dir, { recursive: true });
    const config = loadConfig({
      env: { ISTIO_HOME: istioHome, ISTIO_VERSION: ISTIO_LAB_VERSION, CACHE_DIR: path.join(work, 'cache') },
      envFile: '/nonexistent/.env',
    });
    const ctx = { config, options: { dryRun: false } } as Ctx;
    for (const addon of addons) {
      const file = path.join(dir, `${addon.name}.yaml`);
      writeFileSync(file, dumpAll(addonObjects(ctx, addon)));
      addonFiles.push(file);
    }
  });

  const projectManifests = () =>
    readdirSync(manifestsDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => path.join(manifestsDir, f));

  it('istioctl analyze --use-kube=false: no errors on manifests/ and the patched addons (warnings/info listed)', (t) => {
    const files = [...projectManifests(), ...addonFiles];
    assert.ok(files.length >= 4, `at least 4 files to analyze, got ${files.length}`);
    const { messages } = istioctlAnalyze(files);
    t.diagnostic(
      `istioctl analyze --use-kube=false: ${messages.length ? messages.map((m) => `${m.level} ${m.code} ${m.origin}: ${m.message}`).join(' | ') : 'no messages'}`,
    );
    assert.deepEqual(
      messages.filter((m) => m.level === 'Error'),
      [],
    );
    // Services and Pods included (as on a cluster): still no error.
    const full = analyzeFiles(files);
    t.diagnostic(
      `Istio analyzers with Services/Pods kept: ${full.length ? full.map((m) => `${m.level} ${m.code} ${m.origin}`).join(' | ') : 'no messages'}`,
    );
    assert.deepEqual(
      full.filter((m) => m.level === 'Error'),
      [],
    );
    // The project's own manifests follow the port naming rule; the upstream addons may not (Grafana's port 3000 is
    // named "service"): there the linter must say exactly what Istio says.
    const ist0118 = full.filter((m) => m.code === 'IST0118');
    assert.deepEqual(
      ist0118.filter((m) => projectManifests().some((f) => m.reference.startsWith(f))),
      [],
    );
    const istioSays = new Set(
      ist0118.map((m) => `${/^Service ([\w-]+)\/([\w-]+)/.exec(m.origin)?.[2]} ${/\(port: (\d+)/.exec(m.message)?.[1]}`),
    );
    const lintSays = new Set(
      addonFiles
        .flatMap((f) => lint(readManifests(f), f))
        .filter((x) => x.severity === 'info') // the port rule, at IST0118's own level
        .map((x) => `${x.object.replace('Service/', '')} ${/^port (\d+)/.exec(x.message)?.[1]}`),
    );
    assert.deepEqual([...lintSays].sort(), [...istioSays].sort());
  });

  it("the pod-spec linter's port rule agrees with Istio's IST0118 on a corpus of port names", (t) => {
    const corpus = portCorpus();
    const docs = corpus.map((c) => svc(c.name, c.port));
    const file = path.join(dir, 'ports.yaml');
    writeFileSync(file, dumpAll([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'corpus' } }, ...docs]));
    const flagged = new Set(
      analyzeFiles([file])
        .filter((m) => m.code === 'IST0118')
        .map((m) => /Service (?:corpus\/)?([\w-]+)/.exec(m.origin)?.[1]),
    );
    const lintFlagged = new Set(
      lint(docs, 'ports.yaml')
        .filter((f) => f.severity === 'info')
        .map((f) => f.object.replace('Service/', '')),
    );
    const disagree = corpus
      .filter((c) => flagged.has(c.name) !== lintFlagged.has(c.name))
      .map(
        (c) =>
          `${JSON.stringify(c.port)}: istio ${flagged.has(c.name) ? 'IST0118' : 'ok'}, lint ${lintFlagged.has(c.name) ? 'info' : 'ok'} (portProtocol ${portProtocol(c.port as never) ?? 'undefined'})`,
      );
    t.diagnostic(`${corpus.length} ports: Istio flags ${flagged.size}, lint flags ${lintFlagged.size}`);
    assert.deepEqual(disagree, []);
    assert.ok(
      flagged.size >= 10 && flagged.size <= corpus.length - 20,
      `a corpus that tests nothing: ${flagged.size} of ${corpus.length} flagged`,
    );
    for (const must of ['n0-p8080', 'n12-p8080']) assert.ok(!flagged.has(must), `http / http2-foo flagged by Istio`);
    // The corpus tells rules apart: a naive rule (exact lower-case prefix, no appProtocol, UDP or well-known ports)
    // disagrees with Istio on it, so a linter that drifted that way would fail the comparison above.
    const naive = (p: Record<string, unknown>) =>
      /^(http|http2|https|grpc|grpc-web|tcp|tls|udp|mongo|mysql|redis)(-|$)/.test(String(p.name ?? ''));
    const naiveMisses = corpus.filter((c) => flagged.has(c.name) === naive(c.port));
    assert.ok(naiveMisses.length >= 10, `only ${naiveMisses.length} corpus entries separate a naive rule from Istio's`);
    // `istioctl analyze --use-kube=false` never judges Service ports: its file source drops Services (see lab/build.ts).
    const { messages } = istioctlAnalyze([file]);
    assert.deepEqual(
      messages.filter((m) => m.code === 'IST0118'),
      [],
    );
  });

  it('the linter goes further where Istio does not check: a workload without an app label', () => {
    const deployment: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'nolabel', namespace: 'corpus' },
      spec: {
        selector: { matchLabels: { tier: 'backend' } },
        template: {
          metadata: { labels: { tier: 'backend' } },
          spec: { containers: [{ name: 'c', image: 'docker.io/library/nginx:1.29' }] },
        },
      },
    };
    const file = path.join(dir, 'nolabel.yaml');
    writeFileSync(file, dumpAll([deployment]));
    assert.ok(
      lint([deployment], 'nolabel.yaml').some((f) => f.severity === 'warning' && /'app' label/.test(f.message)),
      'the linter warns about the missing app label',
    );
    assert.deepEqual(
      analyzeFiles([file]).filter((m) => m.origin.includes('nolabel')),
      [],
    );
    assert.deepEqual(istioctlAnalyze([file]).messages, []);
  });

  it('the linter passes what the product lints (manifests/), and the addons were patched', () => {
    for (const f of projectManifests()) {
      const errors = lint(readManifests(f), f).filter((x) => x.severity !== 'warning');
      assert.deepEqual(errors, [], f);
    }
    assert.ok(readFileSync(addonFiles[1], 'utf8').includes('NodePort'), 'grafana patched to NodePort');
  });
});
