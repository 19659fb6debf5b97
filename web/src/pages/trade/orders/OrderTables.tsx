import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorNotice } from '../../../components/ErrorNotice';
import { Cell, type Column, TableHead } from '../../../components/table';
import { errorMessages } from '../../../i18n/errors';
import { useToasts } from '../../../lib/toasts';
import { totalOf } from '../form/validateOrder';
import {
  HISTORY_LIMIT,
  useCancelOrder,
  useOpenOrders,
  useOrderHistory,
  useTradeHistory,
  type UserTrade,
} from './memberData';
import type { OrderRow, Page } from './orderRows';
import { useMarketFormat, type MarketFormat } from './useMarketFormat';

/** The columns of the order tables, by name; a heading and its cells share one. */
function useOrderColumns() {
  const { t } = useTranslation('orders');
  const column = (name: string, numeric = false): Column => ({ label: t(`column.${name}`), numeric });
  return {
    date: column('date'),
    market: column('market'),
    side: column('side'),
    type: column('type'),
    price: column('price', true),
    avgPrice: column('avgPrice', true),
    amount: column('amount', true),
    filled: column('filled', true),
    total: column('total', true),
    fee: column('fee', true),
    state: column('state'),
  };
}

type OrderColumns = ReturnType<typeof useOrderColumns>;

/** Date, market (only when the table spans every market) and side: how every table starts. */
function leadingColumns(columns: OrderColumns, showMarket: boolean): Column[] {
  return [columns.date, ...(showMarket ? [columns.market] : []), columns.side];
}

/** The cells under `leadingColumns`; the side in words and colour (never colour alone). */
function LeadingCells({
  row,
  showMarket,
  format,
}: {
  row: { created_at: string | number; market: string; side: string };
  showMarket: boolean;
  format: MarketFormat;
}) {
  const { t } = useTranslation('orders');
  const known = row.side === 'buy' || row.side === 'sell';
  return (
    <>
      <td className="date" data-label={t('column.date')}>
        {format.date(row.created_at)}
      </td>
      {showMarket && <td data-label={t('column.market')}>{format.name(row.market)}</td>}
      <td className={known ? `side-${row.side}` : undefined} data-label={t('column.side')}>
        {known ? t(`sideName.${row.side}`) : row.side}
      </td>
    </>
  );
}

/** The order's type, then its limit price (or "market"): shown in open and finished orders. */
function TypeAndPriceCells({
  order,
  columns,
  format,
}: {
  order: OrderRow;
  columns: OrderColumns;
  format: MarketFormat;
}) {
  const { t } = useTranslation('orders');
  return (
    <>
      <Cell {...columns.type}>{t(`ordType.${order.ord_type}`, { defaultValue: order.ord_type })}</Cell>
      <Cell {...columns.price}>
        {order.price === null || order.ord_type === 'market'
          ? t('marketPrice')
          : format.price(order.market, order.price)}
      </Cell>
    </>
  );
}

/** The member's open orders, each with its cancel button. */
export function OpenOrdersTable({ market }: { market: string | null }) {
  const { t } = useTranslation('orders');
  const format = useMarketFormat();
  const columns = useOrderColumns();
  const { push } = useToasts();
  const open = useOpenOrders(market);
  const cancel = useCancelOrder();
  const showMarket = market === null;

  if (open.isPending) return <p className="muted orders-status">{t('loading')}</p>;
  if (open.isError) return <ErrorNotice error={open.error} onRetry={() => void open.refetch()} />;
  const { rows, total } = open.data;

  const onCancel = (id: number) =>
    cancel.mutate(id, {
      onSuccess: () => push(t('cancelled'), 'info'),
      onError: (error) => push(t('cancelFailed', { reason: errorMessages(t, error).join(' ') }), 'error'),
    });

  return (
    <div data-testid="open-orders">
      {rows.length === 0 ? (
        <p className="muted orders-status">{t('empty.open')}</p>
      ) : (
        <div className="orders-table-wrap">
          <table className="orders-table">
            <TableHead
              columns={[
                ...leadingColumns(columns, showMarket),
                columns.type,
                columns.price,
                columns.amount,
                columns.filled,
                columns.total,
              ]}
            >
              <th scope="col" className="action">
                <span className="visually-hidden">{t('column.action')}</span>
              </th>
            </TableHead>
            <tbody>
              {rows.map((order) => {
                const orderTotal = order.price === null ? '' : totalOf(order.price, order.origin_volume);
                return (
                  <tr
                    key={order.id}
                    data-testid="open-order"
                    data-order-id={order.id}
                    data-state={order.state}
                  >
                    <LeadingCells row={order} showMarket={showMarket} format={format} />
                    <TypeAndPriceCells order={order} columns={columns} format={format} />
                    <Cell {...columns.amount}>{format.amount(order.market, order.origin_volume)}</Cell>
                    <Cell {...columns.filled}>{format.amount(order.market, order.executed_volume)}</Cell>
                    <Cell {...columns.total}>
                      {orderTotal === '' ? '—' : format.total(order.market, orderTotal)}
                    </Cell>
                    <td className="action">
                      <button
                        type="button"
                        className="cancel-order"
                        data-testid="cancel-order"
                        aria-label={t('cancelOrder', { id: order.id })}
                        disabled={cancel.isPending && cancel.variables === order.id}
                        onClick={() => onCancel(order.id)}
                      >
                        {t('cancel')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {total > rows.length && (
        <p className="muted orders-status">{t('moreOpen', { shown: rows.length, total })}</p>
      )}
    </div>
  );
}

/** Previous / next over a paged list (`Total` from the API). */
function Pager({ page, total, onPage }: { page: number; total: number; onPage: (page: number) => void }) {
  const { t } = useTranslation('orders');
  const pages = Math.max(1, Math.ceil(total / HISTORY_LIMIT));
  if (pages <= 1 && page <= 1) return null;
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ <span className="visually-hidden">{t('pager.previous')}</span>
      </button>
      <span aria-live="polite">{t('pager.page', { page, pages })}</span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        <span className="visually-hidden">{t('pager.next')}</span> ›
      </button>
    </nav>
  );
}

function PagedList<T>(props: {
  query: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: Page<T> | undefined;
    refetch: () => unknown;
  };
  page: number;
  onPage: (page: number) => void;
  empty: string;
  children: (rows: T[]) => React.ReactNode;
}) {
  const { t } = useTranslation('orders');
  const { query } = props;
  if (query.isPending) return <p className="muted orders-status">{t('loading')}</p>;
  if (query.isError || !query.data)
    return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  const { rows, total } = query.data;
  return (
    <>
      {rows.length === 0 ? (
        <p className="muted orders-status">{props.empty}</p>
      ) : (
        <div className="orders-table-wrap">{props.children(rows)}</div>
      )}
      <Pager page={props.page} total={total} onPage={props.onPage} />
    </>
  );
}

/** The member's finished orders (filled or cancelled), paged. */
export function OrderHistoryTable({ market }: { market: string | null }) {
  const { t } = useTranslation('orders');
  const format = useMarketFormat();
  const columns = useOrderColumns();
  const [page, setPage] = useState(1);
  const history = useOrderHistory(market, page);
  const showMarket = market === null;
  return (
    <PagedList query={history} page={page} onPage={setPage} empty={t('empty.history')}>
      {(rows) => (
        <table className="orders-table">
          <TableHead
            columns={[
              ...leadingColumns(columns, showMarket),
              columns.type,
              columns.price,
              columns.avgPrice,
              columns.amount,
              columns.filled,
              columns.state,
            ]}
          />
          <tbody>
            {rows.map((order) => (
              <tr
                key={order.id}
                data-testid="history-order"
                data-order-id={order.id}
                data-state={order.state}
              >
                <LeadingCells row={order} showMarket={showMarket} format={format} />
                <TypeAndPriceCells order={order} columns={columns} format={format} />
                <Cell {...columns.avgPrice}>
                  {/[1-9]/.test(order.avg_price) ? format.price(order.market, order.avg_price) : '—'}
                </Cell>
                <Cell {...columns.amount}>{format.amount(order.market, order.origin_volume)}</Cell>
                <Cell {...columns.filled}>{format.amount(order.market, order.executed_volume)}</Cell>
                <Cell {...columns.state} className={`state state-${order.state}`}>
                  {t(`state.${order.state}`, { defaultValue: order.state })}
                </Cell>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedList>
  );
}

/** The member's trades, paged. */
export function TradeHistoryTable({ market }: { market: string | null }) {
  const { t } = useTranslation('orders');
  const format = useMarketFormat();
  const columns = useOrderColumns();
  const [page, setPage] = useState(1);
  const trades = useTradeHistory(market, page);
  const showMarket = market === null;
  return (
    <PagedList query={trades} page={page} onPage={setPage} empty={t('empty.trades')}>
      {(rows: UserTrade[]) => (
        <table className="orders-table">
          <TableHead
            columns={[
              ...leadingColumns(columns, showMarket),
              columns.price,
              columns.amount,
              columns.total,
              columns.fee,
            ]}
          />
          <tbody>
            {rows.map((trade) => (
              <tr key={`${trade.id}-${trade.side}`} data-testid="history-trade" data-trade-id={trade.id}>
                <LeadingCells row={trade} showMarket={showMarket} format={format} />
                <Cell {...columns.price}>{format.price(trade.market, trade.price)}</Cell>
                <Cell {...columns.amount}>{format.amount(trade.market, trade.amount)}</Cell>
                <Cell {...columns.total}>{format.total(trade.market, trade.total)}</Cell>
                <Cell {...columns.fee}>
                  {format.exact(trade.fee_amount)}{' '}
                  <span className="unit">{trade.fee_currency.toUpperCase()}</span>
                </Cell>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedList>
  );
}
