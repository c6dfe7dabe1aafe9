import WebSocket from 'ws';
import { encodeS16le } from '../../audio/pcm.js';
import { AsyncQueue } from '../../common/async-queue.js';
import {
  END_TOKEN, FIN_TOKEN, FINALIZE_MESSAGE, KEEPALIVE_MESSAGE, parseSonioxResponse, SonioxError,
  type SonioxConfigMessage, type SonioxToken,
} from './soniox-protocol.js';
import type { SttStream, SttTranscript } from './types.js';

/** Connection settings of one {@link SonioxStream}. */
export interface SonioxStreamSettings {
  /** `wss://stt-rt.soniox.com/transcribe-websocket`, or a stand-in's URL. */
  url: string;
  apiKey: string;
  /** Rate of the audio pushed, in Hz (the config's `sample_rate`). */
  sampleRateHz: number;
  /** Time allowed for the WebSocket handshake, in ms. */
  connectTimeoutMs: number;
  /** Time allowed between a `finalize` (or the end of audio) and Soniox's answer (`<fin>`, `finished`), in ms. */
  finalizeTimeoutMs: number;
  /** A keepalive is sent when no audio went out for this long, in ms (Soniox closes idle sessions after 20 s). */
  keepaliveIntervalMs: number;
}

interface PendingFlush {
  resolve: (final: SttTranscript) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One Soniox real-time session as an {@link SttStream} (docs/architecture.md "Engines"). Audio goes out as binary frames
 * of s16le; non-final tokens become interim transcripts; final tokens collect into the utterance
 * until a boundary: `<end>` (Soniox's endpoint detection: a final with `endpoint: 'provider'`) or
 * `<fin>` (the answer to the `{"type":"finalize"}` that `flush` sends: the final `flush` resolves
 * with). An `<end>` while a flush is pending is part of that flush's utterance, so each `flush`
 * gives exactly one final. Translated tokens (`translation_status: "translation"`) make the final's
 * `translation` when the session translates. Errors (`error_code`/`error_message`, a socket closed
 * early, a timeout) end the stream: pending flushes reject and the iterator throws the error.
 */
export class SonioxStream implements SttStream {
  private readonly queue = new AsyncQueue<SttTranscript | Error>();
  private readonly flushes: PendingFlush[] = [];
  /** Final original tokens of the current utterance. */
  private finals: SonioxToken[] = [];
  /** Final translated token texts of the current utterance. */
  private translated: string[] = [];
  private lastInterim = '';
  private sentSamples = 0;
  private processedMs = 0;
  private lastSentAtMs = Date.now();
  private readonly keepalive: NodeJS.Timeout;
  private failure: Error | undefined;
  private closing = false;
  private ended = false;
  private onFinished: (() => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly settings: SonioxStreamSettings,
    /** True when the config asked for translation: finals then carry `translation`. */
    private readonly translating: boolean,
  ) {
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) this.onMessage(String(data));
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString()));
    ws.on('error', (err: Error) => this.fail(new SonioxError(`soniox: connection failed: ${err.message}`)));
    this.keepalive = setInterval(() => this.sendKeepalive(), settings.keepaliveIntervalMs);
    this.keepalive.unref();
  }

  /**
   * Connects (key in the `Authorization` header) and sends `config` as the first message.
   * @throws {SonioxError} when the handshake fails or does not finish within `connectTimeoutMs`.
   */
  static open(settings: SonioxStreamSettings, config: SonioxConfigMessage): Promise<SonioxStream> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(settings.url, { headers: { Authorization: `Bearer ${settings.apiKey}` } });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new SonioxError(`soniox: no connection to ${settings.url} within ${settings.connectTimeoutMs} ms`));
      }, settings.connectTimeoutMs);
      ws.once('error', (err: Error) => {
        clearTimeout(timer);
        const status = /Unexpected server response: (\d{3})/.exec(err.message)?.[1];
        reject(new SonioxError(`soniox: cannot connect to ${settings.url}: ${err.message}`, status ? Number(status) : undefined));
      });
      ws.once('open', () => {
        clearTimeout(timer);
        ws.send(JSON.stringify(config));
        resolve(new SonioxStream(ws, settings, config.translation !== undefined));
      });
    });
  }

  /** Audio sent but not yet processed by Soniox (its `total_audio_proc_ms`), in ms. */
  get pendingMs(): number {
    return Math.max(0, (this.sentSamples * 1000) / this.settings.sampleRateHz - this.processedMs);
  }

  /** Sends the samples as one binary frame of s16le; ignored once the stream has ended or failed. */
  push(samples: Int16Array): void {
    if (this.closing || this.failure || samples.length === 0) return;
    this.ws.send(encodeS16le(samples));
    this.sentSamples += samples.length;
    this.lastSentAtMs = Date.now();
  }

  /**
   * Asks Soniox to finalize the audio sent so far (manual finalization) and resolves with the
   * utterance's final when `<fin>` arrives.
   * @throws {SonioxError} when the stream fails or `<fin>` does not come within `finalizeTimeoutMs`.
   */
  flush(): Promise<SttTranscript> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new SonioxError('soniox: stream closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new SonioxError(`soniox: no ${FIN_TOKEN} within ${this.settings.finalizeTimeoutMs} ms of finalize`, 408));
      }, this.settings.finalizeTimeoutMs);
      this.flushes.push({ resolve, reject, timer });
      this.ws.send(FINALIZE_MESSAGE);
      this.lastSentAtMs = Date.now();
    });
  }

  /**
   * Ends the audio (an empty frame), waits at most `finalizeTimeoutMs` for the last results and
   * Soniox's `finished`, then closes the socket; the iterator ends after the finals already out.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.keepalive);
    if (!this.failure && this.ws.readyState === WebSocket.OPEN) {
      let timer: NodeJS.Timeout | undefined;
      const finished = new Promise<void>((resolve) => {
        this.onFinished = resolve;
        timer = setTimeout(resolve, this.settings.finalizeTimeoutMs);
      });
      this.ws.send('');
      await finished;
      clearTimeout(timer);
    }
    this.end(new SonioxError('soniox: stream closed'));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SttTranscript> {
    for await (const item of this.queue) {
      if (item instanceof Error) throw item;
      yield item;
    }
  }

  private onMessage(text: string): void {
    let response;
    try {
      response = parseSonioxResponse(text);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (response.error) {
      this.fail(response.error);
      return;
    }
    this.processedMs = response.total_audio_proc_ms;
    const nonFinal: SonioxToken[] = [];
    for (const token of response.tokens) {
      if (token.text === END_TOKEN || token.text === FIN_TOKEN) this.boundary(token.text);
      else if (!token.is_final) {
        if (token.translation_status !== 'translation') nonFinal.push(token);
      } else if (token.translation_status === 'translation') this.translated.push(token.text);
      else this.finals.push(token);
    }
    this.interim(nonFinal);
    if (response.finished) this.onFinished?.();
  }

  /** The hypothesis of the current utterance: its final tokens, then the non-final ones. */
  private interim(nonFinal: readonly SonioxToken[]): void {
    const tokens = [...this.finals, ...nonFinal];
    const text = tokens.map((t) => t.text).join('').trim();
    if (!text || text === this.lastInterim) return;
    this.lastInterim = text;
    this.queue.push({ type: 'interim', text, audioMs: spanMs(tokens) });
  }

  /** `<end>` or `<fin>`: the utterance so far becomes a final (see the class comment for which). */
  private boundary(token: string): void {
    if (token === END_TOKEN && this.flushes.length > 0) return;
    const flush = token === FIN_TOKEN ? this.flushes.shift() : undefined;
    const final = this.takeFinal(flush ? undefined : 'provider');
    if (flush) {
      clearTimeout(flush.timer);
      this.queue.push(final);
      flush.resolve(final);
    } else if (final.text) {
      this.queue.push(final);
    }
  }

  private takeFinal(endpoint: 'provider' | undefined): SttTranscript {
    const tokens = this.finals;
    const confidences = tokens.map((t) => t.confidence).filter((c): c is number => typeof c === 'number');
    const final: SttTranscript = { type: 'final', text: tokens.map((t) => t.text).join('').trim(), audioMs: spanMs(tokens) };
    if (confidences.length > 0) final.confidence = confidences.reduce((a, b) => a + b, 0) / confidences.length;
    if (endpoint) final.endpoint = endpoint;
    if (this.translating) final.translation = this.translated.join('').trim();
    this.finals = [];
    this.translated = [];
    this.lastInterim = '';
    return final;
  }

  private sendKeepalive(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastSentAtMs < this.settings.keepaliveIntervalMs) return;
    this.ws.send(KEEPALIVE_MESSAGE);
    this.lastSentAtMs = Date.now();
  }

  private onClose(code: number, reason: string): void {
    this.onFinished?.();
    if (this.closing) return;
    this.fail(new SonioxError(`soniox closed the connection unexpectedly (code ${code}${reason ? `: ${reason}` : ''})`));
  }

  /** Ends the stream with `err`: pending flushes reject with it and the iterator throws it. */
  private fail(err: Error): void {
    if (this.failure || this.ended) return;
    this.failure = err;
    this.queue.push(err);
    this.end(err);
  }

  private end(pendingError: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepalive);
    for (const f of this.flushes.splice(0)) {
      clearTimeout(f.timer);
      f.reject(pendingError);
    }
    this.queue.end();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** Audio covered by the tokens (first `start_ms` to last `end_ms`), in ms; 0 without timings. */
function spanMs(tokens: readonly SonioxToken[]): number {
  const starts = tokens.map((t) => t.start_ms).filter((v): v is number => typeof v === 'number');
  const ends = tokens.map((t) => t.end_ms).filter((v): v is number => typeof v === 'number');
  if (starts.length === 0 || ends.length === 0) return 0;
  return Math.max(0, Math.max(...ends) - Math.min(...starts));
}
