/**
 * A WebSocket that reconnects by itself with exponential backoff and reports its state, so the page
 * can show "Reconnecting in 4 s…". Close codes listed as fatal (4404 unknown conversation, 4400
 * unsupported language) end it for good.
 */

/** Where the connection stands; `retryAtMs` is a `Date.now()` timestamp. */
export type SocketState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'reconnecting'; attempt: number; retryAtMs: number; code: number }
  | { kind: 'closed'; code: number; reason: string };

/** What a `ReconnectingSocket` does on each event. */
export interface ReconnectingSocketOptions {
  /** The URL path, e.g. `/api/v1/ws/single`; ws: or wss: and the host follow the page. */
  path: () => string;
  /** Called on every (re)connection, e.g. to send the config again. */
  onOpen?: (socket: ReconnectingSocket) => void;
  onText?: (text: string) => void;
  onBinary?: (data: ArrayBuffer) => void;
  onState?: (state: SocketState) => void;
  /** Close codes after which reconnecting is pointless. */
  fatalCodes?: readonly number[];
  /** First retry delay in ms; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Builds the ws:/wss: URL of a path on the page's own host. */
export function sameOriginSocketUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

/**
 * Backoff delay before retry number `attempt` (1-based): base·2^(attempt-1), capped, with ±20 %
 * jitter so that many clients of a restarted server do not all return in the same instant.
 */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
}

/** A self-healing WebSocket; call `connect()` once and `close()` when done. */
export class ReconnectingSocket {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private current: SocketState = { kind: 'connecting', attempt: 0 };
  private readonly onOnline = () => this.retryNow();

  constructor(private readonly options: ReconnectingSocketOptions) {}

  /** The latest state. */
  get state(): SocketState {
    return this.current;
  }

  /** True when messages can be sent right now. */
  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Opens the connection (and keeps it open until `close()` or a fatal close code). */
  connect(): void {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.open();
  }

  /** Sends text or binary data; returns false (and drops it) when not connected. */
  send(data: string | ArrayBuffer): boolean {
    if (!this.isOpen || !this.socket) return false;
    this.socket.send(data);
    return true;
  }

  /** Skips the remaining backoff and reconnects at once. */
  retryNow(): void {
    if (this.stopped || this.current.kind !== 'reconnecting') return;
    clearTimeout(this.timer);
    this.open();
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close(1000, 'bye');
    }
  }

  private setState(state: SocketState): void {
    this.current = state;
    this.options.onState?.(state);
  }

  private open(): void {
    this.setState({ kind: 'connecting', attempt: this.attempt });
    let socket: WebSocket;
    try {
      socket = new WebSocket(sameOriginSocketUrl(this.options.path()));
    } catch {
      this.scheduleRetry(1006);
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setState({ kind: 'open' });
      this.options.onOpen?.(this);
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data === 'string') this.options.onText?.(event.data);
      else this.options.onBinary?.(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      if (this.options.fatalCodes?.includes(event.code)) {
        this.stopped = true;
        window.removeEventListener('online', this.onOnline);
        this.setState({ kind: 'closed', code: event.code, reason: event.reason });
        return;
      }
      this.scheduleRetry(event.code);
    };
  }

  private scheduleRetry(code: number): void {
    this.attempt += 1;
    const delayMs = backoffDelayMs(this.attempt, this.options.baseDelayMs ?? 500, this.options.maxDelayMs ?? 15_000);
    this.setState({ kind: 'reconnecting', attempt: this.attempt, retryAtMs: Date.now() + delayMs, code });
    this.timer = setTimeout(() => this.open(), delayMs);
  }
}
