// A namespace the tool makes for a chapter of its own (the traffic server, Bookinfo, the mTLS client outside the
// mesh): created with the tool's label, so teardown deletes it; one that someone else made is never used.
import { createNamespace, getObject, namespaceRef, notOurs, ours } from '../kube/kube.ts';
import { step } from '../run/step.ts';
import type { Task } from '../run/types.ts';

export function ownNamespace(title: string, name: string, labels: Record<string, string> = {}): Task {
  return step(title, {
    done: async (ctx) => ours(await getObject(ctx, namespaceRef(name))) && `namespace ${name} exists`,
    refuse: async (ctx) => {
      const found = await getObject(ctx, namespaceRef(name));
      return found !== undefined && !ours(found) && notOurs(`namespace ${name}`);
    },
    run: async (ctx) => {
      await createNamespace(ctx, name, labels);
    },
  });
}
