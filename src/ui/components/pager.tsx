/** Previous/next buttons between pages of a long list, with "Page n of m" and an optional note. */
export function Pager({
  label,
  page,
  pages,
  onPage,
  previous = 'Previous',
  next = 'Next',
  note,
}: {
  label: string;
  page: number;
  pages: number;
  onPage: (page: number) => void;
  previous?: string;
  next?: string;
  note?: string;
}) {
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="secondary" disabled={page === 0} onClick={() => onPage(page - 1)}>
        {previous}
      </button>
      <span className="muted">
        Page {page + 1} of {pages}
        {note ? ` · ${note}` : ''}
      </span>
      <button
        type="button"
        className="secondary"
        disabled={page >= pages - 1}
        onClick={() => onPage(page + 1)}
      >
        {next}
      </button>
    </nav>
  );
}
