import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../config/load.js';
import { MeshBus } from '../telemetry/bus.js';
import { seededRandom } from '../lib/random.js';
import { manualClock } from '../../test/helpers/fake-context.js';
import {
  gatewayEntry,
  inboundEntry,
  outboundEntry,
  outboundStages,
  upgradeHopStages,
} from './entries.js';
import { Forwarder } from './forwarder.js';
import { MeshRuntime } from './runtime.js';
import { edgeFor } from '../edge/api-edge.js';
import { PlanLimits } from '../edge/plan-limits.js';
import { QuotaStore } from '../edge/quota-store.js';

const config = loadConfigText(
  'version: 1\nmesh: { name: unit, ports: { from: 0 } }\nservices:\n  api: { port: 1 }\n',
  'unit.yaml',
  { env: {} },
);
const forwarder = new Forwarder();
const deps = {
  runtime: new MeshRuntime(config),
  bus: new MeshBus(),
  random: seededRandom(1),
  clock: manualClock(),
  forwarder,
  tlsFor: () => undefined,
};
const names = (stages: ReadonlyArray<{ name: string }>) => stages.map((stage) => stage.name);

describe('entry pipelines', () => {
  it('the outbound hop runs route → split → headers → authorize → contract → mirror → breaker → retry → timeout → fault → upstream', () => {
    expect(names(outboundStages(forwarder))).toEqual([
      'route',
      'split',
      'headers',
      'authorize',
      'contract',
      'mirror',
      'breaker',
      'retry',
      'timeout',
      'fault',
      'upstream',
    ]);
  });

  it('the upgrade hop runs route → split → headers → authorize → tunnel', () => {
    expect(names(upgradeHopStages())).toEqual(['route', 'split', 'headers', 'authorize', 'tunnel']);
  });

  it('the gateway runs normalize → cors → gateway-route → authenticate → limit → the hop', () => {
    const edge = {
      edge: () => edgeFor(config, undefined),
      limits: new PlanLimits(new QuotaStore()),
    };
    const entry = gatewayEntry({ routes: [] }, deps, 'token', edge);
    expect(names(entry.http)).toEqual([
      'normalize',
      'cors',
      'gateway-route',
      'authenticate',
      'limit',
      'outbound-hop',
    ]);
    expect(names(entry.upgrade)).toEqual([
      'normalize',
      'gateway-route',
      'authenticate',
      'limit',
      'upgrade-hop',
    ]);
  });

  it('an outbound listener runs normalize → the hop', () => {
    const entry = outboundEntry(deps);
    expect(names(entry.http)).toEqual(['normalize', 'outbound-hop']);
    expect(names(entry.upgrade)).toEqual(['normalize', 'upgrade-hop']);
  });

  it('an inbound listener runs normalize → identify → authorize → authenticate → forward (or tunnel)', () => {
    const service = config.services[0]!;
    const entry = inboundEntry({
      mesh: config.mesh,
      service: () => service,
      instance: service.instances[0]!,
      appPort: () => 1,
      forwarder,
      warn: () => {},
      edge: () => edgeFor(config, undefined),
    });
    expect(names(entry.http)).toEqual([
      'normalize',
      'identify',
      'authorize',
      'authenticate',
      'forward',
    ]);
    expect(names(entry.upgrade)).toEqual([
      'normalize',
      'identify',
      'authorize',
      'authenticate',
      'tunnel',
    ]);
  });
});
