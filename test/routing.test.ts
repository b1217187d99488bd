// What "in place" means for an applied file: the API server's copy holds everything the file says (it adds defaults).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holds } from '../tasks/lib/kube/in-place.ts';

const want = { http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 50 }] }] };

describe('holds', () => {
  it('accepts the defaults the server adds', () => {
    const have = { http: [{ route: [{ destination: { host: 'reviews', subset: 'v1', port: {} }, weight: 50 }], timeout: '0s' }] };
    assert.ok(holds(have, want), 'the defaults the server adds still hold');
  });

  it('refuses another value, a missing key, or a list of another length', () => {
    assert.ok(
      !holds({ http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' }, weight: 50 }] }] }, want),
      'another subset does not hold',
    );
    assert.ok(
      !holds({ http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] }, want),
      'a missing weight does not hold',
    );
    const extraRule = { http: [...want.http, { route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] };
    assert.ok(!holds(extraRule, want), 'an extra rule does not hold');
    assert.ok(!holds(undefined, want), 'no object at all does not hold');
  });
});
