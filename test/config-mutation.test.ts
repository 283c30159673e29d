import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfigText } from '../src/config/load.js';
import { seededRandom } from '../src/lib/random.js';

const demo = readFileSync('fixtures/configs/valid/full.yaml', 'utf8');
const ODD = [
  '',
  '0',
  '-1',
  '1e309',
  '99999999999999999999',
  'null',
  '~',
  '[]',
  '{}',
  '"\u202e"',
  '\u0000',
  '🦄',
  'ſervices',
  '&a',
  '*a',
  '!!binary AAA',
  '{{',
  ': :',
  '- -',
];

/** One random edit of the config text: delete or duplicate lines, replace values, cut. */
function mutate(text: string, random: () => number): string {
  const lines = text.split('\n');
  const pick = () => Math.floor(random() * lines.length);
  const odd = () => ODD[Math.floor(random() * ODD.length)]!;
  switch (Math.floor(random() * 7)) {
    case 0:
      lines.splice(pick(), 1 + Math.floor(random() * 3));
      break;
    case 1: {
      const i = pick();
      lines.splice(i, 0, lines[i] ?? '');
      break;
    }
    case 2: {
      const i = pick();
      lines[i] = (lines[i] ?? '').replace(/: .*$/, `: ${odd()}`);
      break;
    }
    case 3: {
      const i = pick();
      lines[i] = ' '.repeat(Math.floor(random() * 5)) + (lines[i] ?? '').trimStart();
      break;
    }
    case 4:
      return text.slice(0, Math.floor(random() * text.length));
    case 5: {
      const i = pick();
      lines[i] = (lines[i] ?? '').replace(/\d+/, String(Math.floor(random() * 1e12)));
      break;
    }
    default: {
      const i = pick();
      const at = Math.floor(random() * (lines[i]?.length ?? 0));
      lines[i] = (lines[i] ?? '').slice(0, at) + odd() + (lines[i] ?? '').slice(at);
    }
  }
  return lines.join('\n');
}

describe('config loader under mutation', () => {
  it('500 seeded mutations of a full config only ever raise positioned config errors', () => {
    const random = seededRandom(2026);
    let rejected = 0;
    const started = Date.now();
    for (let i = 0; i < 500; i++) {
      let text = demo;
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, random);
      try {
        loadConfigText(text, 'mutant.yaml', { env: {} });
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          throw new Error(`mutation ${i} threw ${String(error)}\n---\n${text}`);
        }
        rejected++;
        for (const issue of error.issues) {
          expect(issue.file).toBe('mutant.yaml');
          expect(Number.isInteger(issue.line) && issue.line >= 1).toBe(true);
          expect(Number.isInteger(issue.column) && issue.column >= 1).toBe(true);
          expect(issue.message.length).toBeGreaterThan(0);
        }
      }
    }
    // Most mutations break something; a loader that accepted everything would be wrong.
    expect(rejected).toBeGreaterThan(250);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('survives an alias bomb without hanging', () => {
    const bomb = ['version: 1', 'a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    expect(() => loadConfigText(bomb.join('\n'), 'bomb.yaml', { env: {} })).toThrow(ConfigError);
  });
});
