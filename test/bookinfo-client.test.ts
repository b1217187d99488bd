// The product page as a user loads it: a request that gets no answer is given up at its own limit, however long
// the run has been going (a busy run collects garbage: a time limit nobody held was collected before it fired).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { productPage } from '../tasks/lib/apps/bookinfo-client.ts';
import { systemClock } from '../tasks/lib/base/clock.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('a product page that never comes', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer(() => {}); // takes the request, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('is given up at its own limit, with the run going on and garbage collected meanwhile', async () => {
    const run = new AbortController(); // the run's signal: not aborted
    const collecting = setInterval(gc, 20);
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref());
    try {
      const got = await Promise.race([
        productPage(base, { signal: run.signal, clock: systemClock, timeoutMs: 300 }).then(
          () => 'answered',
          (e: Error) => e.message,
        ),
        bound,
      ]);
      assert.equal(got, 'no answer within 0.3 s');
    } finally {
      clearInterval(collecting);
    }
  });

  it('a run stopped meanwhile is an abort, not a time limit', async () => {
    const run = new AbortController();
    const page = productPage(base, { signal: run.signal, clock: systemClock, timeoutMs: 10_000 });
    run.abort();
    await assert.rejects(page, (e: Error) => e.name === 'AbortError');
  });
});
