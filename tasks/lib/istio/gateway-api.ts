// The Kubernetes Gateway API CRDs the ambient track needs (waypoints, Gateway-API gateways, HTTPRoute). Istio does not
// ship them; istio.io applies the release's standard-install.yaml. Here that file is fetched (or read from
// GATEWAY_API_CRDS) and its objects are checked against the pinned digest before anything is applied: a file that
// differs is never kept. The release file is the module's config/crd/standard files joined with comment headers, so
// the digest is of the objects, not the bytes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayApiSource } from '../../config.ts';
import { gatewayApi } from '../../config.ts';
import { StepError } from '../base/errors.ts';
import { type K8sObject, parseManifests } from '../kube/manifests.ts';
import { fetchText } from './download.ts';

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
};
const identity = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata?.name}`;

/** SHA-256 of the objects, in a form that neither comments, key order, layout nor document order change. */
export function objectsDigest(docs: K8sObject[]): string {
  const sorted = [...docs].sort((a, b) => identity(a).localeCompare(identity(b)));
  return createHash('sha256')
    .update(JSON.stringify(sorted.map(sortKeys)))
    .digest('hex');
}

/** The objects of `text`, if they are the pinned release's (`pin`: their digest); otherwise why not. */
export function verifiedObjects(text: string, source: string, pin: string = gatewayApi.objectsSha256): K8sObject[] {
  const docs = parseManifests(text, source);
  const digest = objectsDigest(docs);
  if (digest !== pin)
    throw new StepError(
      `${source} is not Gateway API ${gatewayApi.version} (${gatewayApi.asset}): its ${docs.length} objects digest to ${digest.slice(0, 12)}, expected ${pin.slice(0, 12)}`,
      'set GATEWAY_API_CRDS to that release file, or unset it to download it',
    );
  return docs;
}

/** The CRDs' objects: the cached copy while it verifies, else downloaded (and cached once verified), or the given file. */
export async function gatewayApiObjects(
  source: GatewayApiSource,
  signal?: AbortSignal,
  pin: string = gatewayApi.objectsSha256,
): Promise<{ docs: K8sObject[]; how: 'cached' | 'downloaded' | 'given' }> {
  const read = (file: string) => verifiedObjects(readFileSync(file, 'utf8'), file, pin);
  if (source.kind === 'given') return { docs: read(source.file), how: 'given' };
  if (existsSync(source.file)) {
    try {
      return { docs: read(source.file), how: 'cached' };
    } catch {
      rmSync(source.file); // changed since it was kept: not kept, fetched again below
    }
  }
  const text = await fetchText(
    source.url,
    signal,
    'set HTTPS_PROXY if this network has a proxy, or GATEWAY_API_CRDS to a mirror you can reach or a copy of the file',
  );
  const docs = verifiedObjects(text, source.url, pin);
  mkdirSync(path.dirname(source.file), { recursive: true });
  writeFileSync(`${source.file}.part`, text);
  renameSync(`${source.file}.part`, source.file);
  return { docs, how: 'downloaded' };
}
