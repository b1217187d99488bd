// What the in-process reads need of a kubeconfig: the chosen context's server, its trust and its credentials. Only
// what can be used without running anything: a context whose user runs a plugin (exec, auth-provider), sits behind
// a proxy, or spans several files is declined, and kubectl answers instead.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

export interface ApiAccess {
  server: string;
  namespace: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure?: boolean;
  serverName?: string;
}

/** Why the reads go through kubectl after all. */
export type Access = { ok: true; access: ApiAccess } | { ok: false; why: string };

interface Named<T> {
  name?: string;
  [k: string]: T | string | undefined;
}
interface KubeconfigFile {
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<Record<string, unknown>>[];
}

const declined = (why: string): Access => ({ ok: false, why });

/** The kubeconfig kubectl reads with this environment: KUBECONFIG (one file), else ~/.kube/config. */
export function kubeconfigPath(env: NodeJS.ProcessEnv): string | undefined {
  const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (files.length > 1) return undefined;
  return files[0] ?? path.join(env.HOME ?? os.homedir(), '.kube', 'config');
}

/** The context's access, or why it cannot be used in-process. */
export function accessOf(env: NodeJS.ProcessEnv, context: string): Access {
  const file = kubeconfigPath(env);
  if (!file) return declined('KUBECONFIG names several files');
  let doc: KubeconfigFile;
  try {
    doc = (load(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (e) {
    return declined(`cannot read ${file}: ${(e as Error).message}`);
  }
  const entry = (list: Named<Record<string, unknown>>[] | undefined, key: string, name: unknown) =>
    list?.find((e) => e.name === name)?.[key] as Record<string, unknown> | undefined;
  const ctx = entry(doc.contexts, 'context', context);
  if (!ctx) return declined(`no context ${context} in ${file}`);
  const cluster = entry(doc.clusters, 'cluster', ctx.cluster);
  const user = entry(doc.users, 'user', ctx.user) ?? {};
  if (!cluster || typeof cluster.server !== 'string') return declined(`context ${context} has no cluster server`);
  if (cluster['proxy-url']) return declined('the cluster is reached through a proxy');
  for (const plugin of ['exec', 'auth-provider', 'username', 'as', 'as-uid', 'as-groups', 'as-user-extra'])
    if (user[plugin]) return declined(`the user authenticates with ${plugin}`);
  // kubectl refuses this pair itself: its error is the one to show.
  if (cluster['insecure-skip-tls-verify'] === true && (cluster['certificate-authority'] || cluster['certificate-authority-data']))
    return declined('the cluster both skips TLS verification and names a CA');
  const dir = path.dirname(file);
  const bytes = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof file === 'string') return readFileSync(path.resolve(dir, file));
    return undefined;
  };
  try {
    const tokenFile = user.tokenFile;
    return {
      ok: true,
      access: {
        server: cluster.server.replace(/\/+$/, ''),
        namespace: typeof ctx.namespace === 'string' && ctx.namespace ? ctx.namespace : 'default',
        ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
        cert: bytes(user['client-certificate-data'], user['client-certificate']),
        key: bytes(user['client-key-data'], user['client-key']),
        // As client-go: the file wins over an inline token.
        token:
          typeof tokenFile === 'string'
            ? readFileSync(path.resolve(dir, tokenFile), 'utf8').trim()
            : typeof user.token === 'string'
              ? user.token
              : undefined,
        insecure: cluster['insecure-skip-tls-verify'] === true,
        serverName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
      },
    };
  } catch (e) {
    return declined(`cannot read a file the kubeconfig names: ${(e as Error).message}`);
  }
}
