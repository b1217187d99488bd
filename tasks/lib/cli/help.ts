// What --help prints, in the conventions of kubectl and istioctl: a summary, Usage, Examples, the options and
// settings that apply to the command, exit codes. Lines stay under 100 characters.
import { pins, type SettingName, settingNames, settings, shownDefault, toolVersion } from '../../config.ts';
import { commonFlags, type FlagName, flagLabel, flags } from '../run/flags.ts';
import type { Command } from '../run/types.ts';

const width = 99;

/** Wraps one line at `width`, continuing with `indent` spaces. */
export function wrap(line: string, indent = 0): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > indent ? cut : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = ' '.repeat(indent) + rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

/**
 * Details as paragraphs wrapped to the width: lines join into one paragraph, except a line that starts a list
 * item ("Runs:", "- ...") or is indented (a continuation kept as written).
 */
function reflow(text: string): string[] {
  const blocks: string[] = [];
  for (const line of text.trim().split('\n')) {
    const starts = /^(Runs:|- |\s)/.test(line) || blocks.length === 0;
    if (starts) blocks.push(line);
    else blocks[blocks.length - 1] += ` ${line}`;
  }
  return blocks.flatMap((b) => wrap(b, /^\s/.test(b) || b.startsWith('Runs:') ? 6 : 0));
}

const table = (rows: [string, string][], pad: number): string[] =>
  rows.flatMap(([left, right]) => wrap(`  ${left.padEnd(pad)}${right}`, pad + 2));

/** The flags a command takes: the common ones (only --help for a command that runs nothing) and its own. */
export const flagsOf = (c: Command): FlagName[] => [...(c.local ? (['help'] as const) : commonFlags), ...(c.flags ?? [])];

/** A flag's help line; a dry run says what cluster it stands for (teardown's: one where `all` has run). */
const flagDoc = (f: FlagName, c?: Command): string =>
  f === 'dry-run' && c?.dryRunView === 'finished'
    ? 'print every command it would run on a cluster where `all` has run; run and remove nothing'
    : flags[f].doc;

const optionsHelp = (names: FlagName[], c?: Command): string[] => [
  'Options:',
  ...table(
    names.map((f) => [flagLabel(f), flagDoc(f, c)]),
    16,
  ),
];

/** The flags help offers a command: --yes only where the command asks something first. */
const shownFlagsOf = (c: Command): FlagName[] => flagsOf(c).filter((f) => f !== 'yes' || c.confirm);

const settingsTable = (names: SettingName[]): string[] =>
  table(
    names.map((k) => {
      const d = shownDefault(k);
      return [k, `${settings[k].doc}${d ? ` (default ${d})` : ''}`];
    }),
    // One column for every command's help: the longest name of the table, not of the names shown here.
    Math.max(...settingNames.map((n) => n.length)) + 2,
  );

export const versionLine = (): string =>
  `fun-with-istio ${toolVersion} (pins: Istio ${pins.istio}, Kubernetes ${pins.kubernetes}, minikube ${pins.minikube})`;

export function usage(commands: Command[]): string {
  const pad = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'fun-with-istio: the "Fun with Istio" tutorial as re-runnable tasks',
    '',
    'Usage:',
    '  npm run <command> [-- options]',
    '  npx tsx Taskfile.ts <command> [options]',
    '',
    'Commands:',
    ...table(
      commands.map((c) => [c.name, c.summary]),
      pad,
    ),
    '',
    'Examples:',
    '  npm run all                    # the whole tutorial, chapter by chapter',
    '  npm run all -- --dry-run       # print every command it would run; run nothing',
    '  npm run help -- teardown       # what one command does, its options and settings',
    '',
    ...optionsHelp(commonFlags),
    '',
    'Put options after `--`: `npm run all --dry-run` gives the flag to npm (the tool still reads it as a',
    'dry run, but says so). Run `npm run help -- <command>` for what a command does and runs.',
    '',
    'Configuration (environment or .env; the environment wins; each command lists those it reads):',
    ...settingsTable(settingNames),
  ].join('\n');
}

/** Settings a command reads: none for a local one; every command's, and those of the topics it reads. */
function settingsOf(c: Command): SettingName[] {
  if (c.local) return [];
  return settingNames.filter((k) => {
    const s = settings[k];
    return !('readBy' in s) || s.readBy.some((topic) => c.reads?.includes(topic));
  });
}

export function commandHelp(c: Command): string {
  const args = c.kind === 'action' && c.args ? ` ${c.args}` : '';
  const examples = c.examples ?? [`npm run ${c.name}`, `npm run ${c.name} -- --dry-run`];
  const lines = [
    ...wrap(`${c.name}: ${c.summary}`),
    '',
    'Usage:',
    `  npm run ${c.name} [-- options${args ? ` ${args.trim()}` : ''}]`,
    `  npx tsx Taskfile.ts ${c.name} [options]${args}`,
  ];
  if (c.details) lines.push('', ...reflow(c.details));
  lines.push('', 'Examples:', ...examples.map((e) => `  ${e}`));
  lines.push('', ...optionsHelp(shownFlagsOf(c), c));
  const names = settingsOf(c);
  if (names.length) lines.push('', 'Configuration (environment or .env; the environment wins):', ...settingsTable(names));
  lines.push(
    '',
    ...wrap(`Exit codes: ${c.exitCodes ?? '0 done, 1 a step failed, 2 bad usage or configuration, 130 interrupted.'}`),
  );
  return lines.join('\n');
}
