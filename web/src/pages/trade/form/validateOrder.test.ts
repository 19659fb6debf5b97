import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import {
  amountForPercent,
  amountForTotal,
  cleanTyped,
  decimalPlaces,
  feeFor,
  normalizeDecimal,
  postOnlyAllowed,
  ratePercent,
  timeInForceOptions,
  totalOf,
  validateOrder,
  type MarketRules,
  type OrderDraft,
} from './validateOrder';

const BTCUSDT: MarketRules = {
  id: 'btcusdt',
  amount_precision: 6,
  price_precision: 2,
  min_price: '0.01',
  max_price: '0',
  min_amount: '0.0001',
};

const BOUNDED: MarketRules = { ...BTCUSDT, min_price: '100', max_price: '100000' };

function draft(changes: Partial<OrderDraft> = {}): OrderDraft {
  return {
    side: 'buy',
    type: 'limit',
    price: '30000',
    amount: '0.5',
    timeInForce: 'gtc',
    postOnly: false,
    ...changes,
  };
}

function problems(d: OrderDraft, market = BTCUSDT, available?: string) {
  const check = validateOrder(d, market, available);
  return check.ok ? {} : check.problems;
}

describe('normalizeDecimal', () => {
  it('reads plain decimals, a comma as the decimal mark', () => {
    expect(normalizeDecimal('1.50')).toBe('1.5');
    expect(normalizeDecimal('0,25')).toBe('0.25');
    expect(normalizeDecimal('.5')).toBe('0.5');
    expect(normalizeDecimal('7.')).toBe('7');
    expect(normalizeDecimal('007.100')).toBe('7.1');
    expect(normalizeDecimal('0.000')).toBe('0');
    expect(normalizeDecimal(' 12 ')).toBe('12');
  });

  it('refuses anything else', () => {
    for (const text of ['', '.', '-1', '1e5', '1.2.3', 'abc', '1 000', '+1', 'Infinity']) {
      expect(normalizeDecimal(text)).toBeNull();
    }
  });

  it('keeps every digit of long values', () => {
    expect(normalizeDecimal('123456789012345678901234567.123456789012345678')).toBe(
      '123456789012345678901234567.123456789012345678',
    );
  });
});

describe('cleanTyped', () => {
  it('keeps digits and one decimal mark', () => {
    expect(cleanTyped('1,5')).toBe('1.5');
    expect(cleanTyped('1.2.3')).toBe('1.23');
    expect(cleanTyped('-12a.5e')).toBe('12.5');
    expect(cleanTyped('')).toBe('');
  });
});

describe('decimalPlaces', () => {
  it('counts the fraction digits', () => {
    expect(decimalPlaces('1')).toBe(0);
    expect(decimalPlaces('1.25')).toBe(2);
  });
});

describe('total and amount conversions', () => {
  it('total = price × amount, exactly', () => {
    expect(totalOf('30000', '0.5')).toBe('15000');
    expect(totalOf('0.1', '0.2')).toBe('0.02'); // 0.1 * 0.2 is 0.020000000000000004 in floats
    expect(totalOf('12345.67', '0.123456')).toBe('1524.14703552');
    expect(totalOf('99999999999999999.99', '3')).toBe('299999999999999999.97');
    expect(totalOf('', '1')).toBe('');
    expect(totalOf('x', '1')).toBe('');
  });

  it('amount = total ÷ price, truncated to the amount precision', () => {
    expect(amountForTotal('15000', '30000', 6)).toBe('0.5');
    expect(amountForTotal('100', '3', 6)).toBe('33.333333');
    expect(amountForTotal('2', '3', 4)).toBe('0.6666'); // never rounded up to 0.6667
    expect(amountForTotal('1', '0', 6)).toBe('');
    expect(amountForTotal('abc', '3', 6)).toBe('');
  });

  it('round-trips a total typed from an exact amount', () => {
    const total = totalOf('27123.45', '0.123456');
    expect(amountForTotal(total, '27123.45', 6)).toBe('0.123456');
  });
});

describe('amountForPercent', () => {
  it('sells a share of the base balance, truncated', () => {
    expect(amountForPercent('sell', '1.2345678', 25, 6)).toBe('0.308641');
    expect(amountForPercent('sell', '1.2345678', 100, 6)).toBe('1.234567');
    expect(amountForPercent('sell', '0', 50, 6)).toBe('0');
  });

  it('buys a share of the quote balance divided by the price, truncated', () => {
    expect(amountForPercent('buy', '1000', 50, 6, '30000')).toBe('0.016666');
    expect(amountForPercent('buy', '1000', 100, 6, '3')).toBe('333.333333');
    expect(amountForPercent('buy', '100', 75, 4, '0.07')).toBe('1071.4285');
  });

  it('never spends more than the balance at 100 %', () => {
    const amount = amountForPercent('buy', '1000', 100, 6, '30000.01');
    expect(amount).toBe('0.033333');
    expect(new Big(totalOf('30000.01', amount)).lte(1000)).toBe(true);
  });

  it('cannot tell without a price or a balance', () => {
    expect(amountForPercent('buy', '1000', 50, 6)).toBe('');
    expect(amountForPercent('buy', '1000', 50, 6, '0')).toBe('');
    expect(amountForPercent('buy', '', 50, 6, '1')).toBe('');
    expect(amountForPercent('sell', '10', 150, 6)).toBe('');
  });
});

describe('fees', () => {
  it('a buy pays in the base currency, a sell in the quote currency', () => {
    expect(feeFor('buy', '0.5', '15000', '0.002')).toBe('0.001');
    expect(feeFor('sell', '0.5', '15000', '0.002')).toBe('30');
    expect(feeFor('sell', '0.5', '', '0.002')).toBe('');
  });

  it('shows rates as percentages', () => {
    expect(ratePercent('0.001')).toBe('0.1');
    expect(ratePercent('0.0015')).toBe('0.15');
    expect(ratePercent('0')).toBe('0');
  });
});

describe('time in force and post-only', () => {
  it('a market order is ioc or fok; post-only needs a limit gtc', () => {
    expect(timeInForceOptions('limit')).toEqual(['gtc', 'ioc', 'fok']);
    expect(timeInForceOptions('market')).toEqual(['ioc', 'fok']);
    expect(postOnlyAllowed('limit', 'gtc')).toBe(true);
    expect(postOnlyAllowed('limit', 'ioc')).toBe(false);
    expect(postOnlyAllowed('market', 'gtc')).toBe(false);
  });

  it('refuses the combinations Bursa refuses', () => {
    expect(problems(draft({ type: 'market', timeInForce: 'gtc' })).form?.code).toBe('marketNeedsIocOrFok');
    expect(problems(draft({ timeInForce: 'ioc', postOnly: true })).form?.code).toBe('postOnlyNeedsGtc');
  });
});

describe('validateOrder', () => {
  it('answers the request of a valid limit order, canonical numbers', () => {
    expect(validateOrder(draft({ price: '30000.50', amount: '0,500' }), BTCUSDT, '100000')).toEqual({
      ok: true,
      request: {
        market: 'btcusdt',
        side: 'buy',
        ord_type: 'limit',
        volume: '0.5',
        price: '30000.5',
        time_in_force: 'GTC',
        post_only: false,
        client_id: null,
        stp: 'cancel_taker',
      },
    });
  });

  it('sends no price with a market order', () => {
    const check = validateOrder(draft({ type: 'market', timeInForce: 'ioc', price: '' }), BTCUSDT, '10');
    expect(check).toEqual({
      ok: true,
      request: {
        market: 'btcusdt',
        side: 'buy',
        ord_type: 'market',
        volume: '0.5',
        price: null,
        time_in_force: 'IOC',
        post_only: false,
        client_id: null,
        stp: 'cancel_taker',
      },
    });
  });

  it('refuses an over-precise price or amount', () => {
    expect(problems(draft({ price: '30000.123' })).price).toEqual({ code: 'tooPrecise', limit: '2' });
    expect(problems(draft({ amount: '0.1234567' })).amount).toEqual({ code: 'tooPrecise', limit: '6' });
    // Trailing zeros do not count.
    expect(problems(draft({ price: '30000.1000', amount: '0.12345600' }))).toEqual({});
  });

  it('refuses a price or amount below the minimum', () => {
    expect(problems(draft({ price: '99.99' }), BOUNDED).price).toEqual({ code: 'belowMin', limit: '100' });
    expect(problems(draft({ amount: '0.00009' })).amount).toEqual({ code: 'belowMin', limit: '0.0001' });
    expect(problems(draft({ amount: '0.0001' }))).toEqual({});
  });

  it('refuses a price above the maximum, when there is one', () => {
    expect(problems(draft({ price: '100000.01' }), BOUNDED).price).toEqual({
      code: 'aboveMax',
      limit: '100000',
    });
    expect(problems(draft({ price: '100000' }), BOUNDED)).toEqual({});
    expect(problems(draft({ price: '99999999999' }))).toEqual({}); // max_price 0: no bound
  });

  it('refuses zero, missing and non-numbers', () => {
    expect(problems(draft({ price: '0' })).price?.code).toBe('notPositive');
    expect(problems(draft({ amount: '0.000' })).amount?.code).toBe('notPositive');
    expect(problems(draft({ amount: '' })).amount?.code).toBe('required');
    expect(problems(draft({ price: ' ' })).price?.code).toBe('required');
    expect(problems(draft({ amount: '-1' })).amount?.code).toBe('notNumber');
    expect(problems(draft({ price: '1e3' })).price?.code).toBe('notNumber');
    expect(problems(draft({ amount: '1'.repeat(31) })).amount?.code).toBe('tooLarge');
  });

  it('refuses more than the balance', () => {
    // A limit buy locks price × amount of the quote currency.
    expect(problems(draft(), BTCUSDT, '14999.99').total).toEqual({ code: 'insufficient', limit: '14999.99' });
    expect(problems(draft(), BTCUSDT, '15000')).toEqual({});
    // A sell locks the amount of the base currency.
    expect(problems(draft({ side: 'sell' }), BTCUSDT, '0.4999').amount).toEqual({
      code: 'insufficient',
      limit: '0.4999',
    });
    expect(problems(draft({ side: 'sell' }), BTCUSDT, '0.5')).toEqual({});
    expect(
      problems(draft({ side: 'sell', type: 'market', timeInForce: 'fok' }), BTCUSDT, '0.1').amount?.code,
    ).toBe('insufficient');
    // A market buy needs some quote balance.
    expect(problems(draft({ type: 'market', timeInForce: 'ioc' }), BTCUSDT, '0').amount?.code).toBe(
      'insufficient',
    );
    // Unknown balance (still loading): not checked.
    expect(problems(draft(), BTCUSDT, undefined)).toEqual({});
  });

  it('reports every field at once', () => {
    expect(problems(draft({ price: 'x', amount: '0' }))).toEqual({
      price: { code: 'notNumber' },
      amount: { code: 'notPositive' },
    });
  });
});
