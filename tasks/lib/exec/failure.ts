// Why a tool failed, in one line: the line of its stderr that says so, not merely the last one (minikube ends
// with a box asking for bug reports), plus the tool's own suggestion when it gives one.

export interface FailureReason {
  reason?: string;
  suggestion?: string;
}

const decoration = /^[\s│╭╮╰╯─|+*X!❌💡📘😿👉🤷❗-]*$/u;
/** A line without minikube's markers and box borders. */
const clean = (line: string): string =>
  line
    .replace(/^[\s│|]+|[\s│|]+$/gu, '')
    .replace(/^(?:[*X!]|❌|💡|📘|😿|👉|🤷|❗)\s+/u, '')
    .trim();

const lastMatching = (lines: string[], re: RegExp): string | undefined => lines.filter((l) => re.test(l)).at(-1);

/** The meaningful line of a failed command's stderr, per tool. */
export function failureReason(tool: string, stderr: string): FailureReason {
  const lines = stderr
    .split('\n')
    .filter((l) => !decoration.test(l))
    .map(clean)
    .filter(Boolean);
  if (tool === 'minikube') {
    const exiting = lastMatching(lines, /Exiting due to [A-Z0-9_]+/);
    const suggestion = lastMatching(lines, /^Suggestion:/)?.replace(/^Suggestion:\s*/, '');
    return { reason: exiting?.slice(exiting.indexOf('Exiting due to')) ?? lines.at(-1), suggestion };
  }
  if (tool === 'kubectl') {
    const reason = lastMatching(lines, /^(error\b|Error\b|The connection to the server)/) ?? lines.at(-1);
    // exec, logs and port-forward go through the node's kubelet: the API server could not reach it.
    if (reason && /error dialing backend/.test(reason))
      return {
        reason: `${reason} (the API server cannot reach the node's kubelet: is the node up and running containers?)`,
      };
    // The API server calls istiod for Istio's objects and for new pods: istiod down, restarting or unreachable.
    const webhook = reason && /failed calling webhook "([^"]*istio[^"]*)"/.exec(reason)?.[1];
    if (webhook)
      return {
        reason,
        suggestion: `istiod's webhook ${webhook} did not answer: check that istiod runs (kubectl -n istio-system get pods -l app=istiod), then re-run`,
      };
    return { reason };
  }
  if (tool === 'istioctl') return { reason: lastMatching(lines, /^Error:/) ?? lines.at(-1) };
  return { reason: lines.at(-1) };
}
