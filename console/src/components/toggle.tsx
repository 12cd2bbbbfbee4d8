import { useState } from 'react';
import { type ApiError, asApiError, seg } from '../api/client.ts';
import { useApi } from '../api/context.ts';

/** Pauses or unpauses a DAG through the API: the switch's busy state and the last refusal. */
function usePauseDag(dagId: string, onChanged: () => void) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const setPaused = async (paused: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await api.patch(`/dags/${seg(dagId)}`, { paused });
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setPaused };
}

/** The paused switch: on = the DAG is scheduled (Airflow's toggle reads the same way). */
function PauseToggle({
  paused,
  busy,
  onChange,
  label,
}: {
  paused: boolean;
  busy?: boolean;
  onChange: (paused: boolean) => void;
  label: string;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={!paused}
      aria-label={label}
      title={paused ? 'Paused: no new runs are scheduled. Click to unpause.' : 'Active: click to pause.'}
      className={`switch${paused ? '' : ' on'}${busy ? ' busy' : ''}`}
      disabled={busy}
      onClick={() => onChange(!paused)}
    >
      <span className="knob" />
    </button>
  );
}

export { PauseToggle, usePauseDag };
