import { createInstance } from 'i18next';
import { describe, expect, it } from 'vitest';
import { ApiError, NETWORK_ERROR } from '../api/client';
import { enErrors } from './en';
import { ERRORS_NS, errorMessages } from './errors';
import { frErrors } from './fr';

async function translator(lng: string) {
  const i18n = createInstance();
  await i18n.init({
    lng,
    resources: { en: { [ERRORS_NS]: enErrors }, fr: { [ERRORS_NS]: frErrors } },
  });
  return i18n.t;
}

describe('errorMessages', () => {
  it('translates known codes and shows unknown ones plainly', async () => {
    const t = await translator('en');
    const error = new ApiError(['public.market.doesnt_exist', 'market.order.weird'], 422);
    expect(errorMessages(t, error)).toEqual(['This market does not exist.', 'market.order.weird']);
  });

  it('speaks French', async () => {
    const t = await translator('fr');
    expect(errorMessages(t, new ApiError([NETWORK_ERROR], null))).toEqual([
      'La plateforme est injoignable. Vérifiez votre connexion.',
    ]);
  });

  it('has the same codes in both languages', () => {
    expect(Object.keys(frErrors).sort()).toEqual(Object.keys(enErrors).sort());
  });
});
