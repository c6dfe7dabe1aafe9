import { z } from 'zod';
import type { EngineContext, EngineKind } from '../engine-module.js';
import { HttpEngineClient } from './http-engine-client.js';

/**
 * The settings every HTTP engine shares (docs/engines.md): where its server is, how to
 * authenticate, how long to wait and how often to try again. Spread into each engine's schema.
 */
export const httpEngineSettingsShape = {
  /** The server's base URL; for OpenAI-compatible servers it includes `/v1`. */
  baseUrl: z.url({ protocol: /^https?$/, error: 'baseUrl must be an http(s) URL' }),
  /** Sent as `Authorization: Bearer <apiKey>` (OpenAI-compatible) or as `api_key` (LibreTranslate). */
  apiKey: z.string().min(1).optional(),
  /** Longest wait for a response, per attempt (for streamed audio: for each next chunk), in ms. */
  timeoutMs: z.number().int().min(50).max(600_000).default(10_000),
  /** Attempts after the first for 5xx, 408, 429 and network errors (never other 4xx). */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /** First backoff delay, in ms (doubles per retry, jittered). */
  retryBaseDelayMs: z.number().int().min(0).max(60_000).default(200),
  /** A `Retry-After` longer than this is not waited for (the error goes back for fallback), in ms. */
  maxRetryAfterMs: z.number().int().min(0).max(600_000).default(5_000),
};

/** The typed values of {@link httpEngineSettingsShape}. */
export interface HttpEngineSettings {
  baseUrl: string;
  apiKey?: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  maxRetryAfterMs: number;
}

/**
 * The client of one engine instance, wired to its context (metrics, process abort).
 * @param bearer - send `apiKey` as `Authorization: Bearer` (false for LibreTranslate, which takes it in the body).
 */
export function httpClientFor(kind: EngineKind, settings: HttpEngineSettings, context: EngineContext, bearer = true): HttpEngineClient {
  return new HttpEngineClient({
    engine: context.id,
    kind,
    baseUrl: settings.baseUrl,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    retryBaseDelayMs: settings.retryBaseDelayMs,
    maxRetryAfterMs: settings.maxRetryAfterMs,
    headers: bearer && settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
    onRequest: context.onRequest,
    signal: context.signal,
  });
}
