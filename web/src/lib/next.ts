/**
 * Where to go after signing in: the `next` parameter when it is a path of this site
 * (never another origin: `//evil.example` and `https://…` are refused), else `fallback`.
 */
export function nextPath(search: string, fallback = '/'): string {
  const next = new URLSearchParams(search).get('next');
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return fallback;
  }
  return next;
}
