import type { ReactNode } from 'react';

const paths = {
  overview: (
    <>
      <rect x="3" y="3" width="7" height="9" rx="1.5" />
      <rect x="14" y="3" width="7" height="5" rx="1.5" />
      <rect x="14" y="12" width="7" height="9" rx="1.5" />
      <rect x="3" y="16" width="7" height="5" rx="1.5" />
    </>
  ),
  tables: (
    <>
      <rect x="3" y="4" width="18" height="16" rx="1.5" />
      <path d="M3 9h18M3 14h18M9 9v11" />
    </>
  ),
  sql: (
    <>
      <ellipse cx="12" cy="5.5" rx="7.5" ry="2.5" />
      <path d="M4.5 5.5v13c0 1.4 3.4 2.5 7.5 2.5s7.5-1.1 7.5-2.5v-13M4.5 12c0 1.4 3.4 2.5 7.5 2.5s7.5-1.1 7.5-2.5" />
    </>
  ),
  pipelines: (
    <>
      <rect x="2.5" y="4" width="6" height="5" rx="1.2" />
      <rect x="15.5" y="4" width="6" height="5" rx="1.2" />
      <rect x="9" y="15" width="6" height="5" rx="1.2" />
      <path d="M8.5 6.5h7M5.5 9v3.5h6.5V15M18.5 9v3.5H12" />
    </>
  ),
  runs: (
    <>
      <circle cx="12" cy="12" r="8.5" />
      <path d="M12 7v5l3.5 2.5" />
    </>
  ),
  models: (
    <>
      <circle cx="5" cy="6" r="2.5" />
      <circle cx="5" cy="18" r="2.5" />
      <circle cx="19" cy="12" r="2.5" />
      <path d="M7.5 6.5 16.5 11.5M7.5 17.5l9-5" />
    </>
  ),
  events: <path d="M4 12h3l2.5-6 5 12 2.5-6h3" />,
  monitoring: (
    <>
      <path d="M3.5 20.5h17" />
      <path d="M5 16l4-5 4 3 6-8" />
      <circle cx="19" cy="6" r="1.5" />
    </>
  ),
  audit: (
    <>
      <path d="M12 3.5 5 6v5.5c0 4.2 3 7.6 7 9 4-1.4 7-4.8 7-9V6z" />
      <path d="M9 12l2.2 2.2L15.5 10" />
    </>
  ),
} satisfies Record<string, ReactNode>;

/** Names of the navigation icons. */
export type IconName = keyof typeof paths;

/** A 24×24 outline icon, decorative (the text beside it names the item). */
export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      {paths[name]}
    </svg>
  );
}

/** The Sluice mark: water passing a gate. */
export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" className="logo-bg" />
      <path
        d="M7 12c3-3 6 3 9 0s6 3 9 0M7 18c3-3 6 3 9 0s6 3 9 0M7 24c3-3 6 3 9 0s6 3 9 0"
        className="logo-wave"
      />
      <path d="M6 7h20" className="logo-gate" />
    </svg>
  );
}
