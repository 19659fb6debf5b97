import { useMutation, useQueryClient } from '@tanstack/react-query';
import Big from 'big.js';
import { useEffect, useId, useReducer } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { balanceOf, useBalances } from '../../../api/balances';
import { api, unwrap } from '../../../api/client';
import { useMarkets, useTickers, type Market } from '../../../api/markets';
import { useSession } from '../../../api/session';
import { ErrorNotice } from '../../../components/ErrorNotice';
import { errorMessages } from '../../../i18n/errors';
import { useToasts } from '../../../lib/toasts';
import { applyOrder } from '../orders/memberData';
import { useMarketFormat } from '../orders/useMarketFormat';
import '../orders.css';
import { useTradingFees } from './fees';
import { formReducer, initialForm, type FormAction } from './formState';
import { NumberField } from './NumberField';
import {
  amountForPercent,
  feeFor,
  normalizeDecimal,
  postOnlyAllowed,
  ratePercent,
  timeInForceOptions,
  totalOf,
  validateOrder,
  type FieldName,
  type OrderKind,
  type OrderRequest,
  type Problem,
  type Side,
  type TimeInForce,
} from './validateOrder';

const SIDES: Side[] = ['buy', 'sell'];
const PERCENTS = [25, 50, 75, 100] as const;
/** The order book's row clicks (`detail.price`, a decimal string) fill the price. */
export const PICK_PRICE_EVENT = 'bursa:pick-price';

/**
 * The order form of one market: buy or sell, limit or market, checked against the
 * market's precision and bounds and the member's balance before anything is sent.
 * Signed out, an invitation to sign in.
 */
export function OrderForm({ market }: { market: string }) {
  const { t } = useTranslation('orders');
  const { status } = useSession();
  const markets = useMarkets();
  const found = markets.data?.find((row) => row.id === market);

  if (markets.isError) {
    return (
      <section className="order-form card" data-testid="order-form">
        <ErrorNotice error={markets.error} onRetry={() => void markets.refetch()} />
      </section>
    );
  }
  if (status === 'loading' || markets.isPending) {
    return (
      <section className="order-form card" data-testid="order-form">
        <p className="muted">{t('loading')}</p>
      </section>
    );
  }
  if (!found) {
    return (
      <section className="order-form card" data-testid="order-form">
        <p>{t('form.unknownMarket')}</p>
      </section>
    );
  }
  if (status === 'signedOut') return <SignedOutForm market={found} />;
  return <TradeForm key={found.id} market={found} />;
}

function marketName(market: Market): string {
  return `${market.base_unit}/${market.quote_unit}`.toUpperCase();
}

function SignedOutForm({ market }: { market: Market }) {
  const { t } = useTranslation('orders');
  const { pathname, search } = useLocation();
  const next = encodeURIComponent(pathname + search);
  const titleId = useId();
  return (
    <section className="order-form card" data-testid="order-form" aria-labelledby={titleId}>
      <h2 id={titleId} className="order-form-title">
        {t('form.signInTitle')}
      </h2>
      <p className="muted">{t('form.signInBody', { market: marketName(market) })}</p>
      <p className="actions">
        <Link className="button primary" to={`/signin?next=${next}`}>
          {t('form.signIn')}
        </Link>
        <Link className="button" to="/signup">
          {t('form.signUp')}
        </Link>
      </p>
    </section>
  );
}

function TradeForm({ market }: { market: Market }) {
  const { t } = useTranslation('orders');
  const queryClient = useQueryClient();
  const { push } = useToasts();
  const format = useMarketFormat();
  const balances = useBalances();
  const fees = useTradingFees(market.id, true);
  const tickers = useTickers();
  const [state, dispatchState] = useReducer(formReducer, initialForm);
  const id = useId();

  const base = market.base_unit.toUpperCase();
  const quote = market.quote_unit.toUpperCase();
  const spending = state.side === 'buy' ? market.quote_unit : market.base_unit;
  const available = balanceOf(balances.data, spending)?.balance;
  const lastPrice = tickers.data?.[market.id]?.ticker.last;
  const isLimit = state.type === 'limit';

  const placement = useMutation({
    mutationFn: (request: OrderRequest) =>
      unwrap(api.POST('/api/v2/peatio/market/orders', { body: request })),
    onSuccess: (order) => {
      dispatchState({ kind: 'placed' });
      applyOrder(queryClient, order);
      push(t('form.placed'), 'success');
    },
  });
  const { reset: resetPlacement } = placement;

  /** Any change clears the last placement's error: it was about the previous draft. */
  const dispatch = (action: FormAction) => {
    if (placement.isError) resetPlacement();
    dispatchState(action);
  };

  useEffect(() => {
    const onPick = (event: Event) => {
      const price = (event as CustomEvent<{ price?: unknown } | null>).detail?.price;
      if (typeof price !== 'string' || normalizeDecimal(price) === null) return;
      resetPlacement();
      dispatchState({ kind: 'type', type: 'limit' });
      dispatchState({ kind: 'price', text: price, amountPrecision: market.amount_precision });
    };
    window.addEventListener(PICK_PRICE_EVENT, onPick);
    return () => window.removeEventListener(PICK_PRICE_EVENT, onPick);
  }, [market.amount_precision, resetPlacement]);

  const check = validateOrder(
    {
      side: state.side,
      type: state.type,
      price: state.price,
      amount: state.amount,
      timeInForce: state.timeInForce,
      postOnly: state.postOnly,
    },
    market,
    available,
  );
  const problems = check.ok ? {} : check.problems;
  const typed: Record<FieldName, string> = {
    price: state.price,
    amount: state.amount,
    total: state.total || state.amount,
    form: 'x',
  };
  /** Problems show as the member types; empty fields only after a submit attempt. */
  const shown = (field: FieldName): Problem | undefined => {
    const problem = problems[field];
    if (!problem) return undefined;
    if (state.attempted) return problem;
    return problem.code !== 'required' && typed[field].trim() !== '' ? problem : undefined;
  };
  const problemText = (problem: Problem | undefined) =>
    problem &&
    t(`problem.${problem.code}`, {
      limit: problem.limit === undefined ? '' : format.exact(problem.limit),
      currency: spending.toUpperCase(),
    });

  const amount = normalizeDecimal(state.amount);
  const amountOk = amount !== null && /[1-9]/.test(amount) && !problems.amount;
  const estimatedPrice = isLimit ? state.price : lastPrice;
  const total = estimatedPrice ? totalOf(estimatedPrice, state.amount) : '';

  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    if (placement.isPending) return;
    if (!check.ok) {
      dispatchState({ kind: 'attempted' });
      const first = (['price', 'amount', 'total'] as const).find((field) => check.problems[field]);
      if (first) document.getElementById(`${id}-${first}`)?.focus();
      return;
    }
    placement.mutate(check.request);
  };

  const onPercent = (percent: number) => {
    if (available === undefined) return;
    const price = isLimit ? state.price : lastPrice;
    const found = amountForPercent(state.side, available, percent, market.amount_precision, price);
    if (found !== '') dispatch({ kind: 'amount', text: found });
  };
  const spendPrice = normalizeDecimal((isLimit ? state.price : lastPrice) ?? '');
  const percentDisabled =
    available === undefined || (state.side === 'buy' && !(spendPrice !== null && /[1-9]/.test(spendPrice)));

  const sideLabel = t(`side.${state.side}`);
  const submitLabel = placement.isPending
    ? t('form.placing')
    : amountOk
      ? t('form.submitAmount', { side: sideLabel, amount: format.exact(amount), base })
      : t('form.submit', { side: sideLabel, base });

  return (
    <section className="order-form card" data-testid="order-form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="visually-hidden">
        {t('form.title', { market: marketName(market) })}
      </h2>
      <div className="order-sides" role="group" aria-label={t('form.sides')}>
        {SIDES.map((side) => (
          <button
            key={side}
            type="button"
            className={`order-side order-side-${side}`}
            aria-pressed={state.side === side}
            data-testid={`order-side-${side}`}
            onClick={() => dispatch({ kind: 'side', side })}
          >
            {t(`side.${side}`)}
          </button>
        ))}
      </div>

      <form onSubmit={onSubmit} noValidate className="order-fields">
        <div className="order-choices">
          <div className="field">
            <label htmlFor={`${id}-type`}>{t('form.type')}</label>
            <select
              id={`${id}-type`}
              data-testid="order-type"
              value={state.type}
              onChange={(event) => dispatch({ kind: 'type', type: event.target.value as OrderKind })}
            >
              <option value="limit">{t('ordType.limit')}</option>
              <option value="market">{t('ordType.market')}</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-tif`}>{t('form.timeInForce')}</label>
            <select
              id={`${id}-tif`}
              data-testid="order-tif"
              value={state.timeInForce}
              aria-describedby={`${id}-tif-hint`}
              onChange={(event) =>
                dispatch({ kind: 'timeInForce', timeInForce: event.target.value as TimeInForce })
              }
            >
              {timeInForceOptions(state.type).map((option) => (
                <option key={option} value={option}>
                  {t(`tif.${option}`)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <p id={`${id}-tif-hint`} className="order-hint">
          {t(`tif.${state.timeInForce}Hint`)}
        </p>

        <p className="order-available">
          <span>{t('form.available')}</span>{' '}
          <span className="order-available-value">
            <span data-testid="order-available">
              {available === undefined ? '…' : format.plain(available)}
            </span>{' '}
            {spending.toUpperCase()}
          </span>
        </p>

        {isLimit ? (
          <NumberField
            id={`${id}-price`}
            label={t('form.price')}
            unit={quote}
            testId="order-price"
            value={state.price}
            problem={problemText(shown('price'))}
            onChange={(text) => dispatch({ kind: 'price', text, amountPrecision: market.amount_precision })}
          />
        ) : (
          <div className="field">
            <span className="order-label">{t('form.price')}</span>
            <p className="order-market-price">{t('form.marketPrice')}</p>
          </div>
        )}

        <NumberField
          id={`${id}-amount`}
          label={t('form.amount')}
          unit={base}
          testId="order-amount"
          value={state.amount}
          problem={problemText(shown('amount'))}
          onChange={(text) => dispatch({ kind: 'amount', text })}
        />

        <div className="order-percents" role="group" aria-label={t('form.percents')}>
          {PERCENTS.map((percent) => (
            <button
              key={percent}
              type="button"
              data-testid={`order-percent-${percent}`}
              aria-label={t('form.percentLabel', { percent })}
              disabled={percentDisabled}
              onClick={() => onPercent(percent)}
            >
              {t('form.percent', { percent })}
            </button>
          ))}
        </div>

        {isLimit ? (
          <NumberField
            id={`${id}-total`}
            label={t('form.total')}
            unit={quote}
            testId="order-total"
            value={state.total}
            problem={problemText(shown('total'))}
            onChange={(text) => dispatch({ kind: 'total', text, amountPrecision: market.amount_precision })}
          />
        ) : (
          total !== '' &&
          amountOk && (
            <p className="order-hint">
              {t('form.estimatedTotal', { total: format.price(market.id, total), currency: quote })}
            </p>
          )
        )}

        <label className="order-check">
          <input
            type="checkbox"
            data-testid="order-post-only"
            checked={state.postOnly}
            disabled={!postOnlyAllowed(state.type, state.timeInForce)}
            aria-describedby={`${id}-post-only-hint`}
            onChange={(event) => dispatch({ kind: 'postOnly', postOnly: event.target.checked })}
          />
          <span>{t('form.postOnly')}</span>
        </label>
        <p id={`${id}-post-only-hint`} className="order-hint">
          {t('form.postOnlyHint')}
        </p>

        <FeeLines
          fees={fees}
          side={state.side}
          amount={amountOk ? state.amount : ''}
          total={total}
          postOnly={state.postOnly}
          base={base}
          quote={quote}
          format={format.exact}
        />

        {shown('form') && (
          <p role="alert" className="field-error">
            {problemText(shown('form'))}
          </p>
        )}
        {placement.isError && (
          <div role="alert" className="notice notice-error order-error">
            <strong>{t('form.failed')}</strong>
            <ul>
              {errorMessages(t, placement.error).map((message, index) => (
                <li key={index}>{message}</li>
              ))}
            </ul>
          </div>
        )}

        <button
          type="submit"
          className={`order-submit order-submit-${state.side}`}
          data-testid="order-submit"
          disabled={placement.isPending}
        >
          {submitLabel}
        </button>
      </form>
    </section>
  );
}

/** The maker and taker rates, and what this order would pay (the taker's rate at most). */
function FeeLines(props: {
  fees: { maker: string; taker: string } | undefined;
  side: Side;
  amount: string;
  total: string;
  postOnly: boolean;
  base: string;
  quote: string;
  format: (value: string) => string;
}) {
  const { t } = useTranslation('orders');
  const { fees } = props;
  if (!fees) return null;
  const highest = new Big(fees.maker).gt(fees.taker) ? fees.maker : fees.taker;
  const rate = props.postOnly ? fees.maker : highest;
  const fee = props.amount === '' ? '' : feeFor(props.side, props.amount, props.total, rate);
  return (
    <div className="order-fees">
      <p>
        {t('form.fees', {
          maker: props.format(ratePercent(fees.maker)),
          taker: props.format(ratePercent(fees.taker)),
        })}
      </p>
      {fee !== '' && (
        <p>
          {t(props.postOnly ? 'form.feeEstimateMaker' : 'form.feeEstimate', {
            fee: props.format(fee),
            currency: props.side === 'buy' ? props.base : props.quote,
          })}
        </p>
      )}
    </div>
  );
}
