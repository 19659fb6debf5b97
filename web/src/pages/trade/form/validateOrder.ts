/**
 * The order form's arithmetic and its checks, before anything is sent.
 *
 * Bursa refuses an amount with more decimals than the market allows (it never rounds), a
 * price outside the market's bounds, an amount under its minimum and a lock beyond the
 * balance; these are checked here first so the member reads the reason under the field.
 * Every computation is exact decimal arithmetic (big.js, never a JS number); what is
 * derived for the member to send (an amount from a total or a percentage) is truncated to
 * the market's precision, never rounded up past the balance.
 */
import Big from 'big.js';

/** A big.js of our own: divisions exact to 40 places and truncated, never rounded up. */
const Dec = Big();
Dec.DP = 40;
Dec.RM = Big.roundDown;

export type Side = 'buy' | 'sell';
export type OrderKind = 'limit' | 'market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok';

/** The market's rules the form enforces (fields of the API's `Market`). */
export interface MarketRules {
  id: string;
  amount_precision: number;
  price_precision: number;
  min_price: string;
  /** `"0"`: no upper bound. */
  max_price: string;
  min_amount: string;
}

export interface OrderDraft {
  side: Side;
  type: OrderKind;
  /** As typed (limit orders only). */
  price: string;
  /** As typed, in the base currency. */
  amount: string;
  timeInForce: TimeInForce;
  postOnly: boolean;
}

export type FieldName = 'price' | 'amount' | 'total' | 'form';

/** What is wrong with a field; `limit` is the bound or the precision it broke. */
export interface Problem {
  code:
    | 'required'
    | 'notNumber'
    | 'notPositive'
    | 'tooPrecise'
    | 'belowMin'
    | 'aboveMax'
    | 'tooLarge'
    | 'insufficient'
    | 'postOnlyNeedsGtc'
    | 'marketNeedsIocOrFok';
  limit?: string;
}

export type Problems = Partial<Record<FieldName, Problem>>;

/** The body of `POST /api/v2/peatio/market/orders` (Bursa's defaults spelled out). */
export interface OrderRequest {
  market: string;
  side: Side;
  ord_type: OrderKind;
  volume: string;
  /** Limit orders only. */
  price: string | null;
  time_in_force: 'GTC' | 'IOC' | 'FOK';
  post_only: boolean;
  client_id: null;
  /** Self-trade prevention: the incoming order's remainder is cancelled. */
  stp: 'cancel_taker';
}

export type OrderCheck = { ok: true; request: OrderRequest } | { ok: false; problems: Problems };

/** More integer digits than any balance holds: refused by Bursa too. */
const MOST_DIGITS = 30;
const TYPED = /^(\d*)(?:\.(\d*))?$/;

/**
 * The canonical text of a typed decimal (`,` taken as the decimal mark; `.5` → `0.5`,
 * `1.` → `1`, `007.10` → `7.1`), or null when it is not a plain non-negative decimal.
 */
export function normalizeDecimal(text: string): string | null {
  const match = TYPED.exec(text.trim().replace(',', '.'));
  if (!match) return null;
  const integer = (match[1] ?? '').replace(/^0+(?=\d)/, '');
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (integer === '' && (match[2] ?? '') === '') return null;
  return fraction ? `${integer || '0'}.${fraction}` : integer || '0';
}

/** What the member may type in a number field: digits and one decimal mark (`.` or `,`). */
export function cleanTyped(text: string): string {
  const kept = text.replace(',', '.').replace(/[^\d.]/g, '');
  const dot = kept.indexOf('.');
  return dot < 0 ? kept : kept.slice(0, dot + 1) + kept.slice(dot + 1).replace(/\./g, '');
}

/** The number of fraction digits of a canonical decimal. */
export function decimalPlaces(canonical: string): number {
  const dot = canonical.indexOf('.');
  return dot < 0 ? 0 : canonical.length - dot - 1;
}

/** A big.js value as plain text without trailing zeros (never in exponent form). */
function plain(value: Big): string {
  const text = value.toFixed();
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

function isPositive(canonical: string): boolean {
  return /[1-9]/.test(canonical);
}

/** price × amount, exact (what a limit buy locks). Empty when either is not a number. */
export function totalOf(price: string, amount: string): string {
  const p = normalizeDecimal(price);
  const a = normalizeDecimal(amount);
  if (p === null || a === null) return '';
  return plain(new Dec(p).times(a));
}

/** The amount a total buys at `price`, truncated to the market's amount precision. */
export function amountForTotal(total: string, price: string, amountPrecision: number): string {
  const t = normalizeDecimal(total);
  const p = normalizeDecimal(price);
  if (t === null || p === null || !isPositive(p)) return '';
  return plain(new Dec(t).div(p).round(amountPrecision, Big.roundDown));
}

/**
 * The amount for `percent` of the available balance, truncated to the amount precision:
 * a sell spends the base currency itself; a buy spends the quote currency, so its share
 * of the balance is divided by the price (the limit price, or an estimate for a market
 * order). Empty when it cannot be told (no price, no balance).
 */
export function amountForPercent(
  side: Side,
  available: string,
  percent: number,
  amountPrecision: number,
  price?: string,
): string {
  const balance = normalizeDecimal(available);
  if (balance === null || !Number.isInteger(percent) || percent < 0 || percent > 100) return '';
  const share = new Dec(balance).times(percent).div(100);
  if (side === 'sell') return plain(share.round(amountPrecision, Big.roundDown));
  const p = price === undefined ? null : normalizeDecimal(price);
  if (p === null || !isPositive(p)) return '';
  return plain(share.div(p).round(amountPrecision, Big.roundDown));
}

/**
 * The fee an order would pay at `rate` (a fraction: `0.002`), in the currency it
 * receives: a buy pays in the base currency (amount × rate), a sell in the quote
 * currency (total × rate). Exact; empty when the amounts are not numbers.
 */
export function feeFor(side: Side, amount: string, total: string, rate: string): string {
  const base = normalizeDecimal(side === 'buy' ? amount : total);
  const r = normalizeDecimal(rate);
  if (base === null || r === null) return '';
  return plain(new Dec(base).times(r));
}

/** A fee rate as a percentage (`0.0015` → `0.15`). */
export function ratePercent(rate: string): string {
  const r = normalizeDecimal(rate);
  return r === null ? rate : plain(new Dec(r).times(100));
}

/** Whether `a` > `b`, both canonical decimals. */
function greater(a: string, b: string): boolean {
  return new Dec(a).gt(b);
}

/** The time-in-force choices of an order type: a market order never rests (no gtc). */
export function timeInForceOptions(type: OrderKind): TimeInForce[] {
  return type === 'limit' ? ['gtc', 'ioc', 'fok'] : ['ioc', 'fok'];
}

/** Post-only makes sense for an order that may rest: a limit gtc. */
export function postOnlyAllowed(type: OrderKind, timeInForce: TimeInForce): boolean {
  return type === 'limit' && timeInForce === 'gtc';
}

/** A typed decimal checked against `precision` and positivity. */
function checkNumber(typed: string, precision: number): Problem | string {
  if (typed.trim() === '') return { code: 'required' };
  const value = normalizeDecimal(typed);
  if (value === null) return { code: 'notNumber' };
  if (!isPositive(value)) return { code: 'notPositive' };
  if (value.split('.')[0]!.length > MOST_DIGITS) return { code: 'tooLarge' };
  if (decimalPlaces(value) > precision) return { code: 'tooPrecise', limit: String(precision) };
  return value;
}

/**
 * Checks a draft against the market's rules and the spending currency's available
 * balance (`undefined` while unknown: not checked). The request to send when all is well,
 * else one problem per field.
 */
export function validateOrder(draft: OrderDraft, market: MarketRules, available?: string): OrderCheck {
  const problems: Problems = {};
  let price: string | undefined;
  if (draft.type === 'limit') {
    const checked = checkNumber(draft.price, market.price_precision);
    if (typeof checked !== 'string') {
      problems.price = checked;
    } else if (greater(market.min_price, checked)) {
      problems.price = { code: 'belowMin', limit: market.min_price };
    } else if (isPositive(market.max_price) && greater(checked, market.max_price)) {
      problems.price = { code: 'aboveMax', limit: market.max_price };
    } else {
      price = checked;
    }
  }

  let volume: string | undefined;
  const amount = checkNumber(draft.amount, market.amount_precision);
  if (typeof amount !== 'string') {
    problems.amount = amount;
  } else if (greater(market.min_amount, amount)) {
    problems.amount = { code: 'belowMin', limit: market.min_amount };
  } else {
    volume = amount;
  }

  const balance = available === undefined ? null : normalizeDecimal(available);
  if (balance !== null && volume !== undefined) {
    if (draft.side === 'sell') {
      if (greater(volume, balance)) problems.amount = { code: 'insufficient', limit: balance };
    } else if (draft.type === 'limit') {
      if (price !== undefined && greater(totalOf(price, volume), balance)) {
        problems.total = { code: 'insufficient', limit: balance };
      }
    } else if (!isPositive(balance)) {
      // A market buy spends what the book asks, up to the balance: it needs some.
      problems.amount = { code: 'insufficient', limit: balance };
    }
  }

  if (!timeInForceOptions(draft.type).includes(draft.timeInForce)) {
    problems.form = { code: 'marketNeedsIocOrFok' };
  } else if (draft.postOnly && !postOnlyAllowed(draft.type, draft.timeInForce)) {
    problems.form = { code: 'postOnlyNeedsGtc' };
  }

  if (Object.keys(problems).length > 0 || volume === undefined) return { ok: false, problems };
  const request: OrderRequest = {
    market: market.id,
    side: draft.side,
    ord_type: draft.type,
    volume,
    price: price ?? null,
    time_in_force: draft.timeInForce.toUpperCase() as OrderRequest['time_in_force'],
    post_only: draft.postOnly,
    client_id: null,
    stp: 'cancel_taker',
  };
  return { ok: true, request };
}
