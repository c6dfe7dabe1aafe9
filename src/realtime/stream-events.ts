import { ERROR_CODES } from '../errors.js';
import type { PipelineEvent } from '../pipeline/translation-pipeline.js';

/*
 * The events of spec 002 Part 1 as JSON text frames: what a `/vt` client receives and what a worker
 * sends on leg 2 (Part 3: "the same JSON event schema as defined in Part 1").
 */

/** ISO 8601 UTC with milliseconds and an explicit `+00:00` offset, as the spec's examples. */
export function isoUtc(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** The `error` event of spec 002 Part 1. */
export function errorEvent(status: number, description: string, referenceId?: string): string {
  const known = Object.values(ERROR_CODES).find((c) => c.status === status);
  return JSON.stringify({
    error: {
      code: status,
      reason: known?.reason ?? 'Internal Server Error',
      description,
      ...(referenceId !== undefined ? { reference_id: referenceId } : {}),
    },
  });
}

/** Renders a pipeline event as the spec's JSON event, or undefined for events the client does not get. */
export function renderEvent(event: PipelineEvent, referenceId: string | undefined): string | undefined {
  const ref = referenceId !== undefined ? { reference_id: referenceId } : {};
  switch (event.type) {
    case 'transcript':
      return JSON.stringify({
        transcript: {
          text: event.text, final: event.final, start: isoUtc(event.startedAt), duration: event.durationMs,
          utterance_id: event.utteranceId, ...ref,
        },
      });
    case 'translation':
      return JSON.stringify({ translate: { text: event.text, final: event.final, utterance_id: event.utteranceId, ...ref } });
    case 'error':
      return errorEvent(event.status, event.description, referenceId);
    default:
      return undefined;
  }
}
