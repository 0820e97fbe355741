/** Sign in with an API token: checked against GET /v1/tokens/self before it is kept. */
import { useState } from "preact/hooks";
import { describeFailure, type TokenRecord, whoIs } from "../api.ts";

export function SignIn(props: {
  onSignedIn: (token: string, record: TokenRecord) => void;
  notice?: string;
}) {
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [checking, setChecking] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const text = token.trim();
    if (text === "") {
      setProblem("Paste an API token (it starts with bsr_).");
      return;
    }
    setChecking(true);
    setProblem(undefined);
    try {
      const record = await whoIs(text);
      props.onSignedIn(text, record);
    } catch (error) {
      setProblem(describeFailure(error));
    } finally {
      setChecking(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Bursar console</h1>
      <p>
        Sign in with an API token. <code>npm start</code> prints the administrator's token once;
        others are issued with <code>POST /v1/tokens</code> or <code>bursar token issue</code>.
      </p>
      {props.notice === undefined ? null : (
        <p class="state state-error" role="alert">
          {props.notice}
        </p>
      )}
      <form onSubmit={submit} aria-describedby="token-help">
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
          aria-invalid={problem === undefined ? undefined : true}
          aria-describedby={problem === undefined ? "token-help" : "token-problem"}
          autofocus
        />
        <p id="token-help" class="help">
          Kept in this tab only (sessionStorage) until you sign out or close it.
        </p>
        {problem === undefined ? null : (
          <p id="token-problem" class="field-problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" disabled={checking}>
          {checking ? "Checking…" : "Sign in"}
        </button>
      </form>
      <p class="help">
        The API's reference: <a href="/docs">/docs</a>.
      </p>
    </main>
  );
}
