/**
 * The shared base of every HTTP engine (docs/architecture.md "Engines"): one request = up to `1 + maxRetries` attempts,
 * each with its own timeout; retries with exponential backoff and jitter on 5xx, 408, 429 (honouring
 * `Retry-After`) and network errors, never on other 4xx; abort through an `AbortSignal` (the stream
 * closing, the process closing); one `EngineContext.onRequest` record per attempt. Node's fetch
 * (undici), no other HTTP library.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadableStreamDefaultReader, ReadableStreamReadResult } from 'node:stream/web';
import type { EngineKind, EngineRequestRecord } from '../engine-module.js';
import { describeErrorBody, EngineHttpError, isRetryableStatus, retryAfterMs } from './engine-http-error.js';
import { classifyFailure, TimeoutMarker } from './failure.js';

/** How an HTTP engine talks to its server. */
export interface HttpEngineClientOptions {
  /** The engine instance's id (`EngineContext.id`), in errors and metrics. */
  engine: string;
  kind: EngineKind;
  /** The server's base URL; request paths are appended to it (`http://host:8000/v1` + `/audio/speech`). */
  baseUrl: string;
  /** Longest wait for a response (for streamed bodies: for each next chunk), per attempt, in ms. */
  timeoutMs: number;
  /** Attempts after the first one for retryable failures (0 = no retry). */
  maxRetries: number;
  /** First backoff delay, in ms; doubles per retry (jittered to 50–100 %). Default 200. */
  retryBaseDelayMs?: number;
  /** Longest backoff delay, in ms. Default 2000. */
  retryMaxDelayMs?: number;
  /** A `Retry-After` longer than this (in ms) is not waited for: the error goes back retryable. Default 5000. */
  maxRetryAfterMs?: number;
  /** Headers sent with every request (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Called once per attempt (`EngineContext.onRequest`). */
  onRequest?: (record: EngineRequestRecord) => void;
  /** Aborts every request when the process closes (`EngineContext.signal`). */
  signal?: AbortSignal;
  /** Jitter source, 0 ≤ x < 1; default Math.random. */
  random?: () => number;
}

/** One request. The body is re-sent as is on every attempt (strings, Blobs, FormData are reusable). */
export interface HttpEngineRequest {
  method: 'GET' | 'POST';
  /** Path under the base URL, e.g. `/audio/transcriptions`. */
  path: string;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** Any other body; FormData sets its own multipart `Content-Type`. */
  body?: FormData | string | Blob;
  headers?: Record<string, string>;
  /** Aborts this request (e.g. the stream closed). */
  signal?: AbortSignal;
}

/** A streamed response body: chunks as they arrive; `timeoutMs` bounds the wait for each one. */
export type ResponseChunks = AsyncGenerator<Uint8Array, void, undefined>;

/** A 2xx response whose body is read as it arrives. */
export interface StreamedResponse {
  /** The response's `Content-Type` ('' when absent). */
  contentType: string;
  chunks: ResponseChunks;
  /** Stops reading and closes the request (also when `chunks` was never iterated). */
  cancel: () => Promise<void>;
}

interface Attempt {
  signal: AbortSignal;
  /** Cancels this attempt's timeout (the caller took over a streamed body). */
  release: () => void;
}

/** An HTTP client that retries, times out and aborts the way every engine needs; see the module doc. */
export class HttpEngineClient {
  private readonly baseUrl: string;

  constructor(private readonly options: HttpEngineClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** The full URL of a path, for messages. */
  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /**
   * Sends a request and reads its whole body as JSON.
   * @throws {EngineHttpError} on a failed request (after its retries) or a body that is not JSON.
   */
  async requestJson(request: HttpEngineRequest): Promise<unknown> {
    return this.send(request, async (response) => {
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw this.malformed(request, `the body is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
      }
    });
  }

  /**
   * Sends a request and hands back its body as it arrives. Retries cover the wait for the response
   * headers; once they are in, a failure mid-body is thrown from the iterator (not retried: part
   * of the body has been used). Ending the iteration early aborts the request.
   * @throws {EngineHttpError} on a failed request (after its retries), a stalled body or an abort.
   */
  async requestStream(request: HttpEngineRequest): Promise<StreamedResponse> {
    return this.send(request, async (response, attempt) => {
      attempt.release();
      const reader = response.body?.getReader();
      return {
        contentType: response.headers.get('content-type') ?? '',
        chunks: this.chunks(request, reader, attempt.signal),
        cancel: async () => reader?.cancel().catch(() => undefined),
      };
    });
  }

  /**
   * Builds the error for a 2xx body that breaks the protocol (not retryable).
   */
  malformed(request: HttpEngineRequest, detail: string): EngineHttpError {
    return new EngineHttpError({
      engine: this.options.engine,
      code: 'malformed_response',
      message: `${this.options.engine}: malformed response from ${request.method} ${this.url(request.path)}: ${detail}`,
      retryable: false,
    });
  }

  private async send<T>(request: HttpEngineRequest, consume: (response: Response, attempt: Attempt) => Promise<T>): Promise<T> {
    const callerSignals = [request.signal, this.options.signal].filter((s): s is AbortSignal => s !== undefined);
    const caller = callerSignals.length > 0 ? AbortSignal.any(callerSignals) : undefined;
    for (let attempt = 1; ; attempt++) {
      const startedMs = performance.now();
      try {
        const value = await this.attempt(request, caller, consume);
        this.record('ok', startedMs);
        return value;
      } catch (e) {
        const error = classifyFailure(e, this.options.engine, request.method, this.url(request.path), caller);
        const delayMs = this.retryDelayMs(error, attempt);
        this.record(delayMs === undefined ? 'error' : 'retry', startedMs);
        if (delayMs === undefined) throw error.withAttempts(attempt);
        try {
          await sleep(delayMs, undefined, caller ? { signal: caller } : undefined);
        } catch (abort) {
          throw classifyFailure(abort, this.options.engine, request.method, this.url(request.path), caller).withAttempts(attempt);
        }
      }
    }
  }

  private async attempt<T>(request: HttpEngineRequest, caller: AbortSignal | undefined, consume: (response: Response, attempt: Attempt) => Promise<T>): Promise<T> {
    const own = new AbortController();
    const timer = setTimeout(() => own.abort(new TimeoutMarker(this.options.timeoutMs)), this.options.timeoutMs);
    const signal = caller ? AbortSignal.any([own.signal, caller]) : own.signal;
    let released = false;
    try {
      const response = await fetch(this.url(request.path), { method: request.method, headers: this.headers(request), body: this.body(request), signal });
      if (!response.ok) throw await this.statusError(request, response);
      return await consume(response, {
        signal,
        release: () => {
          released = true;
          clearTimeout(timer);
        },
      });
    } finally {
      if (!released) clearTimeout(timer);
    }
  }

  /** Header values sent (the key among them), bare and without their scheme, to redact from vendor answers. */
  private secrets(request: HttpEngineRequest): string[] {
    const values = Object.values(this.headers(request));
    return [...values, ...values.map((v) => v.replace(/^\S+\s+/, ''))];
  }

  private headers(request: HttpEngineRequest): Record<string, string> {
    const headers: Record<string, string> = { ...this.options.headers, ...request.headers };
    if (request.json !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  private body(request: HttpEngineRequest): FormData | string | Blob | undefined {
    return request.json !== undefined ? JSON.stringify(request.json) : request.body;
  }

  private async statusError(request: HttpEngineRequest, response: Response): Promise<EngineHttpError> {
    const text = await readErrorBody(response);
    const { message, vendorCode } = describeErrorBody(text, this.secrets(request));
    return new EngineHttpError({
      engine: this.options.engine,
      code: 'http_status',
      message: `${this.options.engine}: ${request.method} ${this.url(request.path)} answered HTTP ${response.status}${message ? `: ${message}` : ''}`,
      retryable: isRetryableStatus(response.status),
      status: response.status,
      retryAfterMs: retryAfterMs(response.headers),
      vendorCode,
    });
  }

  /** The wait before the next attempt, or undefined when the error is final. */
  private retryDelayMs(error: EngineHttpError, attempt: number): number | undefined {
    if (!error.retryable || attempt > this.options.maxRetries) return undefined;
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= (this.options.maxRetryAfterMs ?? 5000) ? error.retryAfterMs : undefined;
    }
    const base = this.options.retryBaseDelayMs ?? 200;
    const capped = Math.min(this.options.retryMaxDelayMs ?? 2000, base * 2 ** (attempt - 1));
    return Math.round(capped * (0.5 + 0.5 * (this.options.random ?? Math.random)()));
  }

  private record(outcome: EngineRequestRecord['outcome'], startedMs: number): void {
    this.options.onRequest?.({ engine: this.options.engine, kind: this.options.kind, outcome, durationMs: performance.now() - startedMs });
  }

  private async *chunks(request: HttpEngineRequest, reader: ReadableStreamDefaultReader<Uint8Array> | undefined, signal: AbortSignal): ResponseChunks {
    if (!reader) return;
    try {
      for (;;) {
        const next = await this.nextChunk(reader);
        if (next.done) return;
        yield next.value;
      }
    } catch (e) {
      throw classifyFailure(e, this.options.engine, request.method, this.url(request.path), signal);
    } finally {
      // Ending early (the consumer stopped) cancels the body, which aborts the request.
      await reader.cancel().catch(() => undefined);
    }
  }

  private nextChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadableStreamReadResult<Uint8Array>> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutMarker(this.options.timeoutMs)), this.options.timeoutMs);
    });
    return Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
  }
}

/** Bytes of an error answer read at most; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 8 * 1024;

/** The first {@link MAX_ERROR_BODY_BYTES} of an error answer as text; the rest is never read. */
async function readErrorBody(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a broken answer: keep what came
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8');
}
