/**
 * The bench's JSON service: the body `startJsonUpstream` answers `GET /items` with (~0.9
 * KiB), the schema of that answer, and the OpenAPI document declaring it — every response
 * body of the contracts scenario is checked against it.
 */

const items = Array.from({ length: 16 }, (_, i) => ({
  id: i + 1,
  name: `item-${i}`,
  price: i * 1.5,
  tags: ['a', 'b'],
}));

/** What the JSON service answers, as sent. */
export const ITEMS_BODY = JSON.stringify({ items, total: items.length });

/** The schema of `ITEMS_BODY`, as the spec declares it. */
export const ITEMS_SCHEMA = {
  type: 'object',
  required: ['items', 'total'],
  properties: {
    total: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name'],
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          price: { type: 'number' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

/** The OpenAPI document of the JSON service. */
export const ITEMS_SPEC = JSON.stringify({
  openapi: '3.1.0',
  info: { title: 'items', version: '1' },
  paths: {
    '/items': {
      get: {
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } }],
        responses: {
          '200': {
            description: 'items',
            content: { 'application/json': { schema: ITEMS_SCHEMA } },
          },
        },
      },
    },
  },
});
