import { describe, expect, it } from 'vitest';
import { compareDecimal, fromUnits, toUnits } from './decimal';
import {
  type BookAction,
  type BookState,
  bookReducer,
  bookView,
  groupLevels,
  initialBook,
} from './orderBook';

const snapshot = (sequence = 1): BookAction => ({
  type: 'snapshot',
  payload: {
    asks: [
      ['101', '2'],
      ['100.5', '1.5'],
    ],
    bids: [
      ['99', '3'],
      ['99.5', '0.25'],
    ],
    sequence,
  },
});

const inc = (sequence: number, side: 'asks' | 'bids', price: string, volume: string): BookAction => ({
  type: 'increment',
  payload: { [side]: [price, volume], sequence },
});

function run(...actions: BookAction[]): BookState {
  return actions.reduce(bookReducer, initialBook);
}

describe('order book reducer', () => {
  it('starts from the snapshot, best prices first', () => {
    const book = run(snapshot(7));
    expect(book.status).toBe('live');
    expect(book.sequence).toBe(7);
    expect(book.asks).toEqual([
      ['100.5', '1.5'],
      ['101', '2'],
    ]);
    expect(book.bids).toEqual([
      ['99.5', '0.25'],
      ['99', '3'],
    ]);
  });

  it('adds, changes and removes levels', () => {
    const book = run(
      snapshot(1),
      inc(2, 'asks', '100.75', '4'), // add between two asks
      inc(3, 'bids', '99', '1.125'), // change
      inc(4, 'asks', '101', ''), // remove
      inc(5, 'bids', '100', '0.5'), // new best bid
      inc(6, 'bids', '98', ''), // removing a level that is not there changes nothing
    );
    expect(book.status).toBe('live');
    expect(book.sequence).toBe(6);
    expect(book.asks).toEqual([
      ['100.5', '1.5'],
      ['100.75', '4'],
    ]);
    expect(book.bids).toEqual([
      ['100', '0.5'],
      ['99.5', '0.25'],
      ['99', '1.125'],
    ]);
  });

  it('matches prices by value, not by spelling', () => {
    const book = run(snapshot(1), inc(2, 'asks', '100.50', ''));
    expect(book.asks).toEqual([['101', '2']]);
  });

  it('marks the book stale on a gap and recovers with the next snapshot', () => {
    const before = run(snapshot(1), inc(2, 'asks', '102', '1'));
    const gapped = bookReducer(before, inc(4, 'asks', '103', '1'));
    expect(gapped.status).toBe('stale');
    expect(gapped.asks).toBe(before.asks); // still shown (dimmed), not changed
    // Increments of the old subscription are ignored while waiting.
    expect(bookReducer(gapped, inc(3, 'asks', '104', '1'))).toBe(gapped);
    const recovered = bookReducer(gapped, {
      type: 'snapshot',
      payload: { asks: [['105', '1']], bids: [], sequence: 40 },
    });
    expect(recovered).toEqual({ status: 'live', sequence: 40, asks: [['105', '1']], bids: [] });
    expect(bookReducer(recovered, inc(41, 'bids', '90', '2')).bids).toEqual([['90', '2']]);
  });

  it('treats a repeated or malformed increment as a gap', () => {
    expect(bookReducer(run(snapshot(3)), inc(3, 'asks', '1', '1')).status).toBe('stale');
    expect(
      bookReducer(run(snapshot(3)), { type: 'increment', payload: { asks: ['x', '1'], sequence: 4 } }).status,
    ).toBe('stale');
  });

  it('ignores increments before the first snapshot', () => {
    const book = run(inc(1, 'asks', '100', '1'), inc(2, 'bids', '99', '1'));
    expect(book).toBe(initialBook);
    expect(bookReducer(book, snapshot(5)).asks).toHaveLength(2);
  });

  it('starts over on reset (a new connection)', () => {
    expect(bookReducer(run(snapshot(3)), { type: 'reset' })).toBe(initialBook);
  });
});

describe('grouping', () => {
  const asks = [
    ['100.01', '1'],
    ['100.09', '0.5'],
    ['100.1', '2'],
    ['100.11', '0.001'],
  ] as const;
  const bids = [
    ['99.99', '1'],
    ['99.91', '0.5'],
    ['99.9', '2'],
    ['99.89', '0.001'],
  ] as const;

  it('rounds asks up and bids down, summing volumes exactly', () => {
    expect(groupLevels(asks, 'asks', 1)).toEqual([
      ['100.1', '3.5'],
      ['100.2', '0.001'],
    ]);
    expect(groupLevels(bids, 'bids', 1)).toEqual([
      ['99.9', '3.5'],
      ['99.8', '0.001'],
    ]);
  });

  it('groups by steps above one', () => {
    expect(groupLevels(asks, 'asks', -1)).toEqual([['110', '3.501']]);
    expect(groupLevels(bids, 'bids', -1)).toEqual([['90', '3.501']]);
    expect(groupLevels(asks, 'asks', 0)).toEqual([['101', '3.501']]);
  });

  it('adds volumes without floating point error', () => {
    expect(
      groupLevels(
        [
          ['1.01', '0.1'],
          ['1.02', '0.2'],
        ],
        'bids',
        1,
      ),
    ).toEqual([['1', '0.3']]);
  });
});

describe('cumulative depth', () => {
  const book = {
    asks: [
      ['100', '1'],
      ['101', '2'],
      ['102', '3'],
    ],
    bids: [
      ['99', '0.5'],
      ['98', '0.25'],
    ],
  } as const;

  it('sums from the best price outwards, bars on one scale for both sides', () => {
    const view = bookView(book, null, 50);
    expect(view.asks.map((row) => [row.price, row.total, row.depth])).toEqual([
      ['100', '1', 16.66],
      ['101', '3', 50],
      ['102', '6', 100],
    ]);
    expect(view.bids.map((row) => [row.total, row.depth])).toEqual([
      ['0.5', 8.33],
      ['0.75', 12.5],
    ]);
    expect(view.spread).toBe('1');
  });

  it('cuts each side to the limit before scaling the bars', () => {
    const view = bookView(book, null, 2);
    expect(view.asks.map((row) => row.depth)).toEqual([33.33, 100]);
    expect(view.bids).toHaveLength(2);
  });

  it('groups before summing', () => {
    const view = bookView(book, -1, 50);
    expect(view.asks).toEqual([
      { price: '100', volume: '1', total: '1', depth: 16.66 },
      {
        price: '110',
        volume: '5',
        total: '6',
        depth: 100,
      },
    ]);
    expect(view.bids).toEqual([{ price: '90', volume: '0.75', total: '0.75', depth: 12.5 }]);
  });

  it('has no spread when a side is empty', () => {
    expect(bookView({ asks: [], bids: book.bids }, null, 10).spread).toBeNull();
  });
});

describe('decimal helpers', () => {
  it('compares by value', () => {
    expect(compareDecimal('2', '10')).toBeLessThan(0);
    expect(compareDecimal('1.5', '1.50')).toBe(0);
    expect(compareDecimal('0.09', '0.1')).toBeLessThan(0);
    expect(compareDecimal('007', '7.0')).toBe(0);
  });

  it('converts to and from scaled integers', () => {
    expect(toUnits('12.3', 3)).toBe(12300n);
    expect(fromUnits(12300n, 3)).toBe('12.3');
    expect(fromUnits(5n, 3)).toBe('0.005');
    expect(fromUnits(12n, -1)).toBe('120');
    expect(toUnits('123456789012345678.123456789', 9)).toBe(123456789012345678123456789n);
  });
});
