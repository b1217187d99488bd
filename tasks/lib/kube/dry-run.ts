// What a dry run pretends the cluster answers: the one model, used by the shell in --dry-run and by the chapter
// tests' scripted clusters. Two views, chosen per command:
// - 'fresh' (every chapter and `all`): nothing has been done yet. Objects this run creates through
//   `kubectl create|apply -f -` exist afterwards and carry the tool's label; nothing else exists. A chapter run
//   alone assumes the chapters before it ran: the workloads they make answer as ready, and the tools are installed.
// - 'finished' (teardown): `all` has run, so every object the tool makes exists and is the tool's, and the dry run
//   lists every removal.
// Tools answer as the pinned versions would. Steps never pass answers of their own: to add a kubectl call, call it;
// if a fresh cluster answers it with something other than "nothing", teach this file.

import { type Config, minikubeOf, names, pins } from '../../config.ts';
import { missingProfileStatus } from '../exec/tool-output.ts';
import type { ClusterView, CommandModel } from '../run/commands.ts';
import { parseManifests } from './manifests.ts';

/** Part of a command's result; the shell fills in the rest (exit 0, no output). */
export interface Answer {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}
const json = (v: unknown): string => JSON.stringify(v);
const managedLabelPath = `{.metadata.labels.${names.managedBy.key.replace(/\./g, '\\.')}}`;

export class DryRunCluster implements CommandModel {
  readonly view: ClusterView;
  private readonly config: Pick<Config, 'kubernetesVersion' | 'istioVersion' | 'cluster' | 'addons'>;
  /** `kind/namespace/name` of the objects this run created. */
  private readonly created = new Set<string>();

  /** The chapters' own namespaces (CommandBase.owns): a finished cluster has them. */
  private readonly ownNamespaces: string[];

  constructor(config: DryRunCluster['config'], view: ClusterView = 'fresh', ownNamespaces: string[] = []) {
    this.config = config;
    this.view = view;
    this.ownNamespaces = ownNamespaces;
  }

  /** The answer to one command line (the tool's own argv, as the shell runs it). */
  answer(argv: string[], input?: string): Answer {
    const tool = argv[0].split('/').pop();
    if (tool === 'minikube') return this.minikube(argv[1] === '-p' ? argv.slice(3) : argv.slice(1));
    if (tool === 'istioctl')
      return argv[3] === 'version' ? { stdout: json({ clientVersion: { version: this.config.istioVersion } }) } : {};
    if (tool === 'kubectl') return this.kubectl(argv.slice(3), input);
    return {};
  }

  private minikube([verb]: string[]): Answer {
    const profile = minikubeOf(this.config)?.profile ?? '';
    if (verb === 'status')
      return this.view === 'finished'
        ? { stdout: json({ Name: profile, Host: 'Running', Kubelet: 'Running', APIServer: 'Running' }) }
        : missingProfileStatus(profile);
    if (verb === 'version') return { stdout: json({ minikubeVersion: pins.minikube }) };
    if (verb === 'ip') return { stdout: '192.168.49.2' };
    return {};
  }

  private kubectl(args: string[], input?: string): Answer {
    const namespace = args[0] === '-n' ? args[1] : undefined;
    const [verb, ...rest] = namespace ? args.slice(2) : args;
    const { kubernetesVersion } = this.config;
    if (verb === 'version')
      return {
        stdout: json(
          rest.includes('--client')
            ? { clientVersion: { gitVersion: kubernetesVersion } }
            : { serverVersion: { gitVersion: kubernetesVersion } },
        ),
      };
    if (verb === 'api-versions') return { stdout: 'admissionregistration.k8s.io/v1\napps/v1\n' };
    if ((verb === 'create' || verb === 'apply' || verb === 'delete') && input !== undefined) {
      for (const o of objectsIn(input)) {
        const key = keyOf(o.kind ?? '', o.metadata?.namespace ?? namespace, o.metadata?.name ?? '');
        if (verb === 'delete') this.created.delete(key);
        else this.created.add(key);
      }
      return {};
    }
    if (verb === 'get') return this.get(namespace, rest);
    return {};
  }

  /** An object as the run made it: named, namespaced and the tool's; a Service gets a node port, as for real. */
  private made(address: string, namespace: string | undefined): object {
    const [kind, name] = address.split('/');
    const labels = { [names.managedBy.key]: names.managedBy.value };
    const spec = kind.toLowerCase() === 'service' ? { spec: { ports: [{ nodePort: 30080 }] } } : {};
    return { kind, metadata: { name, ...(namespace ? { namespace } : {}), labels }, ...spec };
  }

  private get(namespace: string | undefined, rest: string[]): Answer {
    const firstFlag = rest.findIndex((a) => a.startsWith('-'));
    const words = firstFlag < 0 ? rest : rest.slice(0, firstFlag);
    // `kind name` (one object) or `kind/name ...` (several), as kube.ts writes them.
    const addresses = words.length === 2 && !words[0].includes('/') ? [`${words[0]}/${words[1]}`] : words;
    const output = rest[rest.indexOf('-o') + 1] ?? '';
    const known = (address: string): boolean => {
      const [kind, name] = address.split('/');
      return this.view === 'finished' || this.created.has(keyOf(kind, namespace, name));
    };
    if (output === 'name' && rest.includes('-l')) {
      const kind = addresses[0];
      if (this.view === 'finished')
        return {
          stdout: kind === 'deployment' ? this.config.addons.map((a) => `deployment.apps/${a.deployment}`).join('\n') : '',
        };
      return {
        stdout: [...this.created]
          .filter((k) => k.startsWith(`${kind}/${namespace ?? ''}/`))
          .map((k) => `${kind}/${k.split('/')[2]}`)
          .join('\n'),
      };
    }
    if (output === 'name') return { stdout: addresses.filter(known).join('\n') };
    if (output === 'json') {
      const one = addresses.length === 1 && addresses[0].includes('/');
      // getObject: the object as the run made it (the tool's, no status yet), or nothing.
      if (one && rest.includes('--ignore-not-found'))
        return { stdout: known(addresses[0]) ? json(this.made(addresses[0], namespace)) : '' };
      if (one) return { stdout: '{}' };
      // listObjects: every object of the kind that this run made (none has a status yet: nothing is ready).
      const kind = addresses[0].toLowerCase();
      // One node, with a container runtime (a dry run stands for a cluster that runs containers).
      if (kind === 'nodes') {
        const status = {
          addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
          nodeInfo: { containerRuntimeVersion: 'containerd://2' },
        };
        return { stdout: json({ items: [{ kind: 'Node', metadata: { name: 'node' }, status }] }) };
      }
      // Where `all` and the Istio tasks have run, their own namespaces exist.
      if (this.view === 'finished' && kind === 'namespace') {
        const own = [names.istioNamespace, ...this.ownNamespaces];
        return { stdout: json({ items: own.map((n) => this.made(`namespace/${n}`, undefined)) }) };
      }
      const made = rest.includes('-l') ? [] : [...this.created].filter((k) => k.startsWith(`${kind}/${namespace ?? ''}/`));
      return { stdout: json({ items: made.map((k) => this.made(`${kind}/${k.split('/')[2]}`, namespace)) }) };
    }
    if (output.startsWith('jsonpath=')) {
      const path = output.slice('jsonpath='.length);
      if (path === managedLabelPath) return { stdout: addresses.every(known) ? names.managedBy.value : '' };
      // A chapter's dry run assumes the chapters before it ran: the mesh has the tracing provider.
      if (path === '{.data.mesh}')
        return {
          // The demo profile's mesh once the install has run: metrics to Prometheus, and the zipkin provider.
          stdout: `defaultProviders:\n  metrics:\n  - prometheus\nextensionProviders:\n- name: ${names.tracing.provider}\n  zipkin:\n    service: ${names.tracing.service}\n    port: ${names.tracing.port}\n`,
        };
      // A chapter's dry run assumes the chapters before it ran: what they make is ready.
      if (path === '{.status.readyReplicas}') return { stdout: '1' };
    }
    return {};
  }
}

const keyOf = (kind: string, namespace: string | undefined, name: string): string =>
  `${kind.toLowerCase()}/${kind.toLowerCase() === 'namespace' ? '' : (namespace ?? '')}/${name}`;

/** The objects a manifest on stdin carries; none when it is not one (the model then remembers nothing). */
function objectsIn(input: string): ReturnType<typeof parseManifests> {
  try {
    return parseManifests(input, 'stdin');
  } catch {
    return [];
  }
}
