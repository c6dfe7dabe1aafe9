import type { Engines } from '../providers/registry.js';
import type { Leg2Config } from './leg2-protocol.js';
import type { RealtimeBudget } from './realtime-budget.js';
import { WorkerRefusedError, type WorkerLink, type WorkerLinkHandlers, type WorkerLinkOptions, type WorkerLinks, type WorkerLoad } from './worker-link.js';
import { leg2ConfigProblem, WorkerStream } from './worker-stream.js';
import type { VadName } from '../providers/vad/types.js';
import type { StreamSettings } from './stream-settings.js';

/**
 * The settings of the pipelines of role `all` ({@link StreamSettings} from `streamSettings`, the
 * same as a worker's), and what each stream's start reports.
 */
export type InProcessStreamSettings = Pick<StreamSettings, 'endpointSilenceMs' | 'maxUtteranceMs' | 'vad' | 'maxBacklogMs'> & {
  /** A pipeline started, endpointed by `vad` (the process's `/metrics`). */
  onStarted?: ((vad: VadName) => void) | undefined;
};

/** Id of the worker of role `all`: the process itself. */
export const IN_PROCESS_WORKER_ID = 'in-process';

/**
 * Leg 2 without a socket (role `all`, docs/architecture.md "Processes"): the gateway's connection drives a
 * {@link WorkerStream} in the same process through the same {@link WorkerLink} interface a remote
 * worker is reached through. Its events reach the gateway as the pipeline's own objects.
 */
class InProcessWorkerLink implements WorkerLink {
  readonly workerId = IN_PROCESS_WORKER_ID;
  private closed = false;
  private ended: (() => void) | undefined;
  private readonly endedPromise = new Promise<void>((r) => (this.ended = r));
  readonly stream: WorkerStream;

  /** @param onGone - called once when the link ends, whichever side ends it. */
  constructor(
    engines: Engines,
    config: Leg2Config,
    settings: InProcessStreamSettings & { onShed?: (() => void) | undefined },
    options: WorkerLinkOptions,
    private readonly onGone: () => void,
  ) {
    const h: WorkerLinkHandlers = options.handlers;
    this.stream = new WorkerStream(engines, config, { ...settings, dictionary: options.dictionary, onFailure: (err) => options.log.error({ err }, 'pipeline failed') }, {
      event: (event) => {
        if (!this.closed) h.onEvent(event);
      },
      audio: (pcm) => {
        if (!this.closed) h.onAudio(pcm);
      },
      end: (code, reason) => {
        const notify = !this.closed;
        this.closed = true;
        this.onGone();
        if (notify) h.onClose(code, reason);
        this.ended?.();
      },
    });
  }

  get backlogMs(): number {
    return this.stream.backlogMs;
  }

  sendAudio(frame: Buffer, arrivedAtMs?: number): void {
    this.stream.pushAudio(frame, arrivedAtMs);
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    await this.stream.drain(timeoutMs, 1000, 'Stream finished');
    await this.endedPromise;
  }

  close(): void {
    this.closed = true;
    this.onGone();
    this.ended?.();
    void this.stream.close();
  }
}

/**
 * The {@link WorkerLinks} of role `all`: every stream runs in this process. Refuses with 429 when
 * the process's real-time budget is spent or past `TOLK_MAX_STREAMS` pipelines of every transport
 * together (docs/deploy.md "Capacity"; the gateway's `StreamSlots` ask the same budget first);
 * answers 400 when the config names a provider this process does not run; 500 when the recognizer
 * cannot start. A stream that falls behind real time by more than
 * `maxBacklogMs` is shed (429).
 */
export class InProcessWorkerLinks implements WorkerLinks {
  private readonly live = new Set<InProcessWorkerLink>();

  /**
   * @param engines - the process's engines (read on each open: tests may replace them).
   * @param settings - endpointing, VAD and the backlog a stream is shed at, in ms (`streamSettings`).
   * @param budget - the process's real-time budget (its `capacity` is reported in {@link snapshot}).
   */
  constructor(
    private readonly engines: () => Engines,
    private readonly settings: InProcessStreamSettings,
    readonly budget: RealtimeBudget,
  ) {}

  /** Streams running in this process. */
  get load(): number {
    return this.live.size + this.starting;
  }

  private starting = 0;

  async open(config: Leg2Config, options: WorkerLinkOptions): Promise<WorkerLink> {
    // The gateway's slots normally refuse first; this bounds the pipelines whatever opens them.
    // An organization's engine choice may name an engine this process does not run (docs/engines.md).
    const problem = leg2ConfigProblem(this.engines(), config);
    if (problem) throw new WorkerRefusedError(400, problem);
    const admitted = this.budget.admit(this.load);
    if (!admitted.ok) throw new WorkerRefusedError(429, admitted.description);
    const shortage = this.budget.recognizerShortage(this.starting);
    if (shortage) throw new WorkerRefusedError(429, shortage);
    const settings = { ...this.settings, onShed: () => this.budget.streamShed() };
    const link: InProcessWorkerLink = new InProcessWorkerLink(this.engines(), config, settings, options, () => this.live.delete(link));
    this.starting++;
    try {
      await link.stream.start();
    } catch (err) {
      options.log.error({ err }, 'pipeline start failed');
      throw new WorkerRefusedError(500, 'Server failed to start the speech pipeline');
    } finally {
      this.starting--;
    }
    this.live.add(link);
    return link;
  }

  async snapshot(): Promise<WorkerLoad[]> {
    return [{ id: IN_PROCESS_WORKER_ID, load: this.live.size, capacity: this.budget.capacity }];
  }

  async close(): Promise<void> {
    for (const link of this.live) link.close();
    this.live.clear();
  }
}
