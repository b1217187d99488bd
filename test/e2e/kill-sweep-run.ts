// npm run test:sweep -- [--seed N] [--points K] [--commands all,teardown,...]
// The whole kill sweep on the kwok lab (test/e2e/kill-sweep.test.ts runs a fixed slice of it in test:e2e): for each
// command, one uninterrupted run for reference, then K interruptions spread over its run by the seed (step
// boundaries and times, SIGKILL and SIGINT alternating), each on a fresh lab. Prints the table; exit 1 on a problem.
import { parseArgs } from 'node:util';
import { isMain } from '../../tasks/lib/cli/main.ts';
import { pointsFor, reference, runsBefore, type Swept, sweep } from './kill-sweep.ts';
import { lab } from './lab-client.ts';

/**
 * Per command: points tried, runs interrupted there by signal (a run may end before its point: the reference run is
 * slower or faster than a later one), re-runs that ended with exit 0, end states equal, leftovers found.
 */
export function table(rows: Swept[]): string[] {
  const count = (rs: Swept[], re: RegExp) => rs.filter((r) => r.problems.some((p) => re.test(p))).length;
  const lines = [
    '| command | points tried | interrupted (SIGINT/SIGKILL) | re-runs completed | end states equal | leftovers |',
    '|---|---|---|---|---|---|',
  ];
  for (const command of [...new Set(rows.map((r) => r.command))]) {
    const rs = rows.filter((r) => r.command === command);
    const hit = rs.filter((r) => !r.interrupted.startsWith('ended first'));
    const sigint = hit.filter((r) => r.point.startsWith('SIGINT')).length;
    lines.push(
      `| ${command} | ${rs.length} | ${hit.length} (${sigint}/${hit.length - sigint}) | ${rs.length - count(rs, /^the run after it/)} | ${rs.length - count(rs, /^end state .*differs/)} | ${count(rs, /^left running/)} |`,
    );
  }
  return lines;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      points: { type: 'string', default: '4' },
      commands: { type: 'string', default: 'all,teardown' },
    },
  });
  const seed = Number(values.seed);
  const count = Number(values.points);
  const commands = values.commands.split(',');
  const unknown = commands.filter((c) => !(c in runsBefore));
  if (unknown.length || !Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
    console.error(`test:sweep: commands are ${Object.keys(runsBefore).join(', ')}; --seed and --points are whole numbers`);
    return 2;
  }
  const t = Date.now();
  const rows: Swept[] = [];
  for (const command of commands) {
    const ref = await reference(command, runsBefore[command]);
    lab('down');
    console.log(`${command}: uninterrupted ${(ref.ms / 1000).toFixed(1)} s, ${ref.steps.length} steps`);
    for (const point of pointsFor(ref.steps, ref.ms, count, seed)) {
      const s = await sweep(command, runsBefore[command], point, ref.state);
      rows.push(s);
      console.log(
        `  ${s.point}: ${s.interrupted}; ${s.problems.length ? s.problems.join(' | ') : 'ok'} (${s.seconds.toFixed(0)} s)`,
      );
    }
  }
  console.log(`\n${table(rows).join('\n')}`);
  const failed = rows.filter((r) => r.problems.length);
  console.log(
    `\nseed ${seed}: ${rows.length} interruptions, ${rows.length - failed.length} resumed to the uninterrupted end state with nothing left; ${((Date.now() - t) / 60_000).toFixed(1)} min`,
  );
  return failed.length ? 1 : 0;
}

if (isMain(import.meta.url))
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(`test:sweep: ${e.message}`);
      lab('down');
      process.exitCode = 1;
    },
  );
