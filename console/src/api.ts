/**
 * The console's only way out: the HTTP API on its own origin, with the signed-in token as
 * `Authorization: Bearer`. Errors keep the API's `{code, message}` so pages can say what went
 * wrong (docs/reference/http-api.md, "Errors").
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request slower than this is abandoned and reported (the server answers in milliseconds). */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Every answer is what the server holds now, never a copy the browser kept. Spread in rather than
 * written in the request: the tests compile this file against Node's fetch, whose types lack it.
 */
const NO_STORE = { cache: "no-store" } as const;

export interface ApiClient {
  json<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  text(path: string): Promise<string>;
}

export function apiClient(token: string, onUnauthenticated: () => void): ApiClient {
  async function send(
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(path, {
        method: init.method ?? "GET",
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        ...NO_STORE,
      });
    } catch (cause) {
      throw new ApiFailure(
        0,
        "network",
        `the server did not answer (${cause instanceof Error ? cause.message : String(cause)})`,
      );
    }
    if (response.ok) return response;
    let code = `http_${response.status}`;
    let message = response.statusText;
    try {
      const body = (await response.json()) as { code?: unknown; message?: unknown };
      if (typeof body.code === "string") code = body.code;
      if (typeof body.message === "string") message = body.message;
    } catch {
      // Not the API's error shape (a proxy's page): the status says enough.
    }
    if (response.status === 401) onUnauthenticated();
    throw new ApiFailure(response.status, code, message);
  }
  return {
    async json<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
      return (await (await send(path, init)).json()) as T;
    },
    async text(path: string): Promise<string> {
      return (await send(path)).text();
    },
  };
}

/**
 * A control-plane action (POST); sent again, up to three times, when another write to the same
 * change raced it (`concurrent_update`: the server's rollout tick writes changes every 10 s).
 */
export async function postAction<T>(api: ApiClient, path: string, body?: unknown): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api.json<T>(path, { method: "POST", ...(body === undefined ? {} : { body }) });
    } catch (error) {
      if (!(error instanceof ApiFailure && error.code === "concurrent_update" && attempt < 3))
        throw error;
    }
  }
}

/** What one action came to; `what` names it where the panel shows the answer. */
export type ActionAnswer<T> =
  | { readonly ok: true; readonly what: string; readonly value: T }
  | { readonly ok: false; readonly what: string; readonly text: string };

export interface ActionRequest {
  readonly what: string;
  readonly path: string;
  readonly body?: unknown;
}

/**
 * Sends each request after the one before has been answered (each is its own change, and the
 * store writes one at a time anyway), and answers every one: a refusal is an answer, not a throw.
 */
export async function sendActions<T>(
  api: ApiClient,
  requests: readonly ActionRequest[],
  onAnswer: (answer: ActionAnswer<T>) => void,
): Promise<ActionAnswer<T>[]> {
  const answers: ActionAnswer<T>[] = [];
  for (const { what, path, body } of requests) {
    let answer: ActionAnswer<T>;
    try {
      answer = { ok: true, what, value: await postAction<T>(api, path, body) };
    } catch (error) {
      answer = { ok: false, what, text: describeFailure(error) };
    }
    answers.push(answer);
    onAnswer(answer);
  }
  return answers;
}

/** Checks a token without keeping it: the caller's record, or the failure. */
export async function whoIs(token: string): Promise<TokenRecord> {
  return apiClient(token, () => {}).json<TokenRecord>("/v1/tokens/self");
}

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly principalId: string;
  readonly roles: readonly string[];
}

/** What a page says about a failure, in one sentence. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiFailure) {
    if (error.status === 403) return `Your token may not read this (${error.message}).`;
    if (error.status === 0) return `The server did not answer: ${error.message}.`;
    return `${error.message} (${error.code}, HTTP ${error.status}).`;
  }
  return error instanceof Error ? error.message : String(error);
}
