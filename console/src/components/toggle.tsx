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

export { PauseToggle };
