import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useSession } from '../../../api/session';
import { TableHead } from '../../../components/table';
import { formatMoment } from '../time';

const MAX_LEVEL = 3;

/** Who the member is to the exchange: address, UID, level, state, role, 2FA and labels. */
export function OverviewSection() {
  const { t, i18n } = useTranslation('account');
  const { user } = useSession();
  if (!user) return null;
  return (
    <div className="account-sections">
      <section className="card" aria-labelledby="overview-title">
        <h2 id="overview-title">{t('overview.title')}</h2>
        <dl className="account-facts">
          <dt>{t('field.email')}</dt>
          <dd data-testid="profile-email">{user.email}</dd>
          <dt>{t('overview.uid')}</dt>
          <dd>
            <code data-testid="profile-uid">{user.uid}</code>
          </dd>
          <dt>{t('overview.level')}</dt>
          <dd data-testid="profile-level" data-level={user.level}>
            {t('overview.levelOf', { level: user.level, max: MAX_LEVEL })}{' '}
            {user.level < MAX_LEVEL && <Link to="/profile/verification">{t('overview.raise')}</Link>}
          </dd>
          <dt>{t('overview.state')}</dt>
          <dd data-testid="profile-state" data-state={user.state}>
            {t(`state.${user.state}`, { defaultValue: user.state })}
          </dd>
          <dt>{t('overview.role')}</dt>
          <dd>{t(`role.${user.role}`, { defaultValue: user.role })}</dd>
          <dt>{t('overview.otp')}</dt>
          <dd>
            {user.otp ? t('overview.otpOn') : t('overview.otpOff')}{' '}
            {!user.otp && <Link to="/profile/security">{t('overview.turnOn')}</Link>}
          </dd>
          <dt>{t('overview.since')}</dt>
          <dd>{formatMoment(user.created_at, i18n.resolvedLanguage, false)}</dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="labels-title">
        <h2 id="labels-title">{t('overview.labels')}</h2>
        <p className="muted">{t('overview.labelsHint')}</p>
        {user.labels.length === 0 ? (
          <p className="muted">{t('overview.noLabels')}</p>
        ) : (
          <div className="table-wrap">
            <table className="account-table">
              <TableHead
                columns={[
                  { label: t('overview.labelKey') },
                  { label: t('overview.labelValue') },
                  { label: t('overview.labelScope') },
                ]}
              />
              <tbody>
                {user.labels.map((label) => (
                  <tr key={`${label.scope}:${label.key}`}>
                    <td>{label.key}</td>
                    <td>{label.value}</td>
                    <td>{t(`overview.scope.${label.scope}`, { defaultValue: label.scope })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
