import WebSocket from 'ws';
import { concatSamples, encodeS16le, S16leDecoder } from '../audio/pcm.js';

/** A transcript or translate event as received, with its arrival time (wall ms). */
export type ReceivedEvent =
  | { kind: 'transcript'; atMs: number; text: string; final: boolean; start: string; duration: number; utteranceId: string; referenceId?: string }
  | { kind: 'translate'; atMs: number; text: string; final: boolean; utteranceId: string; referenceId?: string }
  | { kind: 'error'; atMs: number; code: number; reason: string; description: string; referenceId?: string }
  | { kind: 'audio'; atMs: number; bytes: number };

/** Options of {@link streamAudio}. */
export interface StreamAudioOptions {
  /** WebSocket URL of `/vt`, with the `authorization` query parameter when used. */
  url: string;
  /** Headers of the WebSocket upgrade request, e.g. `{ authorization: 'Bearer <key>' }`. */
  headers?: Record<string, string>;
  /** The `config` object of spec 002 Part 1 (without the `config` wrapper). */
  config: Record<string, unknown>;
  /** Mono s16 samples at `sampleRateHz`. */
  samples: Int16Array;
  sampleRateHz: number;
  /** Frame length sent per WebSocket message, in ms. */
  frameMs?: number;
  /** Send at real-time pace (default) or as fast as possible. */
  realtime?: boolean;
  /** Silence appended after the audio so the last utterance reaches its endpoint, in ms. */
  trailingSilenceMs?: number;
  /**
   * After the audio, wait this long without any event before closing, in ms (default 1500). The
   * wait goes on while an utterance is open (an interim without its final) or a final has no
   * translation yet, and lasts at least `firstEventWaitMs` when the server has sent nothing at all.
   */
  idleCloseMs?: number;
  /** When no event has arrived by the end of the audio, how long to wait for one, in ms (default 10000). */
  firstEventWaitMs?: number;
  /** Upper bound on the whole exchange, in ms. */
  timeoutMs?: number;
  onEvent?: (event: ReceivedEvent) => void;
}

/** What a stream returned. */
export interface StreamAudioResult {
  events: ReceivedEvent[];
  /** Synthesized speech received (s16 at the stream's rate). */
  audio: Int16Array;
  /** Wall time the first audio frame was sent, in ms. */
  firstSendAtMs: number;
  /** Close code and reason the server sent (or 1000 when the client closed first). */
  closeCode: number;
  closeReason: string;
  /** Audio of `samples` sent before the stream ended, in ms (less than the whole when the server closed early). */
  sentAudioMs: number;
}

/**
 * Streams audio to a `/vt` endpoint and collects what comes back (spec 002 Part 1 client side).
 * Used by `tolk translate`, the tests and the benchmarks.
 * @throws {Error} when the connection cannot be opened.
 */
export async function streamAudio(options: StreamAudioOptions): Promise<StreamAudioResult> {
  const frameMs = options.frameMs ?? 20;
  const realtime = options.realtime ?? true;
  const frameSamples = Math.round((options.sampleRateHz * frameMs) / 1000);
  const ws = new WebSocket(options.url, { headers: options.headers });
  const events: ReceivedEvent[] = [];
  const audioDecoder = new S16leDecoder();
  const audioParts: Int16Array[] = [];
  let lastEventAtMs = Date.now();
  let closeCode = 1000;
  let closeReason = '';
  const closed = new Promise<void>((resolve) => {
    ws.on('close', (code, reason) => {
      closeCode = code;
      closeReason = reason.toString();
      resolve();
    });
  });
  ws.on('message', (data, isBinary) => {
    const atMs = Date.now();
    lastEventAtMs = atMs;
    let event: ReceivedEvent;
    if (isBinary) {
      const buf = data as Buffer;
      audioParts.push(audioDecoder.decode(buf));
      event = { kind: 'audio', atMs, bytes: buf.length };
    } else {
      event = parseEvent(data.toString(), atMs);
    }
    events.push(event);
    options.onEvent?.(event);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ config: options.config }));

  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const silence = new Int16Array(Math.round((options.sampleRateHz * (options.trailingSilenceMs ?? 1000)) / 1000));
  const all = new Int16Array(options.samples.length + silence.length);
  all.set(options.samples, 0);
  const firstSendAtMs = Date.now();
  let sentFrames = 0;
  let sentSamples = 0;
  for (let i = 0; i < all.length && ws.readyState === WebSocket.OPEN; i += frameSamples) {
    ws.send(encodeS16le(all.subarray(i, i + frameSamples)));
    sentFrames++;
    sentSamples = Math.min(i + frameSamples, options.samples.length);
    if (realtime) {
      const due = firstSendAtMs + sentFrames * frameMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    } else if (sentFrames % 50 === 0) {
      await sleep(0);
    }
  }
  lastEventAtMs = Math.max(lastEventAtMs, Date.now());
  const idleCloseMs = options.idleCloseMs ?? 1500;
  const transcriptOptions = options.config.transcript as { translate?: unknown } | undefined;
  const expectTranslation = transcriptOptions?.translate !== false;
  while (ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
    const idleMs = Date.now() - lastEventAtMs;
    const quietEnough = idleMs >= (events.length === 0 ? Math.max(idleCloseMs, options.firstEventWaitMs ?? 10_000) : idleCloseMs);
    if (quietEnough && !awaitingServer(events, expectTranslation)) break;
    await sleep(50);
  }
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  await closed;
  const sentAudioMs = Math.round((sentSamples * 1000) / options.sampleRateHz);
  return { events, audio: concatSamples(audioParts), firstSendAtMs, closeCode, closeReason, sentAudioMs };
}

/** True while an utterance is open (interim seen, no final yet) or a final has no translation yet. */
function awaitingServer(events: readonly ReceivedEvent[], expectTranslation: boolean): boolean {
  const open = new Set<string>();
  for (const e of events) {
    if (e.kind === 'transcript' && (!e.final || expectTranslation)) open.add(e.utteranceId);
    if (e.kind === 'transcript' && e.final && !expectTranslation) open.delete(e.utteranceId);
    // A `final: false` translation (simultaneous mode) comes while its utterance is still open.
    if (e.kind === 'translate' && e.final) open.delete(e.utteranceId);
    if (e.kind === 'error') return false;
  }
  return open.size > 0;
}

function parseEvent(text: string, atMs: number): ReceivedEvent {
  const msg = JSON.parse(text) as Record<string, Record<string, unknown> | undefined>;
  if (msg.transcript) {
    const t = msg.transcript;
    return {
      kind: 'transcript', atMs, text: String(t.text), final: Boolean(t.final), start: String(t.start),
      duration: Number(t.duration), utteranceId: String(t.utterance_id),
      ...(t.reference_id !== undefined ? { referenceId: String(t.reference_id) } : {}),
    };
  }
  if (msg.translate) {
    const t = msg.translate;
    return {
      kind: 'translate', atMs, text: String(t.text), final: Boolean(t.final), utteranceId: String(t.utterance_id),
      ...(t.reference_id !== undefined ? { referenceId: String(t.reference_id) } : {}),
    };
  }
  const e = msg.error ?? {};
  return {
    kind: 'error', atMs, code: Number(e.code), reason: String(e.reason), description: String(e.description),
    ...(e.reference_id !== undefined ? { referenceId: String(e.reference_id) } : {}),
  };
}

/**
 * Asks the token endpoint for a session key (spec 002 Part 1 "Session key generation").
 * @throws {Error} with the server's error description on a non-200 answer, or naming `baseUrl`
 *   when nothing answers there.
 */
export async function fetchSessionKey(baseUrl: string, apiKey: string, expirationTtlS?: number): Promise<string> {
  const q = expirationTtlS !== undefined ? `?expiration_ttl=${expirationTtlS}` : '';
  const url = `${baseUrl}/v2/sdk/voice-translation/session/token${q}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `api-key ${apiKey}` } });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`no Tolk server answered at ${baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}): is \`tolk serve\` running there, and is the URL right?`, { cause: err });
  }
  const body = (await res.json()) as { data?: { session_key?: string }; error?: { description?: string } };
  if (!res.ok || !body.data?.session_key) throw new Error(`session token request failed (${res.status}): ${body.error?.description ?? 'no session key'}`);
  return body.data.session_key;
}

/** The `/vt` URL for a server base URL and session key. */
export function vtUrl(baseUrl: string, sessionKey: string): string {
  const ws = baseUrl.replace(/^http/, 'ws');
  return `${ws}/vt?authorization=${encodeURIComponent(`api-key ${sessionKey}`)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
