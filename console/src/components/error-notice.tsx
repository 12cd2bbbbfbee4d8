/** An API error in words: what happened, and what to do next. */
import type { ApiError } from '../api/client.ts';

function ErrorNotice({
  error,
  onRetry,
  compact,
}: {
  error: ApiError;
  onRetry?: () => void;
  compact?: boolean;
}) {
  return (
    <div className={`notice error${compact ? ' compact' : ''}`} role="alert">
      <strong>{error.message}</strong>
      {error.issues && error.issues.length > 1 && (
        <ul>
          {error.issues.map((i) => (
            <li key={`${i.field}:${i.message}`}>
              <code>{i.field}</code>: {i.message}
            </li>
          ))}
        </ul>
      )}
      <span className="hint">{error.hint}</span>
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export { ErrorNotice };
