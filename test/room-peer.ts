import WebSocket from 'ws';
import { encodeS16le } from '../src/audio/pcm.js';

/** A spec 003 room participant that records what it receives. */
export class Peer {
  readonly json: Array<Record<string, unknown>> = [];
  audioBytes = 0;
  private readonly ws: WebSocket;
  readonly closed: Promise<void>;

  constructor(baseUrl: string, conversationId: string, readonly language: string) {
    this.ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/ws/${conversationId}?language=${language}`);
    this.closed = new Promise((resolve) => this.ws.once('close', () => resolve()));
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.audioBytes += (data as Buffer).length;
      else this.json.push(JSON.parse(data.toString()) as Record<string, unknown>);
    });
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

  finals(): Array<Record<string, unknown>> {
    return this.json.filter((m) => m.is_interim === false);
  }

  counts(type: 'user_joined' | 'user_left'): unknown[] {
    return this.json.filter((m) => m.type === type).map((m) => m.client_count);
  }

  async until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.language}: timed out waiting for ${what}; got ${JSON.stringify(this.json.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Connects to the server at `baseUrl` (`http://host:port`) and waits for its own `user_joined`. */
  static async join(baseUrl: string, conversationId: string, language: string): Promise<Peer> {
    const p = new Peer(baseUrl, conversationId, language);
    await p.until('its user_joined', () => p.json.some((m) => m.type === 'user_joined'));
    return p;
  }

  close(): Promise<void> {
    this.ws.close(1000);
    return this.closed;
  }
}
