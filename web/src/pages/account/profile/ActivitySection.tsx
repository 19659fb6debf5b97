import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../../api/client';
import { TableHead } from '../../../components/table';
import { unwrapPage } from '../accountApi';
import { FormError } from '../fields';
import { formatMoment } from '../time';
import { pageCount } from '../validation';
import { Pager } from './Pager';

const TOPICS = ['all', 'session', 'otp', 'password', 'account'] as const;
type Topic = (typeof TOPICS)[number];
const RESULTS = ['', 'succeed', 'failed', 'denied'] as const;
type Result = (typeof RESULTS)[number];
const PER_PAGE = 25;

/** What happened on the account (logins, 2FA, password, keys…), newest first, in pages. */
export function ActivitySection() {
  const { t, i18n } = useTranslation('account');
  const [topic, setTopic] = useState<Topic>('all');
  const [result, setResult] = useState<Result>('');
  const [page, setPage] = useState(1);

  const activity = useQuery({
    queryKey: ['member', 'activity', topic, result, page],
    queryFn: ({ signal }) =>
      unwrapPage(
        api.GET('/api/v2/barong/resource/users/activity/{topic}', {
          params: {
            path: { topic },
            query: { page, limit: PER_PAGE, ...(result ? { result } : {}) },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const total = activity.data?.total ?? 0;

  return (
    <section className="card" aria-labelledby="activity-title">
      <h2 id="activity-title">{t('activity.title')}</h2>
      <div className="account-filters">
        <div className="field">
          <label htmlFor="activity-topic">{t('activity.topic')}</label>
          <select
            id="activity-topic"
            data-testid="activity-topic"
            value={topic}
            onChange={(event) => {
              setTopic(event.target.value as Topic);
              setPage(1);
            }}
          >
            {TOPICS.map((name) => (
              <option key={name} value={name}>
                {t(`activity.topics.${name}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="activity-result">{t('activity.result')}</label>
          <select
            id="activity-result"
            value={result}
            onChange={(event) => {
              setResult(event.target.value as Result);
              setPage(1);
            }}
          >
            {RESULTS.map((name) => (
              <option key={name || 'any'} value={name}>
                {t(`activity.results.${name || 'any'}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {activity.isPending && <p className="muted">{t('loading')}</p>}
      {activity.isError && <FormError error={activity.error} />}
      {activity.data && activity.data.items.length === 0 && <p className="muted">{t('activity.none')}</p>}
      {activity.data && activity.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="account-table account-activity account-stack">
            <caption className="visually-hidden">{t('activity.title')}</caption>
            <TableHead
              columns={[
                { label: t('activity.time') },
                { label: t('activity.what') },
                { label: t('activity.result') },
                { label: t('activity.ip'), className: 'account-col-ip' },
                { label: t('activity.agent'), className: 'account-col-agent' },
              ]}
            />
            <tbody>
              {activity.data.items.map((row) => (
                <tr key={row.id} data-testid="activity-row">
                  <td className="account-nowrap">{formatMoment(row.created_at, i18n.resolvedLanguage)}</td>
                  <td>
                    <span className="muted">
                      {t(`activity.topics.${row.topic}`, { defaultValue: row.topic })}
                    </span>
                    {' · '}
                    {t(`activity.actions.${row.action}`, { defaultValue: row.action })}
                    {row.data && <span className="muted"> ({row.data})</span>}
                  </td>
                  <td>
                    <span className={`account-result account-result-${row.result}`}>
                      {t(`activity.results.${row.result}`, { defaultValue: row.result })}
                    </span>
                  </td>
                  <td className="account-col-ip">{row.user_ip}</td>
                  <td className="account-col-agent" title={row.user_agent}>
                    {row.user_agent}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={page} pages={pageCount(total, PER_PAGE)} onPage={setPage} />
    </section>
  );
}
