import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useSession } from '../../../api/session';
import { TableHead } from '../../../components/table';
import { CheckedForm, FormError, SubmitButton, SuccessNotice, TextField } from '../fields';
import { formatMoment } from '../time';
import { localToday, noProblems, UPLOAD_TYPES, uploadProblem } from '../validation';

const DOCUMENTS_KEY = ['member', 'documents'] as const;
const DOC_TYPES = ['passport', 'identity_card', 'driver_license', 'utility_bill'] as const;

/** Identity documents: upload one (JPEG, PNG or PDF, 10 MB at most), see each review's state. */
export function DocumentsCard() {
  const { t, i18n } = useTranslation('account');
  const { refresh } = useSession();
  const queryClient = useQueryClient();
  const fileInput = useRef<HTMLInputElement>(null);
  const [docType, setDocType] = useState<string>('passport');
  const [docNumber, setDocNumber] = useState('');
  const [docExpire, setDocExpire] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [tried, setTried] = useState(false);

  const documents = useQuery({
    queryKey: DOCUMENTS_KEY,
    queryFn: ({ signal }) => unwrap(api.GET('/api/v2/barong/resource/documents', { signal })),
  });
  const upload = useMutation({
    mutationFn: (chosen: File) => {
      const form = new FormData();
      form.set('doc_type', docType);
      form.set('doc_number', docNumber.trim());
      if (docExpire) form.set('doc_expire', docExpire);
      form.set('upload', chosen);
      return unwrap(
        api.POST('/api/v2/barong/resource/documents', {
          body: { doc_type: docType, doc_number: docNumber.trim(), upload: chosen.name },
          bodySerializer: () => form,
        }),
      );
    },
    onSuccess: async () => {
      setDocNumber('');
      setDocExpire('');
      setFile(null);
      setTried(false);
      if (fileInput.current) fileInput.current.value = '';
      await queryClient.invalidateQueries({ queryKey: DOCUMENTS_KEY });
      await refresh(); // the document label is pending now
    },
  });

  const fileIssue = file ? uploadProblem(file) : 'missing';
  const problems = {
    number: docNumber.trim() ? null : t('problem.required'),
    expire: !docExpire || docExpire > localToday() ? null : t('problem.expired'),
    file: fileIssue ? t(`documents.file.${fileIssue}`) : null,
  };
  const shown = (problem: string | null) => (tried ? problem : null);
  return (
    <section className="card" aria-labelledby="documents-title">
      <h2 id="documents-title">{t('documents.title')}</h2>
      <p className="muted">{t('documents.intro')}</p>
      {documents.data && documents.data.length > 0 && (
        <div className="table-wrap">
          <table className="account-table account-stack">
            <TableHead
              columns={[
                { label: t('documents.type') },
                { label: t('documents.uploaded') },
                { label: t('documents.expire') },
                { label: t('documents.state') },
              ]}
            />
            <tbody>
              {documents.data.map((doc) => (
                <tr key={doc.id} data-testid="document-row" data-state={doc.state}>
                  <td>{t(`documents.types.${doc.doc_type}`, { defaultValue: doc.doc_type })}</td>
                  <td>{formatMoment(doc.created_at, i18n.resolvedLanguage, false)}</td>
                  <td>{doc.doc_expire ? formatMoment(doc.doc_expire, i18n.resolvedLanguage, false) : '—'}</td>
                  <td>
                    <span className={`account-badge ${doc.state === 'verified' ? 'on' : 'off'}`}>
                      {t(`review.${doc.state}`, { defaultValue: doc.state })}
                    </span>
                    {doc.reason && (
                      <span className="muted"> {t('review.reason', { reason: doc.reason })}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FormError error={documents.error} />
      {upload.isSuccess && <SuccessNotice>{t('documents.done')}</SuccessNotice>}
      <CheckedForm
        className="account-grid"
        onSubmit={() => {
          setTried(true);
          upload.reset();
          if (file && noProblems(problems)) upload.mutate(file);
        }}
      >
        <div className="field">
          <label htmlFor="document-type">{t('documents.type')}</label>
          <select
            id="document-type"
            data-testid="document-type"
            value={docType}
            onChange={(event) => setDocType(event.target.value)}
          >
            {DOC_TYPES.map((type) => (
              <option key={type} value={type}>
                {t(`documents.types.${type}`)}
              </option>
            ))}
          </select>
        </div>
        <TextField
          id="document-number"
          label={t('documents.number')}
          value={docNumber}
          onValue={setDocNumber}
          problem={shown(problems.number)}
          maxLength={128}
          required
        />
        <TextField
          id="document-expire"
          label={t('documents.expireOptional')}
          type="date"
          min={localToday()}
          value={docExpire}
          onValue={setDocExpire}
          problem={shown(problems.expire)}
        />
        <div className="field">
          <label htmlFor="document-file">{t('documents.fileLabel')}</label>
          <input
            ref={fileInput}
            id="document-file"
            data-testid="document-file"
            type="file"
            accept={UPLOAD_TYPES.join(',')}
            aria-describedby="document-file-hint"
            aria-invalid={tried && problems.file ? true : undefined}
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
          <span id="document-file-hint" className="hint">
            {t('documents.fileHint')}
          </span>
          {shown(problems.file) && <span className="field-error">{problems.file}</span>}
        </div>
        <div className="account-grid-full">
          <FormError error={upload.error} />
          <SubmitButton testId="document-submit" disabled={upload.isPending}>
            {upload.isPending ? t('documents.uploading') : t('documents.submit')}
          </SubmitButton>
        </div>
      </CheckedForm>
    </section>
  );
}
