/** Placeholder until the order form is built. */
export function OrderForm({ market }: { market: string }) {
  return <section data-market={market} />;
}
