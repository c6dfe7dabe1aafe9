import crypto from 'node:crypto';
import { once } from 'node:events';
import wavefile from 'wavefile';
import WebSocket from 'ws';

/**
 * Twilio's side of a bidirectional Media Stream (`<Connect><Stream>`), written from Twilio's
 * "Media Streams - WebSocket Messages" page: it opens the WebSocket with an `X-Twilio-Signature`,
 * sends `connected` then `start` (streamSid, accountSid, callSid, tracks, mediaFormat
 * audio/x-mulaw 8000 Hz mono, customParameters), the caller's audio as 20 ms `media` frames at
 * real-time pace, and `stop`; it plays what it receives (`media` payloads must be base64 µ-law),
 * echoes each `mark` once the audio before it has played, and on `clear` drops what is unplayed
 * and echoes the pending marks at once. Messages that do not match the documented shapes are
 * recorded in {@link protocolErrors}.
 */
export class TwilioMediaPeer {
  readonly streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
  /** Every message Tolk sent, parsed. */
  readonly received: Array<Record<string, unknown>> = [];
  /** µ-law bytes Tolk sent in `media` messages, in order (cleared audio included). */
  private readonly outboundMulaw: Buffer[] = [];
  /** Marks Tolk sent and this peer echoed back. */
  readonly marksEchoed: string[] = [];
  readonly protocolErrors: string[] = [];
  clears = 0;
  private sequence = 0;
  private chunk = 0;
  private startedAtMs = 0;
  /** When the audio queued so far finishes playing on the simulated call (ms, Date.now() clock). */
  private playoutEndMs = 0;
  private readonly markTimers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: Array<() => void> = [];
  closedWith: { code: number; reason: string } | undefined;

  private constructor(private readonly ws: WebSocket, private readonly ids: { accountSid: string; callSid: string }) {
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      this.notify();
    });
  }

  /**
   * Opens the stream the way Twilio does: a WebSocket upgrade to `localUrl` signed for `signedUrl`.
   * @throws {Error} when the upgrade is refused (its HTTP status in the message).
   */
  static async connect(o: { localUrl: string; signature: string | undefined; accountSid: string; callSid: string }): Promise<TwilioMediaPeer> {
    const ws = new WebSocket(o.localUrl, { headers: o.signature === undefined ? {} : { 'X-Twilio-Signature': o.signature } });
    const refused = new Promise<never>((_, reject) => {
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    await Promise.race([once(ws, 'open'), refused]);
    return new TwilioMediaPeer(ws, { accountSid: o.accountSid, callSid: o.callSid });
  }

  /** Sends `connected` and `start` (Twilio's first two messages). */
  start(customParameters: Record<string, string>, mediaFormat = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.startedAtMs = Date.now();
    this.send({
      event: 'start', sequenceNumber: String(++this.sequence), streamSid: this.streamSid,
      start: { accountSid: this.ids.accountSid, streamSid: this.streamSid, callSid: this.ids.callSid, tracks: ['inbound'], customParameters, mediaFormat },
    });
  }

  /**
   * Streams the caller's audio (s16 at 8000 Hz) as 20 ms µ-law `media` frames, paced in real
   * time from the first frame (each frame is due at start + n × 20 ms). Resolves after the last.
   */
  async speak(samples8k: Int16Array, signal?: { stopped: boolean }): Promise<void> {
    const mulaw = encodeMulaw(samples8k);
    const t0 = Date.now();
    for (let n = 0; n * 160 < mulaw.length; n++) {
      if (signal?.stopped || this.ws.readyState !== WebSocket.OPEN) return;
      const frame = Buffer.alloc(160, 0xff);
      mulaw.copy(frame, 0, n * 160, Math.min(mulaw.length, (n + 1) * 160));
      this.sendMedia(frame);
      const dueMs = t0 + (n + 1) * 20 - Date.now();
      if (dueMs > 0) await new Promise((r) => setTimeout(r, dueMs));
    }
  }

  /** Sends one `media` message with µ-law bytes. */
  sendMedia(mulaw: Buffer): void {
    this.send({
      event: 'media', sequenceNumber: String(++this.sequence), streamSid: this.streamSid,
      media: { track: 'inbound', chunk: String(++this.chunk), timestamp: String(Date.now() - this.startedAtMs), payload: mulaw.toString('base64') },
    });
  }

  /** A caller's key press (`dtmf`). */
  pressKey(digit: string): void {
    this.send({ event: 'dtmf', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  /** The call ended: `stop`, then the socket closes. */
  stop(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.send({ event: 'stop', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, stop: { accountSid: this.ids.accountSid, callSid: this.ids.callSid } });
    this.ws.close(1000);
  }

  /** Sends raw text (tests of malformed input). */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** What Tolk played to the caller, decoded to s16 at 8000 Hz. */
  heardSamples(): Int16Array {
    return decodeMulaw(Buffer.concat(this.outboundMulaw));
  }

  /** Milliseconds of audio Tolk sent. */
  get heardMs(): number {
    return this.outboundMulaw.reduce((n, b) => n + b.length, 0) / 8;
  }

  /** Resolves once `predicate()` holds (checked on every message and close), or rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  /** Closes the socket without `stop` (a dropped connection). */
  drop(): void {
    this.ws.terminate();
  }

  private send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) this.protocolErrors.push('binary frame');
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.protocolErrors.push(`not JSON: ${data.toString('utf8').slice(0, 80)}`);
      return this.notify();
    }
    this.received.push(m);
    const problem = this.check(m);
    if (problem) this.protocolErrors.push(problem);
    this.notify();
  }

  /** Applies one of Tolk's messages; returns what is wrong with it (Twilio error 31951), if anything. */
  private check(m: Record<string, unknown>): string | undefined {
    if (m.streamSid !== this.streamSid) return `wrong streamSid in ${JSON.stringify(m).slice(0, 120)}`;
    const keys = Object.keys(m).sort().join(',');
    if (m.event === 'media') {
      const payload = (m.media as { payload?: unknown } | undefined)?.payload;
      if (keys !== 'event,media,streamSid' || typeof payload !== 'string') return `bad media message ${keys}`;
      const bytes = Buffer.from(payload, 'base64');
      if (bytes.toString('base64') !== payload) return 'media.payload is not base64';
      this.outboundMulaw.push(bytes);
      this.playoutEndMs = Math.max(this.playoutEndMs, Date.now()) + bytes.length / 8;
      return undefined;
    }
    if (m.event === 'mark') {
      const name = (m.mark as { name?: unknown } | undefined)?.name;
      if (keys !== 'event,mark,streamSid' || typeof name !== 'string') return `bad mark message ${keys}`;
      this.markTimers.set(name, setTimeout(() => this.echoMark(name), Math.max(0, this.playoutEndMs - Date.now())));
      return undefined;
    }
    if (m.event === 'clear') {
      if (keys !== 'event,streamSid') return `bad clear message ${keys}`;
      this.clears++;
      this.playoutEndMs = Date.now();
      for (const name of [...this.markTimers.keys()]) this.echoMark(name);
      return undefined;
    }
    return `unknown event ${String(m.event)}`;
  }

  private echoMark(name: string): void {
    clearTimeout(this.markTimers.get(name));
    if (!this.markTimers.delete(name)) return;
    this.marksEchoed.push(name);
    this.send({ event: 'mark', sequenceNumber: String(++this.sequence), streamSid: this.streamSid, mark: { name } });
    this.notify();
  }
}

/** s16 → µ-law with wavefile's encoder (an implementation independent of Tolk's). */
export function encodeMulaw(samples: Int16Array): Buffer {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 8000, '16', samples);
  wav.toMuLaw();
  return Buffer.from((wav.data as { samples: Uint8Array }).samples);
}

/** µ-law → s16 with wavefile's decoder. */
export function decodeMulaw(mulaw: Buffer): Int16Array {
  if (mulaw.length === 0) return new Int16Array(0);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 8000, '8m', mulaw);
  wav.fromMuLaw();
  return Int16Array.from(wav.getSamples(false, Int16Array) as unknown as ArrayLike<number>);
}
