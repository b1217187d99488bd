import assert from 'node:assert/strict';
import { createHash, pbkdf2 } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { c as tarCreate } from 'tar';
import { loadConfig } from '../tasks/config.ts';
import { AbortError, StepError } from '../tasks/lib/base/errors.ts';
import { downloadVerified, fetchChecksum, formatBytes } from '../tasks/lib/istio/download.ts';
import { downloadOf, obtainRelease } from '../tasks/lib/istio/release.ts';
import { tmpDir } from './helpers.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A digest off by its last hex digit: equal everywhere else. */
const offByLastDigit = (hex: string) => hex.slice(0, -1) + (hex.at(-1) === '0' ? '1' : '0');

/** A release archive shaped like Istio's: istio-<v>/bin/istioctl, samples/... */
async function makeRelease(version: string): Promise<Buffer> {
  const src = tmpDir('fwi-src-');
  const top = path.join(src, `istio-${version}`);
  mkdirSync(path.join(top, 'bin'), { recursive: true });
  mkdirSync(path.join(top, 'samples', 'addons'), { recursive: true });
  writeFileSync(path.join(top, 'bin', 'istioctl'), '#!/bin/sh\necho istioctl\n');
  chmodSync(path.join(top, 'bin', 'istioctl'), 0o755);
  writeFileSync(path.join(top, 'samples', 'addons', 'prometheus.yaml'), 'kind: Service\n');
  const file = path.join(src, 'r.tar.gz');
  await tarCreate({ gzip: true, file, cwd: src }, [`istio-${version}`]);
  return readFileSync(file);
}

describe('download and release (against a local HTTP server)', () => {
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer | 'cut' | 'stall' | 'chunked' | 'no-body' | 'no-reason' | 'gzip'>();
  const hits: string[] = [];
  /** Where the 'cut' transfer drops (half-way unless set). */
  let cutAt: number | undefined;
  let archive: Buffer;
  let gzipped: Buffer;
  const asset = (v: string) => downloadOf(loadConfig({ env: { HOME: '/h', ISTIO_VERSION: v }, envFile: '/nonexistent' })).asset;

  before(async () => {
    archive = await makeRelease('1.31.1');
    gzipped = gzipSync(archive);
    files.set(`/1.31.1/${asset('1.31.1')}`, archive);
    files.set(`/1.31.1/${asset('1.31.1')}.sha256`, Buffer.from(`${sha(archive)} ${asset('1.31.1')}\n`));
    // Corrupted: served bytes differ from the published checksum.
    files.set(`/1.31.2/${asset('1.31.2')}`, Buffer.concat([archive, Buffer.from('x')]));
    files.set(`/1.31.2/${asset('1.31.2')}.sha256`, Buffer.from(`${sha(archive)} ${asset('1.31.2')}\n`));
    // Interrupted: the connection drops half-way through the body.
    files.set(`/1.31.3/${asset('1.31.3')}`, 'cut');
    files.set(`/1.31.3/${asset('1.31.3')}.sha256`, Buffer.from(`${sha(archive)} ${asset('1.31.3')}\n`));
    // Published checksum off by its last digit only.
    files.set(`/1.31.5/${asset('1.31.5')}`, archive);
    files.set(`/1.31.5/${asset('1.31.5')}.sha256`, Buffer.from(`${offByLastDigit(sha(archive))} ${asset('1.31.5')}\n`));
    // Checksum fine, but not a tar.gz.
    const junk = Buffer.from('not an archive at all');
    files.set(`/1.31.4/${asset('1.31.4')}`, junk);
    files.set(`/1.31.4/${asset('1.31.4')}.sha256`, Buffer.from(`${sha(junk)} ${asset('1.31.4')}\n`));
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const body = files.get(req.url ?? '');
      if (!body) return res.writeHead(404).end();
      if (body === 'stall')
        return void res.writeHead(200, { 'content-length': String(archive.length) }).write(archive.subarray(0, 100));
      if (body === 'chunked') return void res.writeHead(200).end(archive); // no Content-Length: sent in chunks
      if (body === 'gzip')
        return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gzipped.length) }).end(gzipped);
      if (body === 'no-body') return void res.writeHead(204).end();
      if (body === 'no-reason') return void res.writeHead(503, '').end();
      if (body === 'cut') {
        res.writeHead(200, { 'content-length': String(archive.length) });
        res.write(archive.subarray(0, cutAt ?? archive.length >> 1), () => res.destroy());
        return;
      }
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const config = (version: string, cache = tmpDir('fwi-cache-')) =>
    loadConfig({
      env: { HOME: '/h', ISTIO_VERSION: version, CACHE_DIR: cache, ISTIO_RELEASE_URL: base },
      envFile: '/nonexistent',
    });

  it('downloads, verifies, unpacks, then reuses the verified cache', async () => {
    const c = config('1.31.1');
    const progress: number[] = [];
    assert.equal(await obtainRelease(c, { onProgress: (got) => progress.push(got) }), 'downloaded');
    assert.ok(existsSync(c.istioctl), 'istioctl is installed');
    assert.equal(readFileSync(downloadOf(c).archive).length, archive.length);
    assert.equal(progress.at(-1), archive.length);
    hits.length = 0;
    assert.equal(await obtainRelease(c), 'cached');
    assert.deepEqual(hits, [`/1.31.1/${asset('1.31.1')}.sha256`]);
  });

  it('re-verifies a cached archive offline with the checksum kept beside it', async () => {
    const c = config('1.31.1');
    assert.equal(await obtainRelease(c), 'downloaded');
    const offline = {
      ...c,
      release: { ...downloadOf(c), url: 'http://127.0.0.1:9/x.tar.gz', shaUrl: 'http://127.0.0.1:9/x.tar.gz.sha256' },
    };
    assert.equal(await obtainRelease(offline), 'cached');
    writeFileSync(downloadOf(c).archive, 'tampered');
    await assert.rejects(obtainRelease(offline), /cannot download/);
  });

  it('deletes a download whose checksum does not match, and installs nothing', async () => {
    const c = config('1.31.2');
    await assert.rejects(
      obtainRelease(c),
      (e: unknown) => e instanceof StepError && /^checksum mismatch for .* the file was deleted/.test(e.message),
    );
    assert.ok(
      !existsSync(downloadOf(c).archive) && !existsSync(`${downloadOf(c).archive}.part`),
      'neither the archive nor its .part file is kept',
    );
    assert.ok(!existsSync(c.istioHome), 'nothing is installed');
  });

  it('a published checksum off by its last digit is a mismatch: downloaded or cached, nothing is kept', async () => {
    const c = config('1.31.5');
    await assert.rejects(obtainRelease(c), /checksum mismatch .* the file was deleted/);
    assert.ok(!existsSync(downloadOf(c).archive), 'the download was not kept');
    // The same bytes already in the cache: not reused against a digest that differs in one place.
    mkdirSync(path.dirname(downloadOf(c).archive), { recursive: true });
    writeFileSync(downloadOf(c).archive, archive);
    await assert.rejects(
      downloadVerified(downloadOf(c).url, downloadOf(c).shaUrl, downloadOf(c).archive),
      /checksum mismatch/,
      'a cached archive whose digest differs in its last digit was reused',
    );
    assert.ok(!existsSync(c.istioHome), 'nothing is installed');
  });

  it('offline, a cached archive whose kept .sha256 differs in its last digit is not reused', async () => {
    const c = config('1.31.1');
    assert.equal(await obtainRelease(c), 'downloaded');
    const kept = `${downloadOf(c).archive}.sha256`;
    writeFileSync(kept, `${offByLastDigit(readFileSync(kept, 'utf8').trim())}\n`);
    const offline = { url: 'http://127.0.0.1:9/x.tar.gz', shaUrl: 'http://127.0.0.1:9/x.tar.gz.sha256' };
    await assert.rejects(downloadVerified(offline.url, offline.shaUrl, downloadOf(c).archive), /cannot download/);
  });

  it('reads the published checksum as Istio writes it, and refuses a file that holds none', async () => {
    const hex = sha(archive);
    const published = (name: string, text: string) => {
      files.set(`/sums/${name}`, Buffer.from(text));
      return `${base}/sums/${name}`;
    };
    assert.equal(await fetchChecksum(published('istio', `${hex} istio.tar.gz\n`)), hex);
    assert.equal(await fetchChecksum(published('upper', `${hex.toUpperCase()}  istio.tar.gz`)), hex, 'case does not matter');
    assert.equal(await fetchChecksum(published('leading', `\n  ${hex}\tistio.tar.gz`)), hex, 'nor leading space');
    for (const [name, text] of [
      ['page', '<html>Not Found</html>'],
      ['short', `${hex.slice(1)} istio.tar.gz`],
      ['long', `${hex}0 istio.tar.gz`],
      ['prefixed', `sha256:${hex} istio.tar.gz`],
      ['not-hex', `${hex.slice(0, -1)}g istio.tar.gz`],
      ['empty', ''],
    ])
      await assert.rejects(
        fetchChecksum(published(name, text)),
        /does not hold a SHA-256 checksum/,
        `${name} was taken for a checksum`,
      );
  });

  it('offline, only a cached archive with its kept checksum is reused; else the checksum URL is the error', async () => {
    const c = config('1.31.1');
    assert.equal(await obtainRelease(c), 'downloaded');
    const { archive: dest } = downloadOf(c);
    const offline = { url: 'http://127.0.0.1:9/x.tar.gz', shaUrl: 'http://127.0.0.1:9/x.tar.gz.sha256' };
    // Ctrl-C while asking for the checksum is an interruption, not a reason to fall back on the cache.
    const stopped = AbortSignal.abort();
    await assert.rejects(downloadVerified(offline.url, offline.shaUrl, dest, { signal: stopped }), AbortError);
    // The archive gone, its checksum kept: what failed is the checksum's download, and that is what is said.
    rmSync(dest);
    await assert.rejects(
      downloadVerified(offline.url, offline.shaUrl, dest),
      /cannot download http:\/\/127\.0\.0\.1:9\/x\.tar\.gz\.sha256:/,
    );
  });

  it('replaces a cached archive that no longer verifies', async () => {
    const cache = tmpDir('fwi-cache-');
    const c = config('1.31.1', cache);
    mkdirSync(path.dirname(downloadOf(c).archive), { recursive: true });
    writeFileSync(downloadOf(c).archive, 'stale');
    assert.equal(await downloadVerified(downloadOf(c).url, downloadOf(c).shaUrl, downloadOf(c).archive), 'downloaded');
    assert.equal(sha(readFileSync(downloadOf(c).archive)), sha(archive));
  });

  it('fails clearly on an interrupted transfer and keeps no partial file', async () => {
    const c = config('1.31.3');
    await assert.rejects(obtainRelease(c), (e: unknown) => e instanceof StepError && /re-run to retry/.test(e.message));
    assert.ok(
      !existsSync(downloadOf(c).archive) && !existsSync(`${downloadOf(c).archive}.part`),
      'neither a partial archive nor its .part file is kept',
    );
  });

  it('a transfer cut at any byte, or a .part a killed run left, is never kept or used', async () => {
    for (const at of [0, 1, archive.length >> 2, archive.length >> 1, archive.length - 1]) {
      cutAt = at;
      const c = config('1.31.3');
      await assert.rejects(
        obtainRelease(c),
        (e: unknown) => e instanceof StepError && /re-run to retry/.test(e.message),
        `cut at ${at}`,
      );
      assert.deepEqual(readdirSync(path.dirname(downloadOf(c).archive)), [], `cut at ${at}: nothing kept`);
    }
    cutAt = undefined;
    // A run killed while downloading leaves its .part (no code of its own runs then): the next one starts over.
    const c = config('1.31.1');
    mkdirSync(path.dirname(downloadOf(c).archive), { recursive: true });
    writeFileSync(`${downloadOf(c).archive}.part`, archive.subarray(0, 1000));
    await obtainRelease(c);
    assert.equal(sha(readFileSync(downloadOf(c).archive)), sha(archive));
    assert.ok(!existsSync(`${downloadOf(c).archive}.part`), 'the .part is gone');
  });

  it('keeps no .part when file operations queue behind other work (a cut at byte 0 while the thread pool is busy)', async () => {
    // Work that fills libuv's thread pool (4 threads) until after the transfer fails: a file opened through the pool
    // is created only then, after the failure's clean-up, unless it is opened before the transfer starts.
    const busy = Array.from({ length: 8 }, () => new Promise((resolve) => pbkdf2('x', 'y', 200_000, 32, 'sha256', resolve)));
    cutAt = 0;
    const c = config('1.31.3');
    rmSync(path.dirname(downloadOf(c).archive), { recursive: true, force: true });
    await assert.rejects(obtainRelease(c), (e: unknown) => e instanceof StepError && /re-run to retry/.test(e.message));
    cutAt = undefined;
    await Promise.all(busy);
    assert.deepEqual(readdirSync(path.dirname(downloadOf(c).archive)), [], 'nothing kept once the pool has drained');
  });

  it('refuses an archive that is not a release', async () => {
    const c = config('1.31.4');
    await assert.rejects(obtainRelease(c), /is not a readable tar.gz/);
    assert.ok(!existsSync(c.istioHome), 'nothing is installed');
  });

  it('names the URL when the release does not exist', async () => {
    await assert.rejects(obtainRelease(config('1.31.9')), /cannot download .*1\.31\.9.*\.sha256: HTTP 404/);
  });

  /** A download of `what` as this server answers it, with the checksum of the archive. */
  const served = (
    what: 'stall' | 'chunked' | 'no-body' | 'no-reason' | 'gzip',
    o: Parameters<typeof downloadVerified>[3] = {},
  ) => {
    files.set(`/odd/${what}`, what);
    files.set(`/odd/${what}.sha256`, Buffer.from(`${sha(archive)} x\n`));
    const dest = path.join(tmpDir(), 'x.tar.gz');
    return { dest, result: downloadVerified(`${base}/odd/${what}`, `${base}/odd/${what}.sha256`, dest, o) };
  };

  it('a body sent in chunks (no Content-Length) or compressed in transit is the archive all the same', async () => {
    for (const what of ['chunked', 'gzip'] as const) {
      const { dest, result } = served(what);
      assert.equal(await result, 'downloaded', what);
      assert.equal(sha(readFileSync(dest)), sha(archive), what);
    }
  });

  it('a URL fetch refuses outright (credentials in it) is a download error, not a crash', async () => {
    const url = 'http://user:secret@127.0.0.1:9/x.tar.gz';
    await assert.rejects(downloadVerified(url, `${url}.sha256`, path.join(tmpDir(), 'x')), (e: unknown) => {
      assert.ok(e instanceof StepError, `a StepError, not ${e}`);
      assert.match(e.message, /^cannot download http:\/\/user:secret@127\.0\.0\.1:9\/x\.tar\.gz\.sha256: /);
      return true;
    });
  });

  it('a name that does not resolve (offline) says so, and what to set instead; any other failure keeps its code', async (t) => {
    const failing = (code: string) => () =>
      Promise.reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} github.com`), { code }) }),
      );
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      t.mock.method(globalThis, 'fetch', failing(code));
      await assert.rejects(fetchChecksum('https://github.com/istio/x.sha256'), (e: unknown) => {
        assert.ok(e instanceof StepError, `a StepError, not ${e}`);
        assert.equal(e.message, 'cannot download https://github.com/istio/x.sha256: cannot resolve github.com (offline?)');
        assert.equal(
          e.suggestion,
          'set HTTPS_PROXY if this network has a proxy, ISTIO_RELEASE_URL to a mirror you can reach, or ISTIO_HOME to an unpacked release',
        );
        return true;
      });
      t.mock.restoreAll();
    }
    t.mock.method(globalThis, 'fetch', failing('ECONNRESET'));
    await assert.rejects(fetchChecksum('https://github.com/istio/x.sha256'), (e: unknown) => {
      assert.ok(e instanceof StepError && e.message === 'cannot download https://github.com/istio/x.sha256: ECONNRESET', `${e}`);
      assert.equal((e as StepError).suggestion, undefined);
      return true;
    });
  });

  it("a compressed transfer shows progress without a total (its length is not the file's)", async () => {
    const totals = new Set<number | undefined>();
    const { result } = served('gzip', { onProgress: (_received, total) => totals.add(total) });
    await result;
    assert.deepEqual([...totals], [undefined]);
  });

  it('shows progress against the size the server announced', async () => {
    const seen: [number, number | undefined][] = [];
    const c = config('1.31.1');
    await downloadVerified(downloadOf(c).url, downloadOf(c).shaUrl, downloadOf(c).archive, {
      onProgress: (received, total) => seen.push([received, total]),
    });
    assert.deepEqual(seen.at(-1), [archive.length, archive.length]);
  });

  it('an answer without a body is an error that says so, and leaves nothing behind', async () => {
    const { dest, result } = served('no-body');
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof StepError, `a StepError, not ${e}`);
      assert.equal(e.message, `cannot download ${base}/odd/no-body: empty response`);
      return true;
    });
    assert.ok(!existsSync(dest) && !existsSync(`${dest}.part`), 'neither the archive nor a .part file is left');
  });

  it('an HTTP error without a reason phrase is named by its status alone', async () => {
    const { result } = served('no-reason');
    await assert.rejects(result, (e: unknown) => {
      assert.equal((e as Error).message, `cannot download ${base}/odd/no-reason: HTTP 503`);
      return true;
    });
  });

  it('Ctrl-C during the transfer is an interruption, not a failed download, and keeps no partial file', async () => {
    const stop = new AbortController();
    const { dest, result } = served('stall', {
      signal: stop.signal,
      onProgress: () => stop.abort(),
    });
    await assert.rejects(result, AbortError);
    assert.ok(!existsSync(`${dest}.part`), 'no .part file is kept');
  });

  it('sizes are shown in KiB below a MiB, in MiB from there', () => {
    assert.equal(formatBytes(2048), '2 KiB');
    assert.equal(formatBytes((1 << 20) - 1), '1024 KiB');
    assert.equal(formatBytes(1 << 20), '1.0 MiB');
    assert.equal(formatBytes(1.5 * (1 << 20)), '1.5 MiB');
  });

  describe("behind a proxy (HTTP_PROXY, NO_PROXY), as Node's own fetch is not", () => {
    let proxy: Server;
    let proxyUrl: string;
    const tunnels: string[] = [];
    /** One per tunnel: settles when the client hangs up. */
    const hungUp: Promise<void>[] = [];
    before(async () => {
      // The origin lets a client keep its connection for a minute: only the client's own close ends a tunnel sooner.
      server.keepAliveTimeout = 60_000;
      proxy = createServer((_req, res) => res.writeHead(405).end());
      proxy.on('connect', (req, client: Socket) => {
        tunnels.push(req.url ?? '');
        hungUp.push(new Promise((resolve) => client.on('close', () => resolve())));
        const [host, port] = (req.url ?? '').split(':');
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client).pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    after(() => {
      proxy.closeAllConnections();
      proxy.close();
    });
    const withEnv = async (env: Record<string, string>, body: () => Promise<void>) => {
      const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
      Object.assign(process.env, env);
      try {
        await body();
      } finally {
        for (const [k, v] of saved) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    };

    it('the checksum and the archive both go through the proxy, whose connections are closed after', {
      timeout: 30_000,
    }, async () => {
      tunnels.length = 0;
      hungUp.length = 0;
      const c = config('1.31.1');
      await withEnv({ HTTP_PROXY: proxyUrl }, async () => assert.equal(await obtainRelease(c), 'downloaded'));
      assert.ok(existsSync(c.istioctl), 'istioctl is installed');
      const target = new URL(base).host;
      assert.ok(tunnels.length >= 1 && tunnels.every((t) => t === target), `tunnels: ${tunnels}`);
      // Not kept for later (that would hold the run open): without the close, this waits out the test's timeout.
      await Promise.all(hungUp);
    });

    it('a host NO_PROXY names is reached directly', async () => {
      tunnels.length = 0;
      const c = config('1.31.1');
      await withEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }, async () =>
        assert.equal(await obtainRelease(c), 'downloaded'),
      );
      assert.deepEqual(tunnels, []);
    });

    it('a proxy that cannot be reached is named in the error, without its credentials', async () => {
      const c = config('1.31.1');
      await withEnv({ HTTP_PROXY: 'http://user:secret@127.0.0.1:9' }, async () =>
        assert.rejects(obtainRelease(c), (e: unknown) => {
          assert.ok(e instanceof StepError, `a StepError, not ${e}`);
          assert.equal(e.message, `cannot download ${downloadOf(c).shaUrl} through the proxy http://127.0.0.1:9: ECONNREFUSED`);
          return true;
        }),
      );
    });
  });

  it('names the cause when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const url = `http://127.0.0.1:${port}/x`;
    await assert.rejects(downloadVerified(url, `${url}.sha256`, path.join(tmpDir(), 'x')), (e: unknown) => {
      assert.equal((e as Error).message, `cannot download ${url}.sha256: ECONNREFUSED`);
      return true;
    });
  });
});
