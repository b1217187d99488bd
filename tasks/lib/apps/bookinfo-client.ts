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

/** The session cookie productpage sets for `user`. */
async function signIn(base: string, user: string, o: Visit): Promise<string> {
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${base}/productpage` },
    body: new URLSearchParams({ username: user, passwd: '' }),
    redirect: 'manual',
    signal: requestSignal(o),
  });
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('session='));
  if (!cookie) throw new Error(`signing in as ${user}: HTTP ${r.status} and no session cookie`);
  return cookie.split(';')[0];
}

const requestSignal = (o: Visit): AbortSignal => {
  const timeout = o.clock.timeout(o.timeoutMs ?? 20_000);
  return o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
};

/** The product page's HTML as `o.user` (or anonymous) sees it; any status, as the browser would show it. */
export async function productPage(base: string, o: Visit): Promise<string> {
  const cookie = o.user ? await signIn(base, o.user, o) : undefined;
  const r = await fetch(`${base}/productpage`, { headers: cookie ? { cookie } : {}, signal: requestSignal(o) });
  return r.text();
}

/** `count` product pages as `o.user`, one after another (as a user reloading). */
export async function productPages(base: string, count: number, o: Visit): Promise<string[]> {
  const pages: string[] = [];
  for (let i = 0; i < count; i++) pages.push(await productPage(base, o));
  return pages;
}
