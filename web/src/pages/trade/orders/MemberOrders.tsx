import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { useSession } from '../../../api/session';
import '../orders.css';
import { OrderTabs } from './OrderTabs';

/** The member's orders and trades on one market (the trade page's lower panel). */
export function MemberOrders({ market }: { market: string }) {
  const { t } = useTranslation('orders');
  const { status } = useSession();
  const { pathname, search } = useLocation();
  if (status === 'signedIn') return <OrderTabs market={market} />;
  return (
    <section className="member-orders card" aria-label={t('tabs.label')}>
      {status === 'loading' ? (
        <p className="muted orders-status">{t('loading')}</p>
      ) : (
        <p className="orders-status">
          {t('signedOut')}{' '}
          <Link to={`/signin?next=${encodeURIComponent(pathname + search)}`}>{t('signIn')}</Link>
        </p>
      )}
    </section>
  );
}
