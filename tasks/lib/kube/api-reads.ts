// Reads answered in-process, over one kept-alive connection to the API server, instead of one kubectl process each
// (about 50 ms a process against a few ms a request). The command line is still built, logged and shown in a dry run:
// only who answers changes. Anything this does not answer exactly as kubectl would goes to kubectl: a write, a table,
// a kind it cannot resolve alone, an object that must exist and does not (kubectl's error says so), any answer but
// 200 or 404, a context it cannot use without running something (see kubeconfig.ts).

import http from 'node:http';
import https from 'node:https';
import type { Exit, Runner, Started, Starter } from '../run/commands.ts';
import type { ObjectRef, Query } from '../run/requests.ts';
import { type Access, type ApiAccess, accessOf } from './kubeconfig.ts';

/** A resource as discovery names it. */
interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

interface Answer {
  status: number;
  body: string;
}

/** A JSON object as the API server sends it. */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const aggregated = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** The API server over one agent: GET only. */
class ApiServer {
  private readonly agent: http.Agent;
  private readonly access: ApiAccess;
  private readonly limitMs: number;
  constructor(access: ApiAccess, limitMs: number) {
    this.access = access;
    this.limitMs = limitMs;
    const tls = access.server.startsWith('https:');
    const options = { keepAlive: true, maxSockets: 4 };
    this.agent = tls
      ? new https.Agent({
          ...options,
          ca: access.ca,
          cert: access.cert,
          key: access.key,
          rejectUnauthorized: !access.insecure,
          servername: access.serverName,
        })
      : new http.Agent(options);
  }

  get(path: string, signal: AbortSignal | undefined, accept = 'application/json'): Promise<Answer> {
    const url = new URL(this.access.server + path);
    const headers: Record<string, string> = { accept };
    if (this.access.token) headers.authorization = `Bearer ${this.access.token}`;
    return new Promise((resolve, reject) => {
      // The agent makes the connection, TLS or not: http.get takes an https.Agent as it is.
      // A connection gone dead (the cluster stopped, the laptop asleep) would wait for TCP to give up: kubectl then.
      const limit = AbortSignal.timeout(this.limitMs);
      const stop = signal ? AbortSignal.any([signal, limit]) : limit;
      const req = http.get(url, { agent: this.agent, headers, signal: stop }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      // The request holds its limit until it ends: AbortSignal.any holds its sources only weakly, and Node 20 collects
      // a timer's signal nobody holds before it fires.
      req.once('close', () => limit.aborted);
    });
  }

  get namespace(): string {
    return this.access.namespace;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** kind, singular, plural or short name (optionally `.group`) -> the resources it may mean. */
type Resources = Map<string, Resource[]>;

function indexResources(lists: Json[]): Resources {
  const byName: Resources = new Map();
  const add = (name: string, r: Resource) => {
    const key = name.toLowerCase();
    const known = byName.get(key) ?? [];
    if (!known.includes(r)) byName.set(key, [...known, r]); // a resource's names often repeat (kind, singular)
  };
  // A discovery document without its lists throws here, and kubectl answers (see withApiReads).
  for (const list of lists)
    for (const g of list.items as Json[]) {
      // The core group has no name.
      const group = ((g.metadata as Json | undefined)?.name as string | undefined) ?? '';
      // The first version is the one the server prefers, as kubectl takes it.
      const preferred = (g.versions as Json[])[0];
      for (const res of preferred.resources as Json[]) {
        const kind = (res.responseKind as Json | undefined)?.kind as string | undefined;
        if (!kind || typeof res.resource !== 'string') continue;
        const r: Resource = {
          group,
          version: preferred.version as string,
          plural: res.resource,
          kind,
          namespaced: res.scope === 'Namespaced',
        };
        const names = [kind, res.singularResource, res.resource, ...((res.shortNames as string[] | undefined) ?? [])];
        for (const name of names.filter((n): n is string => Boolean(n))) {
          add(name, r);
          if (group) add(`${name}.${group}`, r);
        }
      }
    }
  return byName;
}

/** `{.a.b\.c[0]}`: the path's steps, or undefined for anything more (filters, ranges, wildcards, several paths). */
export function simplePath(jsonpath: string): (string | number)[] | undefined {
  const m = /^\{\.(.+)\}$/.exec(jsonpath);
  if (!m || /[*?@$(){}\s]|\.\./.test(m[1])) return undefined;
  const steps: (string | number)[] = [];
  for (const part of m[1].split(/(?<!\\)\./)) {
    const idx = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!idx) return undefined;
    steps.push(idx[1].replace(/\\\./g, '.'));
    for (const n of idx[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(n[1]));
  }
  return steps;
}

/** As kubectl prints an object: without metadata.managedFields (every object the API server sends has metadata). */
const withoutManagedFields = (o: Json): Json => {
  const { managedFields: _, ...metadata } = o.metadata as Json;
  return { ...o, metadata };
};

/** A resource and what the server answered about it. */
type Fetched = { r: Resource; a: Answer };

/** What kubectl prints for the query, or undefined when kubectl must answer. */
type Reply = { stdout: string } | undefined;

export class ApiReads {
  private server: ApiServer | undefined;
  private resources: Promise<Resources | undefined> | undefined;
  private access: Access | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly context: string;

  private readonly limitMs: number;

  /** `limitMs`: how long one request may take before kubectl is asked instead. */
  constructor(env: NodeJS.ProcessEnv, context: string, limitMs = 10_000) {
    this.env = env;
    this.context = context;
    this.limitMs = limitMs;
  }

  /** The context's access: looked up until it can be used (minikube writes its context only once it has started). */
  private resolve(): Access {
    if (this.access?.ok) return this.access;
    const access = accessOf(this.env, this.context);
    // kubectl decides whether a proxy applies to the server (NO_PROXY and its forms): so it answers then.
    const proxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'].find((k) => this.env[k]);
    this.access =
      access.ok && proxy ? { ok: false, why: `${proxy} is set: kubectl decides if the server is reached through it` } : access;
    return this.access;
  }

  /** Why kubectl answers the reads now, when it does. */
  get declined(): string | undefined {
    const access = this.resolve();
    return access.ok ? undefined : access.why;
  }

  private api(): ApiServer | undefined {
    const access = this.resolve();
    if (!access.ok) return undefined;
    this.server ??= new ApiServer(access.access, this.limitMs);
    return this.server;
  }

  private async discover(api: ApiServer, signal: AbortSignal | undefined): Promise<Resources | undefined> {
    const [core, groups] = await Promise.all([api.get('/api', signal, aggregated), api.get('/apis', signal, aggregated)]);
    const lists = [JSON.parse(core.body) as Json, JSON.parse(groups.body) as Json];
    // A server without aggregated discovery answers in the older form, one that refuses with a Status: kubectl then.
    if (lists.some((l) => l.kind !== 'APIGroupDiscoveryList')) return undefined;
    return indexResources(lists);
  }

  /** The resource `kind` names, asking discovery again once for a kind it does not know (a CRD just installed). */
  private async resource(api: ApiServer, kind: string, signal: AbortSignal | undefined): Promise<Resource | undefined> {
    const name = kind.toLowerCase();
    const fresh = !this.resources;
    // A discovery that failed (a reset, a cut body) is asked again by the next read, not kept for the run.
    this.resources ??= this.discover(api, signal).catch((e: unknown) => {
      this.resources = undefined;
      throw e;
    });
    let known = await this.resources;
    if (known && !known.has(name) && !fresh) {
      this.resources = this.discover(api, signal);
      known = await this.resources;
    }
    const candidates = known?.get(name) ?? [];
    return candidates.length === 1 ? candidates[0] : undefined; // none, or ambiguous: kubectl's rules decide
  }

  private static path(r: Resource, ref: ObjectRef, namespace: string): string {
    const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const ns = r.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? namespace)}` : '';
    return `${base}${ns}/${r.plural}${ref.name ? `/${encodeURIComponent(ref.name)}` : ''}`;
  }

  /** The answer kubectl would print for `query`, when this can give it. */
  async answer(query: Query | undefined, signal: AbortSignal | undefined): Promise<Reply> {
    if (!query || !this.api()) return undefined;
    if (query.op === 'get') return this.getOne(query.ref, Boolean(query.required), signal);
    if (query.op === 'list') return this.list(query.ref, query.selector, signal);
    if (query.op === 'field' && query.refs.length === 1) return this.field(query.refs[0], query.jsonpath, signal);
    return undefined;
  }

  private async fetch(ref: ObjectRef, signal: AbortSignal | undefined, search = ''): Promise<Fetched | undefined> {
    const api = this.api();
    const r = api && (await this.resource(api, ref.kind, signal));
    if (!api || !r) return undefined;
    return { r, a: await api.get(ApiReads.path(r, ref, api.namespace) + search, signal) };
  }

  private async getOne(ref: ObjectRef, required: boolean, signal: AbortSignal | undefined): Promise<Reply> {
    if (!ref.name) return undefined;
    const got = await this.fetch(ref, signal);
    if (got?.a.status === 404 && !required) return { stdout: '' };
    if (got?.a.status !== 200) return undefined;
    return { stdout: `${JSON.stringify(withoutManagedFields(JSON.parse(got.a.body) as Json), null, 4)}\n` };
  }

  private async list(ref: ObjectRef, selector: string | undefined, signal: AbortSignal | undefined): Promise<Reply> {
    if (ref.name) return undefined;
    const got = await this.fetch(ref, signal, selector ? `?labelSelector=${encodeURIComponent(selector)}` : '');
    if (got?.a.status !== 200) return undefined;
    const { r } = got;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    // As kubectl prints a list: each item with its kind, in a List.
    const items = (JSON.parse(got.a.body) as Json).items as Json[];
    const list = {
      apiVersion: 'v1',
      items: items.map((o) => withoutManagedFields({ apiVersion, kind: r.kind, ...o })),
      kind: 'List',
      metadata: { resourceVersion: '' },
    };
    return { stdout: `${JSON.stringify(list, null, 4)}\n` };
  }

  private async field(ref: ObjectRef, jsonpath: string, signal: AbortSignal | undefined): Promise<Reply> {
    const steps = simplePath(jsonpath);
    if (!steps || !ref.name) return undefined;
    const got = await this.fetch(ref, signal);
    if (got?.a.status === 404) return { stdout: '' };
    if (got?.a.status !== 200) return undefined;
    let v: unknown = JSON.parse(got.a.body);
    for (const step of steps) {
      // A field of an object, an index within a list: anything else (a string's length, an index past the end) is
      // kubectl's to say.
      const field = isObject(v) && typeof step === 'string';
      if (!field && !(Array.isArray(v) && typeof step === 'number' && step < v.length)) return undefined;
      v = field ? (Object.hasOwn(v as Json, step) ? (v as Json)[step] : undefined) : (v as unknown[])[step as number];
      if (v === undefined) return { stdout: '' };
    }
    // kubectl's own printing of null, a map or a list is its business.
    if (v === null || typeof v === 'object') return undefined;
    return { stdout: String(v) };
  }

  close(): void {
    this.server?.close();
  }
}

/**
 * A runner that answers kubectl's reads in-process where `reads` can, and hands every other command to `programs`.
 * An answer that fails on the way (the connection, a body that is not JSON) is asked of kubectl, whose error is the one
 * to show.
 */
export function withApiReads(reads: ApiReads, programs: Runner): Starter {
  return async (request, io) => {
    if (request.argv[0] !== 'kubectl') return programs(request, io);
    let reply: Reply;
    try {
      reply = await reads.answer(request.query, io.signal);
    } catch {
      reply = undefined;
    }
    // Stopped (Ctrl-C) while the server was asked: no kubectl is started after it.
    if (io.signal?.aborted) return { exit: Promise.resolve({ exitCode: null, signal: 'SIGINT', stdout: '', stderr: '' }) };
    if (!reply) return programs(request, io);
    io.output('stdout', reply.stdout);
    const exit: Exit = { exitCode: 0, signal: null, stdout: reply.stdout, stderr: '', via: 'in-process' };
    return { exit: Promise.resolve(exit) } satisfies Started;
  };
}
