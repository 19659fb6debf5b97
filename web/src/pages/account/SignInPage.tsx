/** Placeholder until this page is built. */
export default function SignInPage() {
  return (
    <section className="page">
      <h1>SignInPage</h1>
    </section>
  );
}
