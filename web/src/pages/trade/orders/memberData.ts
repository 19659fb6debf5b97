/**
 * The member's orders and trades in the query cache: the lists (open, history, trades,
 * for one market or all), cancellations, and the one place an order's news lands
 * (`applyOrder`: the answer of a placement or a cancellation, or an `order` stream
 * message), so the open list is the same whoever heard first.
 */
import {
  keepPreviousData,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import { api, unwrap } from '../../../api/client';
import type { paths } from '../../../api/schema';
import { isOpen, upsertOpenOrder, type OrderRow, type Page } from './orderRows';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
export type UserTrade = Json<paths['/api/v2/peatio/market/trades']['get']['responses']['200']>[number];

export const OPEN_ORDERS_KEY = ['member', 'orders', 'open'] as const;
export const ORDER_HISTORY_KEY = ['member', 'orders', 'history'] as const;
export const TRADES_KEY = ['member', 'trades'] as const;
/** The open list holds every open order (the API's cap); the histories are paged. */
export const OPEN_LIMIT = 1000;
export const HISTORY_LIMIT = 25;
const ALL = 'all';

/**
 * Orders seen closed: one never reopens, so a list answer that raced the closing (a
 * refetch in flight when an order filled) cannot bring it back.
 */
const closedOrderIds = new Set<number>();

/**
 * What each order had executed when last heard of (from the open list as fetched, or the
 * stream), to tell a new fill from news already shown. Not updated by our own placement's
 * answer: a fill at placement is toasted when the stream tells it.
 */
export const knownExecuted = new Map<number, string>();

function scope(market: string | null): string {
  return market ?? ALL;
}

/** One page of a list, with the `Total` header the API sends. */
async function withTotal<T>(
  call: Promise<{ data?: T[]; error?: unknown; response: Response }>,
): Promise<Page<T>> {
  const rows = await unwrap(call);
  const { response } = await call;
  const total = parseInt(response.headers.get('Total') ?? '', 10);
  return { rows, total: Number.isNaN(total) ? rows.length : total };
}

function marketQuery(market: string | null): { market?: string[] } {
  return market === null ? {} : { market: [market] };
}

/** The member's open orders (of one market, or all), newest first. */
export function useOpenOrders(market: string | null, enabled = true) {
  return useQuery({
    queryKey: [...OPEN_ORDERS_KEY, scope(market)],
    queryFn: async ({ signal }) => {
      const page = await withTotal(
        api.GET('/api/v2/peatio/market/orders', {
          params: { query: { ...marketQuery(market), state: ['wait'], limit: OPEN_LIMIT } },
          signal,
        }),
      );
      const rows: OrderRow[] = page.rows.filter((row) => !closedOrderIds.has(row.id));
      for (const row of rows) knownExecuted.set(row.id, row.executed_volume);
      return { rows, total: page.total } satisfies Page<OrderRow>;
    },
    enabled,
  });
}

/** The member's finished orders (done or cancelled), one page, newest first. */
export function useOrderHistory(market: string | null, page: number, enabled = true) {
  return useQuery({
    queryKey: [...ORDER_HISTORY_KEY, scope(market), page],
    queryFn: ({ signal }) =>
      withTotal<OrderRow>(
        api.GET('/api/v2/peatio/market/orders', {
          params: {
            query: { ...marketQuery(market), state: ['done', 'cancel'], limit: HISTORY_LIMIT, page },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/** The member's trades, one page, newest first. */
export function useTradeHistory(market: string | null, page: number, enabled = true) {
  return useQuery({
    queryKey: [...TRADES_KEY, scope(market), page],
    queryFn: ({ signal }) =>
      withTotal<UserTrade>(
        api.GET('/api/v2/peatio/market/trades', {
          params: { query: { ...marketQuery(market), limit: HISTORY_LIMIT, page } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/**
 * An order's latest state into every open list it belongs to (its market's and the
 * all-markets one); a closed order leaves them and refreshes the order history.
 */
export function applyOrder(queryClient: QueryClient, order: OrderRow): void {
  if (!isOpen(order.state)) closedOrderIds.add(order.id);
  for (const [key, data] of queryClient.getQueriesData<Page<OrderRow>>({ queryKey: OPEN_ORDERS_KEY })) {
    const listed = key[3];
    if (!data || (listed !== ALL && listed !== order.market)) continue;
    const rows = upsertOpenOrder(data.rows, order);
    if (rows.length === data.rows.length && rows.every((row, i) => row === data.rows[i])) continue;
    queryClient.setQueryData<Page<OrderRow>>(key, {
      rows,
      total: Math.max(0, data.total + rows.length - data.rows.length),
    });
  }
  if (!isOpen(order.state)) void queryClient.invalidateQueries({ queryKey: ORDER_HISTORY_KEY });
}

/** Cancels one order; its answer (the cancelled order) updates the lists at once. */
export function useCancelOrder() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: number) =>
      unwrap(api.POST('/api/v2/peatio/market/orders/{id}/cancel', { params: { path: { id: String(id) } } })),
    onSuccess: (order) => applyOrder(queryClient, order),
  });
}

/** Cancels every open order of `market` (or of every market). */
export function useCancelAll(market: string | null) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/peatio/market/orders/cancel', {
          body: { market, market_type: 'spot', side: null },
        }),
      ),
    onSuccess: (orders) => {
      for (const order of orders) applyOrder(queryClient, order);
      void queryClient.invalidateQueries({ queryKey: OPEN_ORDERS_KEY });
    },
  });
}
