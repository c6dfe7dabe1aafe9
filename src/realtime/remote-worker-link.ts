import WebSocket from 'ws';
import { workerRunsProviders, type WorkerEntry, type WorkerRegistry } from '../state/worker-registry.js';
import { dictionaryObject } from './leg2-config.js';
import { Leg2EventDecoder } from './leg2-events.js';
import { ackOf, dictionaryMessage, drainMessage, errorOf, WORKER_SECRET_HEADER, type Leg2Config } from './leg2-protocol.js';
import { WorkerRefusedError, type WorkerLink, type WorkerLinkOptions, type WorkerLinks, type WorkerLoad } from './worker-link.js';

/**
 * How long a worker may take from the upgrade to its acknowledgement, in ms: a worker with no idle
 * recognizer loads one first (seconds of CPU on a busy machine). A dead worker is noticed sooner:
 * its socket closes.
 */
const ACK_TIMEOUT_MS = 30_000;
/** Leg-2 TCP/upgrade timeout, in ms: an unreachable worker is skipped after this. */
const CONNECT_TIMEOUT_MS = 3000;
/**
 * Liveness on leg 2: the gateway pings every PING_INTERVAL_MS and the worker pings the gateway
 * every second too (a worker that pauses reading leg 2 under backpressure cannot answer pings, but
 * still sends). A worker not heard from — no frame, ping or pong — for SILENCE_TIMEOUT_MS is dead.
 */
const PING_INTERVAL_MS = 1000;
const SILENCE_TIMEOUT_MS = 3000;
/** How often a stream's dictionary is re-read for changes, in ms (the glossary cache's TTL). */
const DICTIONARY_POLL_MS = 1000;
/** After a drain's timeout, how long the worker gets to close before leg 2 is cut, in ms. */
const DRAIN_GRACE_MS = 1000;

/** Why a worker did not take a stream; `full` and `unreachable` send the gateway to the next one. */
class OpenFailure extends Error {
  constructor(
    readonly kind: 'full' | 'unreachable' | 'refused',
    readonly status: number,
    readonly description: string,
  ) {
    super(description);
  }
}

/**
 * One stream on a remote worker: a `ws` client speaking leg 2 (spec 002 Part 3). The worker's text
 * frames are decoded into the typed events it encoded (leg2-events.ts); audio passes untouched.
 */
class RemoteWorkerLink implements WorkerLink {
  private closed = false;
  private lastHeardAtMs = Date.now();
  private readonly pinger: NodeJS.Timeout;
  private dictionaryPoller: NodeJS.Timeout | undefined;
  private lastDictionary: string;
  private readonly gone: Promise<void>;
  private resolveGone: (() => void) | undefined;
  private readonly bytesPerMs: number;
  /** Reads the worker's text frames back into typed events. */
  private readonly decoder = new Leg2EventDecoder();

  constructor(
    readonly workerId: string,
    private readonly ws: WebSocket,
    config: Leg2Config,
    private readonly options: WorkerLinkOptions,
  ) {
    this.gone = new Promise((r) => (this.resolveGone = r));
    this.bytesPerMs = (config.audio.sample_rate * 2) / 1000;
    this.lastDictionary = JSON.stringify(config.translator.dictionary);
    const h = options.handlers;
    const heard = (): void => void (this.lastHeardAtMs = Date.now());
    ws.on('message', (data, isBinary) => {
      heard();
      if (this.closed) return;
      if (isBinary) return h.onAudio(data as Buffer);
      for (const event of this.decoder.decode(data.toString())) {
        if (this.closed) return;
        h.onEvent(event);
      }
    });
    ws.on('pong', heard);
    ws.on('ping', heard);
    ws.on('close', (code, reason) => this.ended(code, reason.toString()));
    // A worker killed with its machine sends no FIN: silence for SILENCE_TIMEOUT_MS ends the link.
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeardAtMs > SILENCE_TIMEOUT_MS) {
        options.log.warn({ workerId }, 'worker silent (no frame, ping or pong); ending leg 2');
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, PING_INTERVAL_MS);
    if (options.dictionary) this.dictionaryPoller = setInterval(() => void this.pollDictionary(), DICTIONARY_POLL_MS);
  }

  get backlogMs(): number {
    return this.ws.bufferedAmount / this.bytesPerMs;
  }

  sendAudio(frame: Buffer): void {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, { binary: true });
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    clearInterval(this.dictionaryPoller);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(drainMessage(timeoutMs));
    const cut = setTimeout(() => this.ws.terminate(), timeoutMs + DRAIN_GRACE_MS);
    await this.gone;
    clearTimeout(cut);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000, 'Stream closed');
    this.resolveGone?.();
  }

  private ended(code: number, reason: string): void {
    this.stopTimers();
    const notify = !this.closed;
    this.closed = true;
    if (notify) this.options.handlers.onClose(code, reason);
    this.resolveGone?.();
  }

  private stopTimers(): void {
    clearInterval(this.pinger);
    clearInterval(this.dictionaryPoller);
  }

  private async pollDictionary(): Promise<void> {
    if (this.closed || !this.options.dictionary) return;
    let next: string;
    try {
      next = JSON.stringify(dictionaryObject(await this.options.dictionary()));
    } catch {
      return; // a dictionary source should not throw; the worker keeps the last one
    }
    if (next === this.lastDictionary || this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.lastDictionary = next;
    this.ws.send(dictionaryMessage(JSON.parse(next) as Record<string, string>));
  }
}

/**
 * Connects to one worker, sends the config and waits for its `ack`.
 * @throws {OpenFailure} `full` (close 4429), `unreachable` (no connection, no ack in time, secret
 *   refused), or `refused` with the worker's `error` event (e.g. 400 for a config it cannot run).
 */
function connect(worker: WorkerEntry, secret: string, config: Leg2Config, options: WorkerLinkOptions): Promise<RemoteWorkerLink> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(worker.url, { headers: { [WORKER_SECRET_HEADER]: secret }, handshakeTimeout: CONNECT_TIMEOUT_MS, perMessageDeflate: false });
    let error: { status: number; description: string } | undefined;
    const detach = (): void => {
      clearTimeout(timer);
      ws.off('unexpected-response', onUnexpected).off('error', onError).off('open', onOpen).off('message', onMessage).off('close', onClose);
    };
    const fail = (f: OpenFailure): void => {
      detach();
      ws.on('error', () => {}); // a late socket error of an abandoned attempt
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      reject(f);
    };
    const onUnexpected = (_req: unknown, res: { statusCode?: number }): void =>
      fail(new OpenFailure('unreachable', 500, `worker ${worker.id} refused the upgrade with HTTP ${res.statusCode ?? '?'} (check TOLK_WORKER_SECRET)`));
    const onError = (err: Error): void => fail(new OpenFailure('unreachable', 500, `worker ${worker.id} unreachable: ${err.message}`));
    const onOpen = (): void => ws.send(JSON.stringify(config));
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      if (isBinary) return;
      const text = data.toString();
      const ack = ackOf(text);
      if (ack?.requestId === config.request_id) {
        detach();
        ws.on('error', (err) => options.log.warn({ err, workerId: worker.id }, 'leg 2 socket error'));
        resolve(new RemoteWorkerLink(ack.workerId, ws, config, options));
        return;
      }
      error = errorOf(text) ?? error;
    };
    const onClose = (code: number): void => {
      if (code === 4429) return fail(new OpenFailure('full', 429, `worker ${worker.id} is at capacity`));
      if (code >= 4000 && code < 5000 && error) return fail(new OpenFailure('refused', error.status, error.description));
      fail(new OpenFailure('unreachable', 500, `worker ${worker.id} closed leg 2 (${code}) before acknowledging`));
    };
    const timer = setTimeout(() => fail(new OpenFailure('unreachable', 500, `worker ${worker.id} did not acknowledge within ${ACK_TIMEOUT_MS} ms`)), ACK_TIMEOUT_MS);
    ws.on('unexpected-response', onUnexpected).on('error', onError).on('open', onOpen).on('message', onMessage).on('close', onClose);
  });
}

/**
 * The {@link WorkerLinks} of role `gateway`: picks the least-loaded live worker of the registry
 * (load ÷ capacity, counting streams this gateway is opening) among those that run the config's
 * engines ({@link workerRunsProviders}), skipping draining and full ones,
 * and falls over to the next when one is full (4429) or unreachable.
 */
export class RemoteWorkerLinks implements WorkerLinks {
  private readonly opening = new Map<string, number>();

  /**
   * @param registry - the worker registry in Redis.
   * @param secret - `TOLK_WORKER_SECRET`, sent in the {@link WORKER_SECRET_HEADER} header.
   */
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly secret: string,
    private readonly onFailure: (reason: 'full' | 'unreachable' | 'no-worker') => void = () => {},
  ) {}

  async open(config: Leg2Config, options: WorkerLinkOptions): Promise<WorkerLink> {
    let workers: WorkerEntry[];
    try {
      workers = (await this.registry.live()).filter((w) => !w.draining);
    } catch (err) {
      options.log.error({ err }, 'worker registry unreachable');
      throw new WorkerRefusedError(500, 'Server failed to process the request: the worker registry is unreachable');
    }
    const providers = { stt: config.stt.provider, mt: config.translator.provider, tts: config.tts.provider };
    const running = workers.filter((w) => workerRunsProviders(w, providers));
    if (workers.length > 0 && running.length === 0) {
      const named = `stt "${providers.stt}", translator "${providers.mt}", tts "${providers.tts}"`;
      throw new WorkerRefusedError(400, `Unsupported provider: no translation worker runs ${named}`);
    }
    workers = running;
    const loadOf = (w: WorkerEntry): number => (w.load + (this.opening.get(w.id) ?? 0)) / Math.max(1, w.capacity);
    const candidates = workers.map((w) => ({ w, tie: Math.random() })).sort((a, b) => loadOf(a.w) - loadOf(b.w) || a.tie - b.tie).map((c) => c.w);
    let full = 0;
    for (const worker of candidates) {
      if (worker.load + (this.opening.get(worker.id) ?? 0) >= worker.capacity) {
        full++;
        continue;
      }
      this.opening.set(worker.id, (this.opening.get(worker.id) ?? 0) + 1);
      try {
        return await connect(worker, this.secret, config, options);
      } catch (err) {
        if (!(err instanceof OpenFailure)) throw err;
        if (err.kind === 'refused') throw new WorkerRefusedError(err.status, err.description);
        options.log.warn({ workerId: worker.id, reason: err.description }, 'worker did not take the stream; trying the next');
        this.onFailure(err.kind);
        if (err.kind === 'full') full++;
      } finally {
        const n = (this.opening.get(worker.id) ?? 1) - 1;
        if (n > 0) this.opening.set(worker.id, n);
        else this.opening.delete(worker.id);
      }
    }
    if (candidates.length > 0 && full === candidates.length) {
      throw new WorkerRefusedError(429, 'Max concurrent connections exceeded: every translation worker is at capacity');
    }
    this.onFailure('no-worker');
    throw new WorkerRefusedError(500, 'Server failed to process the request: no translation worker is available');
  }

  async snapshot(): Promise<WorkerLoad[]> {
    return (await this.registry.live()).map((w) => ({ id: w.id, load: w.load, capacity: w.capacity }));
  }

  async close(): Promise<void> {}
}
