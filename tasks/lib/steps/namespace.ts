// A namespace the tool makes for a chapter of its own (the traffic server, Bookinfo, the mTLS client outside the
// mesh): created with the tool's label, so teardown deletes it; one that someone else made is never used.
import { StepError } from '../base/errors.ts';
import { createNamespace, getObject, managed, namespaceRef } from '../kube/kube.ts';
import { step } from '../run/step.ts';
import type { Task } from '../run/types.ts';

export function ownNamespace(title: string, name: string, labels: Record<string, string> = {}): Task {
  return step(title, {
    done: async (ctx) => {
      const found = await getObject(ctx, namespaceRef(name));
      if (!found) return false;
      if (!managed(found)) throw new StepError(`namespace ${name} was not made by fun-with-istio: refusing to change it`);
      return `namespace ${name} exists`;
    },
    run: async (ctx) => {
      await createNamespace(ctx, name, labels);
    },
  });
}
