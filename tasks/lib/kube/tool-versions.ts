// The questions about the tools and the API server themselves (versions, served APIs), typed like kube.ts's, so a
// dry run and the tests answer what they ask.
import type { Commands, Result, RunOptions } from '../run/commands.ts';
import type { Tool } from '../run/requests.ts';

const clientVersionArgs: Record<Tool, string[]> = {
  kubectl: ['version', '--client', '-o', 'json'],
  istioctl: ['version', '--remote=false', '-o', 'json'],
  minikube: ['version', '--output=json'],
};

/** The tool's own version, as JSON. */
export const clientVersion = (sh: Commands, tool: Tool, opts: RunOptions = {}): Promise<Result> =>
  sh[tool](clientVersionArgs[tool], { ...opts, query: { op: 'version', tool, of: 'client' } });

/** The API server's version, as JSON (`kubectl version`), waiting at most `requestTimeout` (e.g. '5s') for it. */
export const apiServerVersion = (sh: Commands, requestTimeout: string, opts: RunOptions = {}): Promise<Result> =>
  sh.kubectl(['version', '-o', 'json', `--request-timeout=${requestTimeout}`], {
    ...opts,
    query: { op: 'version', tool: 'kubectl', of: 'server' },
  });

/** The API groups and versions the server serves, one per line. */
export const servedApis = (sh: Commands, opts: RunOptions = {}): Promise<Result> =>
  sh.kubectl(['api-versions'], { ...opts, query: { op: 'api-versions' } });
