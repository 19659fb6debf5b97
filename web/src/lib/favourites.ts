/** Favourite markets: a set of market ids kept in localStorage, shown first. */

export const FAVOURITES_KEY = 'bursa.favourites';

/** Favourites first, each group keeping the order it came in (the API's `position`). */
export function orderByFavourites<T extends { id: string }>(
  markets: readonly T[],
  favourites: ReadonlySet<string>,
): T[] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const market of markets) (favourites.has(market.id) ? first : rest).push(market);
  return first.concat(rest);
}

/** The set with `id` added, or removed when it was there (a new set; the old is untouched). */
export function toggleFavourite(favourites: ReadonlySet<string>, id: string): Set<string> {
  const next = new Set(favourites);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

export function loadFavourites(storage: Pick<Storage, 'getItem'> | undefined): Set<string> {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(FAVOURITES_KEY) ?? '[]');
    return new Set(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

export function saveFavourites(
  storage: Pick<Storage, 'setItem'> | undefined,
  favourites: ReadonlySet<string>,
): void {
  try {
    storage?.setItem(FAVOURITES_KEY, JSON.stringify([...favourites].sort()));
  } catch {
    // Storage full or disabled (private mode): favourites last for this page only.
  }
}
