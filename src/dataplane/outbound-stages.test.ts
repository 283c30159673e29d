import { describe, expect, it } from 'vitest';
import { Forwarder } from './forwarder.js';
import { outboundStages } from './outbound-stages.js';

describe('outbound pipeline', () => {
  it('runs route → split → breaker → retry → timeout → fault → upstream', () => {
    expect(outboundStages(new Forwarder()).map((stage) => stage.name)).toEqual([
      'route',
      'split',
      'breaker',
      'retry',
      'timeout',
      'fault',
      'upstream',
    ]);
  });
});
