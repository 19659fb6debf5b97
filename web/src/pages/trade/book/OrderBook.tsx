import { type CSSProperties, memo, useCallback, useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Market, useTickers } from '../../../api/markets';
import { formatNumber, type Separators } from '../../../lib/formatNumber';
import { publicRanger, useConnectionState } from '../../../lib/ranger';
import { separatorsFor } from '../../../lib/separators';
import { fromUnits, isZero } from './decimal';
import { type BookRow as BookLevel, type BookStatus, bookView, type Side } from './orderBook';
import { Price } from './Price';
import { useOrderBook } from './useOrderBook';

/** Rows drawn per side (the panel scrolls); deeper levels are still kept in the state. */
const ROWS_PER_SIDE = 50;
/** Grouping choices: the market's tick times 10^0 … 10^4. */
const GROUP_POWERS = [0, 1, 2, 3, 4];

/** Window event a click on a book row sends; the order form may take the price from it. */
export const PICK_PRICE_EVENT = 'bursa:pick-price';

function pickPrice(price: string): void {
  window.dispatchEvent(new CustomEvent(PICK_PRICE_EVENT, { detail: { price } }));
}

interface Props {
  market: Market;
  /** Told when the book goes from waiting to drawn and back (page readiness). */
  onStatus?: (status: BookStatus) => void;
}

/**
 * The market's order book: asks above (best nearest the middle), the spread, bids below,
 * with a cumulative depth bar behind each row. Its state lives here only, so a book
 * increment re-renders this panel and nothing else.
 */
export function OrderBook({ market, onStatus }: Props) {
  const { t, i18n } = useTranslation('trade');
  const titleId = useId();
  const groupId = useId();
  const book = useOrderBook(market.id);
  // While the connection is down the book may be behind: shown dimmed, as when stale.
  const connection = useConnectionState(publicRanger);
  const behind = book.status === 'stale' || (book.status === 'live' && connection !== 'open');
  const [power, setPower] = useState(0);
  const separators = separatorsFor(i18n.resolvedLanguage ?? 'en');
  const precision = market.price_precision;
  const groupDecimals = power === 0 ? null : precision - power;
  const view = useMemo(() => bookView(book, groupDecimals, ROWS_PER_SIDE), [book, groupDecimals]);
  const base = market.base_unit.toUpperCase();
  const quote = market.quote_unit.toUpperCase();

  useEffect(() => {
    onStatus?.(book.status);
  }, [book.status, onStatus]);

  // One label function for every row (rows do not each subscribe to the language).
  const pickLabel = useCallback((price: string) => t('book.pick', { price }), [t]);
  const rowPrecision = groupDecimals === null ? precision : Math.max(0, Math.min(precision, groupDecimals));
  const sideProps = {
    waiting: book.status === 'waiting',
    pricePrecision: rowPrecision,
    amountPrecision: market.amount_precision,
    separators,
    pickLabel,
  };

  return (
    <section
      className={`trade-panel order-book book-${book.status}${behind ? ' book-behind' : ''}`}
      data-testid="order-book"
      data-status={book.status}
      aria-labelledby={titleId}
    >
      <div className="panel-head">
        <h2 id={titleId}>{t('book.title')}</h2>
        <div className="book-group">
          <label htmlFor={groupId}>{t('book.group')}</label>
          <select id={groupId} value={power} onChange={(event) => setPower(Number(event.target.value))}>
            {GROUP_POWERS.map((p) => (
              <option key={p} value={p}>
                {formatNumber(fromUnits(1n, precision - p), Math.max(0, precision - p), separators)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {behind && (
        <p className="book-note" role="status">
          {t(book.status === 'stale' ? 'book.resyncing' : 'book.offline')}
        </p>
      )}
      <div className="book-table" role="table" aria-labelledby={titleId}>
        <div className="book-columns" role="row">
          <span role="columnheader">{t('book.price', { unit: quote })}</span>
          <span role="columnheader">{t('book.amount', { unit: base })}</span>
          <span role="columnheader" title={t('book.totalHint')}>
            {t('book.total', { unit: base })}
          </span>
        </div>
        <BookSide
          side="asks"
          label={t('book.asks')}
          emptyText={t('book.noAsks')}
          rows={view.asks}
          {...sideProps}
        />
        <SpreadRow market={market} spread={view.spread} separators={separators} />
        <BookSide
          side="bids"
          label={t('book.bids')}
          emptyText={t('book.noBids')}
          rows={view.bids}
          {...sideProps}
        />
      </div>
      {book.status === 'waiting' && (
        <p className="book-waiting muted" role="status">
          {t('book.loading')}
        </p>
      )}
    </section>
  );
}

/** One side of the book, its rows drawn the same way for asks and bids. */
function BookSide({
  side,
  label,
  emptyText,
  rows,
  waiting,
  ...shared
}: {
  side: Side;
  label: string;
  emptyText: string;
  rows: readonly BookLevel[];
  waiting: boolean;
} & Omit<RowProps, 'side' | 'price' | 'volume' | 'total' | 'depth'>) {
  return (
    <div className={`book-side book-${side}`} role="rowgroup" aria-label={label}>
      {rows.map((row) => (
        <BookRow
          key={row.price}
          side={side}
          price={row.price}
          volume={row.volume}
          total={row.total}
          depth={row.depth}
          {...shared}
        />
      ))}
      {!waiting && rows.length === 0 && (
        <div className="book-empty muted" role="row">
          <span role="cell">{emptyText}</span>
        </div>
      )}
    </div>
  );
}

interface RowProps {
  side: Side;
  price: string;
  volume: string;
  total: string;
  depth: number;
  pricePrecision: number;
  amountPrecision: number;
  separators: Separators;
  pickLabel: (price: string) => string;
}

/** One level; memoised on its values, so an increment redraws only the rows it moved. */
const BookRow = memo(function BookRow({
  side,
  price,
  volume,
  total,
  depth,
  pricePrecision,
  amountPrecision,
  separators,
  pickLabel,
}: RowProps) {
  const style = { '--depth': depth / 100 } as CSSProperties;
  return (
    <div
      className={`book-row ${side === 'asks' ? 'book-row-ask' : 'book-row-bid'}`}
      role="row"
      data-testid={side === 'asks' ? 'book-ask' : 'book-bid'}
      data-price={price}
      style={style}
    >
      <span role="cell" className="book-price">
        <button
          type="button"
          onClick={() => pickPrice(price)}
          aria-label={pickLabel(formatNumber(price, pricePrecision, separators))}
        >
          <Price value={price} precision={pricePrecision} separators={separators} />
        </button>
      </span>
      <span role="cell" data-testid="book-volume">
        {formatNumber(volume, amountPrecision, separators)}
      </span>
      <span role="cell">{formatNumber(total, amountPrecision, separators)}</span>
    </div>
  );
});

/** Between the sides: the last traded price (24 h ticker; none before a first trade) and the spread. */
function SpreadRow({
  market,
  spread,
  separators,
}: {
  market: Market;
  spread: string | null;
  separators: Separators;
}) {
  const { t } = useTranslation('trade');
  const last = useTickers().data?.[market.id]?.ticker.last;
  return (
    <div className="book-spread" role="row">
      <span role="cell" className="book-last">
        {last !== undefined && !isZero(last) ? formatNumber(last, market.price_precision, separators) : '—'}
      </span>
      <span role="cell" className="muted">
        {t('book.spread')} {spread !== null ? formatNumber(spread, market.price_precision, separators) : '—'}
      </span>
    </div>
  );
}
