import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { configJsonSchema, SHIPPED_SCHEMA_PATH } from '../src/config/json-schema.js';
import { loadConfigFile } from '../src/config/load.js';

const brokenDir = path.resolve('fixtures/configs/broken');
const validDir = path.resolve('fixtures/configs/valid');
const expected = JSON.parse(readFileSync(path.join(brokenDir, 'expected.json'), 'utf8')) as Record<
  string,
  Array<{ line: number; column: number; path: string; message: string }>
>;
const brokenFiles = readdirSync(brokenDir).filter((f) => f.endsWith('.yaml'));
const validFiles = readdirSync(validDir).filter((f) => f.endsWith('.yaml'));

function issuesOf(file: string) {
  try {
    loadConfigFile(file, { env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`${file} loaded without errors`);
}

describe('broken configs', () => {
  it('has at least 25 broken fixtures, each with expectations', () => {
    expect(brokenFiles.length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(expected).sort()).toEqual([...brokenFiles].sort());
  });

  it.each(brokenFiles)('%s reports exactly its expected errors', (name) => {
    const issues = issuesOf(path.join(brokenDir, name));
    expect(
      issues.map(({ line, column, path: key, message }) => ({ line, column, path: key, message })),
    ).toEqual(expected[name]);
    for (const issue of issues) expect(issue.source).toBeTypeOf('string');
  });

  it('reports all five mistakes of one file in one run', () => {
    expect(issuesOf(path.join(brokenDir, '32-five-mistakes.yaml'))).toHaveLength(5);
  });
});

describe('valid configs', () => {
  it.each(validFiles)('%s loads and is frozen', (name) => {
    const config = loadConfigFile(path.join(validDir, name), { env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.services[0])).toBe(true);
  });

  it('normalizes durations, sizes, defaults and outbound ports', () => {
    const config = loadConfigFile(path.join(validDir, 'full.yaml'), { env: {} });
    expect(config.mesh.certTtlMs).toBe(12 * 3_600_000);
    const orders = config.services.find((s) => s.name === 'orders')!;
    expect(orders.timeoutMs).toBe(3000);
    expect(orders.retries).toEqual({
      attempts: 2,
      perTryTimeoutMs: 1000,
      retryOn: ['5xx', 'reset', 'connect-failure', 429],
    });
    expect(orders.instances[0]!.env).toEqual({ LOG_LEVEL: 'debug', WORKERS: '2' });
    const payments = config.services.find((s) => s.name === 'payments')!;
    expect(payments.faults[3]!.bandwidth).toEqual({ bytesPerSecond: 65536, percent: 20 });
    expect(payments.faults[1]!.delay).toEqual({ p50Ms: 20, p99Ms: 300, percent: 1.5 });
    expect(config.outbound).toEqual([
      { caller: 'orders', service: 'payments', port: 16100, envVar: 'PAYMENTS_URL' },
      { caller: 'orders', service: 'inventory', port: 16101, envVar: 'INVENTORY_URL' },
      { caller: 'inventory', service: 'payments', port: 16102, envVar: 'PAYMENTS_URL' },
    ]);
    // Default allow list: the services that declare inventory upstream.
    const inventory = config.services.find((s) => s.name === 'inventory')!;
    expect(inventory.allow).toEqual([{ from: 'orders' }]);
  });
});

describe('JSON Schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(configJsonSchema());

  it('is identical to the shipped schema/mesh.config.schema.json', () => {
    expect(JSON.parse(readFileSync(SHIPPED_SCHEMA_PATH, 'utf8'))).toEqual(configJsonSchema());
  });

  it.each(validFiles)('accepts valid fixture %s', (name) => {
    const data = parse(readFileSync(path.join(validDir, name), 'utf8'));
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true);
  });

  // Fixtures whose problems are structural (types, ranges, unknown keys), not cross-field.
  const structural = [
    '01-unknown-key-typo.yaml',
    '02-unknown-top-level-key.yaml',
    '03-duration-bare-number.yaml',
    '04-duration-bad-unit.yaml',
    '05-port-out-of-range.yaml',
    '06-port-not-a-number.yaml',
    '20-percent-over-100.yaml',
    '21-abort-status-out-of-range.yaml',
    '23-mtls-bad-enum.yaml',
    '27-retry-on-unknown.yaml',
    '31-version-missing.yaml',
  ];
  it.each(structural)('rejects structurally broken fixture %s', (name) => {
    const data = parse(readFileSync(path.join(brokenDir, name), 'utf8'));
    expect(validate(data)).toBe(false);
  });
});
