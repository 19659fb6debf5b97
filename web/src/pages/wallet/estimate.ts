/**
 * The estimated value of the member's balances in the platform currency, as Bursa values
 * withdrawals against KYC limits (`bursa.custody.withdraw_limits`): a currency is worth
 * the last price of its market against the platform currency (`<currency><platform>`), or
 * the inverse of `<platform><currency>`'s; a currency with neither (or no trade yet) has
 * no price and is left out, by name. Exact decimals throughout (big.js).
 */
import { Dec } from './amounts';

export interface MarketUnits {
  id: string;
  base_unit: string;
  quote_unit: string;
}

/** Last prices by market id (`"0"` or missing: no trade yet). */
export type LastPrices = Record<string, string | undefined>;

export interface Holding {
  currency: string;
  /** available + locked */
  total: string;
}

export type Route = { market: string; inverted: boolean } | null;

/** The market that prices `currency` in `platform`, and whether its price is inverted. */
export function priceRoute(currency: string, platform: string, markets: readonly MarketUnits[]): Route {
  const direct = markets.find((m) => m.base_unit === currency && m.quote_unit === platform);
  if (direct) return { market: direct.id, inverted: false };
  const inverse = markets.find((m) => m.base_unit === platform && m.quote_unit === currency);
  if (inverse) return { market: inverse.id, inverted: true };
  return null;
}

/** `amount` of `currency` in `platform` (a plain decimal string), or null without a price. */
export function valueIn(
  amount: string,
  currency: string,
  platform: string,
  markets: readonly MarketUnits[],
  last: LastPrices,
): string | null {
  if (currency === platform) return new Dec(amount).toFixed();
  const route = priceRoute(currency, platform, markets);
  if (!route) return null;
  const text = last[route.market];
  if (text === undefined) return null;
  let price;
  try {
    price = new Dec(text);
  } catch {
    return null;
  }
  if (price.lte(0)) return null;
  const value = route.inverted ? new Dec(amount).div(price) : new Dec(amount).times(price);
  return value.toFixed();
}

export interface Estimate {
  /** The sum of every priced holding, unrounded. */
  total: string;
  /** Currencies held (non-zero) that have no price: not in `total`. */
  unpriced: string[];
}

export function estimateTotal(
  holdings: readonly Holding[],
  platform: string,
  markets: readonly MarketUnits[],
  last: LastPrices,
): Estimate {
  let total = new Dec(0);
  const unpriced: string[] = [];
  for (const holding of holdings) {
    if (new Dec(holding.total).eq(0)) continue;
    const value = valueIn(holding.total, holding.currency, platform, markets, last);
    if (value === null) unpriced.push(holding.currency);
    else total = total.plus(value);
  }
  return { total: total.toFixed(), unpriced };
}
