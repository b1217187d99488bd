// A minimal client for the lab's own kube-apiserver (loopback only), authenticated with the lab admin cert.
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { stateDir } from './common.ts';

export const pkiDir = path.join(stateDir, 'pki');
export const serverFile = path.join(stateDir, 'apiserver-url');

export interface Reply {
  status: number;
  body: string;
}

function tls(): { ca: Buffer; cert: Buffer; key: Buffer } {
  return {
    ca: readFileSync(path.join(pkiDir, 'ca.crt')),
    cert: readFileSync(path.join(pkiDir, 'admin.crt')),
    key: readFileSync(path.join(pkiDir, 'admin.key')),
  };
}

export function apiServerUrl(): string {
  if (!existsSync(serverFile)) throw new Error('the lab is not up (no .lab/apiserver-url)');
  return readFileSync(serverFile, 'utf8').trim();
}

/** One request to the lab apiserver; never follows anything off loopback (the URL is ours). */
export function request(method: string, p: string, body?: unknown, timeoutMs = 10_000): Promise<Reply> {
  const url = new URL(p, apiServerUrl());
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url}`);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ...tls(),
        timeout: timeoutMs,
        headers: data ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: timed out`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Streams watch events of `p` (a list path; `?watch=1` is added) until the server closes or `signal` aborts.
 * Resolves when the stream ends; the caller re-lists and re-watches.
 */
export function watch<T>(p: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
  const url = new URL(p, apiServerUrl());
  url.searchParams.set('watch', '1');
  url.searchParams.set('allowWatchBookmarks', 'true');
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', ...tls(), signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`watch ${p}: HTTP ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (e) {
            req.destroy();
            reject(e as Error);
            return;
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
    });
    req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
    req.end();
  });
}

export async function getJson<T>(p: string): Promise<T | undefined> {
  const r = await request('GET', p);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as T;
}
