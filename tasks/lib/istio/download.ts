// HTTP download with progress, verified against a published `.sha256`, into a cache that is reused
// only when its checksum still matches. A bad or partial file is deleted, never kept.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, StepError } from '../base/errors.ts';

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (received: number, total: number | undefined) => void;
}

/** Where a proxy is named in an error: its address, never its credentials. */
const shownProxy = (proxy: string): string => {
  const u = new URL(proxy);
  return `${u.protocol}//${u.host}`;
};

/**
 * Fetches `url` and hands the answer to `use`, through the proxy HTTPS_PROXY/HTTP_PROXY name unless NO_PROXY
 * exempts the host (Node's own fetch reads none of them). The proxy's connection is closed once `use` is done.
 */
async function withAnswer<T>(
  url: string,
  signal: AbortSignal | undefined,
  use: (res: Response) => Promise<T>,
  offline = releaseOffline,
): Promise<T> {
  const { getProxyForUrl } = await import('proxy-from-env');
  const proxy = getProxyForUrl(url);
  const via = proxy ? ` through the proxy ${shownProxy(proxy)}` : '';
  let res: Response;
  let close = async () => {};
  try {
    if (proxy) {
      const undici = await import('undici');
      const dispatcher = new undici.ProxyAgent(proxy);
      close = () => dispatcher.close();
      res = (await undici.fetch(url, { signal, redirect: 'follow', dispatcher })) as unknown as Response;
    } else res = await fetch(url, { signal, redirect: 'follow' });
  } catch (e) {
    await close();
    if (signal?.aborted) throw new AbortError();
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    // No name lookup: offline, or a network that reaches the internet only through a proxy.
    if (!proxy && (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN'))
      throw new StepError(`cannot download ${url}: cannot resolve ${new URL(url).hostname} (offline?)`, offline);
    throw new StepError(`cannot download ${url}${via}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  try {
    if (!res.ok) throw new StepError(`cannot download ${url}${via}: HTTP ${res.status} ${res.statusText}`.trim());
    return await use(res);
  } finally {
    await close();
  }
}

/** What to do when the release cannot be fetched because no name resolves. */
const releaseOffline =
  'set HTTPS_PROXY if this network has a proxy, ISTIO_RELEASE_URL to a mirror you can reach, or ISTIO_HOME to an unpacked release';

/**
 * A small text file (a checksum, a YAML manifest), through the same proxy rules as the release; `offline` says what to
 * do when no name resolves (by default, for the release).
 */
export async function fetchText(url: string, signal?: AbortSignal, offline = releaseOffline): Promise<string> {
  return withAnswer(url, signal, (res) => res.text(), offline);
}

/** The published checksum: `<hex> <file>` (Istio writes one space, so `shasum -c` on macOS refuses it). */
export async function fetchChecksum(url: string, signal?: AbortSignal): Promise<string> {
  const text = await fetchText(url, signal);
  const hex = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new StepError(`${url} does not hold a SHA-256 checksum`);
  return hex;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Makes `dest` a verified copy of `url`: reuses it when its hash matches `.sha256`, else downloads to
 * `dest.part` while hashing, and renames only after the hash checks out.
 */
export async function downloadVerified(
  url: string,
  shaUrl: string,
  dest: string,
  o: DownloadOptions = {},
): Promise<'cached' | 'downloaded'> {
  // The checksum is kept beside the archive, so a cached archive can still be verified offline.
  const shaFile = `${dest}.sha256`;
  let expected: string;
  try {
    expected = await fetchChecksum(shaUrl, o.signal);
  } catch (e) {
    if (e instanceof AbortError || !existsSync(dest) || !existsSync(shaFile)) throw e;
    expected = readFileSync(shaFile, 'utf8').trim();
  }
  if (existsSync(dest)) {
    if ((await sha256File(dest)) === expected) return 'cached';
    rmSync(dest);
  }
  mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  return withAnswer(url, o.signal, async (res) => {
    // For progress only (fetch itself fails a body cut short of its length); a compressed body's is not the file's.
    const total = res.headers.get('content-encoding') ? undefined : Number(res.headers.get('content-length')) || undefined;
    const hash = createHash('sha256');
    let received = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        hash.update(chunk);
        o.onProgress?.(received, total);
        done(null, chunk);
      },
    });
    try {
      if (!res.body) throw new StepError(`cannot download ${url}: empty response`);
      // Opened here, not by the stream: its asynchronous open could create the file after a failed pipeline's clean-up.
      const file = createWriteStream(part, { fd: openSync(part, 'w') });
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, file);
      const actual = hash.digest('hex');
      if (actual !== expected)
        throw new StepError(
          `checksum mismatch for ${path.basename(dest)}: expected ${expected}, got ${actual}; the file was deleted, re-run to download it again`,
        );
      renameSync(part, dest);
      writeFileSync(shaFile, `${expected}\n`);
      return 'downloaded' as const;
    } catch (e) {
      rmSync(part, { force: true });
      if (o.signal?.aborted) throw new AbortError();
      if (e instanceof StepError) throw e;
      throw new StepError(`download of ${url} failed after ${received} bytes: ${(e as Error).message}; re-run to retry`);
    }
  });
}

export function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`;
}
