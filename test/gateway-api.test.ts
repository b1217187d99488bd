// The Gateway API CRDs the ambient track installs: their objects are checked against the pinned digest before
// anything is applied, whatever the file's comments, layout or order; a file that differs is refused and never kept.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { dump } from 'js-yaml';
import { gatewayApi } from '../tasks/config.ts';
import { StepError } from '../tasks/lib/base/errors.ts';
import { gatewayApiObjects, objectsDigest, verifiedObjects } from '../tasks/lib/istio/gateway-api.ts';
import { tmpDir } from './helpers.ts';

const crd = (plural: string, storage = true) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    name: `${plural}.gateway.networking.k8s.io`,
    annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.6.0' },
  },
  spec: { group: 'gateway.networking.k8s.io', versions: [{ name: 'v1', served: true, storage }] },
});
const docs = [crd('gateways'), crd('httproutes')];
/** As the release joins the module's files: a comment header before each. */
const releaseText = docs.map((d) => `---\n#\n# config/crd/standard/${d.metadata.name}.yaml\n#\n${dump(d)}`).join('');
const pin = objectsDigest(docs);

const fixture = path.join(import.meta.dirname, 'fixtures', 'gateway-api', 'standard-install.yaml.gz');
const realRelease = gunzipSync(readFileSync(fixture)).toString('utf8');

describe('the pinned release', () => {
  it('its objects (the module joined as the release joins it) digest to the pin: ten CRDs and the upgrade policy', () => {
    const docs = verifiedObjects(realRelease, 'standard-install.yaml');
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      ...Array(10).fill('CustomResourceDefinition'),
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const d of docs.filter((d) => d.kind === 'CustomResourceDefinition'))
      assert.equal(d.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'], gatewayApi.version);
  });

  it('one changed character anywhere in it is refused, with what to do', () => {
    const changed = realRelease.replace('maxLength: 253', 'maxLength: 254');
    assert.notEqual(changed, realRelease);
    assert.throws(
      () => verifiedObjects(changed, 'standard-install.yaml'),
      (e: Error) =>
        e instanceof StepError &&
        /its 12 objects digest to/.test(e.message) &&
        e.suggestion === 'set GATEWAY_API_CRDS to that release file, or unset it to download it',
    );
  });
});

describe('the objects digest', () => {
  it('takes objects without a name and values that are null', () => {
    const odd = [{ kind: 'List' }, { ...crd('x'), status: null }];
    assert.equal(objectsDigest(odd), objectsDigest([...odd].reverse()));
    assert.notEqual(objectsDigest(odd), objectsDigest([{ kind: 'List' }, { ...crd('x'), status: {} }]));
  });

  it('ignores comments, layout, key order and document order', () => {
    const reversedKeys = (v: unknown): unknown =>
      typeof v !== 'object' || v === null || Array.isArray(v)
        ? v
        : Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reversedKeys(x)]),
          );
    const reordered = [...docs].reverse().map(reversedKeys);
    const flow = reordered.map((d) => dump(d, { flowLevel: 1 })).join('---\n# another comment\n');
    assert.equal(verifiedObjects(flow, 'flow.yaml', pin).length, 2);
    assert.equal(verifiedObjects(releaseText, 'release.yaml', pin).length, 2);
  });

  it('tells one changed value, one missing object and one extra object apart from the pinned file', () => {
    const changed = releaseText.replace('storage: true', 'storage: false');
    assert.notEqual(changed, releaseText);
    for (const [text, count] of [
      [changed, 2],
      [dump(docs[0]), 1],
      [`${releaseText}---\n${dump(crd('grpcroutes'))}`, 3],
    ] as const)
      assert.throws(
        () => verifiedObjects(text, 'x.yaml', pin),
        (e: Error) =>
          e instanceof StepError &&
          e.message.startsWith(
            `x.yaml is not Gateway API ${gatewayApi.version} (standard-install.yaml): its ${count} objects digest to `,
          ) &&
          e.message.endsWith(`expected ${pin.slice(0, 12)}`),
      );
  });

  it('the pin is the digest of 64 hex digits the release file must have', () => {
    assert.match(gatewayApi.objectsSha256, /^[0-9a-f]{64}$/);
  });
});

describe('getting the CRDs', () => {
  let served = releaseText;
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end(served);
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/standard-install.yaml`;
  });
  after(() => server.close());

  it('downloads, keeps the verified file, and reuses it without asking again', async () => {
    const file = path.join(tmpDir('fwi-gw-'), 'downloads', 'gw.yaml');
    requests = 0;
    assert.equal((await gatewayApiObjects({ kind: 'download', url, file }, undefined, pin)).how, 'downloaded');
    assert.equal(readFileSync(file, 'utf8'), releaseText);
    assert.equal((await gatewayApiObjects({ kind: 'download', url, file }, undefined, pin)).how, 'cached');
    assert.equal(requests, 1);
  });

  it('a download that is not the pinned release is refused and not kept', async () => {
    const file = path.join(tmpDir('fwi-gw-'), 'gw.yaml');
    served = releaseText.replace('v1.6.0', 'v1.6.1');
    try {
      await assert.rejects(gatewayApiObjects({ kind: 'download', url, file }, undefined, pin), /is not Gateway API v1\.6\.0/);
      assert.equal(existsSync(file), false);
      assert.equal(existsSync(`${file}.part`), false);
    } finally {
      served = releaseText;
    }
  });

  it('offline, the suggestion names what replaces this download (not the Istio release’s settings)', async (t) => {
    t.mock.method(globalThis, 'fetch', () =>
      Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND github.com'), { code: 'ENOTFOUND' }),
        }),
      ),
    );
    const file = path.join(tmpDir('fwi-gw-'), 'gw.yaml');
    await assert.rejects(
      gatewayApiObjects({ kind: 'download', url: 'https://github.com/kubernetes-sigs/x.yaml', file }, undefined, pin),
      (e: unknown) =>
        e instanceof StepError &&
        e.message === 'cannot download https://github.com/kubernetes-sigs/x.yaml: cannot resolve github.com (offline?)' &&
        e.suggestion ===
          'set HTTPS_PROXY if this network has a proxy, or GATEWAY_API_CRDS to a mirror you can reach or a copy of the file',
    );
  });

  it('a kept file changed since, with the download failing, is not kept either', async () => {
    const file = path.join(tmpDir('fwi-gw-'), 'gw.yaml');
    writeFileSync(file, releaseText.replace('storage: true', 'storage: false'));
    const gone = { kind: 'download' as const, url: url.replace(/:\d+\//, ':9/'), file };
    await assert.rejects(gatewayApiObjects(gone, undefined, pin), /cannot download/);
    assert.equal(existsSync(file), false);
  });

  it('a kept file changed since is fetched again', async () => {
    const file = path.join(tmpDir('fwi-gw-'), 'gw.yaml');
    writeFileSync(file, releaseText.replace('storage: true', 'storage: false'));
    requests = 0;
    assert.equal((await gatewayApiObjects({ kind: 'download', url, file }, undefined, pin)).how, 'downloaded');
    assert.equal(requests, 1);
    assert.equal(readFileSync(file, 'utf8'), releaseText);
  });

  it('a given file is checked the same way', async () => {
    const file = path.join(tmpDir('fwi-gw-'), 'given.yaml');
    writeFileSync(file, releaseText);
    assert.equal((await gatewayApiObjects({ kind: 'given', file }, undefined, pin)).how, 'given');
    writeFileSync(file, dump(docs[0]));
    await assert.rejects(gatewayApiObjects({ kind: 'given', file }, undefined, pin), /its 1 objects digest to/);
  });
});
