import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes } from 'react-router-dom';
import { ActivitySection } from './profile/ActivitySection';
import { ApiKeysSection } from './profile/ApiKeysSection';
import { OverviewSection } from './profile/OverviewSection';
import { SecuritySection } from './profile/SecuritySection';
import { VerificationSection } from './profile/VerificationSection';
import './account.css';

const SECTIONS = [
  { to: '/profile', key: 'overview', end: true },
  { to: '/profile/security', key: 'security', end: false },
  { to: '/profile/verification', key: 'verification', end: false },
  { to: '/profile/api-keys', key: 'apiKeys', end: false },
  { to: '/profile/activity', key: 'activity', end: false },
] as const;

/** The member's account: a side navigation (tabs on a phone) and one section at a time. */
export default function ProfilePage() {
  const { t } = useTranslation('account');
  return (
    <section className="page account-profile">
      <h1>{t('profile.title')}</h1>
      <div className="account-layout">
        <nav className="account-nav" aria-label={t('profile.nav')}>
          {SECTIONS.map((section) => (
            <NavLink key={section.key} to={section.to} end={section.end}>
              {t(`profile.sections.${section.key}`)}
            </NavLink>
          ))}
        </nav>
        <div className="account-content">
          <Routes>
            <Route index element={<OverviewSection />} />
            <Route path="security" element={<SecuritySection />} />
            <Route path="verification" element={<VerificationSection />} />
            <Route path="api-keys" element={<ApiKeysSection />} />
            <Route path="activity" element={<ActivitySection />} />
            <Route path="*" element={<Navigate to="/profile" replace />} />
          </Routes>
        </div>
      </div>
    </section>
  );
}
