import { describe, expect, it } from 'vitest';
import type { ContractsSnapshot } from '../../telemetry/contract-ledger.js';
import { contractLines } from './ContractsPane.js';

const snapshot = (bodyChecks: ContractsSnapshot['bodyChecks'], mode = 'report') =>
  ({ mode, bodyChecks, operations: [], coverage: [], recent: [] }) as ContractsSnapshot;

describe('contracts view: where response bodies are checked', () => {
  const base = { checkedInWorker: 0, checkedHere: 0, waiting: 0 };

  it('says nothing before the first body, and the count once the worker runs', () => {
    expect(contractLines(snapshot({ ...base, worker: 'not started' }), undefined)).toEqual([
      { text: 'no calls to a service with a spec yet', tone: 'dim' },
    ]);
    expect(
      contractLines(snapshot({ ...base, worker: 'running', checkedInWorker: 42 }), undefined),
    ).toContainEqual({ text: 'response bodies checked in a worker thread: 42', tone: 'dim' });
  });

  it('shows in yellow a worker that fell behind or is gone', () => {
    const behind = snapshot({ ...base, worker: 'running', checkedInWorker: 40, checkedHere: 2 });
    expect(contractLines(behind, undefined)).toContainEqual({
      text: 'response bodies checked in a worker thread: 40, 2 on the serving thread (worker behind)',
      tone: 'yellow',
    });
    const gone = snapshot({ ...base, worker: 'the contract worker exited (1)' });
    expect(contractLines(gone, undefined)).toContainEqual({
      text: 'response bodies checked on the serving thread: the contract worker exited (1)',
      tone: 'yellow',
    });
  });

  it('says nothing of it in enforce mode (bodies are checked before delivery there)', () => {
    const enforce = snapshot({ ...base, worker: 'running', checkedInWorker: 3 }, 'enforce');
    expect(
      contractLines(enforce, undefined)
        .map((line) => line.text)
        .join('\n'),
    ).not.toContain('response bodies');
  });
});
