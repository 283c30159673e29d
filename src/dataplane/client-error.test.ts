import { describe, expect, it } from 'vitest';
import { describeClientError } from './client-error.js';

const parseError = (code: string, reason: string) =>
  Object.assign(new Error(`Parse Error: ${reason}`), { code, reason });

describe('describeClientError', () => {
  it('maps the parser’s errors to the statuses Node and Envoy answer with', () => {
    expect(
      describeClientError(parseError('HPE_INVALID_METHOD', 'Invalid method encountered')),
    ).toEqual({
      status: 400,
      code: 'bad_request',
      detail: 'Invalid method encountered (HPE_INVALID_METHOD)',
    });
    expect(describeClientError(parseError('HPE_HEADER_OVERFLOW', 'Header overflow'))).toMatchObject(
      {
        status: 431,
        code: 'request_headers_too_large',
      },
    );
    const timeout = Object.assign(new Error('Request timeout'), {
      code: 'ERR_HTTP_REQUEST_TIMEOUT',
    });
    expect(describeClientError(timeout)).toMatchObject({ status: 408, code: 'request_timeout' });
  });

  it('has no answer for a client that is gone', () => {
    for (const code of ['ECONNRESET', 'EPIPE'])
      expect(describeClientError(Object.assign(new Error(code), { code }))).toBeUndefined();
  });

  it('names an error without a code by its message', () => {
    expect(describeClientError(new Error('something odd'))).toEqual({
      status: 400,
      code: 'bad_request',
      detail: 'something odd',
    });
  });
});
