import createClient from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The one typed client of the Bursa API: same-origin `/api/v2/...` requests with the
 * session cookie (`credentials: 'include'`). Paths, parameters and bodies are checked
 * against `schema.d.ts`, generated from `openapi.json` by `npm run gen:api`.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'include' });

/** Any failed call: the API's `{"errors": [codes]}`, or a code of our own. */
export class ApiError extends Error {
  constructor(
    readonly codes: readonly string[],
    readonly status: number | null,
  ) {
    super(codes.join(', '));
    this.name = 'ApiError';
  }
}

/** Codes made up here, for failures that carry no `errors` body. */
export const NETWORK_ERROR = 'client.network_error';
export const UNEXPECTED_RESPONSE = 'client.unexpected_response';

/** The error codes of a failed response body (`{"errors": [...]}`), or `http.<status>`. */
export function errorCodes(body: unknown, status: number): string[] {
  if (typeof body === 'object' && body !== null && 'errors' in body) {
    const errors = (body as { errors: unknown }).errors;
    if (Array.isArray(errors)) {
      const codes = errors.filter((code): code is string => typeof code === 'string');
      if (codes.length > 0) return codes;
    }
  }
  return [`http.${status}`];
}

/**
 * Awaits an openapi-fetch call and returns its typed `data`, or throws an `ApiError`.
 * `api.GET(...)` keeps every type; this only turns failures into one error shape.
 */
export async function unwrap<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D> {
  let result: Awaited<typeof call>;
  try {
    result = await call;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError([NETWORK_ERROR], null);
  }
  const { data, error, response } = result;
  if (!response.ok) throw new ApiError(errorCodes(error, response.status), response.status);
  if (data === undefined) throw new ApiError([UNEXPECTED_RESPONSE], response.status);
  return data;
}
