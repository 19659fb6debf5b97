import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { privateRanger, useRangerStream } from '../../../lib/ranger';
import { useToasts } from '../../../lib/toasts';
import { applyOrder, knownExecuted, OPEN_ORDERS_KEY, ORDER_HISTORY_KEY, TRADES_KEY } from './memberData';
import { filledSince, orderFromStream } from './orderRows';
import { useMarketFormat } from './useMarketFormat';

/**
 * Keeps the member's lists live while mounted: the private `order` stream updates the
 * open orders in place (and toasts each fill, partial or full, of any market), the
 * `trade` stream refreshes the trade history (its messages lack the fee), and a new
 * connection refetches what may have been missed while it was down.
 */
export function useLiveMemberOrders(enabled: boolean): void {
  const queryClient = useQueryClient();
  const { push } = useToasts();
  const { t } = useTranslation('orders');
  const format = useMarketFormat();

  const onOrder = useCallback(
    (payload: unknown) => {
      const order = orderFromStream(payload);
      if (!order) return;
      const before = knownExecuted.get(order.id) ?? '0';
      knownExecuted.set(order.id, order.executed_volume);
      applyOrder(queryClient, order);
      const filled = filledSince(before, order.executed_volume);
      if (filled === null) return;
      const price = /[1-9]/.test(order.avg_price) ? order.avg_price : (order.price ?? order.avg_price);
      const values = {
        amount: format.exact(filled),
        base: format.base(order.market),
        price: format.price(order.market, price),
        quote: format.quote(order.market),
        market: format.name(order.market),
      };
      const full = order.state === 'done';
      const key =
        order.side === 'sell'
          ? full
            ? 'fill.sellFull'
            : 'fill.sellPartial'
          : full
            ? 'fill.buyFull'
            : 'fill.buyPartial';
      push(t(key, values), 'success');
    },
    [queryClient, push, t, format],
  );

  const onTrade = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: TRADES_KEY });
  }, [queryClient]);

  useRangerStream(privateRanger, enabled ? 'order' : null, onOrder);
  useRangerStream(privateRanger, enabled ? 'trade' : null, onTrade);

  useEffect(() => {
    if (!enabled) return;
    return privateRanger.onOpen(() => {
      for (const queryKey of [OPEN_ORDERS_KEY, ORDER_HISTORY_KEY, TRADES_KEY]) {
        void queryClient.invalidateQueries({ queryKey });
      }
    });
  }, [enabled, queryClient]);
}
