/**
 * The demo funds card: on a demo exchange (`bursa up`'s embedded default), a member who has
 * not claimed them yet gets a fixed set of balances with one click. Shown only while the
 * server says they are `available` and not `granted`; anything else (off, claimed, an error
 * reading the offer) shows nothing, so the wallet never waits on it.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { BALANCES_KEY } from '../../api/balances';
import { api, ApiError, unwrap } from '../../api/client';
import type { paths } from '../../api/schema';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatNumber } from '../../lib/formatNumber';
import { separatorsFor } from '../../lib/separators';
import { useToasts } from '../../lib/toasts';
import './demoFunds.css';

const PATH = '/api/v2/peatio/account/demo_funds';
const DEMO_FUNDS_KEY = ['member', 'demo-funds'] as const;
const ALREADY_GRANTED = 'account.demo_funds.already_granted';

type Offer = paths[typeof PATH]['get']['responses']['200']['content']['application/json'];

/** Decimals written in a plain decimal string (`"10000.5"` → 1): shown exactly, never rounded. */
function decimalsOf(amount: string): number {
  const at = amount.indexOf('.');
  return at < 0 ? 0 : amount.length - at - 1;
}

export function DemoFunds() {
  const { t, i18n } = useTranslation('wallet');
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');
  const headingId = useId();
  const toasts = useToasts();
  const queryClient = useQueryClient();
  const offer = useQuery({
    queryKey: DEMO_FUNDS_KEY,
    queryFn: ({ signal }) => unwrap(api.GET(PATH, { signal })),
    retry: false,
    staleTime: 5 * 60_000,
  });
  const claim = useMutation({
    mutationFn: () => unwrap(api.POST(PATH, {})),
    onSuccess: () => {
      queryClient.setQueryData<Offer>(DEMO_FUNDS_KEY, (old) => old && { ...old, granted: true });
      toasts.push(t('demoFunds.granted'), 'success');
      void queryClient.invalidateQueries({ queryKey: BALANCES_KEY });
      void queryClient.invalidateQueries({ queryKey: DEMO_FUNDS_KEY });
    },
    onError: (error) => {
      // Claimed meanwhile (another tab): the offer is read again and the card goes away.
      if (error instanceof ApiError && error.codes.includes(ALREADY_GRANTED)) {
        void queryClient.invalidateQueries({ queryKey: DEMO_FUNDS_KEY });
        void queryClient.invalidateQueries({ queryKey: BALANCES_KEY });
      }
    },
  });

  const data = offer.data;
  if (!data || !data.available || data.granted) return null;
  return (
    <section className="card demo-funds" aria-labelledby={headingId} data-testid="demo-funds">
      <h2 id={headingId}>{t('demoFunds.title')}</h2>
      <p>{t('demoFunds.intro')}</p>
      <p className="muted demo-funds-label">{t('demoFunds.listLabel')}</p>
      <ul className="demo-funds-list">
        {data.funds.map((fund) => (
          <li key={fund.currency}>
            <span className="demo-funds-amount">
              {formatNumber(fund.amount, decimalsOf(fund.amount), separators)}
            </span>{' '}
            {fund.currency.toUpperCase()}
          </li>
        ))}
      </ul>
      {claim.isError && <ErrorNotice error={claim.error} />}
      <div className="actions">
        <button
          type="button"
          className="primary"
          data-testid="demo-funds-claim"
          disabled={claim.isPending}
          onClick={() => claim.mutate()}
        >
          {claim.isPending ? t('demoFunds.claiming') : t('demoFunds.claim')}
        </button>
      </div>
    </section>
  );
}
