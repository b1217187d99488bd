// kubectl's reads answered in-process give up at their own time limit even with the run's signal beside it and
// garbage collected meanwhile (AbortSignal.any holds its sources weakly: a limit nobody held was collected before it
// fired, and a server that took the connection and never answered was waited on until TCP gave up).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ApiReads } from '../tasks/lib/kube/api-reads.ts';
import { tmpDir } from './helpers.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('an API server that takes the connection and never answers', () => {
  let server: Server;
  let kubeconfig = '';
  before(async () => {
    server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kubeconfig = path.join(tmpDir('fwi-kc-'), 'config');
    writeFileSync(
      kubeconfig,
      `clusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${(server.address() as AddressInfo).port}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\n`,
    );
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('is given up at the read limit while the run goes on', async () => {
    const reads = new ApiReads({ KUBECONFIG: kubeconfig }, 'lab', 300);
    const run = new AbortController();
    const collecting = setInterval(gc, 20);
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref());
    try {
      const got = await Promise.race([
        reads.answer({ op: 'get', ref: { kind: 'ns', name: 'x' } }, run.signal).then(
          () => 'answered',
          (e: Error) => `given up: ${e.name}`,
        ),
        bound,
      ]);
      assert.match(got, /^given up: /);
    } finally {
      clearInterval(collecting);
      reads.close();
    }
  });
});
