import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { type Market, useTickers } from '../../api/markets';
import { formatNumber } from '../../lib/formatNumber';
import { changeDirection, formatPercent } from '../../lib/percent';
import { separatorsFor } from '../../lib/separators';
import { isZero } from './book/decimal';
import { TradeConnectionBadge } from './TradeConnectionBadge';

function marketLabel(market: Market): string {
  return `${market.base_unit}/${market.quote_unit}`.toUpperCase();
}

/** The market switcher and the market's 24-hour figures (from the tickers, every 5 s). */
export function MarketHeader({ market, markets }: { market: Market; markets: readonly Market[] }) {
  const { t, i18n } = useTranslation('trade');
  const navigate = useNavigate();
  const switchId = useId();
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');
  const values = useTickers().data?.[market.id]?.ticker;
  const direction = values ? changeDirection(values.price_change_percent) : 'flat';
  const price = (value: string | undefined) =>
    value !== undefined ? formatNumber(value, market.price_precision, separators) : '—';
  const arrow = direction === 'up' ? '▲' : direction === 'down' ? '▼' : '';

  return (
    <header className="market-header">
      <div className="market-switch">
        <label htmlFor={switchId} className="visually-hidden">
          {t('header.market')}
        </label>
        <select
          id={switchId}
          value={market.id}
          onChange={(event) => navigate(`/trading/${event.target.value}`)}
        >
          {markets.map((choice) => (
            <option key={choice.id} value={choice.id}>
              {marketLabel(choice)}
            </option>
          ))}
        </select>
      </div>
      <dl className="market-stats">
        <div className="market-last">
          <dt className="visually-hidden">{t('header.last')}</dt>
          <dd className={`change-${direction}`}>
            {values && !isZero(values.last) ? price(values.last) : '—'}
          </dd>
        </div>
        <div>
          <dt>{t('header.change')}</dt>
          <dd className={`change-${direction}`}>
            {values ? (
              <>
                {arrow && <span aria-hidden="true">{arrow} </span>}
                {formatPercent(values.price_change_percent, separators)}
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>{t('header.high')}</dt>
          <dd>{price(values?.high)}</dd>
        </div>
        <div>
          <dt>{t('header.low')}</dt>
          <dd>{price(values?.low)}</dd>
        </div>
        <div>
          <dt>{t('header.volume', { unit: market.quote_unit.toUpperCase() })}</dt>
          <dd>{price(values?.volume)}</dd>
        </div>
      </dl>
      <TradeConnectionBadge />
    </header>
  );
}
