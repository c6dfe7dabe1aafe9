/**
 * BCP 47 language tags as Tolk uses them: validation of the common `ll[-Script][-RR]` forms and the
 * primary subtag that engines and language pairs are keyed by.
 */

/** Primary language subtag of a BCP 47 tag, lower case (`es-ES` → `es`). */
export function primaryLanguage(tag: string): string {
  return (tag.split('-')[0] ?? '').toLowerCase();
}

/** A syntactically valid BCP 47 language tag of the common `ll[-Script][-RR]` forms. */
export function isLanguageTag(tag: unknown): tag is string {
  return typeof tag === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?$/.test(tag);
}
