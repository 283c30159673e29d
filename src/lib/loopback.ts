/** What counts as this machine: meshdev talks to loopback only (keys, dev servers). */

/** True for `localhost`, `::1` and any `127.x.y.z`. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** True for an `http(s)://` URL whose host is loopback. */
export function isLoopbackUrl(url: string): boolean {
  if (!/^https?:\/\//.test(url)) return false;
  try {
    return isLoopbackHost(new URL(url).hostname.replace(/^\[|\]$/g, ''));
  } catch {
    return false;
  }
}
