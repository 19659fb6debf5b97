import { describe, expect, it } from 'vitest';
import { filledSince, isOpen, orderFromStream, orderTime, upsertOpenOrder, type OrderRow } from './orderRows';

function row(id: number, changes: Partial<OrderRow> = {}): OrderRow {
  return {
    id,
    market: 'btcusdt',
    side: 'buy',
    ord_type: 'limit',
    price: '100',
    avg_price: '0',
    state: 'wait',
    origin_volume: '1',
    remaining_volume: '1',
    executed_volume: '0',
    created_at: '2026-01-01T00:00:00+00:00',
    trades_count: 0,
    time_in_force: 'gtc',
    post_only: false,
    ...changes,
  };
}

const STREAM = {
  id: 7,
  market: 'btcusdt',
  kind: 'bid',
  side: 'buy',
  ord_type: 'limit',
  price: '100',
  avg_price: '100',
  state: 'wait',
  origin_volume: '1',
  remaining_volume: '0.4',
  executed_volume: '0.6',
  at: 1767225600,
  created_at: 1767225600,
  updated_at: 1767225601,
  trades_count: 1,
};

describe('orderFromStream', () => {
  it('reads Peatio’s order message', () => {
    expect(orderFromStream(STREAM)).toEqual({
      id: 7,
      market: 'btcusdt',
      side: 'buy',
      ord_type: 'limit',
      price: '100',
      avg_price: '100',
      state: 'wait',
      origin_volume: '1',
      remaining_volume: '0.4',
      executed_volume: '0.6',
      created_at: 1767225600,
      trades_count: 1,
    });
    expect(orderFromStream({ ...STREAM, price: null })?.price).toBeNull();
  });

  it('refuses what is not an order', () => {
    expect(orderFromStream(null)).toBeNull();
    expect(orderFromStream('wait')).toBeNull();
    expect(orderFromStream({ ...STREAM, id: '7' })).toBeNull();
    expect(orderFromStream({ ...STREAM, executed_volume: 0.6 })).toBeNull();
    expect(orderFromStream({ ...STREAM, created_at: undefined })).toBeNull();
  });
});

describe('upsertOpenOrder', () => {
  it('adds a new open order on top, newest first', () => {
    expect(upsertOpenOrder([row(2), row(1)], row(3)).map((r) => r.id)).toEqual([3, 2, 1]);
  });

  it('updates a known order, keeping what the stream does not carry', () => {
    const next = upsertOpenOrder([row(1, { time_in_force: 'gtc', post_only: true })], {
      ...row(1, { executed_volume: '0.5', remaining_volume: '0.5', trades_count: 1 }),
      time_in_force: undefined,
      post_only: undefined,
    });
    expect(next).toHaveLength(1);
    expect(next[0]!.executed_volume).toBe('0.5');
    expect(next[0]!.post_only).toBe(true);
  });

  it('drops an order once done or cancelled', () => {
    expect(upsertOpenOrder([row(2), row(1)], row(1, { state: 'done', trades_count: 1 }))).toEqual([row(2)]);
    expect(upsertOpenOrder([row(1)], row(1, { state: 'cancel' }))).toEqual([]);
    expect(upsertOpenOrder([], row(1, { state: 'cancel' }))).toEqual([]);
  });

  it('ignores an older view of an order', () => {
    const list = [row(1, { executed_volume: '0.5', trades_count: 2 })];
    expect(upsertOpenOrder(list, row(1, { executed_volume: '0.2', trades_count: 1 }))).toEqual(list);
  });
});

describe('helpers', () => {
  it('tells open states', () => {
    expect(isOpen('wait')).toBe(true);
    expect(isOpen('pending')).toBe(true);
    expect(isOpen('done')).toBe(false);
    expect(isOpen('cancel')).toBe(false);
  });

  it('measures what was filled since, exactly', () => {
    expect(filledSince('0', '0.6')).toBe('0.6');
    expect(filledSince('0.1', '0.3')).toBe('0.2');
    expect(filledSince('0.3', '0.3')).toBeNull();
    expect(filledSince('0.5', '0.3')).toBeNull();
    expect(filledSince('x', '0.3')).toBeNull();
  });

  it('reads both time formats', () => {
    expect(orderTime(1767225600)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(orderTime('2026-01-01T00:00:00+00:00')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(orderTime('soon')).toBeNull();
  });
});
