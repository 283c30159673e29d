import { describe, expect, it } from 'vitest';
import {
  byCategory,
  callersOf,
  compareCosts,
  costsPerRequest,
  parsePerfMap,
} from '../bench/instruction-profile.js';

// The shape `callgrind_annotate --threshold=100 --auto=no` prints, and a V8 perf map.
const annotate = `
--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
2,000,000 (100.0%)  PROGRAM TOTALS
2,000,000 (100.0%)  ???:node::Start(int, char**) [/usr/bin/node]
  600,000 (30.00%)  ???:0x00000d4cae6de040 [???]
  300,000 (15.00%)  ???:0x00000d4cae6de100 [???]
  200,000 (10.00%)  ???:Builtins_LoadIC [/usr/bin/node]
  120,000 ( 6.00%)  ???:Builtins_LoadIC'2 [/usr/bin/node]
  150,000 ( 7.50%)  ???:v8::internal::JsonParser<unsigned char>::ScanJsonString(bool) [/usr/bin/node]
   50,000 ( 2.50%)  ???:0x00000000deadbeef [???]
   40,000 ( 2.00%)  ???:RegExp:^Bearer\\s+(\\S+)$ [???]
`;
const perfMap = [
  'd4cae6de100 80 JS:*processHeader /work/main/node_modules/undici/lib/core/request.js:385:24',
  'd4cae6de000 100 JS:*serveRequest file:///work/main/dist/bundle/controller-X.js:4954:28',
  'garbage line',
].join('\n');

describe('instruction profile', () => {
  it('names JIT addresses from the perf map, merges recursion, and divides by requests', () => {
    const costs = costsPerRequest(annotate, parsePerfMap(perfMap), 1000);
    expect(costs).toEqual([
      {
        name: '*serveRequest dist/bundle/controller-X.js:4954:28',
        category: 'meshdev',
        perRequest: 600,
      },
      { name: 'Builtins_LoadIC', category: 'v8 builtins', perRequest: 320 },
      {
        name: '*processHeader node_modules/undici/lib/core/request.js:385:24',
        category: 'undici',
        perRequest: 300,
      },
      {
        name: 'v8::internal::JsonParser<unsigned char>::ScanJsonString(bool)',
        category: 'json parse',
        perRequest: 150,
      },
      { name: 'JIT code (unnamed)', category: 'jit (unnamed)', perRequest: 50 },
      { name: 'RegExp:^Bearer\\s+(\\S+)$', category: 'regexp', perRequest: 40 },
    ]);
    expect(byCategory(costs)[0]).toEqual(['meshdev', 600]);
  });

  it('compares two profiles function by function, largest change first', () => {
    const map = parsePerfMap(perfMap);
    const base = costsPerRequest(annotate, map, 1000);
    const variant = costsPerRequest(annotate.replace('150,000', '15,000'), map, 1000);
    const [largest] = compareCosts(base, variant);
    expect(largest).toEqual({
      name: 'v8::internal::JsonParser<unsigned char>::ScanJsonString(bool)',
      base: 150,
      variant: 15,
    });
  });

  it('finds who calls a function, with what the calls ran, from the raw dump', () => {
    // callgrind's compressed names: `(id) name` the first time, `(id)` after.
    const dump = [
      'events: Ir',
      'fn=(1) 0x00000d4cae6de040',
      '12 5000',
      'cfn=(2) Builtins_LoadIC',
      'calls=10 0',
      '12 200000',
      'cfn=(3) 0x00000d4cae6de100',
      'calls=4 0',
      '13 90000',
      'fn=(3)',
      '7 1000',
      'cfn=(2)',
      'calls=2 0',
      '7 50000',
      'fn=(2)',
      "cfn=(4) Builtins_LoadIC'2",
      'calls=1 0',
      '3 7000',
      'fn=(1)',
      'cfn=(2)',
      'calls=5 0',
      '14 100000',
    ].join('\n');
    expect(callersOf(dump, parsePerfMap(perfMap), 'Builtins_LoadIC', 1000)).toEqual([
      { name: '*serveRequest dist/bundle/controller-X.js:4954:28', perRequest: 300 },
      { name: '*processHeader node_modules/undici/lib/core/request.js:385:24', perRequest: 50 },
    ]);
    expect(callersOf(dump, parsePerfMap(perfMap), 'Builtins_Missing', 1000)).toEqual([]);
  });
});
