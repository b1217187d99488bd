// Reading what minikube, kubectl and istioctl print. Shapes checked against the real binaries in
// test/e2e/audit-output.test.ts (output captured in that run, not typed by hand).

import { StepError } from '../base/errors.ts';

/** JSON a command printed; a StepError naming the command when it is not JSON. */
export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new StepError(`${what} did not print JSON: ${text.trim().slice(0, 80)}`);
  }
}

const jsonOf = <T>(text: string): T | undefined => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
};

export interface MinikubeStatus {
  Name?: string;
  Host?: string;
  Kubelet?: string;
  APIServer?: string;
}

/**
 * `minikube -p P status -o json`. Its exit code is a bit mask (7: nothing runs), and a profile that does not
 * exist prints no status at all but CloudEvents lines ("Profile ... not found") and exits 85: Nonexistent.
 */
export function parseMinikubeStatus(stdout: string): MinikubeStatus {
  const objects = stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => jsonOf<MinikubeStatus>(l.trim()));
  return objects.find((o) => o && 'Host' in o) ?? { Host: 'Nonexistent' };
}

/** The dry-run stand-in for a profile that does not exist, shaped like minikube's real answer. */
export const missingProfileStatus = (profile: string) => ({
  exitCode: 85,
  stdout: `${JSON.stringify({ specversion: '1.0', type: 'io.k8s.sigs.minikube.info', data: { message: `Profile "${profile}" not found. Run "minikube profile list" to view all profiles.` } })}\n`,
});

/** `kubectl version [--client] -o json`: the client's and the server's gitVersion. */
export const kubectlVersions = (stdout: string) => {
  const v = jsonOf<{ clientVersion?: { gitVersion?: string }; serverVersion?: { gitVersion?: string } }>(stdout);
  return { client: v?.clientVersion?.gitVersion, server: v?.serverVersion?.gitVersion };
};

/** `minikube version --output=json`. */
export const minikubeVersion = (stdout: string) => jsonOf<{ minikubeVersion?: string }>(stdout)?.minikubeVersion;

/** `istioctl version --remote=false -o json`. */
export const istioctlVersion = (stdout: string) =>
  jsonOf<{ clientVersion?: { version?: string } }>(stdout)?.clientVersion?.version;
