/*
 * What the `/vt` adapter reads of a config message beyond the stream config itself (spec 002 Part 1):
 * the client's `reference_id`, echoed on every event.
 */

/** Longest `config.metadata.reference_id`, in characters (UTF-16 code units); it is echoed on every event. */
export const MAX_REFERENCE_ID_CHARS = 128;

/**
 * `config.metadata.reference_id` of a config message as echoed on events: a string as is, a number
 * as its decimal text; undefined when absent or of another type. Its length is not checked here
 * (see {@link MAX_REFERENCE_ID_CHARS}).
 */
export function referenceIdOf(message: unknown): string | undefined {
  const ref = (message as { config?: { metadata?: { reference_id?: unknown } } } | null)?.config?.metadata?.reference_id;
  return typeof ref === 'string' || typeof ref === 'number' ? String(ref) : undefined;
}

