import { describe, expect, it } from 'vitest';
import {
  initialUiState,
  moveWeight,
  reduce,
  type KeyPress,
  type UiContext,
  type UiState,
} from './view-model.js';

const context: UiContext = {
  services: [
    { name: 'frontend', versions: ['default'], split: null, runtimeFaults: [] },
    {
      name: 'payments',
      versions: ['v1', 'v2'],
      split: { v1: 90, v2: 10 },
      runtimeFaults: ['rt-7'],
    },
  ],
};

function press(state: UiState, ...keys: KeyPress[]) {
  const effects = [];
  for (const key of keys) {
    const [next, produced] = reduce(state, key, context);
    state = next;
    effects.push(...produced);
  }
  return { state, effects };
}
const k = (input: string): KeyPress => ({ input });

describe('dashboard view model', () => {
  it('adds a 50% abort on the selected service with four keystrokes: f a 5 enter', () => {
    const selected = press(initialUiState, { input: '', downArrow: true }).state;
    const { state, effects } = press(selected, k('f'), k('a'), k('5'), { input: '', return: true });
    expect(effects).toEqual([
      { type: 'addFault', service: 'payments', kind: 'abort', percent: 50 },
    ]);
    expect(state.mode).toBe('main');
    expect(state.note).toBe('added 50% abort on payments');
  });

  it('adds a fault for one header condition: f d 0 h end-user=jason enter enter', () => {
    const typed = [...'end-user=jadson'].map(k);
    const { state, effects } = press(
      { ...initialUiState, selected: 1 },
      k('f'),
      k('d'),
      k('0'),
      k('h'),
      ...typed,
      // a typo mended: the keys for kinds and percents are text while typing
      { input: '', backspace: true },
      { input: '', backspace: true },
      { input: '', backspace: true },
      { input: '', backspace: true },
      k('s'),
      k('o'),
      k('n'),
      { input: '', return: true },
      { input: '', return: true },
    );
    expect(effects).toEqual([
      {
        type: 'addFault',
        service: 'payments',
        kind: 'delay',
        percent: 100,
        condition: 'end-user=jason',
      },
    ]);
    expect(state.note).toBe('added 100% delay on payments when end-user=jason');
  });

  it('esc while typing a condition drops it, and the editor stays open', () => {
    const { state } = press({ ...initialUiState, selected: 1 }, k('f'), k('h'), k('x'), {
      input: '',
      escape: true,
    });
    expect(state.mode).toBe('faults');
    expect(state.fault).toMatchObject({ condition: '', editing: false });
  });

  it('removes a runtime fault with x in the fault editor', () => {
    const { effects } = press({ ...initialUiState, selected: 1 }, k('f'), k('x'));
    expect(effects).toEqual([{ type: 'removeFault', id: 'rt-7' }]);
  });

  it('the split editor moves weight with the arrows and always sums to 100', () => {
    let { state } = press({ ...initialUiState, selected: 1 }, k('s'));
    expect(state.split!.weights).toEqual([
      { version: 'v1', weight: 90 },
      { version: 'v2', weight: 10 },
    ]);
    for (let i = 0; i < 30; i++) {
      state = press(state, { input: '', leftArrow: true }).state;
      const sum = state.split!.weights.reduce((total, entry) => total + entry.weight, 0);
      expect(sum).toBe(100);
      expect(state.split!.weights.every((entry) => entry.weight >= 0 && entry.weight <= 100)).toBe(
        true,
      );
    }
    expect(state.split!.weights).toEqual([
      { version: 'v1', weight: 0 },
      { version: 'v2', weight: 100 },
    ]);
    const { effects } = press(state, { input: '', rightArrow: true }, { input: '', return: true });
    expect(effects).toEqual([
      { type: 'setSplit', service: 'payments', weights: { v1: 5, v2: 95 } },
    ]);
  });

  it('moveWeight keeps three versions at 100', () => {
    const draft = {
      service: 's',
      cursor: 2,
      weights: [
        { version: 'a', weight: 50 },
        { version: 'b', weight: 45 },
        { version: 'c', weight: 5 },
      ],
    };
    const moved = moveWeight(draft, 20);
    expect(moved.weights.reduce((sum, entry) => sum + entry.weight, 0)).toBe(100);
    expect(moved.weights[2]!.weight).toBe(25);
  });

  it('navigates, filters, pauses and quits', () => {
    let { state, effects } = press(
      initialUiState,
      { input: '', downArrow: true },
      { input: '', downArrow: true },
    );
    expect(state.selected).toBe(1);
    ({ state } = press(state, k('/'), k('5'), k('0'), k('3'), { input: '', return: true }));
    expect(state).toMatchObject({ mode: 'main', filter: '503' });
    ({ state } = press(state, k('p'), k('t')));
    expect(state).toMatchObject({ paused: true, mode: 'topology' });
    ({ state, effects } = press(state, { input: '', escape: true }, k('?'), k('q')));
    expect(state.mode).toBe('help');
    expect(effects).toEqual([{ type: 'quit' }]);
    expect(press(initialUiState, { input: 'c', ctrl: true }).effects).toEqual([{ type: 'quit' }]);
  });

  it('a service with one version has nothing to split', () => {
    expect(press(initialUiState, k('s')).state).toMatchObject({
      mode: 'main',
      note: 'frontend has one version: nothing to split',
    });
  });
});
