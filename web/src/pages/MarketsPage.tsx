import { useDeferredValue, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Market, type Ticker, useMarkets, useTickers } from '../api/markets';
import { ErrorNotice } from '../components/ErrorNotice';
import { errorMessages } from '../i18n/errors';
import { orderByFavourites } from '../lib/favourites';
import { formatNumber, type Separators } from '../lib/formatNumber';
import { changeDirection, formatPercent } from '../lib/percent';
import { matchesSearch } from '../lib/search';
import { separatorsFor } from '../lib/separators';
import { useFavourites } from '../lib/useFavourites';

/** `BASE/QUOTE`, from the units (the API's `name` is the same, but may be localised later). */
function marketLabel(market: Market): string {
  return `${market.base_unit}/${market.quote_unit}`.toUpperCase();
}

export function MarketsPage() {
  const { t, i18n } = useTranslation();
  const searchId = useId();
  const markets = useMarkets();
  const tickers = useTickers();
  const { favourites, toggle } = useFavourites();
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');

  const rows = useMemo(
    () =>
      orderByFavourites(
        (markets.data ?? []).filter((market) => matchesSearch(market, deferredQuery)),
        favourites,
      ),
    [markets.data, deferredQuery, favourites],
  );

  return (
    <section aria-labelledby="markets-title" className="page">
      <div className="page-head">
        <h1 id="markets-title">{t('markets.title')}</h1>
        <div className="search">
          <label htmlFor={searchId}>{t('markets.search')}</label>
          <input
            id={searchId}
            type="search"
            value={query}
            placeholder={t('markets.searchPlaceholder')}
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
      </div>

      {markets.isPending && <p role="status">{t('markets.loading')}</p>}
      {markets.isError && <ErrorNotice error={markets.error} onRetry={() => void markets.refetch()} />}
      {markets.isSuccess && tickers.isError && (
        <p role="status" className="notice notice-warning">
          {t('markets.tickersStale', { error: errorMessages(t, tickers.error).join(' ') })}
        </p>
      )}

      {markets.isSuccess && markets.data.length === 0 && <p>{t('markets.empty')}</p>}
      {markets.isSuccess && markets.data.length > 0 && (
        <>
          <p className="count" aria-live="polite">
            {rows.length === 0
              ? t('markets.noMatch', { query: deferredQuery })
              : t('markets.count', { count: rows.length })}
          </p>
          {rows.length > 0 && (
            <div className="table-wrap">
              <table className="markets">
                <thead>
                  <tr>
                    <th scope="col" className="col-fav">
                      <span className="visually-hidden">{t('markets.favourite')}</span>
                    </th>
                    <th scope="col">{t('markets.market')}</th>
                    <th scope="col" className="num">
                      {t('markets.last')}
                    </th>
                    <th scope="col" className="num">
                      {t('markets.change')}
                    </th>
                    <th scope="col" className="num col-volume">
                      {t('markets.volume')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((market) => (
                    <MarketRow
                      key={market.id}
                      market={market}
                      ticker={tickers.data?.[market.id]}
                      favourite={favourites.has(market.id)}
                      onToggle={toggle}
                      separators={separators}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

interface RowProps {
  market: Market;
  ticker: Ticker | undefined;
  favourite: boolean;
  onToggle: (id: string) => void;
  separators: Separators;
}

function MarketRow({ market, ticker, favourite, onToggle, separators }: RowProps) {
  const { t } = useTranslation();
  const label = marketLabel(market);
  const values = ticker?.ticker;
  const direction = values ? changeDirection(values.price_change_percent) : 'flat';
  return (
    <tr>
      <td className="col-fav">
        <button
          type="button"
          className="star"
          aria-pressed={favourite}
          aria-label={t(favourite ? 'markets.removeFavourite' : 'markets.addFavourite', { market: label })}
          onClick={() => onToggle(market.id)}
        >
          <span aria-hidden="true">{favourite ? '★' : '☆'}</span>
        </button>
      </td>
      <th scope="row" className="market-name">
        <span className="base">{market.base_unit.toUpperCase()}</span>
        <span className="quote">/{market.quote_unit.toUpperCase()}</span>
      </th>
      <td className="num">
        {/* A market that never traded has no last price (the ticker says 0). */}
        {values && !/^[0.]*$/.test(values.last)
          ? formatNumber(values.last, market.price_precision, separators)
          : t('markets.noTicker')}
      </td>
      <td className={`num change change-${direction}`}>
        {values ? formatPercent(values.price_change_percent, separators) : t('markets.noTicker')}
      </td>
      <td className="num col-volume">
        {values ? (
          <>
            {formatNumber(values.volume, market.price_precision, separators)}{' '}
            <span className="unit">{market.quote_unit.toUpperCase()}</span>
          </>
        ) : (
          t('markets.noTicker')
        )}
      </td>
    </tr>
  );
}
