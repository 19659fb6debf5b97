import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import type { Profile } from '../accountApi';
import { CheckedForm, FormError, SubmitButton, SuccessNotice, TextField } from '../fields';
import { isCountryCode, isPastDate, localToday, noProblems } from '../validation';

const PROFILE_KEY = ['member', 'profile'] as const;
const EDITABLE = ['drafted', 'rejected'];
const FIELDS = ['first_name', 'last_name', 'dob', 'address', 'city', 'postcode', 'country'] as const;
type FieldName = (typeof FIELDS)[number];
type Values = Record<FieldName, string>;

function valuesOf(profile: Profile | null | undefined): Values {
  const values = {} as Values;
  for (const name of FIELDS) values[name] = profile?.[name] ?? '';
  return values;
}

/** The country's name in the member's language, if the code names one. */
function countryName(code: string, locale: string | undefined): string | null {
  if (!/^[A-Za-z]{2}$/.test(code)) return null;
  try {
    const name = new Intl.DisplayNames(locale ? [locale] : undefined, { type: 'region' }).of(
      code.toUpperCase(),
    );
    return name && name.toUpperCase() !== code.toUpperCase() ? name : null;
  } catch {
    return null;
  }
}

/**
 * The member's identity for level 3: saved as a draft, then submitted for an admin's
 * review (read-only until verified, or rejected with a reason and editable again).
 */
export function ProfileCard() {
  const { t, i18n } = useTranslation('account');
  const { refresh } = useSession();
  const queryClient = useQueryClient();
  const profile = useQuery({
    queryKey: PROFILE_KEY,
    queryFn: async ({ signal }) => {
      try {
        return await unwrap(api.GET('/api/v2/barong/resource/profiles/me', { signal }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null; // none saved yet
        throw error;
      }
    },
  });
  if (profile.isPending) {
    return (
      <section className="card">
        <p className="muted">{t('loading')}</p>
      </section>
    );
  }
  if (profile.isError) {
    return (
      <section className="card">
        <FormError error={profile.error} />
      </section>
    );
  }
  return (
    <ProfileForm
      // A new answer (saved, reviewed) starts the form again from what the API holds.
      key={profile.data?.updated_at ?? 'new'}
      profile={profile.data}
      locale={i18n.resolvedLanguage}
      onSaved={async (saved) => {
        queryClient.setQueryData(PROFILE_KEY, saved);
        await refresh();
      }}
    />
  );
}

function ProfileForm({
  profile,
  locale,
  onSaved,
}: {
  profile: Profile | null;
  locale: string | undefined;
  onSaved: (saved: Profile) => Promise<void>;
}) {
  const { t } = useTranslation('account');
  const [values, setValues] = useState<Values>(() => valuesOf(profile));
  const [tried, setTried] = useState(false);
  const [saved, setSaved] = useState<'drafted' | 'submitted' | null>(null);
  const editable = !profile || EDITABLE.includes(profile.state);
  const save = useMutation({
    mutationFn: (confirm: boolean) => {
      const body = {
        first_name: values.first_name.trim() || null,
        last_name: values.last_name.trim() || null,
        dob: values.dob || null,
        address: values.address.trim() || null,
        city: values.city.trim() || null,
        postcode: values.postcode.trim() || null,
        country: values.country.trim().toUpperCase() || null,
        metadata: null,
        confirm,
      };
      return unwrap(api.POST('/api/v2/barong/resource/profiles', { body }));
    },
    onSuccess: async (answer, confirm) => {
      setSaved(confirm ? 'submitted' : 'drafted');
      await onSaved(answer);
    },
  });

  const today = localToday();
  const problems: Record<FieldName, string | null> = {
    first_name: values.first_name.trim() ? null : t('problem.required'),
    last_name: values.last_name.trim() ? null : t('problem.required'),
    dob: isPastDate(values.dob, today) ? null : t('problem.dob'),
    address: values.address.trim() ? null : t('problem.required'),
    city: values.city.trim() ? null : t('problem.required'),
    postcode: values.postcode.trim() ? null : t('problem.required'),
    country: isCountryCode(values.country) ? null : t('problem.country'),
  };
  const complete = noProblems(problems);
  const field = (name: FieldName, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
    <TextField
      id={`profile-${name}`}
      label={t(`kycProfile.${name}`)}
      value={values[name]}
      onValue={(value) => setValues({ ...values, [name]: value })}
      problem={tried ? problems[name] : null}
      disabled={!editable}
      required
      {...extra}
    />
  );

  return (
    <section className="card" aria-labelledby="kyc-profile-title">
      <h2 id="kyc-profile-title">{t('kycProfile.title')}</h2>
      <p data-testid="profile-review-state" data-state={profile?.state ?? 'none'}>
        <span className={`account-badge ${profile?.state === 'verified' ? 'on' : 'off'}`}>
          {t(`review.${profile?.state ?? 'none'}`, { defaultValue: profile?.state })}
        </span>{' '}
        <span className="muted">
          {t(`kycProfile.explain.${profile?.state ?? 'none'}`, { defaultValue: '' })}
        </span>
      </p>
      {profile?.state === 'rejected' && profile.reason && (
        <p className="notice notice-warning">{t('review.reason', { reason: profile.reason })}</p>
      )}
      {saved && <SuccessNotice>{t(`kycProfile.saved.${saved}`)}</SuccessNotice>}
      <CheckedForm
        className="account-grid"
        onSubmit={() => {
          setTried(true);
          if (complete) save.mutate(true);
        }}
      >
        {field('first_name', { autoComplete: 'given-name' })}
        {field('last_name', { autoComplete: 'family-name' })}
        {field('dob', { type: 'date', max: today, autoComplete: 'bday' })}
        {field('address', { autoComplete: 'street-address' })}
        {field('city', { autoComplete: 'address-level2' })}
        {field('postcode', { autoComplete: 'postal-code' })}
        {field('country', {
          autoComplete: 'country',
          maxLength: 3,
          hint: countryName(values.country, locale) ?? t('kycProfile.countryHint'),
        })}
        {editable && (
          <div className="account-grid-full">
            <FormError error={save.error} />
            <div className="actions">
              <SubmitButton testId="profile-submit" disabled={save.isPending}>
                {t('kycProfile.submit')}
              </SubmitButton>
              <button
                type="button"
                data-testid="profile-draft"
                disabled={save.isPending}
                onClick={() => {
                  setTried(false);
                  save.mutate(false);
                }}
              >
                {t('kycProfile.draft')}
              </button>
            </div>
          </div>
        )}
      </CheckedForm>
    </section>
  );
}
