import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import { RESEND_INTERVAL_S } from '../accountApi';
import { CheckedForm, CodeField, FormError, SubmitButton, SuccessNotice, TextField } from '../fields';
import { formatMoment } from '../time';
import { isSixDigits, secondsLeft } from '../validation';

const PHONES_KEY = ['member', 'phones'] as const;

/**
 * Level 2: a phone number verified by a texted code. The API keeps numbers masked, so the
 * number typed here is kept (in this page only) to send with its code.
 */
export function PhoneCard() {
  const { t, i18n } = useTranslation('account');
  const { refresh } = useSession();
  const queryClient = useQueryClient();
  const [number, setNumber] = useState('');
  const [code, setCode] = useState('');
  const [sentTo, setSentTo] = useState<{ number: string; masked: string; at: number } | null>(null);
  const [tried, setTried] = useState(false);
  const [verified, setVerified] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const wait = secondsLeft(sentTo?.at ?? null, now, RESEND_INTERVAL_S);
  useEffect(() => {
    if (wait <= 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [wait]);

  const phones = useQuery({
    queryKey: PHONES_KEY,
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/barong/resource/phones', { signal })),
  });
  const send = useMutation({
    mutationFn: (phone: string) =>
      unwrap(api.POST('/api/v2/barong/resource/phones', { body: { phone_number: phone } })),
    onSuccess: (answer, phone) => {
      setSentTo({ number: phone, masked: answer.number ?? phone, at: Date.now() });
      setNow(Date.now());
      setTried(false);
      setVerified(false);
      void queryClient.invalidateQueries({ queryKey: PHONES_KEY });
    },
  });
  const verify = useMutation({
    mutationFn: (phone: string) =>
      unwrap(
        api.POST('/api/v2/barong/resource/phones/verify', {
          body: { phone_number: phone, verification_code: code },
        }),
      ),
    onSuccess: async () => {
      setSentTo(null);
      setCode('');
      setNumber('');
      setTried(false);
      setVerified(true);
      await queryClient.invalidateQueries({ queryKey: PHONES_KEY });
      await refresh(); // the level changed
    },
  });

  const numberProblem = tried && !number.trim() ? t('problem.required') : null;
  const codeProblem = tried && sentTo && !isSixDigits(code) ? t('code.sixDigits') : null;
  return (
    <section className="card" aria-labelledby="phone-title">
      <h2 id="phone-title">{t('phone.title')}</h2>
      {phones.data && phones.data.length > 0 && (
        <ul className="account-list">
          {phones.data.map((phone) => (
            <li key={phone.number}>
              <code>{phone.number}</code>{' '}
              {phone.validated_at ? (
                <span className="account-badge on">
                  {t('phone.verifiedOn', {
                    date: formatMoment(phone.validated_at, i18n.resolvedLanguage, false),
                  })}
                </span>
              ) : (
                <span className="account-badge off">{t('phone.unverified')}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      <FormError error={phones.error} />
      {verified && <SuccessNotice>{t('phone.done')}</SuccessNotice>}
      {sentTo === null ? (
        <CheckedForm
          className="account-form"
          onSubmit={() => {
            setTried(true);
            if (number.trim()) send.mutate(number.trim());
          }}
        >
          <TextField
            id="phone-number"
            label={t('phone.number')}
            type="tel"
            autoComplete="tel"
            placeholder="+33 6 12 34 56 78"
            hint={t('phone.numberHint')}
            value={number}
            onValue={setNumber}
            problem={numberProblem}
            required
          />
          <FormError error={send.error} />
          <SubmitButton testId="phone-send" disabled={send.isPending}>
            {t('phone.send')}
          </SubmitButton>
        </CheckedForm>
      ) : (
        <CheckedForm
          className="account-form"
          onSubmit={() => {
            setTried(true);
            if (isSixDigits(code)) verify.mutate(sentTo.number);
          }}
        >
          <SuccessNotice>{t('phone.sent', { number: sentTo.masked })}</SuccessNotice>
          <CodeField
            id="phone-code"
            label={t('phone.code')}
            value={code}
            onValue={setCode}
            problem={codeProblem}
            required
            autoFocus
          />
          <FormError error={verify.error ?? send.error} />
          <div className="actions">
            <SubmitButton testId="phone-verify" disabled={verify.isPending}>
              {t('phone.verify')}
            </SubmitButton>
            <button
              type="button"
              data-testid="phone-resend"
              disabled={wait > 0 || send.isPending}
              onClick={() => send.mutate(sentTo.number)}
            >
              {wait > 0 ? t('confirm.resendIn', { seconds: wait }) : t('confirm.resend')}
            </button>
            <button type="button" onClick={() => setSentTo(null)}>
              {t('phone.other')}
            </button>
          </div>
          <p className="hint muted account-hint">{t('phone.noSms')}</p>
        </CheckedForm>
      )}
    </section>
  );
}
