/** Placeholder until the member's open orders and histories are built. */
export function MemberOrders({ market }: { market: string }) {
  return <section data-market={market} />;
}
