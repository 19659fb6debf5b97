/** Placeholder until this page is built. */
export default function ProfilePage() {
  return (
    <section className="page">
      <h1>ProfilePage</h1>
    </section>
  );
}
