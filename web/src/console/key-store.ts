/**
 * Where the console keeps the signed-in API key: sessionStorage only (this tab, until it closes or
 * the user signs out). Never localStorage, a cookie, a URL or a log (docs/console.md "The key").
 */
const STORAGE_NAME = 'tolk.console.apiKey';

/** The signed-in key, or undefined (none, or storage unavailable). */
export function readKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_NAME) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `key` for this tab. A browser that refuses storage keeps it in memory only (lost on reload). */
export function storeKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_NAME, key);
  } catch {
    // Storage disabled: the console still works until the page reloads.
  }
}

/** Forgets the key (sign-out, or the server refused it). */
export function clearKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_NAME);
  } catch {
    // Nothing stored.
  }
}
