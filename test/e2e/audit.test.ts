// Issue 4: every command and manifest held to the real tools at the pinned versions (the lab's binaries, built by
// lab/build.ts). No cluster, no network: flags and subcommands come from the tools' own help, every command line goes
// through the tool's own flag parser (against an empty kubeconfig, so nothing can reach a cluster), jsonpath values
// through kubectl's own parser, output shapes from the real binaries, manifests through Istio's analyzers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ISTIO_LAB_VERSION, bin, istioHome, minikubeModuleVersion } from '../../lab/common.ts';
import { addonObjects } from '../../tasks/addons.ts';
import { addons, loadConfig, manifestsDir, pins } from '../../tasks/config.ts';
import { RunLog } from '../../tasks/lib/log.ts';
import { dumpAll, readManifests, type K8sObject } from '../../tasks/lib/manifests.ts';
import { lint, portProtocol } from '../../tasks/lib/podspec.ts';
import { Shell } from '../../tasks/lib/shell.ts';
import type { Ctx } from '../../tasks/lib/types.ts';
import { compareVersions } from '../../tasks/lib/version.ts';
import { istioctlVersion, kubectlVersions, minikubeVersion, missingProfileStatus, parseMinikubeStatus } from '../../tasks/lib/tool-output.ts';
import { minikubeStatus } from '../../tasks/minikube.ts';
import { dryRunCommands, fakeSpawn, runCli, tmpDir } from '../helpers.ts';

type Tool = 'kubectl' | 'istioctl' | 'minikube';
const tools: Tool[] = ['kubectl', 'istioctl', 'minikube'];
for (const t of [...tools, 'istio-analyze-files'])
  if (!existsSync(bin(t))) throw new Error(`${bin(t)} is missing: run \`node --import tsx lab/build.ts\` first`);

const work = tmpDir('fwi-audit-');
const emptyKubeconfig = path.join(work, 'kubeconfig');
writeFileSync(emptyKubeconfig, '');
/**
 * The product's contexts, pointing at 127.0.0.1:1 where nothing listens: kubectl parses its flags, resolves the
 * context, builds its request (client-side checks such as "name cannot be provided when a selector is specified"
 * happen here) and is refused at once. Nothing leaves the machine.
 */
const deadKubeconfig = path.join(work, 'kubeconfig-dead');
writeFileSync(deadKubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: nobody, user: {token: audit}}]
contexts: [{name: lab, context: {cluster: nowhere, user: nobody}}, {name: fun-with-istio, context: {cluster: nowhere, user: nobody}}]
`);
/** Everything the real tools read or write stays in `work`: no kubeconfig, no minikube home, no update check. */
const toolEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: work,
  KUBECONFIG: emptyKubeconfig,
  MINIKUBE_HOME: path.join(work, 'minikube-home'),
  MINIKUBE_WANTUPDATENOTIFICATION: 'false',
  MINIKUBE_IN_STYLE: 'false',
  ...extra,
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
function runTool(file: string, args: string[], env: NodeJS.ProcessEnv = toolEnv()): Ran {
  const r = spawnSync(file, args, { env, encoding: 'utf8', input: '', timeout: 60_000, maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------------------------------------------------------
// The tools' own description of themselves: flags and subcommands from --help.

interface FlagSpec {
  long: string;
  short?: string;
  /** Takes its value from the next argument when not given as --flag=value. */
  takesValue: boolean;
}
interface Model {
  path: string[];
  flags: FlagSpec[];
  subcommands: Set<string>;
}

const flagSections = /^(Flags|Global Flags|Options|The following options can be passed to any command):$/;
// kubectl and minikube (kubectl's help template):  "    -o, --output='':"   "    --wait=true:"   and `minikube options`:
// "      --log_dir='': If non-empty, ..." (the default may also run over lines: "-f, --format='{{.Name}}").
const kubectlFlag = /^\s+(?:-([A-Za-z0-9?]), )?--([A-Za-z0-9][\w.-]*)=(.*)$/;
// istioctl (cobra's default template):  "  -o, --output string   desc"   "      --purge   desc"   "--watch duration[=1s]"
const cobraFlag = /^\s+(?:-([A-Za-z0-9?]), )?--([A-Za-z0-9][\w.-]*)(?: ([A-Za-z][\w.]*)(\[=[^\]]*\])?)?(?:\s{2,}|$)/;

/** Splits help text into sections by their headers (unindented lines ending in ':'). */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      current = line;
      out.set(current, []);
    } else out.get(current)?.push(line);
  }
  return out;
}

export function parseHelp(text: string): { flags: FlagSpec[]; subcommands: Set<string> } {
  const flags: FlagSpec[] = [];
  const subcommands = new Set<string>();
  for (const [header, lines] of sections(text)) {
    if (flagSections.test(header)) {
      for (const line of lines) {
        const k = kubectlFlag.exec(line);
        if (k) {
          flags.push({ short: k[1], long: k[2], takesValue: !/^(true|false)(:|$)/.test(k[3]) });
          continue;
        }
        const c = cobraFlag.exec(line);
        if (c) flags.push({ short: c[1], long: c[2], takesValue: Boolean(c[3]) && !c[4] });
      }
    } else if (/Commands.*:$/.test(header)) {
      for (const line of lines) {
        const m = /^\s+([a-z][\w-]*)(?:\s|$)/.exec(line);
        if (m) subcommands.add(m[1]);
      }
    }
  }
  return { flags, subcommands };
}

const helpCache = new Map<string, Model>();
/** `<tool> <path> --help`, plus the global options (`kubectl options`, `minikube options`; istioctl lists them itself). */
function model(tool: Tool, cmdPath: string[]): Model {
  const key = [tool, ...cmdPath].join(' ');
  const cached = helpCache.get(key);
  if (cached) return cached;
  const help = runTool(bin(tool), [...cmdPath, '--help']);
  assert.equal(help.code, 0, `${key} --help failed: ${help.stderr}`);
  const own = parseHelp(help.stdout);
  const m: Model = { path: cmdPath, flags: [...own.flags, ...(tool === 'istioctl' ? [] : globalFlags(tool))], subcommands: own.subcommands };
  helpCache.set(key, m);
  return m;
}
const globalCache = new Map<Tool, FlagSpec[]>();
/** `kubectl options` / `minikube options`: the flags every command accepts. */
function globalFlags(tool: Tool): FlagSpec[] {
  const cached = globalCache.get(tool);
  if (cached) return cached;
  const r = runTool(bin(tool), ['options']);
  assert.equal(r.code, 0, `${tool} options failed: ${r.stderr}`);
  const flags = parseHelp(r.stdout).flags;
  assert.ok(flags.length >= 5, `${tool} options listed ${flags.length} flags:\n${r.stdout}`);
  globalCache.set(tool, flags);
  return flags;
}

/** The lab binary for a program named in a dry-run line (the istioctl of the release dir is the lab's istioctl). */
function toolOf(program: string): Tool | undefined {
  const base = path.basename(program);
  return (tools as string[]).includes(base) ? (base as Tool) : undefined;
}

export interface Finding {
  command: string;
  problem: string;
}
interface Audited {
  tool: Tool;
  path: string[];
  /** `kubectl patch --patch` etc.: the canonical long flag names used. */
  flags: string[];
  positionals: string[];
  /** Values of output / --for flags, for the jsonpath check. */
  values: { flag: string; value: string }[];
}

/** Checks one command line against the tool's help: its subcommand path and every flag. */
export function auditCommand(argv: string[]): { findings: Finding[]; audited?: Audited } {
  const command = argv.join(' ');
  const tool = toolOf(argv[0]);
  if (!tool) return { findings: [{ command, problem: `unknown program ${argv[0]}` }] };
  const findings: Finding[] = [];
  const lookup = (flags: FlagSpec[], name: string, short: boolean) => flags.find((f) => (short ? f.short === name : f.long === name));

  // Pass 1: the subcommand path (cobra finds the command first, skipping flags), then the arguments.
  type Tok = { kind: 'flag'; raw: string; name: string; short: boolean; value?: string } | { kind: 'arg'; raw: string };
  const toks: Tok[] = [];
  let cmdPath: string[] = [];
  let current = model(tool, cmdPath);
  const positionals: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = lookup(current.flags, name, false);
      let value = eq < 0 ? undefined : a.slice(eq + 1);
      if (value === undefined && spec?.takesValue && i + 1 < argv.length) value = argv[++i];
      toks.push({ kind: 'flag', raw: a, name, short: false, value });
    } else if (a.startsWith('-') && a.length > 1) {
      const letters = a.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const spec = lookup(current.flags, letters[j], true);
        if (spec?.takesValue) {
          const rest = letters.slice(j + 1).replace(/^=/, '');
          const value = rest || (i + 1 < argv.length ? argv[++i] : undefined);
          toks.push({ kind: 'flag', raw: a, name: letters[j], short: true, value });
          break;
        }
        toks.push({ kind: 'flag', raw: a, name: letters[j], short: true });
      }
    } else if (positionals.length === 0 && current.subcommands.has(a)) {
      cmdPath = [...cmdPath, a];
      current = model(tool, cmdPath);
    } else {
      if (positionals.length === 0 && current.subcommands.size > 0)
        findings.push({ command, problem: `${[tool, ...cmdPath].join(' ')} has no subcommand "${a}" (it has: ${[...current.subcommands].join(', ')})` });
      positionals.push(a);
      toks.push({ kind: 'arg', raw: a });
    }
  }

  // Pass 2: every flag against the final command's own and global flags.
  const flags: string[] = [];
  const values: Audited['values'] = [];
  for (const t of toks) {
    if (t.kind !== 'flag') continue;
    const spec = lookup(current.flags, t.name, t.short);
    const shown = t.short ? `-${t.name}` : `--${t.name}`;
    if (!spec) {
      findings.push({ command, problem: `${[tool, ...cmdPath].join(' ')}: unknown flag ${shown} (not in \`${[tool, ...cmdPath].join(' ')} --help\`${tool === 'istioctl' ? '' : ` or \`${tool} options\``})` });
      continue;
    }
    if (spec.takesValue && t.value === undefined) findings.push({ command, problem: `${[tool, ...cmdPath].join(' ')}: ${shown} needs a value` });
    flags.push(`--${spec.long}`);
    if (t.value !== undefined) values.push({ flag: spec.long, value: t.value });
  }
  return { findings, audited: { tool, path: cmdPath, flags, positionals, values } };
}

/** The newest Kubernetes the audit's minikube supports (`constants.NewestKubernetesVersion` of k8s.io/minikube@v1.38.1). */
const minikubeNewestKubernetes = 'v1.35.1';

/** A cobra/pflag parse error in a tool's output: what a bad flag or subcommand produces before anything runs. */
const parseError =
  /unknown (shorthand )?flag|unknown command|flag needs an argument|invalid argument ".*" for ".*" flag|bad flag syntax|accepts (at most )?\d+ arg|requires (at least |exactly )?\d+ arg|if any flags in the group|none of the others can be/i;

/**
 * What a validation run may end with besides success: kubectl refused by the dead server (or given no objects on the
 * empty stdin), istioctl not finding the context in an empty kubeconfig (it would retry a dead server for seconds),
 * minikube not finding the profile or the container engine. Anything else is a problem in the command line.
 */
const expectedEnd: Record<Tool, RegExp> = {
  kubectl: /connect: connection refused|The connection to the server 127\.0\.0\.1:1 was refused|no objects passed to (apply|create|delete)/,
  istioctl: /context "?(lab|fun-with-istio)"? does not exist/,
  minikube: /Profile \\?"fwi-audit-\d+\\?" not found|PROVIDER_DOCKER_|DRV_|Removed all traces|"fwi-audit-\d+" profile does not exist/,
};

/** Runs the command line through the real tool with no cluster to reach: flags are parsed, nothing is changed. */
function validationRun(argv: string[]): { argv: string[]; ran: Ran; parseProblem?: string } {
  const tool = toolOf(argv[0])!;
  let args = argv.slice(1);
  if (tool === 'minikube') {
    // A profile no machine has (MINIKUBE_HOME is a temp dir anyway); `start` only validates (--dry-run).
    const i = args.indexOf('-p');
    if (i >= 0) args = [...args.slice(0, i + 1), `fwi-audit-${process.pid}`, ...args.slice(i + 2)];
    if (args.includes('start')) {
      // minikube v1.38.1 knows Kubernetes up to v1.35.1; for a newer version it searches GitHub (network). The flags are
      // what is audited here, so the value becomes one it knows; the version skew itself is reported by its own test.
      args = args.map((a) => (a.startsWith('--kubernetes-version=') ? `--kubernetes-version=${minikubeNewestKubernetes}` : a));
      args = [...args, '--dry-run'];
    }
  }
  const ran = runTool(bin(tool), args, toolEnv(tool === 'kubectl' ? { KUBECONFIG: deadKubeconfig } : {}));
  // klog lines (E1125 12:00:00.000 ... memcache.go ... connection refused) are discovery noise, not the verdict.
  const text = `${ran.stderr}\n${ran.stdout}`.split('\n').filter((l) => !/^[EIW]\d{4} \d/.test(l)).join('\n');
  const line = text.split('\n').find((l) => parseError.test(l));
  if (line) return { argv: [bin(tool), ...args], ran, parseProblem: line.trim() };
  if (ran.code === 0 || expectedEnd[tool].test(text)) return { argv: [bin(tool), ...args], ran };
  const last = text.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return { argv: [bin(tool), ...args], ran, parseProblem: `exit ${ran.code}: ${last ?? '(no output)'}` };
}

// ---------------------------------------------------------------------------------------------------------------
// The commands the product prints in its dry runs.

const scenarios: { name: string; argv: string[]; env: Record<string, string> }[] = [
  { name: 'all', argv: ['all', '--dry-run'], env: {} },
  { name: 'all (CLUSTER=existing)', argv: ['all', '--dry-run'], env: { CLUSTER: 'existing', KUBE_CONTEXT: 'lab' } },
  { name: 'teardown', argv: ['teardown', '--dry-run'], env: {} },
  { name: 'teardown --keep-cluster', argv: ['teardown', '--dry-run', '--keep-cluster'], env: {} },
  { name: 'teardown --keep-cluster (CLUSTER=existing)', argv: ['teardown', '--dry-run', '--keep-cluster'], env: { CLUSTER: 'existing', KUBE_CONTEXT: 'lab' } },
  { name: 'versions', argv: ['versions', '--dry-run'], env: {} },
];

describe('command audit: every printed command against the real kubectl, istioctl and minikube', () => {
  const commands = new Map<string, string[]>(); // joined -> argv
  const fromScenario = new Map<string, string[]>();

  before(async () => {
    for (const s of scenarios) {
      const r = await runCli(s.argv, { env: { CACHE_DIR: path.join(work, 'cache'), ...s.env } });
      assert.equal(r.code, 0, `${s.name}: exit ${r.code}\n${r.err}`);
      const cmds = dryRunCommands(r.out);
      assert.ok(cmds.length > 0, `${s.name} printed no commands`);
      fromScenario.set(s.name, cmds.map((c) => c.join(' ')));
      for (const c of cmds) commands.set(c.join(' '), c);
    }
    // One branch no dry run can print (a dry run stands in for a cluster the tool set up): teardown in a user's own
    // sample namespace removes the label and the annotation instead of deleting it. Run for real on a scripted shell.
    const { spawn, calls } = fakeSpawn((argv) => {
      const cmd = argv.join(' ');
      if (cmd.includes('get namespace fun-with-istio -o name')) return { stdout: 'namespace/fun-with-istio\n' };
      if (cmd.includes('get namespace fun-with-istio') && cmd.includes('istio-injection}')) return { stdout: 'enabled' };
      return undefined;
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], { env: { CACHE_DIR: path.join(work, 'cache'), CLUSTER: 'existing', KUBE_CONTEXT: 'lab' }, spawn });
    assert.equal(r.code, 0, r.err);
    const scripted = calls.map((c) => c.argv);
    assert.ok(scripted.some((c) => c.at(-1) === 'istio-injection-'), `no label removal among ${JSON.stringify(scripted)}`);
    fromScenario.set('teardown in a user namespace (scripted shell)', scripted.map((c) => c.join(' ')));
    for (const c of scripted) commands.set(c.join(' '), c);
  });

  it('the dry runs cover the subcommands the product uses', () => {
    const seen = new Set([...commands.values()].map((c) => auditCommand(c).audited).filter(Boolean).map((a) => [a!.tool, ...a!.path].join(' ')));
    for (const expected of [
      'kubectl rollout status', 'kubectl rollout restart', 'kubectl patch', 'kubectl wait', 'kubectl apply', 'kubectl delete', 'kubectl label',
      'kubectl annotate', 'kubectl version', 'kubectl api-versions', 'kubectl get', 'kubectl create', 'istioctl install', 'istioctl uninstall',
      'istioctl version', 'minikube start', 'minikube status', 'minikube delete', 'minikube ip', 'minikube version',
    ])
      assert.ok(seen.has(expected), `no dry run printed \`${expected}\`; seen: ${[...seen].sort().join(', ')}`);
    assert.ok(fromScenario.get('teardown --keep-cluster (CLUSTER=existing)')!.some((c) => c.includes(' uninstall --purge -y')));
  });

  it('every subcommand and flag is one the real tool lists in its help', (t) => {
    const findings: Finding[] = [];
    const flagsAudited = new Set<string>();
    const pathsAudited = new Set<string>();
    for (const argv of commands.values()) {
      const r = auditCommand(argv);
      findings.push(...r.findings);
      if (!r.audited) continue;
      const where = [r.audited.tool, ...r.audited.path].join(' ');
      pathsAudited.add(where);
      for (const f of r.audited.flags) flagsAudited.add(`${where} ${f}`);
    }
    t.diagnostic(`audited ${commands.size} distinct command lines, ${pathsAudited.size} distinct subcommands, ${flagsAudited.size} distinct (subcommand, flag) pairs`);
    t.diagnostic(`subcommands: ${[...pathsAudited].sort().join('; ')}`);
    t.diagnostic(`flags: ${[...flagsAudited].sort().join('; ')}`);
    assert.deepEqual(findings.map((f) => `${f.problem}\n    in: ${f.command}`), []);
    assert.ok(flagsAudited.size >= 20, `only ${flagsAudited.size} flags audited`);
  });

  it("every command line passes the real tool's own parser and client-side checks (validation run, no reachable cluster)", (t) => {
    const problems: string[] = [];
    let runs = 0;
    for (const argv of commands.values()) {
      const v = validationRun(argv);
      runs++;
      if (v.parseProblem) problems.push(`${argv.join(' ')}\n    ${path.basename(v.argv[0])} says: ${v.parseProblem}`);
    }
    t.diagnostic(`${runs} validation runs through the real binaries`);
    assert.deepEqual(problems, []);
  });

  it("every jsonpath the product passes parses in kubectl's own jsonpath parser", (t) => {
    const templates = new Set<string>();
    for (const argv of commands.values()) {
      const a = auditCommand(argv).audited;
      if (a?.tool !== 'kubectl') continue;
      for (const { flag, value } of a.values) {
        if (flag === 'output' && value.startsWith('jsonpath=')) templates.add(value.slice('jsonpath='.length));
        if (flag === 'for') {
          assert.match(value, /^(delete|create|condition=[\w./-]+(=\S+)?|jsonpath=\{.+\}(=.*)?)$/, `kubectl wait --for=${value}: not a form \`kubectl wait --help\` documents`);
          const m = /^jsonpath=(\{.*\})(=[^}]*)?$/.exec(value);
          if (m) templates.add(m[1]);
        }
      }
    }
    assert.ok(templates.size >= 5, `only ${templates.size} jsonpath templates found`);
    const kc = path.join(work, 'jsonpath-kubeconfig');
    writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const bad: string[] = [];
    for (const tpl of templates) {
      const r = runTool(bin('kubectl'), ['config', 'view', '-o', `jsonpath=${tpl}`], toolEnv({ KUBECONFIG: kc }));
      if (r.code !== 0) bad.push(`${tpl}: ${r.stderr.trim()}`);
    }
    t.diagnostic(`${templates.size} distinct jsonpath templates parsed by kubectl`);
    assert.deepEqual(bad, []);
  });

  it('self-test: fabricated bad commands are reported, with the command and the flag named', () => {
    const istioctl = path.join(work, 'cache', 'releases', `istio-${pins.istio}`, 'bin', 'istioctl');
    const bad: [string[], RegExp][] = [
      [['kubectl', '--context', 'lab', '-n', 'x', 'rollout', 'status', 'deployment/sleep', '--timeoutx=300s'], /kubectl rollout status: unknown flag --timeoutx/],
      [['kubectl', '--context', 'lab', 'get', 'namespace', '-Z'], /kubectl get: unknown flag -Z/],
      [['kubectl', '--context', 'lab', 'rollout', 'statuss', 'deployment/sleep'], /kubectl rollout has no subcommand "statuss"/],
      [['kubectl', '--context', 'lab', '-n', 'x', 'wait', '--for=condition=Available', 'deployment', '--all', '--ignore-not-found'], /kubectl wait: unknown flag --ignore-not-found/],
      [[istioctl, '--context', 'lab', 'uninstall', '--purgee', '-y'], /istioctl uninstall: unknown flag --purgee/],
      [[istioctl, '--context', 'lab', 'install', '--set', 'profile=demo', '--readiness-timeout', '300s', '-q'], /istioctl install: unknown flag -q/],
      [['minikube', '-p', 'x', 'start', '--cpu=4'], /minikube start: unknown flag --cpu/],
      [['minikube', '-p', 'x', 'statuss'], /minikube has no subcommand "statuss"/],
    ];
    for (const [argv, expected] of bad) {
      const { findings } = auditCommand(argv);
      assert.ok(findings.some((f) => expected.test(f.problem) && f.command === argv.join(' ')), `${argv.join(' ')}: expected ${expected}, got ${JSON.stringify(findings)}`);
      const v = validationRun(argv);
      assert.ok(v.parseProblem, `the real ${path.basename(argv[0])} accepted ${argv.join(' ')}: ${v.ran.stderr}`);
    }
    // Client-side checks past the parser: kubectl refuses names together with a selector (the bug of 0d9dc7a).
    assert.match(validationRun(['kubectl', '--context', 'lab', '-n', 'istio-system', 'get', 'deployment', 'prometheus', 'grafana', '-o', 'name', '--ignore-not-found', '-l', 'app.kubernetes.io/managed-by=fun-with-istio']).parseProblem ?? '', /name cannot be provided when a selector is specified/);
    // A value of the wrong type is caught by the real parser alone.
    assert.match(validationRun(['kubectl', '--context', 'lab', 'wait', 'deployment/x', '--for=delete', '--timeout=3q']).parseProblem ?? '', /invalid argument "3q"/);
    // -p means --patch to kubectl patch and --profile to minikube; -f - is a value; the good forms pass.
    const patch = auditCommand(['kubectl', '--context', 'lab', '-n', 'x', 'patch', 'deployment/sleep', '--type', 'merge', '-p', '{}']);
    assert.deepEqual(patch.findings, []);
    assert.ok(patch.audited!.flags.includes('--patch') && patch.audited!.positionals.join(' ') === 'deployment/sleep');
    const mk = auditCommand(['minikube', '-p', 'x', 'status', '-o', 'json']);
    assert.deepEqual(mk.findings, []);
    assert.deepEqual(mk.audited!.flags, ['--profile', '--output']);
    const apply = auditCommand(['kubectl', '--context', 'lab', 'apply', '-f', '-']);
    assert.deepEqual(apply.findings, []);
    assert.deepEqual(apply.audited!.values.find((v) => v.flag === 'filename')?.value, '-');
    // A jsonpath that does not parse is refused by kubectl.
    const r = runTool(bin('kubectl'), ['config', 'view', '-o', 'jsonpath={.items[0'], toolEnv({ KUBECONFIG: emptyKubeconfig }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /jsonpath/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real output shapes through the product's parsers.

describe("the product's parsers on output captured from the real binaries", () => {
  it('kubectl version --client -o json', () => {
    const r = runTool(bin('kubectl'), ['--context', 'lab', 'version', '--client', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(kubectlVersions(r.stdout), { client: pins.kubernetes, server: undefined });
  });

  it('istioctl version --remote=false -o json', () => {
    const r = runTool(bin('istioctl'), ['--context', 'lab', 'version', '--remote=false', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(istioctlVersion(r.stdout), ISTIO_LAB_VERSION);
  });

  it('minikube version --output=json (and the product rejects v1.38.1 against its v1.39.0 pin)', () => {
    const r = runTool(bin('minikube'), ['-p', 'fwi-audit', 'version', '--output=json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(minikubeVersion(r.stdout), minikubeModuleVersion);
    assert.ok(compareVersions(minikubeVersion(r.stdout)!, pins.minikube) < 0, 'the audit minikube is older than the pin, so checkTools would refuse it');
  });

  it("minikube's own list of Kubernetes versions: v1.38.1 stops before the pinned Kubernetes (skew of the substitute)", (t) => {
    const r = runTool(bin('minikube'), ['config', 'defaults', 'kubernetes-version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const known = JSON.parse(r.stdout) as string[];
    assert.equal(known[0], minikubeNewestKubernetes, 'the validation run substitutes this version for --kubernetes-version');
    t.diagnostic(`minikube ${minikubeModuleVersion} knows Kubernetes up to ${known[0]}; the pin ${pins.kubernetes} is ${known.includes(pins.kubernetes) ? '' : 'not '}among them (the pinned minikube ${pins.minikube} could not be built to check)`);
  });

  const profile = `fwi-audit-${process.pid}`;
  it('minikube status -o json for a missing profile: not a status but CloudEvents lines, exit 85', async (t) => {
    const home = path.join(work, 'mk-missing');
    const r = runTool(bin('minikube'), ['-p', profile, 'status', '-o', 'json'], toolEnv({ MINIKUBE_HOME: home }));
    t.diagnostic(`real output (exit ${r.code}): ${r.stdout.trim().split('\n').join(' / ')}`);
    // What v1.38.1 really prints: no {"Name","Host",...} object, but `out.SetJSON` events
    // {"specversion":"1.0","type":"io.k8s.sigs.minikube.info","data":{"message":"Profile \"<p>\" not found. ..."}},
    // and exit 85 (reason.ExGuestNotFound), not the 7 of the bit mask.
    assert.equal(r.code, 85);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type?: string; data?: { message?: string } });
    assert.ok(events.some((e) => e.type === 'io.k8s.sigs.minikube.info' && /not found/.test(e.data?.message ?? '')));
    // The product reads that as Nonexistent (start runs, teardown has nothing to delete).
    assert.equal(parseMinikubeStatus(r.stdout).Host, 'Nonexistent');
    // The same through the product's own Shell and minikubeStatus (allowFailure on exit 85), real binary on PATH.
    assert.equal((await minikubeStatus(productCtx(profile, { MINIKUBE_HOME: home }))).Host, 'Nonexistent');
    // And the dry-run stand-in has the real shape: same exit code, same kind of line.
    const standIn = missingProfileStatus(profile);
    assert.equal(standIn.exitCode, r.code);
    assert.deepEqual(Object.keys(JSON.parse(standIn.stdout)), Object.keys(events[0]).filter((k) => ['specversion', 'type', 'data'].includes(k)));
  });

  it('minikube status -o json for a stopped profile (machine on disk, container exited)', async () => {
    const home = path.join(work, 'mk-stopped');
    writeStoppedProfile(home, profile);
    // The docker driver asks the engine `docker container inspect <name> --format={{.State.Status}}`; without an
    // engine here a stand-in CLI answers "exited", the state of a stopped minikube container.
    const fakeBin = path.join(work, 'fake-docker');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(path.join(fakeBin, 'docker'), '#!/bin/sh\nfor a in "$@"; do [ "$a" = inspect ] && { echo exited; exit 0; }; done\necho "fake docker: $*" >&2\nexit 1\n', { mode: 0o755 });
    const env = { MINIKUBE_HOME: home, PATH: `${fakeBin}:${process.env.PATH}` };
    const r = runTool(bin('minikube'), ['-p', profile, 'status', '-o', 'json'], toolEnv(env));
    const s = parseMinikubeStatus(r.stdout);
    assert.equal(s.Host, 'Stopped', `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(s.APIServer, 'Stopped');
    assert.equal(r.code, 7, 'minikube status exit code: host, cluster and kubernetes not running (1|2|4)');
    const status = await minikubeStatus(productCtx(profile, env));
    assert.deepEqual([status.Host, status.APIServer], ['Stopped', 'Stopped']);
    // Without the engine at all, the same profile reads as Nonexistent: what teardown's "already deleted" test sees.
    const noEngine = runTool(bin('minikube'), ['-p', profile, 'status', '-o', 'json'], toolEnv({ MINIKUBE_HOME: home, PATH: '/usr/bin:/bin' }));
    assert.equal(parseMinikubeStatus(noEngine.stdout).Host, 'Nonexistent', noEngine.stdout + noEngine.stderr);
  });
});

/** A Ctx whose Shell runs the real minikube (the lab's bin/ first on PATH) for profile `profile`. */
function productCtx(profile: string, env: Record<string, string>): Ctx {
  const config = loadConfig({ env: { MINIKUBE_PROFILE: profile, CACHE_DIR: path.join(work, 'cache') }, envFile: '/nonexistent/.env' });
  const log = new RunLog(undefined);
  const sh = new Shell({ config, log, env: toolEnv({ ...env, PATH: `${path.dirname(bin('minikube'))}:${env.PATH ?? process.env.PATH}` }) });
  return { config, sh, log, options: { dryRun: false, yes: true, verbose: false, keepSample: false, keepCluster: false }, signal: new AbortController().signal };
}

/**
 * A stopped docker-driver profile as minikube writes it: profiles/<p>/config.json (config.SaveProfile, a ClusterConfig)
 * and machines/<p>/config.json (libmachine's host file, DriverName docker, the kic driver's fields). Field names from
 * k8s.io/minikube@v1.38.1 pkg/minikube/config/types.go and pkg/drivers/kic/kic.go; minikube reads only what it needs.
 */
function writeStoppedProfile(home: string, profile: string): void {
  const mk = path.join(home, '.minikube');
  mkdirSync(path.join(mk, 'profiles', profile), { recursive: true });
  mkdirSync(path.join(mk, 'machines', profile), { recursive: true });
  const node = { Name: '', IP: '192.168.49.2', Port: 8443, KubernetesVersion: pins.kubernetes, ContainerRuntime: 'docker', ControlPlane: true, Worker: true };
  writeFileSync(path.join(mk, 'profiles', profile, 'config.json'), JSON.stringify({
    Name: profile, Driver: 'docker', Memory: 8192, CPUs: 4, KubernetesConfig: { KubernetesVersion: pins.kubernetes, ClusterName: profile, ContainerRuntime: 'docker' }, Nodes: [node],
  }, null, 2));
  writeFileSync(path.join(mk, 'machines', profile, 'config.json'), JSON.stringify({
    ConfigVersion: 3, DriverName: 'docker', Name: profile,
    Driver: { MachineName: profile, StorePath: mk, IPAddress: '192.168.49.2', NodeConfig: { OCIBinary: 'docker', ClusterName: profile, MachineName: profile } , OCIBinary: 'docker' },
    HostOptions: { AuthOptions: { StorePath: mk } },
  }, null, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Manifests through Istio.

interface AnalyzeMessage {
  code: string;
  level: string;
  origin: string;
  message: string;
  reference: string;
}
const parseMessages = (stdout: string): AnalyzeMessage[] => {
  // Istio logs go to stdout too: the JSON is the last part, `[...]`, or `null` for no messages (a nil Go slice).
  const start = stdout.search(/^(\[|null$)/m);
  assert.ok(start >= 0, `no JSON in: ${stdout.slice(-400)}`);
  return (JSON.parse(stdout.slice(start)) as AnalyzeMessage[] | null) ?? [];
};
/** `istioctl analyze --use-kube=false` on files, every level shown. */
function istioctlAnalyze(files: string[]): { messages: AnalyzeMessage[]; ran: Ran } {
  const ran = runTool(bin('istioctl'), ['analyze', '--use-kube=false', '--all-namespaces', '--output-threshold=Info', '-o', 'json', ...files]);
  assert.ok(ran.code === 0 || ran.code === 79, `istioctl analyze exited ${ran.code}: ${ran.stderr}`); // 79: warnings above threshold
  assert.doesNotMatch(ran.stderr, /could not be parsed|Error\(s\) adding files/);
  return { messages: parseMessages(ran.stdout), ran };
}
/** Istio's analyzers on files with Services and Pods kept (lab/build.ts `istio-analyze-files`). */
function analyzeFiles(files: string[]): AnalyzeMessage[] {
  const ran = runTool(bin('istio-analyze-files'), files);
  assert.equal(ran.code, 0, ran.stderr);
  return parseMessages(ran.stdout);
}

const svc = (name: string, port: Record<string, unknown>, ns = 'corpus'): K8sObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [port] },
});

/** Port names and shapes: Istio's naming rule from every side (prefixes, case, suffix dash, appProtocol, UDP, well-known ports). */
export function portCorpus(): { name: string; port: Record<string, unknown> }[] {
  const names = [
    'http', 'http2', 'https', 'grpc', 'grpc-web', 'tcp', 'tls', 'udp', 'mongo', 'mysql', 'redis', 'http_proxy',
    'http2-foo', 'HTTP', 'Http-Web', 'GRPC-WEB', 'grpc-webby', 'grpc-web-x', 'http2foo', 'httpx', 'tcp-x', 'tcp_x', 'tls-1',
    'mongo-db', 'redis-cache', 'mysql-primary', 'web', 'metrics', 'h2c', 'http-', '-http', 'grpcweb', 'dns', 'smtp', '',
  ];
  const out: { name: string; port: Record<string, unknown> }[] = [];
  names.forEach((n, i) => {
    for (const port of [8080, 25, 53, 3306, 27017]) {
      if (port !== 8080 && !['', 'web', 'http2foo', 'HTTP'].includes(n)) continue;
      out.push({ name: `n${i}-p${port}`, port: { ...(n ? { name: n } : {}), port, targetPort: port } });
    }
  });
  const appProtocols = ['http', 'HTTP', 'grpc-web', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss', 'kubernetes.io/H2C', 'h2c', 'web', 'tcp-x', 'mysql', ''];
  appProtocols.forEach((ap, i) => {
    out.push({ name: `ap${i}-web`, port: { name: 'web', port: 8080, appProtocol: ap } });
    out.push({ name: `ap${i}-http`, port: { name: 'http', port: 8080, appProtocol: ap } });
  });
  for (const [i, n] of ['web', '', 'http'].entries()) {
    out.push({ name: `udp${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'UDP' } });
    out.push({ name: `sctp${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'SCTP' } });
    out.push({ name: `tcpproto${i}`, port: { ...(n ? { name: n } : {}), port: 8125, protocol: 'TCP' } });
  }
  return out;
}

describe('manifests against Istio', () => {
  const dir = path.join(work, 'manifests');
  const addonFiles: string[] = [];

  before(() => {
    mkdirSync(dir, { recursive: true });
    const config = loadConfig({ env: { ISTIO_HOME: istioHome, ISTIO_VERSION: ISTIO_LAB_VERSION, CACHE_DIR: path.join(work, 'cache') }, envFile: '/nonexistent/.env' });
    const ctx = { config, options: { dryRun: false } } as Ctx;
    for (const addon of addons) {
      const file = path.join(dir, `${addon.name}.yaml`);
      writeFileSync(file, dumpAll(addonObjects(ctx, addon)));
      addonFiles.push(file);
    }
  });

  const projectManifests = () => readdirSync(manifestsDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(manifestsDir, f));

  it('istioctl analyze --use-kube=false: no errors on manifests/ and the patched addons (warnings/info listed)', (t) => {
    const files = [...projectManifests(), ...addonFiles];
    assert.ok(files.length >= 4);
    const { messages } = istioctlAnalyze(files);
    t.diagnostic(`istioctl analyze --use-kube=false: ${messages.length ? messages.map((m) => `${m.level} ${m.code} ${m.origin}: ${m.message}`).join(' | ') : 'no messages'}`);
    assert.deepEqual(messages.filter((m) => m.level === 'Error'), []);
    // Services and Pods included (as on a cluster): still no error.
    const full = analyzeFiles(files);
    t.diagnostic(`Istio analyzers with Services/Pods kept: ${full.length ? full.map((m) => `${m.level} ${m.code} ${m.origin}`).join(' | ') : 'no messages'}`);
    assert.deepEqual(full.filter((m) => m.level === 'Error'), []);
    // The project's own manifests follow the port naming rule; the upstream addons may not (Grafana's port 3000 is
    // named "service"): there the linter must say exactly what Istio says.
    const ist0118 = full.filter((m) => m.code === 'IST0118');
    assert.deepEqual(ist0118.filter((m) => projectManifests().some((f) => m.reference.startsWith(f))), []);
    const istioSays = new Set(ist0118.map((m) => `${/^Service ([\w-]+)\/([\w-]+)/.exec(m.origin)?.[2]} ${/\(port: (\d+)/.exec(m.message)?.[1]}`));
    const lintSays = new Set(addonFiles.flatMap((f) => lint(readManifests(f), f)).filter((x) => x.severity === 'error').map((x) => `${x.object.replace('Service/', '')} ${/^port (\d+)/.exec(x.message)?.[1]}`));
    assert.deepEqual([...lintSays].sort(), [...istioSays].sort());
  });

  it("the pod-spec linter's port rule agrees with Istio's IST0118 on a corpus of port names", (t) => {
    const corpus = portCorpus();
    const docs = corpus.map((c) => svc(c.name, c.port));
    const file = path.join(dir, 'ports.yaml');
    writeFileSync(file, dumpAll([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'corpus' } }, ...docs]));
    const flagged = new Set(analyzeFiles([file]).filter((m) => m.code === 'IST0118').map((m) => /Service (?:corpus\/)?([\w-]+)/.exec(m.origin)?.[1]));
    const lintFlagged = new Set(lint(docs, 'ports.yaml').filter((f) => f.severity === 'error').map((f) => f.object.replace('Service/', '')));
    const disagree = corpus
      .filter((c) => flagged.has(c.name) !== lintFlagged.has(c.name))
      .map((c) => `${JSON.stringify(c.port)}: istio ${flagged.has(c.name) ? 'IST0118' : 'ok'}, lint ${lintFlagged.has(c.name) ? 'error' : 'ok'} (portProtocol ${portProtocol(c.port as never) ?? 'undefined'})`);
    t.diagnostic(`${corpus.length} ports: Istio flags ${flagged.size}, lint flags ${lintFlagged.size}`);
    assert.deepEqual(disagree, []);
    assert.ok(flagged.size >= 10 && flagged.size <= corpus.length - 20, `a corpus that tests nothing: ${flagged.size} of ${corpus.length} flagged`);
    for (const must of ['n0-p8080', 'n12-p8080']) assert.ok(!flagged.has(must), `http / http2-foo flagged by Istio`);
    // The corpus tells rules apart: a naive rule (exact lower-case prefix, no appProtocol, UDP or well-known ports)
    // disagrees with Istio on it, so a linter that drifted that way would fail the comparison above.
    const naive = (p: Record<string, unknown>) => /^(http|http2|https|grpc|grpc-web|tcp|tls|udp|mongo|mysql|redis)(-|$)/.test(String(p.name ?? ''));
    const naiveMisses = corpus.filter((c) => flagged.has(c.name) === naive(c.port));
    assert.ok(naiveMisses.length >= 10, `only ${naiveMisses.length} corpus entries separate a naive rule from Istio's`);
    // `istioctl analyze --use-kube=false` never judges Service ports: its file source drops Services (see lab/build.ts).
    const { messages } = istioctlAnalyze([file]);
    assert.deepEqual(messages.filter((m) => m.code === 'IST0118'), []);
  });

  it('the linter goes further where Istio does not check: a workload without an app label', () => {
    const deployment: K8sObject = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nolabel', namespace: 'corpus' },
      spec: { selector: { matchLabels: { tier: 'backend' } }, template: { metadata: { labels: { tier: 'backend' } }, spec: { containers: [{ name: 'c', image: 'docker.io/library/nginx:1.29' }] } } },
    };
    const file = path.join(dir, 'nolabel.yaml');
    writeFileSync(file, dumpAll([deployment]));
    assert.ok(lint([deployment], 'nolabel.yaml').some((f) => f.severity === 'warning' && /'app' label/.test(f.message)));
    assert.deepEqual(analyzeFiles([file]).filter((m) => m.origin.includes('nolabel')), []);
    assert.deepEqual(istioctlAnalyze([file]).messages, []);
  });

  it('the linter passes what the product lints (manifests/), and the addons were patched', () => {
    for (const f of projectManifests()) {
      const errors = lint(readManifests(f), f).filter((x) => x.severity === 'error');
      assert.deepEqual(errors, [], f);
    }
    assert.ok(readFileSync(addonFiles[1], 'utf8').includes('NodePort'), 'grafana patched to NodePort');
  });
});
