import { describe, expect, it } from 'vitest';
import { ApiError, NETWORK_ERROR, errorCodes, unwrap } from './client';

const response = (status: number) => new Response(null, { status });

describe('errorCodes', () => {
  it('reads the API error body', () => {
    expect(errorCodes({ errors: ['public.market.doesnt_exist'] }, 422)).toEqual([
      'public.market.doesnt_exist',
    ]);
  });
  it('falls back to the HTTP status', () => {
    expect(errorCodes({ detail: 'x' }, 502)).toEqual(['http.502']);
    expect(errorCodes(undefined, 500)).toEqual(['http.500']);
    expect(errorCodes({ errors: [] }, 404)).toEqual(['http.404']);
  });
});

describe('unwrap', () => {
  it('returns the data of a success', async () => {
    await expect(unwrap(Promise.resolve({ data: [1], response: response(200) }))).resolves.toEqual([1]);
  });
  it('throws the codes of a failure', async () => {
    const failure = unwrap(
      Promise.resolve({ error: { errors: ['jwt.decode_and_verify'] }, response: response(401) }),
    );
    await expect(failure).rejects.toEqual(new ApiError(['jwt.decode_and_verify'], 401));
  });
  it('names a network failure', async () => {
    await expect(unwrap(Promise.reject(new TypeError('Failed to fetch')))).rejects.toEqual(
      new ApiError([NETWORK_ERROR], null),
    );
  });
});
