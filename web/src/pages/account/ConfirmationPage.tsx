/** Placeholder until this page is built. */
export default function ConfirmationPage() {
  return (
    <section className="page">
      <h1>ConfirmationPage</h1>
    </section>
  );
}
