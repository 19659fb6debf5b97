import { useMutation } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import { CheckedForm, CodeField, CopyButton, FormError, SubmitButton, SuccessNotice } from '../fields';
import { useCodeEntry } from '../useCodeEntry';
import { otpSecretOf } from '../validation';

/**
 * Two-factor authentication (TOTP). Off: a new seed is asked for at once (it replaces any
 * unconfirmed one) and shown as a QR code and as text; a first code turns 2FA on and ends
 * the member's other sessions. On: a current code turns it off (and every API key with it).
 */
export function TwoFactorCard() {
  const { t } = useTranslation('account');
  const { user, refresh } = useSession();
  const [done, setDone] = useState<'enabled' | 'disabled' | null>(null);
  if (!user) return null;
  return (
    <section className="card" aria-labelledby="otp-title">
      <h2 id="otp-title">{t('otp.title')}</h2>
      <p data-testid="otp-state" data-enabled={String(user.otp)} className="account-otp-state">
        <span className={`account-badge ${user.otp ? 'on' : 'off'}`}>
          {user.otp ? t('otp.on') : t('otp.off')}
        </span>{' '}
        {user.otp ? t('otp.onExplain') : t('otp.offExplain')}
      </p>
      {done === 'enabled' && <SuccessNotice>{t('otp.enabled')}</SuccessNotice>}
      {done === 'disabled' && <SuccessNotice>{t('otp.disabled')}</SuccessNotice>}
      {user.otp ? (
        <DisableForm
          onDone={async () => {
            await refresh();
            setDone('disabled');
          }}
        />
      ) : (
        <EnableForm
          onDone={async () => {
            await refresh();
            setDone('enabled');
          }}
        />
      )}
    </section>
  );
}

/** The QR code: the API's PNG, or one drawn here from the otpauth URL if that fails. */
function OtpQr({ url, barcode }: { url: string; barcode: string }) {
  const { t } = useTranslation('account');
  const [drawn, setDrawn] = useState<string | null>(null);
  const [useOwn, setUseOwn] = useState(!barcode);
  useEffect(() => {
    if (!useOwn) return;
    let live = true;
    QRCode.toDataURL(url, { margin: 2, width: 200 })
      .then((data) => {
        if (live) setDrawn(data);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [url, useOwn]);
  const src = useOwn ? drawn : `data:image/png;base64,${barcode}`;
  if (!src) return null;
  return (
    <img
      data-testid="otp-qr"
      className="account-qr"
      src={src}
      alt={t('otp.qrAlt')}
      width={200}
      height={200}
      onError={() => setUseOwn(true)}
    />
  );
}

function EnableForm({ onDone }: { onDone: () => Promise<void> }) {
  const { t } = useTranslation('account');
  const code = useCodeEntry();

  const seed = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/barong/resource/otp/generate_qrcode', {})),
  });
  const asked = useRef(false);
  const ask = seed.mutate;
  useEffect(() => {
    if (!asked.current) {
      asked.current = true;
      ask();
    }
  }, [ask]);

  const enable = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/barong/resource/otp/enable', { body: { code: code.value } })),
    onSuccess: onDone,
  });

  const url = seed.data?.data.url ?? '';
  const secret = otpSecretOf(url);
  return (
    <div className="account-otp-setup">
      {seed.isPending && <p className="muted">{t('otp.generating')}</p>}
      <FormError error={seed.error} />
      {seed.data && (
        <ol className="account-steps">
          <li>
            <p>{t('otp.step1')}</p>
            <OtpQr url={url} barcode={seed.data.data.barcode} />
          </li>
          <li>
            <p>{t('otp.step2')}</p>
            <div className="account-secret">
              <code data-testid="otp-secret">{secret ?? ''}</code>
              {secret && <CopyButton text={secret} testId="otp-secret-copy" />}
            </div>
            <p className="hint muted">{t('otp.keepSecret')}</p>
          </li>
          <li>
            <CheckedForm onSubmit={() => code.submit(() => enable.mutate())}>
              <CodeField id="otp-code" label={t('otp.step3')} {...code.field} required />
              <FormError error={enable.error} />
              <div className="actions">
                <SubmitButton testId="otp-enable-submit" disabled={enable.isPending}>
                  {t('otp.enable')}
                </SubmitButton>
                <button type="button" onClick={() => seed.mutate()} disabled={seed.isPending}>
                  {t('otp.newSeed')}
                </button>
              </div>
              <p className="hint muted">{t('otp.sessionsEnd')}</p>
            </CheckedForm>
          </li>
        </ol>
      )}
    </div>
  );
}

function DisableForm({ onDone }: { onDone: () => Promise<void> }) {
  const { t } = useTranslation('account');
  const code = useCodeEntry();
  const disable = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/barong/resource/otp/disable', { body: { code: code.value } })),
    onSuccess: onDone,
  });
  return (
    <CheckedForm className="account-form" onSubmit={() => code.submit(() => disable.mutate())}>
      <p className="notice notice-warning">{t('otp.disableWarning')}</p>
      <CodeField id="otp-disable-code" label={t('field.otp')} {...code.field} required />
      <FormError error={disable.error} />
      <button type="submit" data-testid="otp-disable-submit" disabled={disable.isPending}>
        {t('otp.disable')}
      </button>
    </CheckedForm>
  );
}
