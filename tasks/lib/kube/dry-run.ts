// What a dry run pretends the cluster answers: the one model, used by the shell in --dry-run and by the chapter
// tests' scripted clusters. Two views, chosen per command:
// - 'fresh' (every chapter and `all`): nothing has been done yet. Objects this run creates through
//   `kubectl create|apply -f -` exist afterwards and carry the tool's label; nothing else exists. A chapter run
//   alone assumes the chapters before it ran: the workloads they make answer as ready, and the tools are installed.
// - 'finished' (teardown): `all` has run, so every object the tool makes exists and is the tool's, and the dry run
//   lists every removal.
// Tools answer as the pinned versions would. Steps never pass answers of their own: to add a kubectl call, call it;
// if a fresh cluster answers it with something other than "nothing", teach this file.

import { type Config, gatewayApi, minikubeOf, names, pins } from '../../config.ts';
import { missingProfileStatus } from '../exec/tool-output.ts';
import type { ClusterView, CommandModel } from '../run/commands.ts';
import type { ObjectRef, Request, Tool } from '../run/requests.ts';
import { daemonSetsReadyPath, dataplaneModePath, gatewayApiCrdPath, programmedPath, trackLabelsPath } from './fields.ts';

/** Part of a command's result; the shell fills in the rest (exit 0, no output). */
export interface Answer {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}
const json = (v: unknown): string => JSON.stringify(v);
const ourLabelPath = `{.metadata.labels.${names.managedBy.key.replace(/\./g, '\\.')}}`;

export class DryRunCluster implements CommandModel {
  readonly view: ClusterView;
  private readonly config: Pick<Config, 'kubernetesVersion' | 'istioVersion' | 'cluster' | 'addons'> &
    Partial<Pick<Config, 'mode'>>;
  /** `kind/namespace/name` of the objects this run created. */
  private readonly created = new Set<string>();

  /** The chapters' own namespaces (CommandBase.owns): a finished cluster has them. */
  private readonly ownNamespaces: string[];

  constructor(config: DryRunCluster['config'], view: ClusterView = 'fresh', ownNamespaces: string[] = []) {
    this.config = config;
    this.view = view;
    this.ownNamespaces = ownNamespaces;
  }

  /** The answer to what a command asks; a command that asks nothing kube/ typed answers nothing (exit 0). */
  answer({ query }: Request): Answer {
    switch (query?.op) {
      case 'version':
        return { stdout: json(this.version(query.tool, query.of)) };
      case 'api-versions':
        return { stdout: 'admissionregistration.k8s.io/v1\napps/v1\n' };
      case 'profile-status':
        return this.profileStatus();
      case 'node-ip':
        return { stdout: '192.168.49.2' };
      case 'send':
        for (const o of query.objects) {
          const key = keyOf(o.kind ?? '', o.metadata?.namespace, o.metadata?.name ?? '');
          if (query.verb === 'delete') this.created.delete(key);
          else this.created.add(key);
        }
        return {};
      case 'delete':
        for (const r of query.refs) this.created.delete(keyOf(r.kind, r.namespace, r.name ?? ''));
        return {};
      case 'get':
        // A read that must find its object finds it (the chapters before ran); otherwise, the run's own objects.
        if (query.required) return { stdout: '{}' };
        return { stdout: this.known(query.ref) ? json(this.made(query.ref)) : '' };
      case 'list':
        return { stdout: json({ items: this.list(query.ref, query.selector) }) };
      case 'names':
        return { stdout: this.names(query.ref, query.selector).join('\n') };
      case 'field':
        return { stdout: this.field(query.refs, query.jsonpath) };
      default:
        return {};
    }
  }

  private version(tool: Tool, of: 'client' | 'server'): object {
    const { kubernetesVersion, istioVersion } = this.config;
    if (tool === 'minikube') return { minikubeVersion: pins.minikube };
    if (tool === 'istioctl') return { clientVersion: { version: istioVersion } };
    return of === 'client'
      ? { clientVersion: { gitVersion: kubernetesVersion } }
      : { serverVersion: { gitVersion: kubernetesVersion } };
  }

  private profileStatus(): Answer {
    const profile = minikubeOf(this.config)?.profile ?? '';
    return this.view === 'finished'
      ? { stdout: json({ Name: profile, Host: 'Running', Kubelet: 'Running', APIServer: 'Running' }) }
      : missingProfileStatus(profile);
  }

  private known(ref: ObjectRef): boolean {
    return this.view === 'finished' || this.created.has(keyOf(ref.kind, ref.namespace, ref.name ?? ''));
  }

  /** An object as the run made it: named, namespaced and the tool's; a Service gets a node port, as for real. */
  private made({ kind, name, namespace }: ObjectRef): object {
    const labels = { [names.managedBy.key]: names.managedBy.value };
    const spec = kind.toLowerCase() === 'service' ? { spec: { ports: [{ nodePort: 30080 }] } } : {};
    return { kind, metadata: { name, ...(namespace ? { namespace } : {}), labels }, ...spec };
  }

  /** The names of the objects of `ref.kind` in its namespace that this run made (none has a status: none is ready). */
  private madeOfKind({ kind, namespace }: ObjectRef): string[] {
    const prefix = `${kind.toLowerCase()}/${namespace ?? ''}/`;
    return [...this.created].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  private list(ref: ObjectRef, selector: string | undefined): object[] {
    // One node, with a container runtime (a dry run stands for a cluster that runs containers).
    if (ref.kind === 'nodes') {
      const status = {
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        nodeInfo: { containerRuntimeVersion: 'containerd://2' },
        allocatable: { cpu: '4', memory: '16Gi' },
      };
      return [{ kind: 'Node', metadata: { name: 'node' }, status }];
    }
    // Where `all` and the Istio tasks have run, their own namespaces exist.
    if (this.view === 'finished' && ref.kind === 'namespace')
      return [names.istioNamespace, ...this.ownNamespaces].map((name) => this.made({ kind: 'namespace', name }));
    if (selector) return [];
    return this.madeOfKind(ref).map((name) => this.made({ ...ref, name }));
  }

  private names(ref: ObjectRef, selector: string | undefined): string[] {
    if (!selector) return this.known(ref) ? [`${ref.kind}/${ref.name}`] : [];
    // The tool's objects of a kind: on a finished cluster, its addons' Deployments (and in ambient mode the Gateway
    // API it installed, as one CRD and its upgrade policy stand for them).
    if (this.view === 'finished') {
      if (ref.kind === 'deployment') return this.config.addons.map((a) => `deployment.apps/${a.deployment}`);
      if (this.config.mode !== 'ambient') return [];
      if (ref.kind === 'customresourcedefinition')
        return [`customresourcedefinition.apiextensions.k8s.io/${names.gatewayApiCrd}`];
      if (ref.kind.startsWith('validatingadmissionpolicy'))
        return [`${ref.kind}.admissionregistration.k8s.io/${gatewayApiPolicy}`];
      return [];
    }
    return this.madeOfKind(ref).map((name) => `${ref.kind}/${name}`);
  }

  private field(refs: ObjectRef[], path: string): string {
    if (path === ourLabelPath) return refs.every((r) => this.known(r)) ? names.managedBy.value : '';
    // A chapter's dry run assumes the chapters before it ran: the mesh has the tracing provider.
    if (path === '{.data.mesh}')
      // The demo profile's mesh once the install has run: metrics to Prometheus, and the zipkin provider.
      return `defaultProviders:\n  metrics:\n  - prometheus\nextensionProviders:\n- name: ${names.tracing.provider}\n  zipkin:\n    service: ${names.tracing.service}\n    port: ${names.tracing.port}\n`;
    // A chapter's dry run assumes the chapters before it ran: what they make is ready.
    if (path === '{.status.readyReplicas}') return '1';
    // ... and, in ambient mode, installed the ambient profile and the Gateway API CRDs, enrolled Bookinfo and
    // programmed its waypoint.
    if (path === daemonSetsReadyPath) return refs.map((r) => `${r.name}=1/1`).join(' ');
    if (path === gatewayApiCrdPath) return `${refs[0]?.name} ${gatewayApi.version}`;
    if (path === dataplaneModePath) return 'ambient';
    if (path === programmedPath) return 'True';
    // ... or, for the move to ambient mode, the sidecar track's Bookinfo.
    if (path === trackLabelsPath) return 'enabled/';
    return '';
  }
}

/** The upgrade policy (and its binding) the Gateway API release installs beside its CRDs. */
const gatewayApiPolicy = 'safe-upgrades.gateway.networking.k8s.io';

const keyOf = (kind: string, namespace: string | undefined, name: string): string =>
  `${kind.toLowerCase()}/${kind.toLowerCase() === 'namespace' ? '' : (namespace ?? '')}/${name}`;
