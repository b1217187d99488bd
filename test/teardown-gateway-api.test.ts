// Teardown of the Gateway API the ambient track installed: only the tool's, only the Gateway API's, and not while
// others' objects use them (deleting a CRD deletes every object of its kind in the cluster).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, pins } from '../tasks/config.ts';
import { DryRunCluster } from '../tasks/lib/kube/dry-run.ts';
import { asks, fakeRunner, runCli, tmpDir } from './helpers.ts';

const env = {
  CACHE_DIR: tmpDir('fwi-teardown-gw-'),
  ISTIO_HOME: path.join(import.meta.dirname, 'fixtures', 'release'),
  CLUSTER: 'existing',
  KUBE_CONTEXT: 'lab',
  ISTIO_MODE: 'ambient',
};
const { cluster, addons } = loadConfig({ env, envFile: '/nonexistent/.env' });
const modelConfig = { kubernetesVersion: pins.kubernetes, istioVersion: pins.istio, cluster, addons, mode: 'ambient' as const };
const crd = (plural: string) => `customresourcedefinition.apiextensions.k8s.io/${plural}`;

/** A cluster where the tool's label is on `ours` (kind -> `kind/name` lines), with `left` objects of the CRDs' kinds. */
async function teardown(ours: Record<string, string[]>, left: object[] = []) {
  const model = new DryRunCluster(modelConfig, 'fresh');
  const fake = fakeRunner((argv, input, query) => {
    for (const [kind, names] of Object.entries(ours))
      if (asks(query, 'names', { kind })) return { stdout: `${names.join('\n')}\n` };
    if (argv.includes('-A')) return { stdout: JSON.stringify({ items: left }) };
    const a = model.answer({ argv, input, query });
    return { stdout: a.stdout, stderr: a.stderr, code: a.exitCode };
  });
  const r = await runCli(['teardown', '--yes', '--keep-cluster'], { env, runner: fake.runner });
  const calls = fake.calls.map((c) => c.argv.join(' '));
  const log = readFileSync(/\(log: (\S+)\)/.exec(r.err)?.[1] ?? assert.fail(r.err), 'utf8');
  return { ...r, calls, log, deletes: calls.filter((c) => / delete .*gateway\.networking/.test(c)) };
}

describe('teardown of the Gateway API CRDs', () => {
  it('deletes only the Gateway API objects among those carrying the tool’s label, and shows them', async () => {
    const r = await teardown({
      customresourcedefinition: [crd('gateways.gateway.networking.k8s.io'), crd('widgets.example.com')],
      validatingadmissionpolicy: [
        'validatingadmissionpolicy.admissionregistration.k8s.io/safe-upgrades.gateway.networking.k8s.io',
      ],
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.deletes.map((c) => c.replace(/^kubectl --context lab /, '')),
      [
        'delete customresourcedefinition/gateways.gateway.networking.k8s.io validatingadmissionpolicy/safe-upgrades.gateway.networking.k8s.io --ignore-not-found --wait=true --timeout=300s',
      ],
    );
    assert.match(
      r.log,
      /# shown: customresourcedefinition\/gateways\.gateway\.networking\.k8s\.io\n# shown: validatingadmissionpolicy\/safe-upgrades/,
    );
  });

  it('with no CRD of its own left (only the upgrade policy), asks nothing across namespaces and deletes the policy', async () => {
    const r = await teardown({
      validatingadmissionpolicybinding: [
        'validatingadmissionpolicybinding.admissionregistration.k8s.io/safe-upgrades.gateway.networking.k8s.io',
      ],
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.calls.some((c) => c.includes(' -A ')), 'no list across namespaces');
    assert.equal(r.deletes.length, 1);
  });

  it('names at most three of the objects that use them, and how many more', async () => {
    const routes = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ kind: 'HTTPRoute', metadata: { name, namespace: 'team' } }));
    const r = await teardown({ customresourcedefinition: [crd('httproutes.gateway.networking.k8s.io')] }, routes);
    assert.deepEqual(r.deletes, []);
    assert.match(
      r.log,
      /skip: left as they are: deleting them would delete HTTPRoute\/team\/a, HTTPRoute\/team\/b, HTTPRoute\/team\/c, and 2 more\n/,
    );
  });

  it('a cluster-wide object is named without a namespace; an object without a spec is one in use', async () => {
    const r = await teardown({ customresourcedefinition: [crd('gatewayclasses.gateway.networking.k8s.io')] }, [
      { kind: 'GatewayClass', metadata: { name: 'cilium' } },
    ]);
    assert.match(r.log, /deleting them would delete GatewayClass\/cilium\n/);
  });
});
