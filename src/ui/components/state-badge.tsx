import './dag.css';

/** A run or task state as a coloured dot and its name. */
export function StateBadge({ state }: { state: string }) {
  return (
    <span className={`state-badge state-${state}`} data-state={state}>
      <span className={`state-dot state-${state}`} aria-hidden="true" />
      {state.replace('_', ' ')}
    </span>
  );
}
