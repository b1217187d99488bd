// proxy-from-env ships no types: the one function used here.
declare module 'proxy-from-env' {
  /** The proxy for `url` from HTTP(S)_PROXY/ALL_PROXY, or '' when none is set or NO_PROXY exempts the host. */
  export function getProxyForUrl(url: string | URL): string;
}
