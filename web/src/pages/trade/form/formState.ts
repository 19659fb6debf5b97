/**
 * The order form's state as a reducer: price, amount and total stay consistent whichever
 * the member edits last (a typed total keeps its text and sets the amount it buys; a typed
 * amount sets the total), the time in force stays valid for the order type.
 */
import {
  amountForTotal,
  cleanTyped,
  postOnlyAllowed,
  timeInForceOptions,
  totalOf,
  type OrderKind,
  type Side,
  type TimeInForce,
} from './validateOrder';

export interface FormState {
  side: Side;
  type: OrderKind;
  price: string;
  amount: string;
  total: string;
  /** Which of amount and total the member typed last: the other follows the price. */
  lead: 'amount' | 'total';
  timeInForce: TimeInForce;
  postOnly: boolean;
  /** After a submit attempt, every problem shows (empty fields too). */
  attempted: boolean;
}

export type FormAction =
  | { kind: 'side'; side: Side }
  | { kind: 'type'; type: OrderKind }
  | { kind: 'price'; text: string; amountPrecision: number }
  | { kind: 'amount'; text: string }
  | { kind: 'total'; text: string; amountPrecision: number }
  | { kind: 'timeInForce'; timeInForce: TimeInForce }
  | { kind: 'postOnly'; postOnly: boolean }
  | { kind: 'attempted' }
  | { kind: 'placed' };

export const initialForm: FormState = {
  side: 'buy',
  type: 'limit',
  price: '',
  amount: '',
  total: '',
  lead: 'amount',
  timeInForce: 'gtc',
  postOnly: false,
  attempted: false,
};

export function formReducer(state: FormState, action: FormAction): FormState {
  switch (action.kind) {
    case 'side':
      return { ...state, side: action.side };
    case 'type': {
      if (action.type === state.type) return state;
      // Each type starts from Bursa's default: gtc for a limit order, ioc for a market one.
      const timeInForce = timeInForceOptions(action.type)[0] ?? state.timeInForce;
      const postOnly = state.postOnly && postOnlyAllowed(action.type, timeInForce);
      return { ...state, type: action.type, timeInForce, postOnly, total: '', lead: 'amount' };
    }
    case 'price': {
      const price = cleanTyped(action.text);
      if (state.lead === 'total' && state.total !== '') {
        return { ...state, price, amount: amountForTotal(state.total, price, action.amountPrecision) };
      }
      return { ...state, price, total: totalOf(price, state.amount) };
    }
    case 'amount': {
      const amount = cleanTyped(action.text);
      return {
        ...state,
        amount,
        lead: 'amount',
        total: state.type === 'limit' ? totalOf(state.price, amount) : '',
      };
    }
    case 'total': {
      const total = cleanTyped(action.text);
      return {
        ...state,
        total,
        lead: 'total',
        amount: amountForTotal(total, state.price, action.amountPrecision),
      };
    }
    case 'timeInForce':
      return {
        ...state,
        timeInForce: action.timeInForce,
        postOnly: state.postOnly && postOnlyAllowed(state.type, action.timeInForce),
      };
    case 'postOnly':
      return { ...state, postOnly: action.postOnly && postOnlyAllowed(state.type, state.timeInForce) };
    case 'attempted':
      return { ...state, attempted: true };
    case 'placed':
      return { ...state, amount: '', total: '', lead: 'amount', attempted: false };
  }
}
