/** Regex helpers shared by matching, exports and imports. */

/** `text` as a regex that matches it literally (`/a.b` → `/a\.b`). */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
