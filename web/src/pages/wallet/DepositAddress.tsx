/** A coin's deposit address: the text, its QR code, a copy button and what a deposit needs. */
import QRCode from 'qrcode';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { useToasts } from '../../lib/toasts';
import { isPositive } from './amounts';
import { useAmountFormat } from './format';
import { WalletError } from './parts';
import { type Currency, useDepositAddress } from './walletApi';

const QR_SIZE = 184;

/** The address drawn as a QR code (dark on white in both themes: scanners need it). */
function AddressQr({ address, label }: { address: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    void QRCode.toCanvas(canvas.current, address, {
      width: QR_SIZE,
      margin: 2,
      errorCorrectionLevel: 'M',
      color: { dark: '#000000', light: '#ffffff' },
    });
  }, [address]);
  return (
    <canvas
      ref={canvas}
      className="wallet-qr"
      data-testid="deposit-qr"
      role="img"
      aria-label={label}
      width={QR_SIZE}
      height={QR_SIZE}
    />
  );
}

export function DepositAddressCard({ currency }: { currency: Currency }) {
  const { t } = useTranslation('wallet');
  const fmt = useAmountFormat();
  const toasts = useToasts();
  const found = useDepositAddress(currency.id, true);
  const unit = currency.id.toUpperCase();

  const copy = async (address: string) => {
    try {
      await navigator.clipboard.writeText(address);
      toasts.push(t('deposit.copied'), 'success');
    } catch {
      toasts.push(t('deposit.copyFailed'), 'error');
    }
  };

  if (found.isPending) return <p className="muted">{t('deposit.addressLoading')}</p>;
  if (found.isError) return <WalletError error={found.error} onRetry={() => void found.refetch()} />;
  const { address, blockchain_key: network, currencies } = found.data;
  if (!address || found.data.state === 'pending') {
    return (
      <p role="status" className="notice">
        {t('deposit.addressPending')}
      </p>
    );
  }
  const others = currencies.filter((code) => code !== currency.id).map((code) => code.toUpperCase());
  return (
    <div className="card wallet-card wallet-address">
      <AddressQr address={address} label={t('deposit.qrLabel', { currency: unit })} />
      <div className="wallet-address-text">
        <h3>{t('deposit.addressTitle', { currency: unit })}</h3>
        <p className="wallet-address-line">
          <code data-testid="deposit-address">{address}</code>
          <button type="button" onClick={() => void copy(address)} data-testid="deposit-copy">
            {t('deposit.copy')}
          </button>
        </p>
        <dl className="wallet-facts">
          <dt>{t('deposit.network')}</dt>
          <dd data-testid="deposit-network">{network}</dd>
          <dt>{t('deposit.minimum')}</dt>
          <dd>
            {fmt(currency.min_deposit_amount, currency.precision)} {unit}
          </dd>
          <dt>{t('deposit.confirmationsNeeded')}</dt>
          <dd data-testid="deposit-min-confirmations">{currency.min_confirmations ?? '—'}</dd>
          {isPositive(currency.deposit_fee) && (
            <>
              <dt>{t('deposit.fee')}</dt>
              <dd>
                {fmt(currency.deposit_fee, currency.precision)} {unit}
              </dd>
            </>
          )}
        </dl>
        <p className="notice notice-warning">
          {t('deposit.onlyThis', { currency: unit, network })}
          {others.length > 0 && ' ' + t('deposit.alsoReceives', { list: others.join(', ') })}
        </p>
        <p className="muted">
          {t('deposit.belowMinimum', {
            amount: fmt(currency.min_deposit_amount, currency.precision),
            currency: unit,
          })}
        </p>
      </div>
    </div>
  );
}
