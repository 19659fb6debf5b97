/** Placeholder until this page is built. */
export default function WalletPage() {
  return (
    <section className="page">
      <h1>WalletPage</h1>
    </section>
  );
}
