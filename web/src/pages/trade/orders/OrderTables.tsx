import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorNotice } from '../../../components/ErrorNotice';
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

/** Buy or sell in words and colour (never colour alone). */
function SideCell({ side }: { side: string }) {
  const { t } = useTranslation('orders');
  const known = side === 'buy' || side === 'sell';
  return (
    <td className={known ? `side-${side}` : undefined} data-label={t('column.side')}>
      {known ? t(`sideName.${side}`) : side}
    </td>
  );
}

function priceText(format: MarketFormat, order: OrderRow, marketWord: string): string {
  return order.price === null || order.ord_type === 'market'
    ? marketWord
    : format.price(order.market, order.price);
}

/** The member's open orders, each with its cancel button. */
export function OpenOrdersTable({ market }: { market: string | null }) {
  const { t } = useTranslation('orders');
  const format = useMarketFormat();
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
            <thead>
              <tr>
                <th scope="col">{t('column.date')}</th>
                {showMarket && <th scope="col">{t('column.market')}</th>}
                <th scope="col">{t('column.side')}</th>
                <th scope="col">{t('column.type')}</th>
                <th scope="col" className="num">
                  {t('column.price')}
                </th>
                <th scope="col" className="num">
                  {t('column.amount')}
                </th>
                <th scope="col" className="num">
                  {t('column.filled')}
                </th>
                <th scope="col" className="num">
                  {t('column.total')}
                </th>
                <th scope="col" className="action">
                  <span className="visually-hidden">{t('column.action')}</span>
                </th>
              </tr>
            </thead>
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
                    <td className="date" data-label={t('column.date')}>
                      {format.date(order.created_at)}
                    </td>
                    {showMarket && <td data-label={t('column.market')}>{format.name(order.market)}</td>}
                    <SideCell side={order.side} />
                    <td data-label={t('column.type')}>
                      {t(`ordType.${order.ord_type}`, { defaultValue: order.ord_type })}
                    </td>
                    <td className="num" data-label={t('column.price')}>
                      {priceText(format, order, t('marketPrice'))}
                    </td>
                    <td className="num" data-label={t('column.amount')}>
                      {format.amount(order.market, order.origin_volume)}
                    </td>
                    <td className="num" data-label={t('column.filled')}>
                      {format.amount(order.market, order.executed_volume)}
                    </td>
                    <td className="num" data-label={t('column.total')}>
                      {orderTotal === '' ? '—' : format.exact(orderTotal)}
                    </td>
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
  const [page, setPage] = useState(1);
  const history = useOrderHistory(market, page);
  const showMarket = market === null;
  return (
    <PagedList query={history} page={page} onPage={setPage} empty={t('empty.history')}>
      {(rows) => (
        <table className="orders-table">
          <thead>
            <tr>
              <th scope="col">{t('column.date')}</th>
              {showMarket && <th scope="col">{t('column.market')}</th>}
              <th scope="col">{t('column.side')}</th>
              <th scope="col">{t('column.type')}</th>
              <th scope="col" className="num">
                {t('column.price')}
              </th>
              <th scope="col" className="num">
                {t('column.avgPrice')}
              </th>
              <th scope="col" className="num">
                {t('column.amount')}
              </th>
              <th scope="col" className="num">
                {t('column.filled')}
              </th>
              <th scope="col">{t('column.state')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((order) => (
              <tr
                key={order.id}
                data-testid="history-order"
                data-order-id={order.id}
                data-state={order.state}
              >
                <td className="date" data-label={t('column.date')}>
                  {format.date(order.created_at)}
                </td>
                {showMarket && <td data-label={t('column.market')}>{format.name(order.market)}</td>}
                <SideCell side={order.side} />
                <td data-label={t('column.type')}>
                  {t(`ordType.${order.ord_type}`, { defaultValue: order.ord_type })}
                </td>
                <td className="num" data-label={t('column.price')}>
                  {priceText(format, order, t('marketPrice'))}
                </td>
                <td className="num" data-label={t('column.avgPrice')}>
                  {/[1-9]/.test(order.avg_price) ? format.price(order.market, order.avg_price) : '—'}
                </td>
                <td className="num" data-label={t('column.amount')}>
                  {format.amount(order.market, order.origin_volume)}
                </td>
                <td className="num" data-label={t('column.filled')}>
                  {format.amount(order.market, order.executed_volume)}
                </td>
                <td className={`state state-${order.state}`} data-label={t('column.state')}>
                  {t(`state.${order.state}`, { defaultValue: order.state })}
                </td>
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
  const [page, setPage] = useState(1);
  const trades = useTradeHistory(market, page);
  const showMarket = market === null;
  return (
    <PagedList query={trades} page={page} onPage={setPage} empty={t('empty.trades')}>
      {(rows: UserTrade[]) => (
        <table className="orders-table">
          <thead>
            <tr>
              <th scope="col">{t('column.date')}</th>
              {showMarket && <th scope="col">{t('column.market')}</th>}
              <th scope="col">{t('column.side')}</th>
              <th scope="col" className="num">
                {t('column.price')}
              </th>
              <th scope="col" className="num">
                {t('column.amount')}
              </th>
              <th scope="col" className="num">
                {t('column.total')}
              </th>
              <th scope="col" className="num">
                {t('column.fee')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((trade) => (
              <tr key={`${trade.id}-${trade.side}`} data-testid="history-trade" data-trade-id={trade.id}>
                <td className="date" data-label={t('column.date')}>
                  {format.date(trade.created_at)}
                </td>
                {showMarket && <td data-label={t('column.market')}>{format.name(trade.market)}</td>}
                <SideCell side={trade.side} />
                <td className="num" data-label={t('column.price')}>
                  {format.price(trade.market, trade.price)}
                </td>
                <td className="num" data-label={t('column.amount')}>
                  {format.amount(trade.market, trade.amount)}
                </td>
                <td className="num" data-label={t('column.total')}>
                  {format.exact(trade.total)}
                </td>
                <td className="num" data-label={t('column.fee')}>
                  {format.exact(trade.fee_amount)}{' '}
                  <span className="unit">{trade.fee_currency.toUpperCase()}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PagedList>
  );
}
