import { isDecimal } from '../book/decimal';

/** One public trade, from the REST list or the `<m>.trades` stream. */
export interface PublicTrade {
  tid: number;
  /** The taker's side: `buy` lifted an ask (price shown as a rise), `sell` hit a bid. */
  takerType: string;
  /** Unix seconds. */
  date: number;
  price: string;
  amount: string;
}

/** Rows kept and shown. */
export const TRADES_SHOWN = 50;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A trade of `<m>.trades` (`{tid, taker_type, date, price, amount}`), or null if malformed. */
export function streamTrade(value: unknown): PublicTrade | null {
  if (!isRecord(value)) return null;
  const { tid, taker_type: takerType, date, price, amount } = value;
  if (typeof tid !== 'number' || typeof date !== 'number' || typeof takerType !== 'string') return null;
  if (!isDecimal(price) || !isDecimal(amount)) return null;
  return { tid, takerType, date, price, amount };
}

/** The trades of a `<m>.trades` message (`{trades: [...]}`), in the order they executed. */
export function streamTrades(payload: unknown): PublicTrade[] {
  if (!isRecord(payload) || !Array.isArray(payload.trades)) return [];
  return payload.trades.map(streamTrade).filter((trade): trade is PublicTrade => trade !== null);
}

/** Live trades and the fetched list as one list, newest first, each trade once, capped. */
export function mergeTrades(
  live: readonly PublicTrade[],
  fetched: readonly PublicTrade[],
  cap = TRADES_SHOWN,
): PublicTrade[] {
  const byId = new Map<number, PublicTrade>();
  for (const trade of [...live, ...fetched]) if (!byId.has(trade.tid)) byId.set(trade.tid, trade);
  return [...byId.values()].sort((a, b) => b.tid - a.tid).slice(0, cap);
}
