/**
 * A generated OpenAPI 3.1 document with `count` operations (path, query and header
 * parameters, request and response bodies with shared `$ref`d schemas), for the spec
 * load + compile benchmark.
 */
export function generatedSpec(count: number): string {
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < count / 2; i++) {
    const item = {
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
      ],
      get: {
        operationId: `get${i}`,
        parameters: [
          {
            name: 'expand',
            in: 'query',
            schema: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
          },
          {
            name: 'x-tenant',
            in: 'header',
            required: true,
            schema: { type: 'string', pattern: '^t-[0-9]+$' },
          },
        ],
        responses: {
          '200': {
            description: 'ok',
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/Thing${i % 20}` } },
            },
          },
          default: {
            description: 'error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
      put: {
        operationId: `put${i}`,
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: `#/components/schemas/Thing${i % 20}` } },
          },
        },
        responses: {
          '204': { description: 'saved' },
          '4XX': {
            description: 'refused',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        },
      },
    };
    paths[`/things${i}/{id}`] = item;
  }
  const schemas: Record<string, unknown> = {
    Problem: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
  };
  for (let i = 0; i < 20; i++) {
    schemas[`Thing${i}`] = {
      type: 'object',
      required: ['id', 'name'],
      properties: {
        id: { type: 'integer', readOnly: true },
        name: { type: 'string', minLength: 1 },
        tags: { type: 'array', items: { type: 'string' } },
        price: { type: ['number', 'null'] },
        owner: { $ref: '#/components/schemas/Problem' },
      },
      unevaluatedProperties: false,
    };
  }
  return JSON.stringify({
    openapi: '3.1.0',
    info: { title: 'generated', version: '1' },
    paths,
    components: { schemas },
  });
}
