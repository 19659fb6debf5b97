import type { TFunction } from 'i18next';
import { ApiError, UNEXPECTED_RESPONSE } from '../api/client';

/** The namespace of the error sentences, flat: codes contain dots. */
export const ERRORS_NS = 'errors';

/** The codes of any thrown value. */
export function codesOf(error: unknown): readonly string[] {
  return error instanceof ApiError ? error.codes : [UNEXPECTED_RESPONSE];
}

/** One sentence per error code; a code without a translation is shown as it is. */
export function errorMessages(t: TFunction, error: unknown): string[] {
  return codesOf(error).map((code) =>
    t(code, { ns: ERRORS_NS, keySeparator: false, nsSeparator: false, defaultValue: code }),
  );
}
