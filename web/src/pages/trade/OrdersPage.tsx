/** Placeholder until this page is built. */
export default function OrdersPage() {
  return (
    <section className="page">
      <h1>OrdersPage</h1>
    </section>
  );
}
