/** Whether a market matches the search box: by name (`BTC/USDT`), id or units, any case. */
export function matchesSearch(
  market: { id: string; name: string; base_unit: string; quote_unit: string },
  query: string,
): boolean {
  const needle = query
    .trim()
    .toLowerCase()
    .replace(/[\s/_-]+/g, '');
  if (!needle) return true;
  const haystacks = [market.name, market.id, `${market.base_unit}${market.quote_unit}`];
  return haystacks.some((text) =>
    text
      .toLowerCase()
      .replace(/[\s/_-]+/g, '')
      .includes(needle),
  );
}
