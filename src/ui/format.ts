/** Small formatting helpers shared by the dashboard's components. */

/** Colours are off with NO_COLOR (https://no-color.org). */
export const COLOR = !process.env.NO_COLOR;

/** A colour name, or undefined when colours are off. */
export function color(name: string): string | undefined {
  return COLOR ? name : undefined;
}

/** The colour of an HTTP status: 2xx green, 4xx yellow, 5xx and resets red. */
export function statusColor(status: number): string | undefined {
  if (status === 0 || status >= 500) return color('red');
  if (status >= 400) return color('yellow');
  return color('green');
}

/** `0.8ms`, `12ms`, `1.2s` */
export function ms(value: number): string {
  if (value >= 1000) return `${(value / 1000).toFixed(1)}s`;
  if (value >= 10) return `${Math.round(value)}ms`;
  return `${value.toFixed(1)}ms`;
}

/** `12.5` → `12.5%` with one decimal, `0` → `0%`. */
export function pct(value: number): string {
  return value === 0 ? '0%' : `${value.toFixed(1)}%`;
}

/** Pads or cuts `text` to exactly `width` characters. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length > width) return width > 1 ? `${text.slice(0, width - 1)}…` : text.slice(0, width);
  return text.padEnd(width);
}

/** `service@version`, or `service` for unversioned services. */
export { instanceLabel } from '../config/model.js';

/** A one-line sparkline of values (e.g. latencies), scaled to their maximum. */
export function sparkline(values: number[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  const max = Math.max(...values, 0);
  if (max === 0) return '';
  return values
    .map((value) => bars[Math.min(bars.length - 1, Math.floor((value / max) * (bars.length - 1)))])
    .join('');
}

/** Flags of injected faults, marked in the calls pane. */
export const INJECTED = new Set(['DI', 'FI', 'FR', 'BW']);
