// What a Bookinfo user does in a browser, as HTTP requests: sign in (productpage keeps the user in its session
// cookie and sends it on as the `end-user` header), then load /productpage.
import type { Clock } from '../base/clock.ts';

export interface Visit {
  /** Sign in as this user first (istio.io's tasks use `jason`); anonymous without. */
  user?: string;
  /** Stops the requests (Ctrl-C, a failed sibling). */
  signal?: AbortSignal;
  /** Whose time the requests' own limit counts (the run's: a test's never runs out on its own). */
  clock: Pick<Clock, 'timeout'>;
  /** Per request; the fault-injection delay makes productpage wait about 6 s before it gives up. */
  timeoutMs?: number;
}

/**
 * One request within its own time limit (and the run's signal). The limit's signal is held here until the request
 * ends: AbortSignal.any holds its sources only weakly, and a timer's signal nobody holds is collected before it fires
 * (Node 20), which left a request that got no answer waiting for the whole step's WAIT_TIMEOUT.
 */
async function request<T>(o: Visit, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ms = o.timeoutMs ?? 20_000;
  const limit = o.clock.timeout(ms);
  try {
    return await send(o.signal ? AbortSignal.any([o.signal, limit]) : limit);
  } catch (e) {
    if (limit.aborted && !o.signal?.aborted) throw new Error(`no answer within ${ms / 1000} s`);
    throw e;
  }
}

/** The session cookie productpage sets for `user`. */
async function signIn(base: string, user: string, o: Visit): Promise<string> {
  const r = await request(o, (signal) =>
    fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${base}/productpage` },
      body: new URLSearchParams({ username: user, passwd: '' }),
      redirect: 'manual',
      signal,
    }),
  );
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('session='));
  if (!cookie) throw new Error(`signing in as ${user}: HTTP ${r.status} and no session cookie`);
  return cookie.split(';')[0];
}

/** The product page's HTML as `o.user` (or anonymous) sees it; any status, as the browser would show it. */
export async function productPage(base: string, o: Visit): Promise<string> {
  const cookie = o.user ? await signIn(base, o.user, o) : undefined;
  return request(o, async (signal) => (await fetch(`${base}/productpage`, { headers: cookie ? { cookie } : {}, signal })).text());
}

/** `count` product pages as `o.user`, one after another (as a user reloading). */
export async function productPages(base: string, count: number, o: Visit): Promise<string[]> {
  const pages: string[] = [];
  for (let i = 0; i < count; i++) pages.push(await productPage(base, o));
  return pages;
}
