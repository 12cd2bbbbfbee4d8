/**
 * Middleware: an invocation ends only once its store has finished what it still does for calls
 * that already returned (`StateStore.settled`: DynamoDB lets parked work back after a try end has
 * resolved), so a frozen container never holds half of it.
 */
import type { MiddlewareObj } from '@middy/core';
import type { StateStore } from '#ports';

function settleStore<E, R>(store: StateStore): MiddlewareObj<E, R> {
  const settle = async () => {
    await store.settled?.();
  };
  return { after: settle, onError: settle };
}

export { settleStore };
