/**
 * The signed-in token lives in sessionStorage: gone when the tab closes, never in a cookie (the
 * API reads only the Authorization header, so no other site can make the browser send it).
 */
const KEY = "bursar.console.token";

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
