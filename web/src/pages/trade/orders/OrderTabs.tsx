import { useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessages } from '../../../i18n/errors';
import { useToasts } from '../../../lib/toasts';
import '../orders.css';
import { useCancelAll, useOpenOrders } from './memberData';
import { OpenOrdersTable, OrderHistoryTable, TradeHistoryTable } from './OrderTables';
import { useLiveMemberOrders } from './useLiveMemberOrders';

type Tab = 'open' | 'history' | 'trades';
const TABS: { tab: Tab; testId: string }[] = [
  { tab: 'open', testId: 'tab-open-orders' },
  { tab: 'history', testId: 'tab-order-history' },
  { tab: 'trades', testId: 'tab-trade-history' },
];

/**
 * The member's open orders, order history and trade history, of one market (`market`)
 * or all of them (null: the orders page, with a market column), kept live.
 */
export function OrderTabs({ market }: { market: string | null }) {
  const { t } = useTranslation('orders');
  const id = useId();
  const [tab, setTab] = useState<Tab>('open');
  const buttons = useRef<Partial<Record<Tab, HTMLButtonElement | null>>>({});
  useLiveMemberOrders(true);
  const open = useOpenOrders(market);
  const openCount = open.data?.total;

  /** Arrow keys move between tabs (the ARIA tabs pattern), Home and End to the ends. */
  const onKeyDown = (event: KeyboardEvent) => {
    const index = TABS.findIndex((entry) => entry.tab === tab);
    const moves: Record<string, number> = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: TABS.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = TABS[(target + TABS.length) % TABS.length]!.tab;
    setTab(next);
    buttons.current[next]?.focus();
  };

  return (
    <section className="member-orders card" aria-label={t('tabs.label')}>
      <div className="member-orders-head">
        <div role="tablist" aria-label={t('tabs.label')} className="orders-tabs" onKeyDown={onKeyDown}>
          {TABS.map(({ tab: name, testId }) => (
            <button
              key={name}
              ref={(element) => {
                buttons.current[name] = element;
              }}
              type="button"
              role="tab"
              id={`${id}-${name}`}
              aria-selected={tab === name}
              aria-controls={`${id}-panel`}
              tabIndex={tab === name ? 0 : -1}
              data-testid={testId}
              className="orders-tab"
              onClick={() => setTab(name)}
            >
              {t(`tabs.${name}`)}
              {name === 'open' && openCount !== undefined && openCount > 0 && (
                <span className="orders-count"> ({openCount})</span>
              )}
            </button>
          ))}
        </div>
        {tab === 'open' && <CancelAll market={market} disabled={!openCount} />}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-${tab}`} className="orders-panel">
        {tab === 'open' && <OpenOrdersTable market={market} />}
        {tab === 'history' && <OrderHistoryTable key={market ?? ''} market={market} />}
        {tab === 'trades' && <TradeHistoryTable key={market ?? ''} market={market} />}
      </div>
    </section>
  );
}

function CancelAll({ market, disabled }: { market: string | null; disabled: boolean }) {
  const { t } = useTranslation('orders');
  const { push } = useToasts();
  const cancelAll = useCancelAll(market);
  return (
    <button
      type="button"
      className="cancel-all"
      data-testid="cancel-all"
      disabled={disabled || cancelAll.isPending}
      onClick={() =>
        cancelAll.mutate(undefined, {
          onSuccess: (orders) => push(t('cancelledAll', { count: orders.length }), 'info'),
          onError: (error) => push(t('cancelFailed', { reason: errorMessages(t, error).join(' ') }), 'error'),
        })
      }
    >
      {t('cancelAll')}
    </button>
  );
}
