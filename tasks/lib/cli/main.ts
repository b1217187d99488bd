import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../../config.ts';
import type { Command } from '../run/types.ts';

/** Whether the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
}

/**
 * Lets each chapter script run ad hoc (`npx tsx tasks/<chapter>.ts [options]`): it is `npm run <chapter>`, through
 * the Taskfile, so the run knows every chapter (what each owns). The Taskfile is found at run time, by path: a
 * chapter stays a leaf, which imports no other chapter.
 */
export function runIfMain(moduleUrl: string, command: Command): void {
  if (!isMain(moduleUrl)) return;
  const taskfile = pathToFileURL(path.join(projectRoot, 'Taskfile.ts')).href;
  void import(taskfile).then(({ main }: { main: (argv: string[]) => Promise<number> }) =>
    main([command.name, ...process.argv.slice(2)]),
  );
}
