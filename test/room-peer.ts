import WebSocket from 'ws';
import { encodeS16le } from '../src/audio/pcm.js';

/**
 * A spec 003 WebSocket client (`/api/v1/ws/single` or a room's `/api/v1/ws/:id?language=`) that
 * records what it receives: JSON messages with their arrival time, the bytes of binary speech, the
 * close code.
 */
export class Peer {
  readonly json: Array<Record<string, unknown> & { atMs: number }> = [];
  audioBytes = 0;
  closeCode: number | undefined;
  private readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  /** @param label - names the peer in timeout messages. */
  constructor(url: string, readonly label = url) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {}); // a refused connection is seen through `closed`
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => {
      this.closeCode = code;
      resolve();
    }));
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.audioBytes += (data as Buffer).length;
      else this.json.push({ ...(JSON.parse(data.toString()) as Record<string, unknown>), atMs: Date.now() });
    });
  }

  /**
   * Connects to a room on the server at `baseUrl` (`http://host:port`) and waits for its own
   * `user_joined`; asks for the translated speech (`speech=true`) unless `speech` is false.
   */
  static async join(baseUrl: string, conversationId: string, language: string, speech = true): Promise<Peer> {
    const p = new Peer(`${baseUrl.replace('http', 'ws')}/api/v1/ws/${conversationId}?language=${language}${speech ? '&speech=true' : ''}`, language);
    await p.until('its user_joined', () => p.json.some((m) => m.type === 'user_joined'));
    return p;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Streams s16 samples at 16 kHz in 40 ms frames at real-time pace, then `silenceMs` of silence. */
  async speak(samples: Int16Array, silenceMs = 1200): Promise<void> {
    const all = new Int16Array(samples.length + silenceMs * 16);
    all.set(samples);
    const start = Date.now();
    for (let i = 0, n = 0; i < all.length; i += 640, n++) {
      this.ws.send(encodeS16le(all.subarray(i, i + 640)));
      const wait = start + (n + 1) * 40 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Final messages: `is_final: true` (single device) or `is_interim: false` (room). */
  finals(): Array<Record<string, unknown>> {
    return this.json.filter((m) => m.is_final === true || m.is_interim === false);
  }

  /** `client_count` of each `user_joined` or `user_left` received, in order. */
  counts(type: 'user_joined' | 'user_left'): unknown[] {
    return this.json.filter((m) => m.type === type).map((m) => m.client_count);
  }

  /** Waits until `predicate` holds for what was received (or fails after `timeoutMs`). */
  async until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.label}: timed out waiting for ${what}; got ${JSON.stringify(this.json.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  close(): Promise<void> {
    this.ws.close(1000);
    return this.closed;
  }
}
