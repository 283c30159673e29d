/**
 * The contract mock (`sim: { spec: true }`) decides as Prism's mock does: route (404/405),
 * security (401), validation (the spec's 422/400/default, else a problem+json 422 listing
 * the violations), then the status asked for, the media type `Accept` prefers and the
 * example named. Decided here without a mesh, exactly; `modes.test.ts` sends real requests.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadContract, type Contract } from '../../src/contracts/contract.js';
import { mockAnswer, type MockRequest } from '../../src/contracts/mock.js';

const PETS = path.resolve('fixtures/contracts/pets.openapi.yaml');
/** How messages name the spec: relative to the working directory. */
const SHOWN = 'fixtures/contracts/pets.openapi.yaml';
let contract: Contract;
beforeAll(async () => {
  contract = await loadContract(PETS);
});

/** Asks the mock; the answer with its body parsed when it is JSON. */
function ask(method: string, target: string, headers: MockRequest['headers'] = {}, body = '') {
  const [pathname, query = ''] = target.split('?');
  const answer = mockAnswer(contract, {
    method,
    pathname: pathname!,
    query,
    headers,
    body: Buffer.from(body),
  });
  const text = answer.body?.toString('utf8');
  const json = /json/.test(answer.headers['content-type'] ?? '') && text ? JSON.parse(text) : text;
  return { status: answer.status, headers: answer.headers, body: json as unknown };
}

describe('the route', () => {
  it('an undeclared path is 404 NO_PATH_MATCHED_ERROR, as problem+json', () => {
    const answer = ask('GET', '/owners');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toMatchObject({
      type: 'https://meshdev.local/problems/mock#NO_PATH_MATCHED_ERROR',
      status: 404,
      detail: `no path of ${SHOWN} matches /owners`,
    });
  });

  it('an undeclared method is 405 with Allow naming the declared ones', () => {
    const answer = ask('PUT', '/pets/1');
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, DELETE');
    expect(answer.body).toMatchObject({ detail: '/pets/{id} declares GET, DELETE, not PUT' });
  });
});

describe('a valid request', () => {
  it('gets the lowest 2xx, its required headers, and a value generated from the schema', () => {
    const answer = ask('GET', '/pets');
    expect(answer).toEqual({
      status: 200,
      headers: { 'x-total': '3', 'content-type': 'application/json' },
      body: [{ id: 0, name: 'doggie', photoUrls: ['string'] }],
    });
  });

  it('gets the first example, or the one Prefer: example= or ?__example= names ($ref followed)', () => {
    expect(ask('GET', '/pets/7').body).toEqual({ id: 2, name: 'Fluffy', photoUrls: [] });
    expect(ask('GET', '/pets/7', { prefer: 'example=dog' }).body).toMatchObject({ name: 'Spot' });
    expect(ask('GET', '/pets/7?__example=dog').body).toMatchObject({ name: 'Spot' });
    const unknown = ask('GET', '/pets/7', { prefer: 'example=bird' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      type: 'https://meshdev.local/problems/mock#NOT_FOUND',
      detail: 'application/json of the 200 answer has no example named bird',
    });
  });

  it('gets the status Prefer: code= or ?__code= asks for; an undeclared one is 404', () => {
    expect(ask('GET', '/pets/7', { prefer: 'code=404' })).toMatchObject({
      status: 404,
      body: { message: 'not found' },
    });
    expect(ask('GET', '/pets/7?__code=404').status).toBe(404);
    const undeclared = ask('GET', '/pets/7', { prefer: 'code=418' });
    expect(undeclared.status).toBe(404);
    expect(undeclared.body).toMatchObject({
      detail: 'status 418 is not declared for GET /pets/{id} (declared: 200, 404)',
    });
    // A range or default declared: the asked-for status itself.
    expect(ask('GET', '/notes', { prefer: 'code=503' })).toMatchObject({
      status: 503,
      headers: { 'content-type': 'application/json' },
    });
    expect(ask('GET', '/notes', { prefer: 'code=206' }).status).toBe(206);
  });

  it('gets the media type Accept prefers, q-values and ranges included; none declared is 406', () => {
    expect(ask('GET', '/pets', { accept: 'application/xml' })).toMatchObject({
      headers: { 'content-type': 'application/xml' },
      body: '<pets/>',
    });
    const json = ask('GET', '/pets', { accept: 'application/xml;q=0.5, application/json' });
    expect(json.headers['content-type']).toBe('application/json');
    expect(ask('GET', '/pets', { accept: 'text/html, */*;q=0.1' }).headers['content-type']).toBe(
      'application/json',
    );
    const refused = ask('GET', '/pets', { accept: 'text/csv' });
    expect(refused.status).toBe(406);
    expect(refused.body).toMatchObject({
      type: 'https://meshdev.local/problems/mock#NOT_ACCEPTABLE',
      detail:
        '200 of this operation is declared as application/json, application/xml, none of which the Accept header (text/csv) takes',
    });
    // A declared range answers with the concrete type asked for within it, else text/plain.
    expect(ask('GET', '/notes', { accept: 'text/markdown' })).toMatchObject({
      status: 200,
      headers: { 'content-type': 'text/markdown' },
      body: 'a note',
    });
    expect(ask('GET', '/notes').headers['content-type']).toBe('text/plain');
    expect(ask('GET', '/notes', { accept: 'image/png' }).status).toBe(406);
  });

  it('HEAD is answered as GET, with the body the sim will not send', () => {
    const answer = ask('HEAD', '/pets/7');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: 2, name: 'Fluffy', photoUrls: [] });
  });

  it('an operation without content answers its status with no body', () => {
    expect(ask('DELETE', '/pets/7')).toEqual({ status: 204, headers: {}, body: undefined });
  });
});

describe('an invalid request', () => {
  it('gets the spec’s own 422 when it declares one (validation before Prefer)', () => {
    const answer = ask(
      'POST',
      '/pets',
      { 'content-type': 'application/json', prefer: 'code=201' },
      '{"nome":"x"}',
    );
    expect(answer).toMatchObject({ status: 422, body: { message: 'name is required' } });
  });

  it('gets the spec’s 400 when it declares no 422', () => {
    expect(ask('DELETE', '/pets/abc').status).toBe(400);
  });

  it('gets a generated problem+json 422 listing each violation where the spec declares neither', () => {
    const answer = ask('GET', '/pets/abc');
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      type: 'https://meshdev.local/problems/mock#UNPROCESSABLE_ENTITY',
      title: 'Invalid request',
      status: 422,
      detail: `the request breaks GET /pets/{id} of ${SHOWN}, which declares no 422 or 400 answer`,
      validation: [
        {
          location: ['path', 'id'],
          severity: 'Error',
          code: 'type',
          message: 'id must be integer',
        },
      ],
    });
    const query = ask('GET', '/pets?limit=1000');
    expect(query.status).toBe(422);
    expect(query.body).toMatchObject({
      validation: [{ location: ['query', 'limit'], code: 'maximum' }],
    });
  });

  it('an undeclared content type is 415; a missing required body is 422', () => {
    const wrongType = ask('POST', '/pets', { 'content-type': 'text/plain' }, 'rex');
    expect(wrongType).toMatchObject({
      status: 415,
      body: {
        type: 'https://meshdev.local/problems/mock#UNSUPPORTED_MEDIA_TYPE',
        detail: 'content type text/plain is not declared for this request body',
      },
    });
    expect(ask('POST', '/pets', { 'content-type': 'application/json' }).status).toBe(422);
  });

  it('without a credential any security alternative needs: 401 with a challenge per scheme', () => {
    const answer = ask('GET', '/secure');
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(
      'Key realm="meshdev", header="x-api-key", Bearer realm="meshdev"',
    );
    expect(answer.body).toMatchObject({ type: 'https://meshdev.local/problems/mock#UNAUTHORIZED' });
    expect(ask('GET', '/secure', { 'x-api-key': 'k' }).status).toBe(200);
    expect(ask('GET', '/secure', { authorization: 'Bearer t' }).status).toBe(200);
  });
});
