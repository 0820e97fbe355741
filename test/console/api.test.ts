/**
 * The console's way out (console/src/api.ts), with a fake ApiClient (client code, not a store):
 * a panel's actions as `useAction` sends them — one after another, each answered, the API's
 * refusal in its one sentence, never a throw.
 */
import { describe, expect, test } from "vitest";
import {
  type ActionAnswer,
  type ApiClient,
  ApiFailure,
  sendActions,
} from "../../console/src/api.ts";

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
