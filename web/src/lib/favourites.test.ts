import { describe, expect, it } from 'vitest';
import {
  FAVOURITES_KEY,
  loadFavourites,
  orderByFavourites,
  saveFavourites,
  toggleFavourite,
} from './favourites';

const markets = [{ id: 'btcusdt' }, { id: 'ethusdt' }, { id: 'ethbtc' }, { id: 'xrpusdt' }];
const ids = (list: { id: string }[]) => list.map((m) => m.id);

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    data,
  };
}

describe('orderByFavourites', () => {
  it('keeps the order when there is no favourite', () => {
    expect(ids(orderByFavourites(markets, new Set()))).toEqual(['btcusdt', 'ethusdt', 'ethbtc', 'xrpusdt']);
  });

  it('puts favourites first, each group in its original order', () => {
    expect(ids(orderByFavourites(markets, new Set(['xrpusdt', 'ethusdt'])))).toEqual([
      'ethusdt',
      'xrpusdt',
      'btcusdt',
      'ethbtc',
    ]);
  });

  it('ignores favourites that are not listed and does not change its input', () => {
    const input = [...markets];
    expect(ids(orderByFavourites(input, new Set(['gone', 'ethbtc'])))).toEqual([
      'ethbtc',
      'btcusdt',
      'ethusdt',
      'xrpusdt',
    ]);
    expect(input).toEqual(markets);
  });
});

describe('toggleFavourite', () => {
  it('adds then removes, returning new sets', () => {
    const none = new Set<string>();
    const one = toggleFavourite(none, 'btcusdt');
    expect([...one]).toEqual(['btcusdt']);
    expect(none.size).toBe(0);
    expect([...toggleFavourite(one, 'btcusdt')]).toEqual([]);
  });
});

describe('favourites storage', () => {
  it('round-trips through storage', () => {
    const storage = memoryStorage();
    saveFavourites(storage, new Set(['ethusdt', 'btcusdt']));
    expect(storage.data.get(FAVOURITES_KEY)).toBe('["btcusdt","ethusdt"]');
    expect([...loadFavourites(storage)].sort()).toEqual(['btcusdt', 'ethusdt']);
  });

  it('reads bad or missing data as no favourites', () => {
    expect(loadFavourites(memoryStorage()).size).toBe(0);
    expect(loadFavourites(memoryStorage({ [FAVOURITES_KEY]: '{oops' })).size).toBe(0);
    expect([...loadFavourites(memoryStorage({ [FAVOURITES_KEY]: '["a", 1, null]' }))]).toEqual(['a']);
    expect(loadFavourites(undefined).size).toBe(0);
  });
});
