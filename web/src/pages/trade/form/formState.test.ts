import { describe, expect, it } from 'vitest';
import { formReducer, initialForm, type FormState } from './formState';

const at = (changes: Partial<FormState>): FormState => ({ ...initialForm, ...changes });

describe('formReducer', () => {
  it('a typed amount sets the total at the price', () => {
    const state = formReducer(at({ price: '30000' }), { kind: 'amount', text: '0,5' });
    expect(state).toMatchObject({ amount: '0.5', total: '15000', lead: 'amount' });
  });

  it('a typed total sets the amount it buys, truncated', () => {
    const state = formReducer(at({ price: '3' }), { kind: 'total', text: '2', amountPrecision: 4 });
    expect(state).toMatchObject({ total: '2', amount: '0.6666', lead: 'total' });
  });

  it('a new price follows whichever was typed last', () => {
    const byAmount = formReducer(at({ amount: '2', total: '20', price: '10' }), {
      kind: 'price',
      text: '12',
      amountPrecision: 6,
    });
    expect(byAmount).toMatchObject({ amount: '2', total: '24' });
    const byTotal = formReducer(at({ amount: '2', total: '20', price: '10', lead: 'total' }), {
      kind: 'price',
      text: '8',
      amountPrecision: 6,
    });
    expect(byTotal).toMatchObject({ amount: '2.5', total: '20' });
  });

  it('switching type takes the type’s default time in force and drops post-only', () => {
    const market = formReducer(at({ postOnly: true }), { kind: 'type', type: 'market' });
    expect(market).toMatchObject({ type: 'market', timeInForce: 'ioc', postOnly: false });
    const limit = formReducer(at({ type: 'market', timeInForce: 'fok' }), { kind: 'type', type: 'limit' });
    expect(limit).toMatchObject({ type: 'limit', timeInForce: 'gtc' });
  });

  it('post-only only with a limit gtc order', () => {
    expect(formReducer(at({ timeInForce: 'ioc' }), { kind: 'postOnly', postOnly: true }).postOnly).toBe(
      false,
    );
    expect(formReducer(at({}), { kind: 'postOnly', postOnly: true }).postOnly).toBe(true);
    const ioc = formReducer(at({ postOnly: true }), { kind: 'timeInForce', timeInForce: 'ioc' });
    expect(ioc.postOnly).toBe(false);
  });

  it('after placement the amount and total clear, the price stays', () => {
    const state = formReducer(at({ price: '100', amount: '1', total: '100', attempted: true }), {
      kind: 'placed',
    });
    expect(state).toMatchObject({ price: '100', amount: '', total: '', attempted: false });
  });
});
