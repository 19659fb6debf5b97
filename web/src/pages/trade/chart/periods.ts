/**
 * The chart's periods: the label shown, the REST k-line's `period` (minutes) and the
 * Ranger stream's name (`<m>.kline-<stream>`, see `bursa/api/ranger/klines.py`).
 */
export interface Period {
  label: string;
  minutes: number;
  stream: string;
}

export const PERIODS: readonly Period[] = [
  { label: '1m', minutes: 1, stream: '1m' },
  { label: '5m', minutes: 5, stream: '5m' },
  { label: '15m', minutes: 15, stream: '15m' },
  { label: '1h', minutes: 60, stream: '1h' },
  { label: '4h', minutes: 240, stream: '4h' },
  { label: '1D', minutes: 1440, stream: '1d' },
  { label: '1W', minutes: 10080, stream: '1w' },
];

export const DEFAULT_PERIOD = PERIODS[3]!;

/** Candles asked for on load. */
export const CANDLES_SHOWN = 500;

/** `[time, open, high, low, close, volume]`: time in Unix seconds, the rest as the API wrote them. */
export type Candle = [number, number, number, number, number, number];

/** A k-line row (REST or stream), or null when it is not six finite numbers. */
export function candleOf(value: unknown): Candle | null {
  if (!Array.isArray(value) || value.length < 6) return null;
  const numbers = value.slice(0, 6).map((item) => (typeof item === 'string' ? Number(item) : item));
  if (!numbers.every((item) => typeof item === 'number' && Number.isFinite(item))) return null;
  return numbers as Candle;
}

/** The rows of a k-line answer, oldest first, each time once (a repeated time keeps the last). */
export function candlesOf(value: unknown): Candle[] {
  if (!Array.isArray(value)) return [];
  const byTime = new Map<number, Candle>();
  for (const row of value) {
    const candle = candleOf(row);
    if (candle) byTime.set(candle[0], candle);
  }
  return [...byTime.values()].sort((a, b) => a[0] - b[0]);
}
