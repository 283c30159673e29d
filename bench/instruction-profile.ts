/**
 * Instructions per request by function, from a callgrind profile of one thread: the
 * `callgrind_annotate` listing (self cost per function) with V8's JIT code named from the
 * `--perf-basic-prof` map the process wrote (callgrind knows only its addresses). Counts
 * do not depend on what else the machine is doing, so two builds or two paths compare on
 * a shared, noisy machine where timings cannot.
 */

/** One function's instructions (self cost, per request). */
export interface FunctionCost {
  name: string;
  /** What kind of code it is (see `categoryOf`). */
  category: Category;
  perRequest: number;
}

/** Where an instruction was spent. */
export type Category =
  | 'meshdev'
  | 'bench baseline'
  | 'undici'
  | 'other npm'
  | 'node (js)'
  | 'v8 builtins'
  | 'regexp'
  | 'gc and allocation'
  | 'json parse'
  | 'native'
  | 'jit (unnamed)';

/** Lines of the annotate listing that are totals or callers of everything, not functions. */
const NOT_A_FUNCTION =
  /PROGRAM TOTALS|libc_start|\(below main\)|^main$|NodeMainInstance::Run|SpinEventLoop|node::Start\(|^0x000000000001ab70$/;

/** A JIT code range of the perf map. */
export interface CodeRange {
  start: bigint;
  end: bigint;
  name: string;
}

/** The code ranges of a `/tmp/perf-<pid>.map` (`<start hex> <size hex> <name>` a line), sorted. */
export function parsePerfMap(text: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first <= 0 || second <= first) continue;
    const start = BigInt(`0x${line.slice(0, first)}`);
    ranges.push({
      start,
      end: start + BigInt(`0x${line.slice(first + 1, second)}`),
      name: line.slice(second + 1),
    });
  }
  return ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The name of the range holding `address`, if any (binary search). */
function nameAt(ranges: readonly CodeRange[], address: bigint): string | undefined {
  let low = 0;
  let high = ranges.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (ranges[middle]!.start <= address) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  const range = ranges[found];
  return range && address < range.end ? range.name : undefined;
}

/**
 * Self cost per request of every function in a `callgrind_annotate --threshold=100` listing,
 * JIT addresses named from `perfMap`, merged by name, most expensive first.
 */
export function costsPerRequest(
  annotate: string,
  perfMap: readonly CodeRange[],
  requests: number,
): FunctionCost[] {
  const byName = new Map<string, number>();
  for (const line of annotate.split('\n')) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!match) continue;
    let name = match[2]!
      .replace(/^\?\?\?:/, '')
      .replace(/ \[[^\]]*\]$/, '')
      .replace(/'\d+$/, '');
    if (NOT_A_FUNCTION.test(name)) continue;
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (address) name = jitName(nameAt(perfMap, BigInt(`0x${address[1]}`)));
    const instructions = Number(match[1]!.replace(/,/g, ''));
    byName.set(name, (byName.get(name) ?? 0) + instructions / requests);
  }
  return [...byName]
    .map(([name, perRequest]) => ({ name, category: categoryOf(name), perRequest }))
    .sort((a, b) => b.perRequest - a.perRequest);
}

/** A perf-map name without V8's tier prefix and the checkout's path. */
function jitName(name: string | undefined): string {
  if (!name) return 'JIT code (unnamed)';
  return name
    .replace(/^(LazyCompile|Function|JS):/, '')
    .replace(/(file:\/\/)?\/\S*?\/(node_modules|dist|bench)\//, '$2/');
}

/** What kind of code a function is, by its name. */
export function categoryOf(name: string): Category {
  if (/JsonParser|JsonString|JsonObject|JsonArray/.test(name)) return 'json parse';
  if (/node_modules\/undici\//.test(name)) return 'undici';
  if (/node_modules\//.test(name)) return 'other npm';
  if (/dist\//.test(name)) return 'meshdev';
  if (/bench\//.test(name)) return 'bench baseline';
  if (/node:/.test(name)) return 'node (js)';
  if (/^RegExp:/.test(name)) return 'regexp';
  if (/Scaveng|Heap::|MarkCompact|Sweep|IterateObjectCache|Evacuat|Allocat|Factory/.test(name))
    return 'gc and allocation';
  if (/^Builtins_/.test(name)) return 'v8 builtins';
  if (/^JIT code/.test(name)) return 'jit (unnamed)';
  return 'native';
}

/** Sums per category, most expensive first. */
export function byCategory(costs: readonly FunctionCost[]): Array<[Category, number]> {
  const sums = new Map<Category, number>();
  for (const cost of costs)
    sums.set(cost.category, (sums.get(cost.category) ?? 0) + cost.perRequest);
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** One function's cost in a base and a variant profile. */
export interface CostChange {
  name: string;
  base: number;
  variant: number;
}

/** Per-function differences, largest (either way) first. */
export function compareCosts(
  base: readonly FunctionCost[],
  variant: readonly FunctionCost[],
): CostChange[] {
  const names = new Set([...base.map((c) => c.name), ...variant.map((c) => c.name)]);
  const of = (costs: readonly FunctionCost[]) => new Map(costs.map((c) => [c.name, c.perRequest]));
  const a = of(base);
  const b = of(variant);
  return [...names]
    .map((name) => ({ name, base: a.get(name) ?? 0, variant: b.get(name) ?? 0 }))
    .sort((x, y) => Math.abs(y.variant - y.base) - Math.abs(x.variant - x.base));
}

/** One caller of a function: the instructions its calls into it cost, per request. */
export interface CallerCost {
  name: string;
  perRequest: number;
}

/**
 * Who calls `callee` (a name as `costsPerRequest` prints it), from a raw callgrind dump:
 * each caller's calls into it with everything they ran (inclusive), per request, largest
 * first — e.g. which JavaScript functions miss their inline caches (`Builtins_LoadIC`).
 * Recursion levels (`'2`) are merged, and calls of a function into itself are left out.
 */
export function callersOf(
  dump: string,
  perfMap: readonly CodeRange[],
  callee: string,
  requests: number,
): CallerCost[] {
  // callgrind compresses names: `fn=(12) name` the first time, `fn=(12)` after, one table
  // for `fn=` and `cfn=`.
  const names = new Map<string, string>();
  const nameOf = (value: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(value.trim());
    let raw = value.trim();
    if (match) {
      if (match[2] !== undefined) names.set(match[1]!, match[2]);
      raw = names.get(match[1]!) ?? raw;
    }
    raw = raw.replace(/'\d+$/, '');
    const address = /^0x([0-9a-f]+)$/.exec(raw);
    return address ? jitName(nameAt(perfMap, BigInt(`0x${address[1]}`))) : raw;
  };
  const byCaller = new Map<string, number>();
  let caller = '';
  let called = '';
  let costLineFollows = false;
  for (const line of dump.split('\n')) {
    if (costLineFollows) {
      costLineFollows = false;
      const inclusive = Number(line.trim().split(/\s+/)[1]);
      if (called === callee && caller !== callee && Number.isFinite(inclusive))
        byCaller.set(caller, (byCaller.get(caller) ?? 0) + inclusive / requests);
    } else if (line.startsWith('fn=')) caller = nameOf(line.slice(3));
    else if (line.startsWith('cfn=')) called = nameOf(line.slice(4));
    else if (line.startsWith('calls=')) costLineFollows = true;
  }
  return [...byCaller]
    .map(([name, perRequest]) => ({ name, perRequest }))
    .sort((a, b) => b.perRequest - a.perRequest);
}
