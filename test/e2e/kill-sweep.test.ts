// A fixed slice of the kill sweep (`npm run test:sweep` runs the whole of it): `all` killed with SIGKILL when a step
// starts and stopped with SIGINT partway through, `request-routing` killed once its first routes are applied (over the
// routing traffic-shifting kept: its snapshot in the cluster must survive the kill), and `teardown` killed when a step
// starts. After each: the cache whole, a re-run to exit 0, the end state of an uninterrupted run, a third run that
// writes nothing, nothing left running. Each point gets a fresh kwok lab.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Point, reference, runsBefore, type Swept, sweep } from './kill-sweep.ts';
import { lab } from './lab-client.ts';

const table: Swept[] = [];
const says = (s: Swept) => `${s.command} ${s.point}: ${s.interrupted}; ${s.seconds.toFixed(0)} s`;

describe('interrupted anywhere, resumed everywhere (a fixed slice of the kill sweep)', { timeout: 20 * 60_000 }, () => {
  it('all: SIGKILL as the install starts, SIGINT partway; each re-run ends as an uninterrupted run does', async (t) => {
    const ref = await reference('all', []);
    lab('down');
    t.diagnostic(`all, uninterrupted: ${(ref.ms / 1000).toFixed(1)} s, ${ref.steps.length} steps`);
    const install = ref.steps.find((s) => s.startsWith('Install Istio'));
    assert.ok(install, ref.steps.join('\n'));
    const points: Point[] = [
      { signal: 'SIGKILL', at: { step: install } },
      { signal: 'SIGINT', at: { ms: Math.round(ref.ms * 0.6) } },
    ];
    for (const p of points) {
      const s = await sweep('all', [], p, ref.state);
      table.push(s);
      t.diagnostic(says(s));
      assert.deepEqual(s.problems, [], says(s));
    }
  });

  it('request-routing: SIGKILL after its first routes; the next run puts back the kept routing from before it', async (t) => {
    const ref = await reference('request-routing', runsBefore['request-routing']);
    lab('down');
    const second = ref.steps.find((s) => s.startsWith('Route jason'));
    assert.ok(second, ref.steps.join('\n'));
    const s = await sweep(
      'request-routing',
      runsBefore['request-routing'],
      { signal: 'SIGKILL', at: { step: second } },
      ref.state,
    );
    table.push(s);
    t.diagnostic(says(s));
    assert.deepEqual(s.problems, [], says(s));
  });

  it('teardown: SIGKILL as it uninstalls Istio; the next teardown leaves what an uninterrupted one leaves', async (t) => {
    const ref = await reference('teardown', ['all']);
    lab('down');
    const uninstall = ref.steps.find((s) => /istioctl uninstall|Uninstall Istio/i.test(s));
    assert.ok(uninstall, ref.steps.join('\n'));
    const s = await sweep('teardown', ['all'], { signal: 'SIGKILL', at: { step: uninstall } }, ref.state);
    table.push(s);
    t.diagnostic(says(s));
    assert.deepEqual(s.problems, [], says(s));
  });
});
