import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import { TableHead } from '../../../components/table';
import { unwrapPage, type ApiKey } from '../accountApi';
import { CheckedForm, CodeField, CopyButton, FormError, SubmitButton, SuccessNotice } from '../fields';
import { formatMoment } from '../time';
import { API_KEY_SCOPES, isSixDigits, pageCount, scopeParam, type ApiKeyScope } from '../validation';
import { Pager } from './Pager';

const PER_PAGE = 10;
const KEYS_KEY = ['member', 'api-keys'] as const;

/**
 * The member's API keys. Every change needs a fresh 2FA code (each code works once), typed
 * in the one code field above the list; the secret of a new key is shown once.
 */
export function ApiKeysSection() {
  const { t, i18n } = useTranslation('account');
  const { user } = useSession();
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [code, setCode] = useState('');
  const [codeProblem, setCodeProblem] = useState(false);
  const [scopes, setScopes] = useState<Set<ApiKeyScope>>(() => new Set(['read', 'trade']));
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const keys = useQuery({
    queryKey: [...KEYS_KEY, page],
    queryFn: ({ signal }) =>
      unwrapPage(
        api.GET('/api/v2/barong/resource/api_keys', {
          params: { query: { page, limit: PER_PAGE, ordering: 'desc', order_by: 'created_at' } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
  });

  /** Each write spends the code: the field empties, ready for the next one. */
  const afterWrite = (message: string) => {
    setCode('');
    setNotice(message);
    void queryClient.invalidateQueries({ queryKey: KEYS_KEY });
  };
  const withCode = (run: () => void) => {
    setNotice(null);
    if (!isSixDigits(code)) {
      setCodeProblem(true);
      return;
    }
    setCodeProblem(false);
    run();
  };

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v2/barong/resource/api_keys', {
          body: { algorithm: 'HS256', scope: scopeParam(scopes), totp_code: code },
        }),
      ),
    onSuccess: (key) => {
      setCreated(key);
      setPage(1);
      afterWrite(t('apiKeys.createdNotice'));
    },
  });
  const update = useMutation({
    mutationFn: ({ kid, state }: { kid: string; state: 'active' | 'inactive' }) =>
      unwrap(
        api.PATCH('/api/v2/barong/resource/api_keys/{kid}', {
          params: { path: { kid } },
          body: { state, totp_code: code, scope: null },
        }),
      ),
    onSuccess: (key) =>
      afterWrite(
        t(key.state === 'active' ? 'apiKeys.enabledNotice' : 'apiKeys.disabledNotice', { kid: key.kid }),
      ),
  });
  const remove = useMutation({
    mutationFn: async (kid: string) => {
      const { response, error } = await api.DELETE('/api/v2/barong/resource/api_keys/{kid}', {
        params: { path: { kid } },
        body: { totp_code: code },
      });
      // 204 has no body: `unwrap` would take the missing data for a broken answer.
      if (!response.ok) return unwrap(Promise.resolve({ error, response }));
      return kid;
    },
    onSuccess: (kid) => {
      setConfirmDelete(null);
      afterWrite(t('apiKeys.deletedNotice', { kid }));
    },
  });
  const busy = create.isPending || update.isPending || remove.isPending;
  const writeError = create.error ?? update.error ?? remove.error;
  const resetErrors = () => {
    create.reset();
    update.reset();
    remove.reset();
  };

  if (!user) return null;
  const total = keys.data?.total ?? 0;
  return (
    <div className="account-sections">
      <section className="card" aria-labelledby="apikeys-title">
        <h2 id="apikeys-title">{t('apiKeys.title')}</h2>
        <p className="muted">{t('apiKeys.intro')}</p>
        {!user.otp && (
          <p className="notice notice-warning">
            {t('apiKeys.needOtp')} <Link to="/profile/security">{t('apiKeys.toSecurity')}</Link>
          </p>
        )}

        {created?.secret && (
          <div className="notice notice-warning account-secret-once" data-testid="apikey-created">
            <p>
              <strong>{t('apiKeys.secretOnce')}</strong>
            </p>
            <dl className="account-facts">
              <dt>{t('apiKeys.kid')}</dt>
              <dd>
                <code>{created.kid}</code>
              </dd>
              <dt>{t('apiKeys.secret')}</dt>
              <dd className="account-secret">
                <code data-testid="apikey-secret">{created.secret}</code>
                <CopyButton text={created.secret} testId="apikey-copy" />
              </dd>
            </dl>
            <button type="button" onClick={() => setCreated(null)}>
              {t('apiKeys.secretSaved')}
            </button>
          </div>
        )}

        <CheckedForm
          className="account-form account-apikey-form"
          onSubmit={() => {
            resetErrors();
            withCode(() => create.mutate());
          }}
        >
          <fieldset className="account-scopes">
            <legend>{t('apiKeys.scopes')}</legend>
            {API_KEY_SCOPES.map((scope) => (
              <label key={scope}>
                <input
                  type="checkbox"
                  data-testid={`apikey-scope-${scope}`}
                  checked={scopes.has(scope)}
                  onChange={(event) => {
                    const next = new Set(scopes);
                    if (event.target.checked) next.add(scope);
                    else next.delete(scope);
                    setScopes(next);
                  }}
                />{' '}
                {t(`apiKeys.scope.${scope}`)}
              </label>
            ))}
            <p className="hint muted">{t('apiKeys.scopesHint')}</p>
          </fieldset>
          <CodeField
            id="apikey-otp"
            label={t('apiKeys.code')}
            hint={t('apiKeys.codeHint')}
            value={code}
            onValue={setCode}
            problem={codeProblem ? t('code.sixDigits') : null}
            disabled={!user.otp}
          />
          <SubmitButton testId="apikey-create" disabled={busy || !user.otp}>
            {t('apiKeys.create')}
          </SubmitButton>
        </CheckedForm>
        <FormError error={writeError} />
        {notice && !writeError && <SuccessNotice>{notice}</SuccessNotice>}
      </section>

      <section className="card" aria-labelledby="apikeys-list-title">
        <h2 id="apikeys-list-title">{t('apiKeys.listTitle', { count: total })}</h2>
        {keys.isPending && <p className="muted">{t('loading')}</p>}
        {keys.isError && <FormError error={keys.error} />}
        {keys.data && keys.data.items.length === 0 && <p className="muted">{t('apiKeys.none')}</p>}
        {keys.data && keys.data.items.length > 0 && (
          <div className="table-wrap">
            <table className="account-table account-keys account-stack">
              <TableHead
                columns={[
                  { label: t('apiKeys.kid') },
                  { label: t('apiKeys.scopes') },
                  { label: t('apiKeys.state') },
                  { label: t('apiKeys.created'), className: 'account-col-created' },
                ]}
              >
                <th scope="col">
                  <span className="visually-hidden">{t('apiKeys.actions')}</span>
                </th>
              </TableHead>
              <tbody>
                {keys.data.items.map((key) => {
                  const active = key.state === 'active';
                  return (
                    <tr key={key.kid} data-testid="apikey-row" data-kid={key.kid} data-state={key.state}>
                      <td>
                        <code>{key.kid}</code>
                      </td>
                      <td>{key.scope.length ? key.scope.join(', ') : t('apiKeys.defaultScope')}</td>
                      <td>
                        <span className={`account-badge ${active ? 'on' : 'off'}`}>
                          {t(`apiKeys.states.${key.state}`, { defaultValue: key.state })}
                        </span>
                      </td>
                      <td className="account-col-created">
                        {formatMoment(key.created_at, i18n.resolvedLanguage)}
                      </td>
                      <td className="account-row-actions">
                        <button
                          type="button"
                          data-testid="apikey-toggle"
                          disabled={busy || !user.otp}
                          onClick={() => {
                            resetErrors();
                            withCode(() =>
                              update.mutate({ kid: key.kid, state: active ? 'inactive' : 'active' }),
                            );
                          }}
                        >
                          {active ? t('apiKeys.disable') : t('apiKeys.enable')}
                          <span className="visually-hidden"> {key.kid}</span>
                        </button>
                        {confirmDelete === key.kid ? (
                          <>
                            <button
                              type="button"
                              className="account-danger"
                              data-testid="apikey-delete-confirm"
                              disabled={busy}
                              onClick={() => {
                                resetErrors();
                                withCode(() => remove.mutate(key.kid));
                              }}
                            >
                              {t('apiKeys.confirmDelete')}
                              <span className="visually-hidden"> {key.kid}</span>
                            </button>
                            <button type="button" onClick={() => setConfirmDelete(null)}>
                              {t('cancel')}
                            </button>
                          </>
                        ) : (
                          <button
                            type="button"
                            data-testid="apikey-delete"
                            disabled={busy || !user.otp}
                            onClick={() => setConfirmDelete(key.kid)}
                          >
                            {t('apiKeys.delete')}
                            <span className="visually-hidden"> {key.kid}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} pages={pageCount(total, PER_PAGE)} onPage={setPage} />
      </section>
    </div>
  );
}
