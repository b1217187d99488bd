// Issue 4: every command the product prints in its dry runs, held to the real kubectl, istioctl and minikube:
// subcommands and flags from the tools' own help, every command line through the tool's own parser (no cluster
// reachable), jsonpath values through kubectl's own parser.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { bin, previousIstio } from '../../lab/base/common.ts';
import { pins } from '../../tasks/config.ts';
import { asks, dryRunCommands, fakeRunner, runCli, versionAnswer } from '../helpers.ts';
import {
  deadKubeconfig,
  emptyKubeconfig,
  minikubeNewestKubernetes,
  type Ran,
  runTool,
  type Tool,
  toolEnv,
  tools,
  work,
} from './real-tools.ts';

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
  /** The other names the command answers to (cobra's "Aliases:", e.g. istioctl's `x` for `experimental`). */
  aliases: Set<string>;
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

export function parseHelp(text: string): { flags: FlagSpec[]; subcommands: Set<string>; aliases: Set<string> } {
  const flags: FlagSpec[] = [];
  const subcommands = new Set<string>();
  const aliases = new Set<string>();
  for (const [header, lines] of sections(text)) {
    if (header === 'Aliases:') for (const name of lines.join(',').split(',')) if (name.trim()) aliases.add(name.trim());
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
  return { flags, subcommands, aliases };
}

const helpCache = new Map<string, Model>();

/** The subcommand of `current` that `name` is an alias of (its own help says so), if any. */
function subcommandAliased(p: Program, cmdPath: string[], current: Model, name: string): string | undefined {
  return [...current.subcommands].find((sub) => model(p, [...cmdPath, sub]).aliases.has(name));
}
/** `<tool> <path> --help`, plus the global options (`kubectl options`, `minikube options`; istioctl lists them itself). */
function model({ tool, binary }: Program, cmdPath: string[]): Model {
  const key = [binary, ...cmdPath].join(' ');
  const cached = helpCache.get(key);
  if (cached) return cached;
  const help = runTool(binary, [...cmdPath, '--help']);
  assert.equal(help.code, 0, `${key} --help failed: ${help.stderr}`);
  const own = parseHelp(help.stdout);
  const m: Model = {
    path: cmdPath,
    flags: [...own.flags, ...(tool === 'istioctl' ? [] : globalFlags(tool))],
    subcommands: own.subcommands,
    aliases: own.aliases,
  };
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

/** A program named in a dry-run line and the lab binary that stands for it. */
interface Program {
  tool: Tool;
  binary: string;
}
/** The previous release's istioctl (`.../istio-1.30.5/bin/istioctl`), which the lab builds as `istioctl-1.30`. */
const previousRelease = new RegExp(`/istio-${previousIstio.minor.replace('.', '\\.')}\\.[^/]*/bin/istioctl$`);
/** The lab binary for a program: a release dir's istioctl is the lab's istioctl of that release's line. */
function programOf(program: string): Program | undefined {
  const base = path.basename(program);
  if (!(tools as string[]).includes(base)) return undefined;
  const tool = base as Tool;
  return { tool, binary: previousRelease.test(program) ? bin(`istioctl${previousIstio.suffix}`) : bin(tool) };
}

export interface Finding {
  command: string;
  problem: string;
}
interface Audited {
  tool: Tool;
  binary: string;
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
  const program = programOf(argv[0]);
  if (!program) return { findings: [{ command, problem: `unknown program ${argv[0]}` }] };
  const { tool } = program;
  const findings: Finding[] = [];
  const lookup = (flags: FlagSpec[], name: string, short: boolean) =>
    flags.find((f) => (short ? f.short === name : f.long === name));

  // Pass 1: the subcommand path (cobra finds the command first, skipping flags), then the arguments.
  type Tok = { kind: 'flag'; raw: string; name: string; short: boolean; value?: string } | { kind: 'arg'; raw: string };
  const toks: Tok[] = [];
  let cmdPath: string[] = [];
  let current = model(program, cmdPath);
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
      current = model(program, cmdPath);
    } else if (positionals.length === 0 && subcommandAliased(program, cmdPath, current, a)) {
      cmdPath = [...cmdPath, subcommandAliased(program, cmdPath, current, a) as string];
      current = model(program, cmdPath);
    } else {
      if (positionals.length === 0 && current.subcommands.size > 0)
        findings.push({
          command,
          problem: `${[tool, ...cmdPath].join(' ')} has no subcommand "${a}" (it has: ${[...current.subcommands].join(', ')})`,
        });
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
      findings.push({
        command,
        problem: `${[tool, ...cmdPath].join(' ')}: unknown flag ${shown} (not in \`${[tool, ...cmdPath].join(' ')} --help\`${tool === 'istioctl' ? '' : ` or \`${tool} options\``})`,
      });
      continue;
    }
    if (spec.takesValue && t.value === undefined)
      findings.push({ command, problem: `${[tool, ...cmdPath].join(' ')}: ${shown} needs a value` });
    flags.push(`--${spec.long}`);
    if (t.value !== undefined) values.push({ flag: spec.long, value: t.value });
  }
  return { findings, audited: { tool, binary: program.binary, path: cmdPath, flags, positionals, values } };
}

/** A cobra/pflag parse error in a tool's output: what a bad flag or subcommand produces before anything runs. */
const parseError =
  /unknown (shorthand )?flag|unknown command|flag needs an argument|invalid argument ".*" for ".*" flag|bad flag syntax|accepts (at most )?\d+ arg|requires (at least |exactly )?\d+ arg|if any flags in the group|none of the others can be/i;

/**
 * What a validation run may end with besides success: kubectl refused by the dead server (or given no objects on the
 * empty stdin), istioctl not finding the context in an empty kubeconfig (it would retry a dead server for seconds),
 * minikube not finding the profile or the container engine. Anything else is a problem in the command line.
 */
const expectedEnd: Record<Tool, RegExp> = {
  kubectl:
    /connect: connection refused|The connection to the server 127\.0\.0\.1:1 was refused|no objects passed to (apply|create|delete)/,
  istioctl: /context "?(lab|fun-with-istio)"? does not exist/,
  minikube:
    /Profile \\?"fwi-audit-\d+\\?" not found|PROVIDER_DOCKER_|DRV_|Removed all traces|"fwi-audit-\d+" profile does not exist|loading profile: cluster "fwi-audit-\d+" does not exist/,
};

/** Runs the command line through the real tool with no cluster to reach: flags are parsed, nothing is changed. */
function validationRun(argv: string[]): { argv: string[]; ran: Ran; parseProblem?: string } {
  const { tool, binary } = programOf(argv[0])!;
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
  const ran = runTool(binary, args, toolEnv(tool === 'kubectl' ? { KUBECONFIG: deadKubeconfig } : {}));
  // klog lines (E1125 12:00:00.000 ... memcache.go ... connection refused) are discovery noise, not the verdict.
  const text = `${ran.stderr}\n${ran.stdout}`
    .split('\n')
    .filter((l) => !/^[EIW]\d{4} \d/.test(l))
    .join('\n');
  const line = text.split('\n').find((l) => parseError.test(l));
  if (line) return { argv: [binary, ...args], ran, parseProblem: line.trim() };
  if (ran.code === 0 || expectedEnd[tool].test(text)) return { argv: [binary, ...args], ran };
  const last = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  return { argv: [binary, ...args], ran, parseProblem: `exit ${ran.code}: ${last ?? '(no output)'}` };
}

// The commands the product prints in its dry runs.

const scenarios: { name: string; argv: string[]; env: Record<string, string> }[] = [
  { name: 'all', argv: ['all', '--dry-run'], env: {} },
  { name: 'all (CLUSTER=existing)', argv: ['all', '--dry-run'], env: { CLUSTER: 'existing', KUBE_CONTEXT: 'lab' } },
  { name: 'teardown', argv: ['teardown', '--dry-run'], env: {} },
  { name: 'teardown --keep-cluster', argv: ['teardown', '--dry-run', '--keep-cluster'], env: {} },
  {
    name: 'teardown --keep-cluster (CLUSTER=existing)',
    argv: ['teardown', '--dry-run', '--keep-cluster'],
    env: { CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
  },
  { name: 'versions', argv: ['versions', '--dry-run'], env: {} },
  { name: 'dashboard', argv: ['dashboard', 'grafana', '--dry-run'], env: {} },
  { name: 'addons with Jaeger and Kiali', argv: ['addons', '--dry-run'], env: { ADDONS: 'jaeger,kiali' } },
  ...['bookinfo', 'request-routing', 'fault-injection', 'traffic-shifting', 'mtls'].map((chapter) => ({
    name: chapter,
    argv: [chapter, '--dry-run'],
    env: {},
  })),
  // The ambient track: its install, its chapters and the teardown of what it adds.
  { name: 'all (ISTIO_MODE=ambient)', argv: ['all', '--dry-run'], env: { ISTIO_MODE: 'ambient' } },
  ...['ambient-bookinfo', 'ambient-l4-policy', 'ambient-waypoint', 'ambient-split', 'ambient-migrate'].map((chapter) => ({
    name: chapter,
    argv: [chapter, '--dry-run'],
    env: { ISTIO_MODE: 'ambient' },
  })),
  // The canary upgrade: the previous release's istioctl lines are audited against the lab's istioctl of that line.
  ...['upgrade-start', 'upgrade-canary', 'upgrade-switch', 'upgrade-rollback', 'upgrade-finish'].map((chapter) => ({
    name: chapter,
    argv: [chapter, '--dry-run'],
    env: {},
  })),
  {
    name: 'teardown --keep-cluster (ISTIO_MODE=ambient, CLUSTER=existing)',
    argv: ['teardown', '--dry-run', '--keep-cluster'],
    env: { ISTIO_MODE: 'ambient', CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
  },
];

describe('command audit: every printed command against the real kubectl, istioctl and minikube', () => {
  const commands = new Map<string, string[]>(); // joined -> argv
  const dockerCommands = new Map<string, string[]>(); // versions asks the docker driver's daemon; the lab builds no docker
  const fromScenario = new Map<string, string[]>();

  before(async () => {
    for (const s of scenarios) {
      const r = await runCli(s.argv, { env: { CACHE_DIR: path.join(work, 'cache'), ...s.env } });
      assert.equal(r.code, 0, `${s.name}: exit ${r.code}\n${r.err}`);
      const cmds = dryRunCommands(r.out);
      assert.ok(cmds.length > 0, `${s.name} printed no commands`);
      fromScenario.set(
        s.name,
        cmds.map((c) => c.join(' ')),
      );
      for (const c of cmds) (c[0] === 'docker' ? dockerCommands : commands).set(c.join(' '), c);
    }
    // One branch no dry run can print (a dry run stands in for a cluster the tool set up): teardown in a user's own
    // sample namespace removes the label and the annotation instead of deleting it. Run for real on a scripted shell.
    const { runner, calls } = fakeRunner((_argv, _input, query) => {
      // The user's namespace: not the tool's, labelled for injection by the tool (its annotation says so).
      if (asks(query, 'get', { kind: 'namespace', name: 'fun-with-istio' }))
        return {
          stdout: JSON.stringify({
            kind: 'Namespace',
            metadata: {
              name: 'fun-with-istio',
              labels: { 'istio-injection': 'enabled' },
              annotations: { 'fun-with-istio/injection-labelled': 'true' },
            },
          }),
        };
      return versionAnswer(query); // a reachable cluster
    });
    const r = await runCli(['teardown', '--yes', '--keep-cluster'], {
      env: { CACHE_DIR: path.join(work, 'cache'), CLUSTER: 'existing', KUBE_CONTEXT: 'lab' },
      runner,
    });
    assert.equal(r.code, 0, r.err);
    const scripted = calls.map((c) => c.argv);
    assert.ok(
      scripted.some((c) => c.at(-1) === 'istio-injection-'),
      `no label removal among ${JSON.stringify(scripted)}`,
    );
    fromScenario.set(
      'teardown in a user namespace (scripted shell)',
      scripted.map((c) => c.join(' ')),
    );
    for (const c of scripted) commands.set(c.join(' '), c);
  });

  it('the dry runs cover the subcommands the product uses', () => {
    const seen = new Set(
      [...commands.values()]
        .map((c) => auditCommand(c).audited)
        .filter(Boolean)
        .map((a) => [a!.tool, ...a!.path].join(' ')),
    );
    for (const expected of [
      'kubectl rollout status',
      'kubectl rollout restart',
      'kubectl patch',
      'kubectl wait',
      'kubectl apply',
      'kubectl delete',
      'kubectl label',
      'kubectl annotate',
      'kubectl version',
      'kubectl api-versions',
      'kubectl get',
      'kubectl create',
      'kubectl port-forward',
      'kubectl exec',
      'istioctl install',
      'istioctl waypoint apply',
      'istioctl manifest generate',
      'istioctl uninstall',
      'istioctl version',
      'istioctl tag set',
      'istioctl experimental precheck', // as `x precheck`, its alias (istio.io's spelling)
      'minikube start',
      'minikube status',
      'minikube delete',
      'minikube ip',
      'minikube version',
      'minikube image ls',
      'minikube image load',
    ])
      assert.ok(seen.has(expected), `no dry run printed \`${expected}\`; seen: ${[...seen].sort().join(', ')}`);
    assert.ok(
      fromScenario.get('teardown --keep-cluster (CLUSTER=existing)')!.some((c) => c.includes(' uninstall --purge -y')),
      'teardown --keep-cluster on an existing cluster runs istioctl uninstall --purge -y',
    );
  });

  it("the previous release's istioctl lines are audited against that line's istioctl, the others against the pinned one", () => {
    const byBinary = (binary: string) =>
      [...commands.values()].filter((c) => auditCommand(c).audited?.binary === binary).map((c) => c.join(' '));
    const previous = byBinary(bin(`istioctl${previousIstio.suffix}`));
    assert.ok(
      previous.some((c) => / install .*--set revision=/.test(c)),
      `upgrade-start's install is not audited against istioctl${previousIstio.suffix}: ${previous.join('; ')}`,
    );
    assert.ok(
      previous.every((c) => c.includes(`/istio-${pins.istioPrevious}/bin/istioctl `)),
      previous.join('\n'),
    );
    assert.ok(
      byBinary(bin('istioctl')).some((c) => c.includes(' tag set prod-stable ')),
      'tag set: the pinned istioctl',
    );
  });

  it('docker: every flag is one the docker CLI lists in its help (when the machine has one)', (t) => {
    assert.ok(dockerCommands.size > 0, 'versions asks docker whether its daemon runs');
    const docker = spawnSync('docker', ['--version'], { encoding: 'utf8' });
    if (docker.status !== 0) return t.skip('no docker CLI on this machine');
    for (const argv of dockerCommands.values()) {
      const sub = argv[1];
      const help = spawnSync('docker', [sub, '--help'], { encoding: 'utf8' }).stdout;
      for (const flag of argv.filter((a) => a.startsWith('--')))
        assert.match(help, new RegExp(`\\s${flag}\\b`), `docker ${sub}: ${flag}`);
    }
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
    t.diagnostic(
      `audited ${commands.size} distinct command lines, ${pathsAudited.size} distinct subcommands, ${flagsAudited.size} distinct (subcommand, flag) pairs`,
    );
    t.diagnostic(`subcommands: ${[...pathsAudited].sort().join('; ')}`);
    t.diagnostic(`flags: ${[...flagsAudited].sort().join('; ')}`);
    assert.deepEqual(
      findings.map((f) => `${f.problem}\n    in: ${f.command}`),
      [],
    );
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
          assert.match(
            value,
            /^(delete|create|condition=[\w./-]+(=\S+)?|jsonpath=\{.+\}(=.*)?)$/,
            `kubectl wait --for=${value}: not a form \`kubectl wait --help\` documents`,
          );
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
      [
        ['kubectl', '--context', 'lab', '-n', 'x', 'rollout', 'status', 'deployment/sleep', '--timeoutx=300s'],
        /kubectl rollout status: unknown flag --timeoutx/,
      ],
      [['kubectl', '--context', 'lab', 'get', 'namespace', '-Z'], /kubectl get: unknown flag -Z/],
      [['kubectl', '--context', 'lab', 'rollout', 'statuss', 'deployment/sleep'], /kubectl rollout has no subcommand "statuss"/],
      [
        [
          'kubectl',
          '--context',
          'lab',
          '-n',
          'x',
          'wait',
          '--for=condition=Available',
          'deployment',
          '--all',
          '--ignore-not-found',
        ],
        /kubectl wait: unknown flag --ignore-not-found/,
      ],
      [[istioctl, '--context', 'lab', 'uninstall', '--purgee', '-y'], /istioctl uninstall: unknown flag --purgee/],
      [
        [istioctl, '--context', 'lab', 'install', '--set', 'profile=demo', '--readiness-timeout', '300s', '-q'],
        /istioctl install: unknown flag -q/,
      ],
      [['minikube', '-p', 'x', 'start', '--cpu=4'], /minikube start: unknown flag --cpu/],
      [['minikube', '-p', 'x', 'statuss'], /minikube has no subcommand "statuss"/],
    ];
    for (const [argv, expected] of bad) {
      const { findings } = auditCommand(argv);
      assert.ok(
        findings.some((f) => expected.test(f.problem) && f.command === argv.join(' ')),
        `${argv.join(' ')}: expected ${expected}, got ${JSON.stringify(findings)}`,
      );
      const v = validationRun(argv);
      assert.ok(v.parseProblem, `the real ${path.basename(argv[0])} accepted ${argv.join(' ')}: ${v.ran.stderr}`);
    }
    // Client-side checks past the parser: kubectl refuses names together with a selector (the bug of 0d9dc7a).
    assert.match(
      validationRun([
        'kubectl',
        '--context',
        'lab',
        '-n',
        'istio-system',
        'get',
        'deployment',
        'prometheus',
        'grafana',
        '-o',
        'name',
        '--ignore-not-found',
        '-l',
        'app.kubernetes.io/managed-by=fun-with-istio',
      ]).parseProblem ?? '',
      /name cannot be provided when a selector is specified/,
    );
    // A value of the wrong type is caught by the real parser alone.
    assert.match(
      validationRun(['kubectl', '--context', 'lab', 'wait', 'deployment/x', '--for=delete', '--timeout=3q']).parseProblem ?? '',
      /invalid argument "3q"/,
    );
    // -p means --patch to kubectl patch and --profile to minikube; -f - is a value; the good forms pass.
    const patch = auditCommand([
      'kubectl',
      '--context',
      'lab',
      '-n',
      'x',
      'patch',
      'deployment/sleep',
      '--type',
      'merge',
      '-p',
      '{}',
    ]);
    assert.deepEqual(patch.findings, []);
    assert.ok(
      patch.audited!.flags.includes('--patch') && patch.audited!.positionals.join(' ') === 'deployment/sleep',
      '-p is read as --patch and deployment/sleep as the only positional',
    );
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
