/**
 * A member's order as the lists show it, from either source: the REST API's `UserOrder`
 * (ISO times, every field) or the private `order` stream (Unix seconds, Peatio's fields
 * only). Pure functions, so the live list's rules are tested without a browser.
 */
import Big from 'big.js';

export interface OrderRow {
  id: number;
  market: string;
  side: string;
  ord_type: string;
  price: string | null;
  avg_price: string;
  state: string;
  origin_volume: string;
  remaining_volume: string;
  executed_volume: string;
  /** ISO text (REST) or Unix seconds (stream). */
  created_at: string | number;
  trades_count: number;
  time_in_force?: string;
  post_only?: boolean;
}

/** A list page and the `Total` the API counted. */
export interface Page<T> {
  rows: T[];
  total: number;
}

/** Peatio's open states (Bursa answers only `wait`; `pending` is Peatio's before matching). */
export function isOpen(state: string): boolean {
  return state === 'wait' || state === 'pending';
}

const TEXT_FIELDS = [
  'market',
  'side',
  'ord_type',
  'avg_price',
  'state',
  'origin_volume',
  'remaining_volume',
  'executed_volume',
] as const;

/** An `order` stream payload as a row, or null when it is not one. */
export function orderFromStream(payload: unknown): OrderRow | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const v = payload as Record<string, unknown>;
  if (typeof v.id !== 'number') return null;
  if (TEXT_FIELDS.some((name) => typeof v[name] !== 'string')) return null;
  if (v.price !== null && typeof v.price !== 'string') return null;
  const created = v.created_at;
  if (typeof created !== 'number' && typeof created !== 'string') return null;
  const row: OrderRow = {
    id: v.id,
    market: v.market as string,
    side: v.side as string,
    ord_type: v.ord_type as string,
    price: v.price as string | null,
    avg_price: v.avg_price as string,
    state: v.state as string,
    origin_volume: v.origin_volume as string,
    remaining_volume: v.remaining_volume as string,
    executed_volume: v.executed_volume as string,
    created_at: created,
    trades_count: typeof v.trades_count === 'number' ? v.trades_count : 0,
  };
  return row;
}

/**
 * The open orders after `incoming` (newest first): an older view of an order than the
 * one listed (fewer trades) is ignored; a closed order leaves; a new open one is added on
 * top; a known one is updated, keeping the fields the stream does not carry.
 */
export function upsertOpenOrder(list: readonly OrderRow[], incoming: OrderRow): OrderRow[] {
  const index = list.findIndex((row) => row.id === incoming.id);
  const known = index >= 0 ? list[index] : undefined;
  if (known && incoming.trades_count < known.trades_count) return [...list];
  if (!isOpen(incoming.state)) return list.filter((row) => row.id !== incoming.id);
  if (!known) return [incoming, ...list].sort((a, b) => b.id - a.id);
  const next = [...list];
  next[index] = mergeDefined(known, incoming);
  return next;
}

/** `known` with every field `incoming` has a value for replaced. */
function mergeDefined(known: OrderRow, incoming: OrderRow): OrderRow {
  const merged: Record<string, unknown> = { ...known };
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged as unknown as OrderRow;
}

/** How much more of an order was executed since `before` (positive), else null. */
export function filledSince(before: string, after: string): string | null {
  try {
    const delta = new Big(after).minus(before);
    return delta.gt(0) ? delta.toFixed() : null;
  } catch {
    return null;
  }
}

/** An order time as a Date (Unix seconds from the stream, ISO text from REST). */
export function orderTime(value: string | number): Date | null {
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
