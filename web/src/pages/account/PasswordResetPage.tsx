/** Placeholder until this page is built. */
export default function PasswordResetPage() {
  return (
    <section className="page">
      <h1>PasswordResetPage</h1>
    </section>
  );
}
