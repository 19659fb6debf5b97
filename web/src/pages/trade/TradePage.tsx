/** Placeholder until this page is built. */
export default function TradePage() {
  return (
    <section className="page">
      <h1>TradePage</h1>
    </section>
  );
}
