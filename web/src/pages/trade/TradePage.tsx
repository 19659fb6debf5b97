import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useParams } from 'react-router-dom';
import { type Market, useMarkets } from '../../api/markets';
import { ErrorNotice } from '../../components/ErrorNotice';
import { OrderBook } from './book/OrderBook';
import type { BookStatus } from './book/orderBook';
import { ChartPanel } from './chart/ChartPanel';
import { OrderForm } from './form/OrderForm';
import { MarketHeader } from './MarketHeader';
import { MemberOrders } from './orders/MemberOrders';
import { RecentTrades } from './trades/RecentTrades';
import './trade.css';

/** The panels a phone shows one at a time (the order form and orders stay below them). */
const PHONE_TABS = ['chart', 'book', 'trades'] as const;
type PhoneTab = (typeof PHONE_TABS)[number];

/**
 * `/trading/:market`: header, chart, order book, recent trades, the order form and the
 * member's orders. `/trading` goes to the first market. The page root tells end-to-end
 * tests when it is ready (`data-ready`: the market is known and its book is drawn).
 */
export default function TradePage() {
  const { t } = useTranslation('trade');
  const { market: wanted } = useParams();
  const markets = useMarkets();

  if (markets.isSuccess) {
    const first = markets.data[0];
    if (wanted === undefined && first) return <Navigate to={`/trading/${first.id}`} replace />;
    const market = markets.data.find((candidate) => candidate.id === wanted?.toLowerCase());
    if (market) return <TradeScreen key={market.id} market={market} markets={markets.data} />;
  }

  return (
    <section className="page trade-page-message" data-testid="trade-page" data-ready="false">
      <h1>{t('title')}</h1>
      {markets.isPending && <p role="status">{t('loadingMarkets')}</p>}
      {markets.isError && <ErrorNotice error={markets.error} onRetry={() => void markets.refetch()} />}
      {markets.isSuccess && (
        <div className="notice">
          <p>{wanted === undefined ? t('noMarkets') : t('unknownMarket', { market: wanted })}</p>
          <Link to="/markets">{t('toMarkets')}</Link>
        </div>
      )}
    </section>
  );
}

function TradeScreen({ market, markets }: { market: Market; markets: readonly Market[] }) {
  const { t } = useTranslation('trade');
  const [bookStatus, setBookStatus] = useState<BookStatus>('waiting');
  const [tab, setTab] = useState<PhoneTab>('book');
  const onBookStatus = useCallback((status: BookStatus) => setBookStatus(status), []);
  const label = `${market.base_unit}/${market.quote_unit}`.toUpperCase();

  useEffect(() => {
    const before = document.title;
    document.title = `${label} · ${t('title')}`;
    return () => {
      document.title = before;
    };
  }, [label, t]);

  return (
    <section
      className="trade-page"
      data-testid="trade-page"
      data-ready={bookStatus !== 'waiting' ? 'true' : 'false'}
      data-tab={tab}
      aria-labelledby="trade-title"
    >
      <h1 id="trade-title" className="visually-hidden">
        {t('heading', { market: label })}
      </h1>
      <div className="trade-area-header">
        <MarketHeader market={market} markets={markets} />
      </div>
      <div className="trade-tabs" role="group" aria-label={t('tabs.label')}>
        {PHONE_TABS.map((name) => (
          <button key={name} type="button" aria-pressed={tab === name} onClick={() => setTab(name)}>
            {t(`tabs.${name}`)}
          </button>
        ))}
      </div>
      <div className="trade-area-chart">
        <ChartPanel market={market} />
      </div>
      <div className="trade-area-book">
        <OrderBook market={market} onStatus={onBookStatus} />
      </div>
      <div className="trade-area-trades">
        <RecentTrades market={market} />
      </div>
      <div className="trade-area-form">
        <OrderForm market={market.id} />
      </div>
      <div className="trade-area-orders">
        <MemberOrders market={market.id} />
      </div>
    </section>
  );
}
