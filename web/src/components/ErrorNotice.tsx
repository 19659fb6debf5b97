import { useTranslation } from 'react-i18next';
import { errorMessages } from '../i18n/errors';

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  return (
    <div role="alert" className="notice notice-error">
      <strong>{t('error.title')}</strong>
      <ul>
        {errorMessages(t, error).map((message, index) => (
          <li key={index}>{message}</li>
        ))}
      </ul>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('error.retry')}
        </button>
      )}
    </div>
  );
}
