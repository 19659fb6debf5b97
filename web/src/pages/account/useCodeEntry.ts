import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { isSixDigits } from './validation';

/**
 * A six-digit code being typed (mailed or from the authenticator app): `field` goes to a
 * `CodeField`, whose problem shows only once the member tried to send; `submit(send)`
 * marks that try and calls `send` only with a whole code.
 */
export function useCodeEntry() {
  const { t } = useTranslation('account');
  const [value, setValue] = useState('');
  const [tried, setTried] = useState(false);
  const problem = tried && !isSixDigits(value) ? t('code.sixDigits') : null;
  return {
    value,
    field: { value, onValue: setValue, problem },
    submit(send: () => void) {
      setTried(true);
      if (isSixDigits(value)) send();
    },
  };
}
