import { compareDecimal, fractionDigits, fromUnits, isDecimal, isZero, toUnits } from './decimal';

/**
 * A market's order book as Ranger streams it, in a pure reducer.
 *
 * Subscribing to `<m>.ob-inc` brings a snapshot (`<m>.ob-snap`: `{asks, bids, sequence}`)
 * and then one increment per level change (`{asks|bids: [price, volume], sequence}`,
 * volume `""` when the level is gone), numbered one after the other. An increment whose
 * number does not follow the last one means something was missed: the book turns `stale`
 * (kept on screen, dimmed) and ignores increments until a new snapshot, which the
 * component asks for by subscribing again. Increments before any snapshot are ignored.
 */

/** `[price, volume]`, as the server wrote them (no trailing zeros). */
export type Level = readonly [price: string, volume: string];
export type Side = 'asks' | 'bids';
export type BookStatus = 'waiting' | 'live' | 'stale';

export interface BookState {
  status: BookStatus;
  /** The sequence of the snapshot or of the last increment applied. */
  sequence: number;
  /** Best (lowest) first. */
  asks: readonly Level[];
  /** Best (highest) first. */
  bids: readonly Level[];
}

export type BookAction =
  | { type: 'snapshot'; payload: unknown }
  | { type: 'increment'; payload: unknown }
  /** A new connection: the snapshot of the new subscription starts the book over. */
  | { type: 'reset' };

export const initialBook: BookState = { status: 'waiting', sequence: 0, asks: [], bids: [] };

export function bookReducer(state: BookState, action: BookAction): BookState {
  switch (action.type) {
    case 'reset':
      return initialBook;
    case 'snapshot':
      return fromSnapshot(action.payload) ?? { ...state, status: 'stale' };
    case 'increment':
      return applyIncrement(state, action.payload);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isLevel(value: unknown): value is Level {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    isDecimal(value[0]) &&
    (value[1] === '' || isDecimal(value[1]))
  );
}

/** Price order of a side: asks ascending, bids descending. */
function order(side: Side, a: string, b: string): number {
  return side === 'asks' ? compareDecimal(a, b) : compareDecimal(b, a);
}

function sideOf(levels: unknown, side: Side): Level[] | null {
  if (levels === undefined || levels === null) return [];
  if (!Array.isArray(levels)) return null;
  const found: Level[] = [];
  for (const level of levels) {
    if (!isLevel(level)) return null;
    if (!isZero(level[1])) found.push([level[0], level[1]]);
  }
  return found.sort((a, b) => order(side, a[0], b[0]));
}

function fromSnapshot(payload: unknown): BookState | null {
  if (!isRecord(payload) || !Number.isSafeInteger(payload.sequence)) return null;
  const asks = sideOf(payload.asks, 'asks');
  const bids = sideOf(payload.bids, 'bids');
  if (!asks || !bids) return null;
  return { status: 'live', sequence: payload.sequence as number, asks, bids };
}

/** The changes an increment carries: one `[price, volume]` per side (a list of them is taken too). */
function changesOf(value: unknown): Level[] | null {
  if (value === undefined) return [];
  if (isLevel(value)) return [value];
  if (Array.isArray(value) && value.every(isLevel)) return value as Level[];
  return null;
}

function applyIncrement(state: BookState, payload: unknown): BookState {
  if (state.status !== 'live') return state; // before a snapshot, or waiting for a new one
  if (!isRecord(payload) || payload.sequence !== state.sequence + 1) {
    return { ...state, status: 'stale' };
  }
  const askChanges = changesOf(payload.asks);
  const bidChanges = changesOf(payload.bids);
  if (!askChanges || !bidChanges) return { ...state, status: 'stale' };
  let { asks, bids } = state;
  for (const [price, volume] of askChanges) asks = setLevel(asks, 'asks', price, volume);
  for (const [price, volume] of bidChanges) bids = setLevel(bids, 'bids', price, volume);
  return { status: 'live', sequence: state.sequence + 1, asks, bids };
}

/** A new side with the level at `price` set to `volume` (removed when empty or zero). */
export function setLevel(
  levels: readonly Level[],
  side: Side,
  price: string,
  volume: string,
): readonly Level[] {
  let low = 0;
  let high = levels.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (order(side, levels[middle]![0], price) < 0) low = middle + 1;
    else high = middle;
  }
  const found = low < levels.length && compareDecimal(levels[low]![0], price) === 0;
  const remove = volume === '' || isZero(volume);
  if (!found && remove) return levels;
  const next = levels.slice();
  if (remove) next.splice(low, 1);
  else if (found) next[low] = [levels[low]![0], volume];
  else next.splice(low, 0, [price, volume]);
  return next;
}

/**
 * Levels merged into price groups of 10^-decimals (`decimals` 1: steps of 0.1; -1: steps
 * of 10): asks round up and bids down, so a group never shows a better price than its
 * orders; volumes are summed exactly. Group prices are written without trailing zeros.
 */
export function groupLevels(levels: readonly Level[], side: Side, decimals: number): Level[] {
  const volumeScale = Math.max(0, ...levels.map(([, volume]) => fractionDigits(volume)));
  const groups: { price: string; volume: bigint }[] = [];
  for (const [price, volume] of levels) {
    const scale = Math.max(fractionDigits(price), decimals, 0);
    const step = 10n ** BigInt(scale - decimals);
    const units = toUnits(price, scale);
    const floor = (units / step) * step;
    const grouped = side === 'asks' && floor !== units ? floor + step : floor;
    const groupPrice = fromUnits(grouped, scale);
    const amount = toUnits(volume, volumeScale);
    const last = groups[groups.length - 1];
    if (last && last.price === groupPrice) last.volume += amount;
    else groups.push({ price: groupPrice, volume: amount });
  }
  return groups.map(({ price, volume }) => [price, fromUnits(volume, volumeScale)]);
}

export interface BookRow {
  price: string;
  volume: string;
  /** Volume from the best price to this row, included. */
  total: string;
  /** `total` as a percent (0–100, two decimals) of the deeper side's shown total. */
  depth: number;
}

export interface BookView {
  asks: BookRow[];
  bids: BookRow[];
  /** Best ask minus best bid (ungrouped), or null when a side is empty. */
  spread: string | null;
}

/**
 * The rows to draw: each side grouped (unless `groupDecimals` is null), cut to `limit`
 * rows, with the cumulative volume and the depth bar of each row. Both sides' bars share
 * one scale (the larger shown total) so their lengths compare.
 */
export function bookView(
  book: Pick<BookState, 'asks' | 'bids'>,
  groupDecimals: number | null,
  limit: number,
): BookView {
  const asks = (groupDecimals === null ? book.asks : groupLevels(book.asks, 'asks', groupDecimals)).slice(
    0,
    limit,
  );
  const bids = (groupDecimals === null ? book.bids : groupLevels(book.bids, 'bids', groupDecimals)).slice(
    0,
    limit,
  );
  const scale = Math.max(0, ...[...asks, ...bids].map(([, volume]) => fractionDigits(volume)));
  const askTotals = cumulative(asks, scale);
  const bidTotals = cumulative(bids, scale);
  const deepest = [askTotals[askTotals.length - 1] ?? 0n, bidTotals[bidTotals.length - 1] ?? 0n].reduce(
    (a, b) => (a > b ? a : b),
  );
  const rows = (levels: Level[], totals: bigint[]): BookRow[] =>
    levels.map(([price, volume], index) => {
      const total = totals[index]!;
      return {
        price,
        volume,
        total: fromUnits(total, scale),
        depth: deepest > 0n ? Number((total * 10_000n) / deepest) / 100 : 0,
      };
    });
  return { asks: rows(asks, askTotals), bids: rows(bids, bidTotals), spread: spreadOf(book) };
}

function cumulative(levels: readonly Level[], scale: number): bigint[] {
  let sum = 0n;
  return levels.map(([, volume]) => (sum += toUnits(volume, scale)));
}

function spreadOf(book: Pick<BookState, 'asks' | 'bids'>): string | null {
  const ask = book.asks[0]?.[0];
  const bid = book.bids[0]?.[0];
  if (ask === undefined || bid === undefined) return null;
  const scale = Math.max(fractionDigits(ask), fractionDigits(bid));
  return fromUnits(toUnits(ask, scale) - toUnits(bid, scale), scale);
}
