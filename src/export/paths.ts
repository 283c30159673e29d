/** meshdev's path forms in another mesh's terms. */
import { escapeRegex } from '../lib/regex.js';

/** `/items/:id` as an anchored regex, one segment per parameter (RE2 and JS alike). */
export function templateRegex(path: string): string {
  const pattern = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : escapeRegex(segment)))
    .join('/');
  return `^${pattern}$`;
}
