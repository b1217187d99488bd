// A read of every namespace (`kubectl get <kinds> -A`) is kubectl's, never answered in-process: the in-process
// reads ask one namespace, and an answer from one namespace would pass for all of them (teardown's check that no one
// else's Gateway API objects are left would then miss those in other namespaces).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RunLog } from '../tasks/lib/base/log.ts';
import { Shell } from '../tasks/lib/exec/shell.ts';
import { ApiReads, withApiReads } from '../tasks/lib/kube/api-reads.ts';
import { listEverywhere } from '../tasks/lib/kube/kube.ts';
import type { Ctx } from '../tasks/lib/run/types.ts';
import { fakeRunner, tmpDir } from './helpers.ts';

// An API server that serves pods, and knows nothing of namespaces: every read it gets is counted.
let asked = 0;
const server = createServer((req, res) => {
  asked++;
  const core = {
    metadata: {},
    versions: [
      {
        version: 'v1',
        resources: [{ resource: 'pods', responseKind: { kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod' }],
      },
    ],
  };
  if (req.url === '/api') return res.end(JSON.stringify({ items: [core] }));
  if (req.url === '/apis') return res.end(JSON.stringify({ items: [] }));
  res.end(JSON.stringify({ items: [{ metadata: { name: 'only-in-default', namespace: 'default' } }] }));
});
let kubeconfig = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kubeconfig = path.join(tmpDir('fwi-everywhere-'), 'config');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${url}/\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: lab\n  context:\n    cluster: c\n    user: u\n`,
  );
});
after(() => server.close());

describe('a read of every namespace', () => {
  it('goes to kubectl (with -A), not to the in-process reads of one namespace', async () => {
    const kubectl = fakeRunner((argv) =>
      argv.includes('-A')
        ? {
            stdout: JSON.stringify({
              items: [{ metadata: { name: 'a', namespace: 'team-a' } }, { metadata: { name: 'b', namespace: 'team-b' } }],
            }),
          }
        : undefined,
    );
    const reads = new ApiReads({ KUBECONFIG: kubeconfig }, 'lab');
    const config = { context: 'lab', istioctl: 'istioctl', kubeconfig, cluster: { kind: 'existing' as const, context: 'lab' } };
    const sh = new Shell({ config, log: new RunLog(undefined), runner: withApiReads(reads, kubectl.runner) });
    try {
      const found = await listEverywhere({ sh, config } as unknown as Ctx, ['pods']);
      assert.deepEqual(
        found.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`),
        ['team-a/a', 'team-b/b'],
      );
      assert.equal(kubectl.calls.length, 1, 'kubectl answered');
      assert.equal(asked, 0, 'the API server was not asked in-process');
    } finally {
      reads.close();
    }
  });
});
