// What the real-node Bookinfo suite needs besides the lab client (not a test file: importing it runs nothing): a
// port-forward of its own to the ingress gateway, a release directory with one sample file changed (the negative
// runs), a page's structure for comparing real pages with the unit fixtures, and Zipkin's traces by service.
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin } from '../../lab/base/common.ts';
import { forwardedPort } from '../../tasks/lib/kube/port-forward.ts';

/** `kubectl port-forward` to a Service until `use` is done; the base URL on 127.0.0.1. */
export async function withForward<T>(
  env: Record<string, string>,
  namespace: string,
  service: string,
  port: number,
  use: (base: string) => Promise<T>,
): Promise<T> {
  const child = spawn(bin('kubectl'), [
    '--kubeconfig',
    env.KUBECONFIG,
    '--context',
    'lab',
    '-n',
    namespace,
    'port-forward',
    `service/${service}`,
    `:${port}`,
  ]);
  let seen = '';
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        seen += d;
        const local = seen.split('\n').slice(0, -1).map(forwardedPort).find(Boolean); // whole lines only
        if (local) resolve(`http://127.0.0.1:${local}`);
      });
      child.stderr.on('data', (d) => (seen += d));
      child.on('close', (code) => reject(new Error(`kubectl port-forward ended (${code}): ${seen}`)));
    });
    return await use(base);
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * A release directory like `home` with `file` (relative to it) rewritten by `change`: every other entry is a symbolic
 * link into `home`, so istioctl and the other samples are the release's own.
 */
export function releaseWith(home: string, into: string, file: string, change: (text: string) => string): string {
  const parts = file.split('/');
  let from = home;
  let to = into;
  for (const [i, part] of parts.entries()) {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) if (entry !== part) symlinkSync(path.join(from, entry), path.join(to, entry));
    from = path.join(from, part);
    to = path.join(to, part);
    if (i === parts.length - 1) {
      const text = readFileSync(from, 'utf8');
      const changed = change(text);
      if (changed === text) throw new Error(`the change to ${file} changed nothing`);
      writeFileSync(to, changed);
    } else if (!lstatSync(from).isDirectory()) throw new Error(`${from} is not a directory`);
  }
  return into;
}

/**
 * A page's structure: its elements in order, each as its tag with its id and class, text and attribute values left
 * out. Two pages with equal structures differ only in words (titles, review text, a user's name).
 */
export function structureOf(html: string): string[] {
  const body = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '<$1></$1>');
  return [...body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*)>/g)].map(([, close, tag, attrs]) => {
    const id = /\bid="([^"]*)"/.exec(attrs)?.[1];
    const cls = /\bclass="([^"]*)"/.exec(attrs)?.[1]?.trim().replace(/\s+/g, ' ');
    return `${close}${tag.toLowerCase()}${id ? `#${id}` : ''}${cls ? `.${cls}` : ''}`;
  });
}

interface Span {
  traceId: string;
  localEndpoint?: { serviceName?: string };
}

/** Zipkin's traces (API v2) that have a span of `service`, each as the set of services it crosses. */
export async function tracesThrough(base: string, service: string): Promise<Set<string>[]> {
  const url = `${base}/zipkin/api/v2/traces?serviceName=${encodeURIComponent(service)}&limit=50&lookback=3600000`;
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const traces = (await r.json()) as Span[][];
  return traces.map((t) => new Set(t.map((s) => s.localEndpoint?.serviceName ?? '')));
}
