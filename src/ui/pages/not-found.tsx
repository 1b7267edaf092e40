import { Link } from '../router';

/** Shown for a path no route matches. */
export function NotFoundPage({ path }: { path: string }) {
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p className="muted">
        Nothing is served at <code>{path}</code>.
      </p>
      <p>
        <Link href="/">Go to the overview</Link>
      </p>
    </section>
  );
}
