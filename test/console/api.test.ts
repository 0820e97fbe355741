/**
 * The console's way out (console/src/api.ts), with a fake ApiClient or a stubbed fetch (client
 * code, not a store): `postAction` sends an action again only when another write to the change
 * raced it, and at most three times; a panel's actions as `useAction` sends them — one after
 * another, each answered, the API's refusal in its one sentence, never a throw.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  type ActionAnswer,
  type ApiClient,
  ApiFailure,
  apiClient,
  postAction,
  sendActions,
} from "../../console/src/api.ts";

/** What the stubbed server answers, one per request, in order; a string is a network failure. */
type Scripted = { readonly status: number; readonly body: unknown } | string;

/** The requests fetch was asked for, answered from `script`. */
function stubFetch(script: readonly Scripted[]) {
  const requests: { url: string; method: string | undefined; body: unknown }[] = [];
  vi.stubGlobal("fetch", async (url: string, init: { method?: string; body?: string }) => {
    requests.push({
      url,
      method: init.method,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
    });
    const next = script[requests.length - 1];
    if (next === undefined) throw new Error(`request ${requests.length} was not expected`);
    if (typeof next === "string") throw new TypeError(next);
    return new Response(typeof next.body === "string" ? next.body : JSON.stringify(next.body), {
      status: next.status,
      headers: { "content-type": "application/json" },
    });
  });
  return requests;
}

const raced = {
  status: 409,
  body: {
    code: "concurrent_update",
    message: "change-7: change-7 changed meanwhile; read it again",
  },
};
const ROLLBACK = "/v1/changes/change-7/rollback";
const REASON = { reason: "the stage overspent its forecast" };

describe("postAction's retry", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  const api = () => apiClient("token", () => {});

  test("a write that raced another is sent again, the same, until it goes through", async () => {
    const requests = stubFetch([raced, raced, { status: 200, body: { id: "change-7" } }]);
    expect(await postAction(api(), ROLLBACK, REASON)).toEqual({ id: "change-7" });
    expect(requests).toEqual(
      Array.from({ length: 3 }, () => ({ url: ROLLBACK, method: "POST", body: REASON })),
    );
  });

  test("at most three times again: the fourth race is the answer", async () => {
    const requests = stubFetch([raced, raced, raced, raced, { status: 200, body: {} }]);
    const failure = await postAction(api(), ROLLBACK, REASON).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ status: 409, code: "concurrent_update" });
    expect(requests).toHaveLength(4);
  });

  test.each<[string, Scripted]>([
    ["an answer", { status: 200, body: { id: "change-7" } }],
    [
      "another refusal",
      { status: 409, body: { code: "not_a_pause", message: "campaign c is paused already" } },
    ],
    [
      "an incident's race, which the incident service has retried already",
      { status: 409, body: { code: "incident.concurrent_update", message: "read it again" } },
    ],
    ["a body the server refused", { status: 400, body: { code: "body_invalid", message: "no" } }],
    ["a proxy's error page", { status: 502, body: "<html>bad gateway</html>" }],
    ["no answer at all", "fetch failed"],
  ])("not sent again after %s", async (_, answer) => {
    const requests = stubFetch([answer, { status: 200, body: { id: "change-8" } }]);
    const outcome = await postAction(api(), ROLLBACK, REASON).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    expect(requests).toHaveLength(1);
    if (typeof answer !== "string" && answer.status === 200) {
      expect(outcome).toEqual({ value: { id: "change-7" } });
    } else {
      expect("error" in outcome && outcome.error).toBeInstanceOf(ApiFailure);
    }
  });

  test("a race, then another refusal: that refusal is the answer (a fake client)", async () => {
    let sent = 0;
    const codes = ["concurrent_update", "rollout_in_progress"];
    const fake: ApiClient = {
      json: async () => {
        sent += 1;
        throw new ApiFailure(409, codes[sent - 1] ?? "unexpected", "refused");
      },
      text: () => Promise.reject(new Error("not used")),
    };
    await expect(postAction(fake, ROLLBACK, REASON)).rejects.toMatchObject({
      code: "rollout_in_progress",
    });
    expect(sent).toBe(2);
  });
});

interface Sent {
  readonly path: string;
  readonly init: { method?: string; body?: unknown } | undefined;
  answer(value: unknown): void;
  refuse(error: unknown): void;
}

/** An ApiClient whose every request waits until the test answers it. */
function heldApi(): { api: ApiClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const api: ApiClient = {
    json: <T>(path: string, init?: { method?: string; body?: unknown }) =>
      new Promise<T>((resolve, reject) => {
        sent.push({ path, init, answer: (value) => resolve(value as T), refuse: reject });
      }),
    text: () => Promise.reject(new Error("not used")),
  };
  return { api, sent };
}

/** Lets the awaited chain inside `sendActions` move on. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("sending a panel's actions", () => {
  test("one after another: the next is sent only once the one before is answered", async () => {
    const { api, sent } = heldApi();
    const seen: ActionAnswer<{ id: string }>[] = [];
    const done = sendActions<{ id: string }>(
      api,
      [
        { what: "a", path: "/v1/campaigns/a/pause", body: { reason: "the partner asked" } },
        { what: "b", path: "/v1/campaigns/b/pause", body: { reason: "the partner asked" } },
        { what: "c", path: "/v1/campaigns/c/pause" },
      ],
      (answer) => seen.push(answer),
    );
    await settle();
    expect(sent.map((request) => request.path)).toEqual(["/v1/campaigns/a/pause"]);
    expect(sent[0]!.init).toEqual({ method: "POST", body: { reason: "the partner asked" } });
    sent[0]!.answer({ id: "change-7" });
    await settle();
    expect(seen).toEqual([{ ok: true, what: "a", value: { id: "change-7" } }]);
    expect(sent).toHaveLength(2);
    sent[1]!.refuse(new ApiFailure(409, "not_a_pause", "campaign b is paused already"));
    await settle();
    // A request without a body sends none.
    expect(sent[2]!.init).toEqual({ method: "POST" });
    sent[2]!.answer({ id: "change-8" });
    const answers = await done;
    expect(answers).toEqual([
      { ok: true, what: "a", value: { id: "change-7" } },
      {
        ok: false,
        what: "b",
        text: "campaign b is paused already (not_a_pause, HTTP 409).",
      },
      { ok: true, what: "c", value: { id: "change-8" } },
    ]);
    expect(seen).toEqual(answers);
  });

  test("a server that does not answer is a refusal too, in words", async () => {
    const api: ApiClient = {
      json: () => Promise.reject(new ApiFailure(0, "network", "fetch failed")),
      text: () => Promise.reject(new Error("not used")),
    };
    expect(
      await sendActions(api, [{ what: "Reset", path: "/v1/breakers/x/reset" }], () => {}),
    ).toEqual([{ ok: false, what: "Reset", text: "The server did not answer: fetch failed." }]);
  });
});
