import { useCallback, useState } from 'react';
import { loadFavourites, saveFavourites, toggleFavourite } from './favourites';

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** The favourite market ids, remembered in localStorage, and a toggle. */
export function useFavourites() {
  const [favourites, setFavourites] = useState(() => loadFavourites(storage()));
  const toggle = useCallback((id: string) => {
    setFavourites((current) => {
      const next = toggleFavourite(current, id);
      saveFavourites(storage(), next);
      return next;
    });
  }, []);
  return { favourites, toggle };
}
