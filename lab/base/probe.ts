// Readiness probes: bounded, event-aware waits (stop early when the process exits). Loopback URLs only.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export function probe(
  url: string,
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; insecure?: boolean },
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') return Promise.reject(new Error(`refusing non-loopback probe ${url}`));
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: 'GET',
        timeout: 2000,
        ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Calls `check` until it returns true, at most `timeoutMs`; rejects at once if `exited` settles first
 * (the process died). The interval starts at 100 ms and grows to 1 s.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  exited?: Promise<string>,
): Promise<void> {
  let died: string | undefined;
  void exited?.then((why) => (died = why));
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  let last = '';
  while (Date.now() < deadline) {
    if (died) throw new Error(`${what}: the process ended (${died}) before it was ready`);
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(1000, delay * 2);
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000}s${last ? ` (last error: ${last})` : ''}`);
}

/** A port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}
