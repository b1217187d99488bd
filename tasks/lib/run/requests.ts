// What a command asks, typed. kube/ builds the command line and says here what it means; the shell runs the line,
// and a dry run or a test answers what it asks, never parsing the line back.

/** One object, or with no name every object of a kind (in a namespace). */
export interface ObjectRef {
  kind: string;
  name?: string;
  namespace?: string;
}

/** An object as sent on stdin: what a model of the cluster needs to know it exists afterwards. */
export interface SentObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** The program a version is asked of. */
export type Tool = 'kubectl' | 'istioctl' | 'minikube';

export type Query =
  /** One object as JSON; '' when it does not exist (`--ignore-not-found`), or, `required`, an error. */
  | { op: 'get'; ref: ObjectRef; required?: true }
  /** Every object of a kind (in a namespace), `{"items": [...]}`; with `selector`, those matching it. */
  | { op: 'list'; ref: ObjectRef; selector?: string }
  /**
   * Every object of the kinds (`a,b`) in every namespace (`-A`), `{"items": [...]}`. Not a `list`: that is read in one
   * namespace, and an answer from one namespace would pass for all of them.
   */
  | { op: 'list-all'; kinds: string }
  /** `kind/name` lines: of the objects matching `selector`, or of `ref` when it exists (a Secret's existence). */
  | { op: 'names'; ref: ObjectRef; selector?: string }
  /** One jsonpath of the objects, '' where missing. */
  | { op: 'field'; refs: ObjectRef[]; jsonpath: string }
  /** Objects sent on stdin to be created, applied or deleted. */
  | { op: 'send'; verb: 'create' | 'apply' | 'delete'; objects: SentObject[] }
  /** Objects deleted by name (a missing one is no error). */
  | { op: 'delete'; refs: ObjectRef[] }
  /** A tool's version as JSON: the client's, or the server's (the API server, for kubectl). */
  | { op: 'version'; tool: Tool; of: 'client' | 'server' }
  /** The API groups the server serves, one per line. */
  | { op: 'api-versions' }
  /** minikube's profile as `minikube status -o json` prints it. */
  | { op: 'profile-status' }
  /** The minikube node's address. */
  | { op: 'node-ip' };

/** A command as the shell runs it: its exact argv (the program first), its stdin, and what it asks when known. */
export interface Request {
  argv: string[];
  input?: string;
  query?: Query;
}
