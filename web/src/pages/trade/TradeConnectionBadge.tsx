import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { publicRanger, useConnectionState } from '../../lib/ranger';

/** The public websocket's state: "Live", or "Reconnecting…" while the data may be behind. */
export function TradeConnectionBadge() {
  const { t } = useTranslation('trade');
  const state = useConnectionState(publicRanger);
  const [wasOpen, setWasOpen] = useState(state === 'open');
  if (state === 'open' && !wasOpen) setWasOpen(true); // remembered from this render on
  const words =
    state === 'open'
      ? t('connection.open')
      : wasOpen
        ? t('connection.reconnecting')
        : t('connection.connecting');
  return (
    <span
      className={`connection-badge connection-${state}`}
      data-testid="connection-state"
      data-state={state}
      role="status"
    >
      <span className="connection-dot" aria-hidden="true" />
      {words}
    </span>
  );
}
