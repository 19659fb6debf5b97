import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useMarkets } from '../../api/markets';
import './orders.css';
import { OrderTabs } from './orders/OrderTabs';

/**
 * `/orders`: the member's open orders, order history and trades across every market, or
 * one market picked in the filter (kept in the address: `?market=btcusdt`).
 */
export default function OrdersPage() {
  const { t } = useTranslation('orders');
  const filterId = useId();
  const markets = useMarkets();
  const [params, setParams] = useSearchParams();
  const picked = params.get('market');
  const market = picked && markets.data?.some((row) => row.id === picked) ? picked : null;

  return (
    <section className="page orders-page" aria-labelledby={`${filterId}-title`}>
      <div className="page-head">
        <h1 id={`${filterId}-title`}>{t('page.title')}</h1>
        <div className="orders-filter">
          <label htmlFor={filterId}>{t('page.market')}</label>
          <select
            id={filterId}
            data-testid="orders-market-filter"
            value={market ?? ''}
            onChange={(event) => {
              const next = new URLSearchParams(params);
              if (event.target.value) next.set('market', event.target.value);
              else next.delete('market');
              setParams(next, { replace: true });
            }}
          >
            <option value="">{t('page.allMarkets')}</option>
            {(markets.data ?? []).map((row) => (
              <option key={row.id} value={row.id}>
                {`${row.base_unit}/${row.quote_unit}`.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
      </div>
      <OrderTabs market={market} />
    </section>
  );
}
