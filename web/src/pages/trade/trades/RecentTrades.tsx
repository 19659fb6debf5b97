import { useQuery } from '@tanstack/react-query';
import { memo, useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import type { Market } from '../../../api/markets';
import { ErrorNotice } from '../../../components/ErrorNotice';
import { formatNumber, type Separators } from '../../../lib/formatNumber';
import { publicRanger, useRangerStream } from '../../../lib/ranger';
import { separatorsFor } from '../../../lib/separators';
import { Price } from '../book/Price';
import { mergeTrades, type PublicTrade, streamTrades, TRADES_SHOWN } from './recentTrades';

/** The market's last trades from REST, newest first. */
function useFetchedTrades(market: string) {
  return useQuery({
    queryKey: ['public', 'markets', market, 'trades'],
    queryFn: async ({ signal }) => {
      const found = await unwrap(
        api.GET('/api/v2/peatio/public/markets/{market}/trades', {
          params: { path: { market }, query: { limit: TRADES_SHOWN } },
          signal,
        }),
      );
      return found.map((trade): PublicTrade => ({
        tid: trade.id,
        takerType: trade.taker_type,
        date: trade.created_at,
        price: trade.price,
        amount: trade.amount,
      }));
    },
  });
}

/**
 * The market's recent trades: the REST list, then each trade of `<m>.trades` on top. On a
 * new connection the list is fetched again (trades made while offline are not streamed).
 */
export function RecentTrades({ market }: { market: Market }) {
  const { t, i18n } = useTranslation('trade');
  const titleId = useId();
  const fetched = useFetchedTrades(market.id);
  const [live, setLive] = useState<PublicTrade[]>([]);
  const language = i18n.resolvedLanguage ?? 'en';
  const separators = separatorsFor(language);
  const time = useMemo(
    () => new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    [language],
  );

  useRangerStream(publicRanger, `${market.id}.trades`, (payload) => {
    const added = streamTrades(payload);
    if (added.length > 0) setLive((kept) => [...added.reverse(), ...kept].slice(0, TRADES_SHOWN));
  });

  const { refetch } = fetched;
  useEffect(() => publicRanger.onOpen(() => void refetch({ cancelRefetch: false })), [refetch]);

  const trades = useMemo(() => mergeTrades(live, fetched.data ?? []), [live, fetched.data]);
  const base = market.base_unit.toUpperCase();
  const quote = market.quote_unit.toUpperCase();

  return (
    <section className="trade-panel recent-trades" data-testid="recent-trades" aria-labelledby={titleId}>
      <div className="panel-head">
        <h2 id={titleId}>{t('trades.title')}</h2>
      </div>
      {fetched.isError && <ErrorNotice error={fetched.error} onRetry={() => void refetch()} />}
      <div className="trades-scroll">
        <table className="trades-table">
          <thead>
            <tr>
              <th scope="col">{t('trades.price', { unit: quote })}</th>
              <th scope="col">{t('trades.amount', { unit: base })}</th>
              <th scope="col">{t('trades.time')}</th>
            </tr>
          </thead>
          <tbody>
            {trades.map((trade) => (
              <TradeRow key={trade.tid} trade={trade} market={market} separators={separators} time={time} />
            ))}
          </tbody>
        </table>
      </div>
      {fetched.isPending && <p className="muted trades-note">{t('trades.loading')}</p>}
      {fetched.isSuccess && trades.length === 0 && <p className="muted trades-note">{t('trades.empty')}</p>}
    </section>
  );
}

const TradeRow = memo(function TradeRow({
  trade,
  market,
  separators,
  time,
}: {
  trade: PublicTrade;
  market: Market;
  separators: Separators;
  time: Intl.DateTimeFormat;
}) {
  const { t } = useTranslation('trade');
  const buy = trade.takerType === 'buy';
  return (
    <tr data-testid="trade-row" data-tid={trade.tid} className={buy ? 'trade-buy' : 'trade-sell'}>
      <td className="trade-price">
        <span aria-hidden="true" className="trade-arrow">
          {buy ? '▲' : '▼'}
        </span>
        <span className="visually-hidden">{t(buy ? 'trades.buy' : 'trades.sell')} </span>
        <Price value={trade.price} precision={market.price_precision} separators={separators} />
      </td>
      <td>{formatNumber(trade.amount, market.amount_precision, separators)}</td>
      <td className="muted">
        <time dateTime={new Date(trade.date * 1000).toISOString()}>{time.format(trade.date * 1000)}</time>
      </td>
    </tr>
  );
});
