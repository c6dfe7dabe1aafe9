/**
 * The visitor's last choices (languages, voice), kept in localStorage so the next visit starts where
 * this one ended. Storage failures (private mode, quota) are ignored.
 */
import type { Voice } from './ui/controls';

/** Stored preferences; every field is optional. */
export interface Prefs {
  source?: string;
  target?: string;
  voice?: Voice;
  /** Simultaneous mode on the live and room pages. */
  simultaneous?: boolean;
  /** The language I speak in conversations. */
  conversationLanguage?: string;
  /** The language I expect my conversation partner to speak. */
  partnerLanguage?: string;
}

const KEY = 'tolk.prefs.v1';

/** Reads the stored preferences. */
export function loadPrefs(): Prefs {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    return typeof value === 'object' && value !== null ? (value as Prefs) : {};
  } catch {
    return {};
  }
}

/** Merges `changes` into the stored preferences. */
export function savePrefs(changes: Prefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...loadPrefs(), ...changes }));
  } catch {
    // Storage unavailable: preferences last for this page only.
  }
}
