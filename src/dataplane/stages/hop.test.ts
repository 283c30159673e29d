import { Cancel } from '../../lib/cancel.js';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { manualClock, runtimeFor } from '../../../test/helpers/fake-context.js';
import { seededRandom } from '../../lib/random.js';
import { MeshBus } from '../../telemetry/bus.js';
import { createEntryContext } from '../entry-context.js';
import type { HopContext, Outcome, Stage } from '../pipeline.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS, hopStage } from './hop.js';

/** A request with no body, as the hop stage reads it. */
function emptyRequest(): http.IncomingMessage {
  const req = new http.IncomingMessage(null as never);
  req.method = 'GET';
  req.url = '/x';
  req.push(null);
  return req;
}

/** Runs the hop stage over one capturing stage; returns the hop context it built. */
async function deadlineOf(servicesYaml: string): Promise<number | undefined> {
  const clock = manualClock(5_000);
  const runtime = runtimeFor(servicesYaml, clock);
  let seen: HopContext | undefined;
  const capture: Stage<HopContext> = {
    name: 'capture',
    handle: (ctx) => {
      seen = ctx;
      return Promise.resolve({ kind: 'reset', injected: true } satisfies Outcome);
    },
  };
  const stage = hopStage(
    'outbound-hop',
    { runtime, bus: new MeshBus(), random: seededRandom(1), clock },
    [capture],
  );
  const ctx = createEntryContext(
    emptyRequest(),
    { listener: 'test', proto: 'http', edge: false, caller: 'web', target: { service: 'api' } },
    clock.now(),
    new Cancel(),
  );
  await stage.handle(ctx, () => Promise.reject(new Error('terminal')));
  return seen?.deadline;
}

describe('hop stage', () => {
  it("gives a call Envoy's 15 s route timeout when the service sets none", async () => {
    expect(await deadlineOf('  api: { port: 1 }\n')).toBe(5_000 + DEFAULT_UPSTREAM_TIMEOUT_MS);
    expect(DEFAULT_UPSTREAM_TIMEOUT_MS).toBe(15_000);
  });

  it("uses the service's timeout, and 0s turns the deadline off", async () => {
    expect(await deadlineOf('  api: { port: 1, timeout: 2s }\n')).toBe(7_000);
    expect(await deadlineOf('  api: { port: 1, timeout: 0s }\n')).toBeUndefined();
  });
});
