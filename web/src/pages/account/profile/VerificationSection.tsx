import { useTranslation } from 'react-i18next';
import { useSession } from '../../../api/session';
import { useMemberLevels } from '../accountApi';
import { areasAtLevel, type Area } from '../validation';
import { DocumentsCard } from './DocumentsCard';
import { PhoneCard } from './PhoneCard';
import { ProfileCard } from './ProfileCard';

/** Bursa's defaults (`BURSA_MIN_*_LEVEL`), shown while `member-levels` has not answered. */
const DEFAULT_LEVELS: Record<Area, number> = { trading: 1, deposit: 1, withdraw: 3 };
const STEPS = [
  { level: 1, key: 'email' },
  { level: 2, key: 'phone' },
  { level: 3, key: 'identity' },
] as const;

/**
 * KYC: the level ladder (what each level opens on this exchange, from `member-levels`),
 * then the steps — phone by SMS code (level 2), profile and identity document for an
 * admin's review (level 3, once the document is verified).
 */
export function VerificationSection() {
  const { t } = useTranslation('account');
  const { user } = useSession();
  const levels = useMemberLevels();
  if (!user) return null;
  const known = levels.data ?? DEFAULT_LEVELS;
  const openFromStart = areasAtLevel(known, 0);
  return (
    <div className="account-sections">
      <section className="card" aria-labelledby="levels-title">
        <h2 id="levels-title">{t('kyc.title')}</h2>
        <p>{t('kyc.current', { level: user.level })}</p>
        <ol className="account-ladder">
          {STEPS.map((step) => {
            const state =
              user.level >= step.level ? 'done' : user.level + 1 === step.level ? 'next' : 'later';
            const opens = areasAtLevel(known, step.level);
            return (
              <li
                key={step.level}
                className={`account-rung account-rung-${state}`}
                data-testid={`kyc-level-${step.level}`}
              >
                <span className="account-rung-mark" aria-hidden="true">
                  {state === 'done' ? '✓' : step.level}
                </span>
                <div>
                  <strong>{t('kyc.level', { level: step.level })}</strong> — {t(`kyc.steps.${step.key}`)}{' '}
                  <span className="visually-hidden">{t(`kyc.state.${state}`)}</span>
                  <span className={`account-badge ${state === 'done' ? 'on' : 'off'}`} aria-hidden="true">
                    {t(`kyc.state.${state}`)}
                  </span>
                  <p className="muted account-opens">
                    {opens.length > 0
                      ? t('kyc.opens', { areas: opens.map((area) => t(`kyc.areas.${area}`)).join(', ') })
                      : t('kyc.opensNothing')}
                  </p>
                </div>
              </li>
            );
          })}
        </ol>
        {openFromStart.length > 0 && (
          <p className="muted">
            {t('kyc.openFromStart', {
              areas: openFromStart.map((area) => t(`kyc.areas.${area}`)).join(', '),
            })}
          </p>
        )}
        {levels.isError && <p className="hint muted">{t('kyc.defaults')}</p>}
      </section>
      <PhoneCard />
      <ProfileCard />
      <DocumentsCard />
    </div>
  );
}
