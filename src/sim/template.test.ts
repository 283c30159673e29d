import { describe, expect, it } from 'vitest';
import { renderTemplate } from './template.js';

const scope = {
  params: { id: '42' },
  query: { x: 'y' },
  body: { qty: 3, nested: { name: 'bolt' } },
  headers: { 'x-user': 'alice' },
};

describe('renderTemplate', () => {
  it('fills params, query, body and headers, keeping the type of a whole placeholder', () => {
    expect(
      renderTemplate(
        {
          id: '{{params.id}}',
          q: 'query={{query.x}}',
          qty: '{{body.qty}}',
          name: '{{ body.nested.name }}',
          who: '{{headers.x-user}}',
        },
        scope,
      ),
    ).toEqual({ id: '42', q: 'query=y', qty: 3, name: 'bolt', who: 'alice' });
  });

  it('renders uuid and now, inside arrays too', () => {
    const [rendered] = renderTemplate([{ id: '{{uuid}}', at: '{{now}}' }], scope) as Array<{
      id: string;
      at: string;
    }>;
    expect(rendered!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(rendered!.at))).toBe(false);
  });

  it('turns a missing value into null (whole) or empty text (inside)', () => {
    expect(renderTemplate({ a: '{{body.none}}', b: 'x{{query.none}}y' }, scope)).toEqual({
      a: null,
      b: 'xy',
    });
  });

  it('leaves numbers, booleans and text without placeholders alone', () => {
    expect(renderTemplate({ n: 1, t: true, s: 'plain' }, scope)).toEqual({
      n: 1,
      t: true,
      s: 'plain',
    });
  });
});
