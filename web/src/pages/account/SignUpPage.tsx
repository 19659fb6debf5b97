/** Placeholder until this page is built. */
export default function SignUpPage() {
  return (
    <section className="page">
      <h1>SignUpPage</h1>
    </section>
  );
}
