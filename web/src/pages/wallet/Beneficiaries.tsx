/**
 * The member's beneficiaries for one currency: where withdrawals may go. A new one is
 * `pending` until the code mailed to the member is typed back (the server's guard against
 * a stolen session adding its own address); it may be mailed again once a minute.
 */
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useToasts } from '../../lib/toasts';
import { StateBadge } from './parts';
import {
  type Beneficiary,
  type Currency,
  destinationOf,
  useBeneficiaryActions,
  useBeneficiaries,
} from './walletApi';

/** A fiat beneficiary's bank details, as Peatio's front ends send them (`full_name` required). */
const FIAT_FIELDS = ['full_name', 'account_number', 'bank_name', 'bank_swift_code', 'bank_address'] as const;
type FiatField = (typeof FIAT_FIELDS)[number];
const REQUIRED_FIAT: readonly FiatField[] = ['full_name', 'account_number', 'bank_name'];

export function BeneficiariesCard({ currency }: { currency: Currency }) {
  const { t } = useTranslation('wallet');
  const list = useBeneficiaries(currency.id);
  const rows = list.data ?? [];
  return (
    <section className="card wallet-card" aria-labelledby="beneficiaries-title">
      <h3 id="beneficiaries-title">{t('beneficiaries.title')}</h3>
      <p className="muted">{t('beneficiaries.why')}</p>
      {list.isPending && <p className="muted">{t('common.loading')}</p>}
      {list.isError && <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />}
      {list.isSuccess && rows.length === 0 && <p className="muted">{t('beneficiaries.none')}</p>}
      {rows.length > 0 && (
        <ul className="wallet-beneficiaries">
          {rows.map((beneficiary) => (
            <BeneficiaryRow key={beneficiary.id} beneficiary={beneficiary} currency={currency} />
          ))}
        </ul>
      )}
      <AddBeneficiary currency={currency} />
    </section>
  );
}

function BeneficiaryRow({ beneficiary, currency }: { beneficiary: Beneficiary; currency: Currency }) {
  const { t } = useTranslation('wallet');
  const toasts = useToasts();
  const { activate, resend, remove } = useBeneficiaryActions(currency.id);
  const codeId = useId();
  const [code, setCode] = useState('');
  const [confirming, setConfirming] = useState(false);
  const pending = beneficiary.state === 'pending';

  const onActivate = (event: FormEvent) => {
    event.preventDefault();
    activate.mutate(
      { id: beneficiary.id, pin: code.trim() },
      {
        onSuccess: () => {
          setCode('');
          toasts.push(t('beneficiaries.activated', { name: beneficiary.name }), 'success');
        },
      },
    );
  };

  const error = activate.error ?? resend.error ?? remove.error;
  return (
    <li className="wallet-beneficiary" data-testid="beneficiary-row" data-state={beneficiary.state}>
      <div className="wallet-beneficiary-head">
        <strong>{beneficiary.name}</strong>
        <StateBadge
          state={beneficiary.state}
          label={t(`beneficiaries.state.${beneficiary.state}`, { defaultValue: beneficiary.state })}
        />
      </div>
      <div className="wallet-mono wallet-break">{destinationOf(beneficiary)}</div>
      {beneficiary.blockchain_key && (
        <div className="muted">{t('beneficiaries.network', { network: beneficiary.blockchain_key })}</div>
      )}
      {beneficiary.description && <div className="muted">{beneficiary.description}</div>}
      {pending && (
        <form className="wallet-inline-form" onSubmit={onActivate}>
          <div className="field">
            <label htmlFor={codeId}>{t('beneficiaries.code')}</label>
            <input
              id={codeId}
              data-testid="beneficiary-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              pattern="[0-9]{6}"
              required
              value={code}
              onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
            />
            <span className="hint">{t('beneficiaries.codeHint')}</span>
          </div>
          <div className="actions">
            <button
              type="submit"
              className="primary"
              data-testid="beneficiary-activate"
              disabled={activate.isPending || code.length !== 6}
            >
              {t('beneficiaries.activate')}
            </button>
            <button
              type="button"
              disabled={resend.isPending}
              onClick={() =>
                resend.mutate(beneficiary.id, {
                  onSuccess: () => toasts.push(t('beneficiaries.resent'), 'success'),
                })
              }
            >
              {t('beneficiaries.resend')}
            </button>
          </div>
        </form>
      )}
      <div className="actions">
        {confirming ? (
          <>
            <button
              type="button"
              className="wallet-danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate(beneficiary.id)}
            >
              {t('beneficiaries.confirmDelete', { name: beneficiary.name })}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {t('common.cancel')}
            </button>
          </>
        ) : (
          <button
            type="button"
            aria-label={t('beneficiaries.deleteOf', { name: beneficiary.name })}
            onClick={() => setConfirming(true)}
          >
            {t('beneficiaries.delete')}
          </button>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
    </li>
  );
}

function AddBeneficiary({ currency }: { currency: Currency }) {
  const { t } = useTranslation('wallet');
  const toasts = useToasts();
  const { add } = useBeneficiaryActions(currency.id);
  const ids = useId();
  const coin = currency.type === 'coin';
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [description, setDescription] = useState('');
  const [bank, setBank] = useState<Record<FiatField, string>>({
    full_name: '',
    account_number: '',
    bank_name: '',
    bank_swift_code: '',
    bank_address: '',
  });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const data: Record<string, string> = coin
      ? { address: address.trim() }
      : Object.fromEntries(
          FIAT_FIELDS.map((key) => [key, bank[key].trim()] as const).filter(([, value]) => value !== ''),
        );
    add.mutate(
      { currency: currency.id, name: name.trim(), description: description.trim() || null, data },
      {
        onSuccess: (created) => {
          setName('');
          setAddress('');
          setDescription('');
          setBank({
            full_name: '',
            account_number: '',
            bank_name: '',
            bank_swift_code: '',
            bank_address: '',
          });
          toasts.push(t('beneficiaries.added', { name: created.name }), 'success');
        },
      },
    );
  };

  return (
    <div className="wallet-add">
      <h4>{t('beneficiaries.add')}</h4>
      <form onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor={`${ids}-name`}>{t('beneficiaries.name')}</label>
          <input
            id={`${ids}-name`}
            data-testid="beneficiary-name"
            required
            maxLength={64}
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </div>
        {coin ? (
          <div className="field">
            <label htmlFor={`${ids}-address`}>
              {t('beneficiaries.address', { currency: currency.id.toUpperCase() })}
            </label>
            <input
              id={`${ids}-address`}
              data-testid="beneficiary-address"
              required
              maxLength={128}
              autoComplete="off"
              spellCheck={false}
              value={address}
              onChange={(event) => setAddress(event.target.value)}
            />
          </div>
        ) : (
          FIAT_FIELDS.map((key) => (
            <div className="field" key={key}>
              <label htmlFor={`${ids}-${key}`}>
                {t(`beneficiaries.bank.${key}`)}
                {!REQUIRED_FIAT.includes(key) && <span className="muted"> {t('common.optional')}</span>}
              </label>
              <input
                id={`${ids}-${key}`}
                data-testid={`beneficiary-${key.replace(/_/g, '-')}`}
                required={REQUIRED_FIAT.includes(key)}
                maxLength={255}
                value={bank[key]}
                onChange={(event) => setBank((old) => ({ ...old, [key]: event.target.value }))}
              />
            </div>
          ))
        )}
        <div className="field">
          <label htmlFor={`${ids}-description`}>
            {t('beneficiaries.description')} <span className="muted">{t('common.optional')}</span>
          </label>
          <input
            id={`${ids}-description`}
            maxLength={255}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
          />
        </div>
        {add.isError && <ErrorNotice error={add.error} />}
        <button type="submit" className="primary" data-testid="beneficiary-add" disabled={add.isPending}>
          {t('beneficiaries.submit')}
        </button>
        <p className="hint muted">{t('beneficiaries.codeMailed')}</p>
      </form>
    </div>
  );
}
