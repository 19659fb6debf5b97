import { api } from './client';

export const CSRF_KEY = 'bursa.csrf';

/**
 * The session's CSRF token, kept where every tab of this origin can read it: Barong checks
 * it (`X-CSRF-Token`) on every cookie-authenticated write. Login, sign-up and `users/me`
 * (called with the cookie alone) hand it out.
 */
export function csrfToken(): string | null {
  try {
    return localStorage.getItem(CSRF_KEY);
  } catch {
    return memoryToken;
  }
}

let memoryToken: string | null = null;

export function rememberCsrf(token: string | null | undefined): void {
  memoryToken = token ?? null;
  try {
    if (token) localStorage.setItem(CSRF_KEY, token);
    else localStorage.removeItem(CSRF_KEY);
  } catch {
    // Storage disabled: the token lives in this page only.
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// Every write carries the CSRF token; reads need none.
api.use({
  onRequest({ request }) {
    const token = csrfToken();
    if (token && WRITES.has(request.method)) request.headers.set('X-CSRF-Token', token);
    return request;
  },
});
