/** Placeholder until this page is built. */
export default function ForgotPasswordPage() {
  return (
    <section className="page">
      <h1>ForgotPasswordPage</h1>
    </section>
  );
}
