/**
 * How long a payment may wait on the ledger's store (DESIGN §3.7: fail closed for subsidies, open
 * for payments): past the deadline the caller answers without the store, which may still finish
 * the write (a retry with the same id then gets the stored answer).
 */

/** A payment must not wait on promotions: past this the service answers without the store. */
export const STORE_DEADLINE_MS_DEFAULT = 50;

/** Why a store call was abandoned by the service; passed to `onStoreFailure`. */
export class StoreDeadlineExceeded extends Error {
  override readonly name = "StoreDeadlineExceeded";
}

/**
 * The store's answer, or a `StoreDeadlineExceeded` rejection once `deadlineMs` passes; `null`
 * waits as long as the store takes.
 */
export function withinDeadline<T>(
  answer: Promise<T>,
  deadlineMs: number | null,
  what: string,
): Promise<T> {
  if (deadlineMs === null) return answer;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new StoreDeadlineExceeded(`the store did not answer ${what} within ${deadlineMs} ms`),
        ),
      deadlineMs,
    );
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
