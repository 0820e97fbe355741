import type pg from "pg";

/**
 * A connection lost while checked out fails the query in flight and is also emitted as an
 * 'error' event on the client, which would end the process if nobody listened. Listens while
 * the client is checked out; returns the function that stops, for when it goes back to the pool.
 */
export function listenForLostConnection(client: pg.PoolClient): () => void {
  const ignore = () => {};
  client.on("error", ignore);
  return () => client.removeListener("error", ignore);
}
