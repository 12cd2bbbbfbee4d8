/** States drawn the same way everywhere: a badge with words, a dot, a legend. */
import type { RunState, TiState } from '../api/types.ts';
import { runStyle, TI_ORDER, tiStyle } from '../lib/states.ts';

function TiBadge({ state }: { state: TiState }) {
  const s = tiStyle(state);
  return (
    <span className={`badge state-${state}`} style={{ background: s.color, color: s.ink }} title={s.meaning}>
      {s.label}
    </span>
  );
}

function RunBadge({ state }: { state: RunState }) {
  const s = runStyle(state);
  return (
    <span className={`badge run-${state}`} style={{ background: s.color, color: s.ink }} title={s.meaning}>
      {s.label}
    </span>
  );
}

function RunDot({ state, title, size = 14 }: { state: RunState; title?: string; size?: number }) {
  const s = runStyle(state);
  return (
    <span
      className={`dot run-${state}${state === 'running' ? ' pulse' : ''}`}
      style={{ background: s.color, width: size, height: size }}
      title={title ?? s.label}
      role="img"
      aria-label={title ?? s.label}
    />
  );
}

function Legend({ states = TI_ORDER }: { states?: TiState[] }) {
  return (
    <ul className="legend" aria-label="Task states">
      {states.map((state) => {
        const s = tiStyle(state);
        return (
          <li key={state} title={s.meaning}>
            <span className={`swatch state-${state}`} style={{ background: s.color }} />
            {s.label}
          </li>
        );
      })}
    </ul>
  );
}

export { Legend, RunBadge, RunDot, TiBadge };
