/**
 * The contract mock's dynamic mode (Prism's `-d`, `Prefer: dynamic=true`): every answer
 * made up anew from the schema, each one true to the contract the mesh checks calls
 * against, the same sequence for the same seed. Decided here without a mesh; the last
 * test sends real requests through a gateway to a `sim: { spec: true, dynamic: true }`.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkResponseBody, checkResponseHead } from '../../src/contracts/check-response.js';
import { loadContract, type Contract } from '../../src/contracts/contract.js';
import { mockAnswer, type MockRequest, type MockSettings } from '../../src/contracts/mock.js';
import { loadFaker } from '../../src/contracts/mock-dynamic.js';
import { seededRandom } from '../../src/lib/random.js';
import { testScope } from '../helpers/scope.js';

const scope = testScope();
const ORDERS = path.resolve('fixtures/contracts/orders-dynamic.openapi.yaml');
let contract: Contract;
beforeAll(async () => {
  contract = await loadContract(ORDERS);
  await loadFaker();
});

function ask(target: string, settings: MockSettings, headers: MockRequest['headers'] = {}) {
  const [pathname, query = ''] = target.split('?');
  const request = { method: 'GET', pathname: pathname!, query, headers, body: Buffer.alloc(0) };
  const answer = mockAnswer(contract, request, settings);
  return { ...answer, json: JSON.parse(answer.body?.toString('utf8') ?? 'null') as unknown };
}

/** Every violation of the contract the answer to GET `target` has (head and body). */
function violationsOf(target: string, answer: ReturnType<typeof ask>) {
  const match = contract.index.match('GET', target);
  if (match.kind !== 'operation') throw new Error(`no operation for ${target}`);
  const head = checkResponseHead(contract, match.operation, answer.status, answer.headers, true);
  const body = head.bodyMedia
    ? checkResponseBody(contract, head.bodyMedia, answer.headers['content-type'], answer.body!)
    : [];
  return [...head.violations, ...body];
}

describe('dynamic answers', () => {
  it('200 answers of each operation, all different, every one true to the contract', () => {
    const settings = { dynamic: true, random: seededRandom(7) };
    for (const target of ['/orders', '/orders/ORD-000042']) {
      const bodies = new Set<string>();
      for (let i = 0; i < 100; i++) {
        const answer = ask(target, settings);
        expect(answer.status).toBe(200);
        expect(violationsOf(target, answer), JSON.stringify(answer.json)).toEqual([]);
        bodies.add(JSON.stringify(answer.json));
      }
      // Made up anew each time (the static example would be one body, 100 times).
      expect(bodies.size, target).toBeGreaterThan(90);
    }
  });

  it('respects what the schema says beyond types: writeOnly left out, nullable and one-of used', () => {
    const settings = { dynamic: true, random: seededRandom(11) };
    const orders = Array.from({ length: 200 }, () => ask('/orders/ORD-000001', settings).json) as {
      customer: Record<string, unknown>;
      note?: string | null;
      payment?: Record<string, unknown>;
      total: number;
    }[];
    expect(orders.some((order) => 'password' in order.customer)).toBe(false);
    // writeOnly on the schema a property's $ref points to (OpenAPI 3.0 ignores $ref siblings).
    expect(orders.some((order) => 'pin' in order.customer)).toBe(false);
    expect(orders.every((order) => order.total > 0)).toBe(true);
    expect(orders.some((order) => order.note === null)).toBe(true);
    expect(orders.some((order) => typeof order.note === 'string')).toBe(true);
    expect(orders.some((order) => order.payment && 'card' in order.payment)).toBe(true);
    expect(orders.some((order) => order.payment && 'iban' in order.payment)).toBe(true);
  });

  it('a made-up value the contract refuses is made again, and after five misses the example is sent', () => {
    const settings = { dynamic: true, random: seededRandom(5) };
    const words = Array.from({ length: 60 }, () => ask('/words', settings));
    for (const answer of words) expect(violationsOf('/words', answer)).toEqual([]);
    expect(new Set(words.map((answer) => answer.json)).size).toBeGreaterThan(3);
    // \p{Lu} is beyond the generator: never a made-up value, always the valid example.
    for (let i = 0; i < 5; i++) expect(ask('/codes', settings).json).toBe('ÄBÇ');
  });

  it('the same seed gives the same answers; another seed others', () => {
    const run = (seed: number) =>
      Array.from({ length: 5 }, () =>
        JSON.stringify(ask('/orders', { dynamic: true, random: seededRandom(seed) }).json),
      );
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('the request chooses: Prefer: dynamic=false is the static example, dynamic=true a made-up one', () => {
    const example = [
      {
        id: 'ORD-000001',
        status: 'placed',
        total: 1,
        createdAt: '2026-01-01T00:00:00Z',
        customer: { email: 'a@example.com' },
      },
    ];
    const random = seededRandom(1);
    expect(ask('/orders', { dynamic: true, random }, { prefer: 'dynamic=false' }).json).toEqual(
      example,
    );
    expect(ask('/orders?__dynamic=false', { dynamic: true, random }).json).toEqual(example);
    expect(ask('/orders', { random }).json).toEqual(example);
    expect(ask('/orders', { random }, { prefer: 'dynamic=true' }).json).not.toEqual(example);
    expect(ask('/orders?__dynamic=true', { random }).json).not.toEqual(example);
    // Required headers are made up too.
    const headers = ask('/orders', { dynamic: true, random }).headers;
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('through the mesh', () => {
  it('a dynamic sim answers real requests with made-up, contract-true bodies, the same for the same mesh.seed', async () => {
    const config = `version: 1
mesh: { name: dyn, mtls: off, seed: 9, ports: { from: 0 }, admin: { port: 0 } }
gateway: { port: 0, routes: [{ path: /, service: orders }] }
services:
  orders: { spec: ${ORDERS}, sim: { spec: true, dynamic: true } }
`;
    const bodiesOf = async () => {
      const m = await scope.mesh(config);
      const bodies: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${m.gateway}/orders/ORD-00000${i}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('x-meshdev-violations')).toBeNull();
        bodies.push(await response.json());
      }
      await expect.poll(() => m.calls.length, { timeout: 5_000 }).toBe(5);
      expect(m.calls.flatMap((call) => call.violations ?? [])).toEqual([]);
      return bodies;
    };
    const first = await bodiesOf();
    expect(new Set(first.map((body) => JSON.stringify(body))).size).toBe(5);
    expect(await bodiesOf()).toEqual(first);
  });
});
