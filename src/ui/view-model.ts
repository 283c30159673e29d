/**
 * The dashboard's view model: a pure reducer from (state, key) to (state, effects). The
 * components only draw it; effects (runtime faults, splits, quit) are carried out by the
 * Dashboard through the runtime API. Tested without a terminal.
 */
import type { FaultKind } from './source.js';

export type Mode =
  | 'main'
  | 'details'
  | 'topology'
  | 'contracts'
  | 'consumers'
  | 'logs'
  | 'help'
  | 'faults'
  | 'split'
  | 'filter';

export interface SplitDraft {
  service: string;
  weights: Array<{ version: string; weight: number }>;
  cursor: number;
}

export interface UiState {
  mode: Mode;
  /** Index of the selected service row. */
  selected: number;
  filter: string;
  paused: boolean;
  fault: {
    kind: FaultKind;
    percent: number;
    cursor: number;
    /** A header condition (`end-user=jason`, `x-id~^a`): the fault hits only those calls. */
    condition: string;
    /** Typing the condition (h): keys go to it until enter or esc. */
    editing: boolean;
  };
  split: SplitDraft | undefined;
  /** A short note of the last change made from the UI, for the header. */
  note: string | undefined;
}

/** The keys the reducer cares about (a subset of Ink's Key). */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
}

/** What the reducer needs to know about the mesh right now. */
export interface UiContext {
  services: Array<{
    name: string;
    versions: string[];
    split: Record<string, number> | null;
    runtimeFaults: string[];
  }>;
}

export type Effect =
  | { type: 'addFault'; service: string; kind: FaultKind; percent: number; condition?: string }
  | { type: 'removeFault'; id: string }
  | { type: 'setSplit'; service: string; weights: Record<string, number> }
  | { type: 'quit' };

export const initialUiState: UiState = {
  mode: 'main',
  selected: 0,
  filter: '',
  paused: false,
  fault: { kind: 'abort', percent: 50, cursor: 0, condition: '', editing: false },
  split: undefined,
  note: undefined,
};

/** Percent step of the split editor's arrows. */
export const SPLIT_STEP = 5;

/** Applies one key press. */
export function reduce(state: UiState, key: KeyPress, context: UiContext): [UiState, Effect[]] {
  const service = context.services[Math.min(state.selected, context.services.length - 1)];
  if (key.ctrl && key.input === 'c') return [state, [{ type: 'quit' }]];

  if (state.mode === 'filter') {
    if (key.return || key.escape)
      return [{ ...state, mode: 'main', filter: key.escape ? '' : state.filter }, []];
    if (key.backspace || key.delete) return [{ ...state, filter: state.filter.slice(0, -1) }, []];
    if (key.input && !key.ctrl) return [{ ...state, filter: state.filter + key.input }, []];
    return [state, []];
  }

  if (state.mode === 'faults' && service && state.fault.editing) {
    const fault = state.fault;
    // Enter keeps what was typed, esc drops it.
    if (key.return) return [{ ...state, fault: { ...fault, editing: false } }, []];
    if (key.escape) return [{ ...state, fault: { ...fault, editing: false, condition: '' } }, []];
    if (key.backspace || key.delete)
      return [{ ...state, fault: { ...fault, condition: fault.condition.slice(0, -1) } }, []];
    if (key.input && !key.ctrl)
      return [{ ...state, fault: { ...fault, condition: fault.condition + key.input } }, []];
    return [state, []];
  }

  if (state.mode === 'faults' && service) {
    const kinds: Record<string, FaultKind> = { a: 'abort', d: 'delay', r: 'reset', b: 'bandwidth' };
    if (key.escape) return [{ ...state, mode: 'main' }, []];
    if (key.input === 'h') return [{ ...state, fault: { ...state.fault, editing: true } }, []];
    if (kinds[key.input])
      return [{ ...state, fault: { ...state.fault, kind: kinds[key.input]! } }, []];
    if (/^[0-9]$/.test(key.input)) {
      const percent = key.input === '0' ? 100 : Number(key.input) * 10;
      return [{ ...state, fault: { ...state.fault, percent } }, []];
    }
    if (key.leftArrow || key.rightArrow) {
      const percent = Math.max(1, Math.min(100, state.fault.percent + (key.rightArrow ? 5 : -5)));
      return [{ ...state, fault: { ...state.fault, percent } }, []];
    }
    if (key.upArrow || key.downArrow) {
      const max = Math.max(0, service.runtimeFaults.length - 1);
      const cursor = Math.max(0, Math.min(max, state.fault.cursor + (key.downArrow ? 1 : -1)));
      return [{ ...state, fault: { ...state.fault, cursor } }, []];
    }
    if (key.input === 'x') {
      const id = service.runtimeFaults[state.fault.cursor];
      if (!id) return [state, []];
      return [
        { ...state, note: `removed fault ${id} on ${service.name}` },
        [{ type: 'removeFault', id }],
      ];
    }
    if (key.return) {
      const { kind, percent } = state.fault;
      const condition = state.fault.condition.trim();
      const when = condition ? ` when ${condition}` : '';
      return [
        { ...state, mode: 'main', note: `added ${percent}% ${kind} on ${service.name}${when}` },
        [
          {
            type: 'addFault',
            service: service.name,
            kind,
            percent,
            ...(condition && { condition }),
          },
        ],
      ];
    }
    return [state, []];
  }

  if (state.mode === 'split' && state.split) {
    const draft = state.split;
    if (key.escape) return [{ ...state, mode: 'main', split: undefined }, []];
    if (key.upArrow || key.downArrow) {
      const cursor =
        (draft.cursor + (key.downArrow ? 1 : draft.weights.length - 1)) % draft.weights.length;
      return [{ ...state, split: { ...draft, cursor } }, []];
    }
    if (key.leftArrow || key.rightArrow)
      return [
        { ...state, split: moveWeight(draft, key.rightArrow ? SPLIT_STEP : -SPLIT_STEP) },
        [],
      ];
    if (key.return) {
      const weights = Object.fromEntries(
        draft.weights.map((entry) => [entry.version, entry.weight]),
      );
      const text = draft.weights.map((entry) => `${entry.version}=${entry.weight}`).join(' ');
      return [
        { ...state, mode: 'main', split: undefined, note: `split ${draft.service} ${text}` },
        [{ type: 'setSplit', service: draft.service, weights }],
      ];
    }
    return [state, []];
  }

  if (key.escape) return [{ ...state, mode: 'main' }, []];
  if (key.input === 'q') return [state, [{ type: 'quit' }]];
  if (key.upArrow) return [{ ...state, selected: Math.max(0, state.selected - 1) }, []];
  if (key.downArrow)
    return [{ ...state, selected: Math.min(context.services.length - 1, state.selected + 1) }, []];
  if (key.return) return [{ ...state, mode: state.mode === 'details' ? 'main' : 'details' }, []];
  if (key.input === '?') return [{ ...state, mode: state.mode === 'help' ? 'main' : 'help' }, []];
  if (key.input === 't')
    return [{ ...state, mode: state.mode === 'topology' ? 'main' : 'topology' }, []];
  if (key.input === 'l') return [{ ...state, mode: state.mode === 'logs' ? 'main' : 'logs' }, []];
  if (key.input === 'c')
    return [{ ...state, mode: state.mode === 'contracts' ? 'main' : 'contracts' }, []];
  if (key.input === 'u')
    return [{ ...state, mode: state.mode === 'consumers' ? 'main' : 'consumers' }, []];
  if (key.input === 'p') return [{ ...state, paused: !state.paused }, []];
  if (key.input === '/') return [{ ...state, mode: 'filter' }, []];
  if (key.input === 'f' && service)
    return [{ ...state, mode: 'faults', fault: { ...state.fault, cursor: 0 } }, []];
  if (key.input === 's' && service) {
    if (service.versions.length < 2)
      return [{ ...state, note: `${service.name} has one version: nothing to split` }, []];
    const current =
      service.split ?? Object.fromEntries(service.versions.map((v, i) => [v, i === 0 ? 100 : 0]));
    const weights = service.versions.map((version) => ({ version, weight: current[version] ?? 0 }));
    return [
      {
        ...state,
        mode: 'split',
        split: { service: service.name, weights: normalize(weights), cursor: 0 },
      },
      [],
    ];
  }
  return [state, []];
}

/**
 * Moves `delta` points to the selected version from the others (or back), keeping every
 * weight within 0–100 and the total at exactly 100.
 */
export function moveWeight(draft: SplitDraft, delta: number): SplitDraft {
  const weights = draft.weights.map((entry) => ({ ...entry }));
  const target = weights[draft.cursor]!;
  const others = weights.filter((_, i) => i !== draft.cursor);
  let remaining = Math.abs(delta);
  if (delta > 0) {
    // Take from the others, the largest first.
    for (const other of [...others].sort((a, b) => b.weight - a.weight)) {
      const take = Math.min(remaining, other.weight, 100 - target.weight);
      other.weight -= take;
      target.weight += take;
      remaining -= take;
    }
  } else {
    // Give to the next version (wrapping).
    const receiver = weights[(draft.cursor + 1) % weights.length]!;
    const give = Math.min(remaining, target.weight);
    target.weight -= give;
    receiver.weight += give;
  }
  return { ...draft, weights };
}

function normalize(
  weights: Array<{ version: string; weight: number }>,
): Array<{ version: string; weight: number }> {
  const rounded = weights.map((entry) => ({ ...entry, weight: Math.round(entry.weight) }));
  const drift = 100 - rounded.reduce((sum, entry) => sum + entry.weight, 0);
  rounded[0]!.weight += drift;
  return rounded;
}
