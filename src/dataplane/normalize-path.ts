/**
 * Request-target normalization, before any route, split or authorization rule sees a
 * path (RFC 3986 §6.2.2): percent-escapes of unreserved characters are decoded, other
 * escapes upper-cased, dot-segments removed (§5.2.4). What cannot be normalized safely —
 * a broken escape, an encoded `/` or `\` (which apps disagree on), a target that is not
 * origin- or absolute-form — is refused, so no rule ever matches a path the app reads
 * differently.
 */

/** A normalized request target. */
export interface NormalizedTarget {
  /** Origin-form path with its query, as forwarded. */
  path: string;
  /** The path without the query, for matching. */
  pathname: string;
  /** The authority of an absolute-form target (`http://host:1/x` → `host:1`). */
  authority?: string;
}

/** Why a target was refused. */
export type TargetRefusal = { refused: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Normalizes a request target (origin-form or absolute-form). */
export function normalizeTarget(target: string): NormalizedTarget | TargetRefusal {
  let rest = target;
  let authority: string | undefined;
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(rest);
  if (absolute) {
    authority = absolute[1]!;
    rest = absolute[2] || '/';
    if (rest.startsWith('?')) rest = `/${rest}`;
  }
  if (!rest.startsWith('/')) return { refused: `request target "${clip(target)}" is not a path` };
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const queryAt = rest.indexOf('?');
  const rawPath = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rest.slice(queryAt);
  const decoded = decodeUnreserved(rawPath);
  if (typeof decoded !== 'string') return decoded;
  const pathname = removeDotSegments(decoded);
  return { path: pathname + query, pathname, authority };
}

/** Decodes `%XX` of unreserved characters; upper-cases the rest; refuses broken ones. */
function decodeUnreserved(path: string): string | TargetRefusal {
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    if (char !== '%') {
      out += char;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[\da-fA-F]{2}$/.test(hex)) {
      return { refused: `broken percent-escape "%${hex}" in the path` };
    }
    const decoded = String.fromCharCode(parseInt(hex, 16));
    if (decoded === '/' || decoded === '\\') {
      return { refused: `encoded "${decoded}" (%${hex}) in the path is refused` };
    }
    out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 on an absolute path: `/a/b/../c/./d` → `/a/c/d`, never above `/`. */
export function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/').slice(1);
  const out: string[] = [];
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else if (segment === '.') {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  });
  return `/${out.join('/')}`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
