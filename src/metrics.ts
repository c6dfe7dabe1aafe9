import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UtteranceLatency } from './pipeline/latency.js';
import { preemptionStats, type PreemptionStats } from './pipeline/preemptive-synthesis.js';
import type { EngineRequestRecord } from './providers/engine-module.js';
import type { SttProvider } from './providers/stt/types.js';
import type { VadName } from './providers/vad/types.js';
import type { CapacityReport } from './realtime/realtime-budget.js';
import type { WorkerLoad } from './realtime/worker-link.js';

/** Buckets of the stage latency histograms, in ms (end of speech → stage). */
const LATENCY_BUCKETS_MS = [50, 100, 200, 300, 400, 500, 650, 800, 1000, 1500, 2000, 3000, 5000, 10_000];

/** Buckets of the engine request histogram, in ms (one request to an engine's server). */
const ENGINE_REQUEST_BUCKETS_MS = [25, 50, 100, 200, 400, 800, 1500, 3000, 6000, 12_000, 30_000];

/** How long a scrape waits for the worker registry before it leaves the worker gauges out, in ms. */
const REGISTRY_SCRAPE_TIMEOUT_MS = 500;

/** Why a gateway could not use a worker for a stream (`tolk_leg2_failures_total{reason}`). */
export type Leg2FailureReason = 'full' | 'unreachable' | 'no-worker' | 'died';

/**
 * Prometheus metrics of one Tolk process (docs/architecture.md "The pipeline", `/metrics`): live streams per surface,
 * streams started, per-stage utterance latency histograms, the recognizer's real-time factor and
 * the process's load against its stream capacity, the workers it sees (registry size, load and
 * capacity per worker) and leg-2 failures, plus Node's default process metrics.
 */
export class TolkMetrics {
  readonly registry = new Registry();
  private readonly streamsStarted: Counter<'surface'>;
  private readonly latency: Histogram<'stage'>;
  private readonly utterances: Counter;
  private readonly vadStreams: Counter<'vad'>;
  private readonly leg2Failures: Counter<'reason'>;
  private readonly engineRequests: Counter<'engine' | 'outcome'>;
  private readonly engineDuration: Histogram<'engine'>;
  private lastStt = { audioMs: 0, decodeMs: 0 };
  private readonly capacitySource: (() => CapacityReport) | undefined;

  /**
   * @param sources.liveStreams - live streams per surface (`vt`, `single`, `room`) right now.
   * @param sources.maxStreams - the process's stream capacity (`TOLK_MAX_STREAMS`).
   * @param sources.stt - the recognizer, for its real-time factor.
   * @param sources.load - streams this process runs, for `tolk_worker_load_ratio` (default: live `vt` streams).
   * @param sources.workers - the workers this process sees (role `all`: itself; others: the registry).
   * @param sources.capacity - the real-time budget of a process that runs pipelines (role `all`,
   *   `worker`; docs/deploy.md "Capacity"): the `tolk_capacity_*` metrics.
   */
  constructor(sources: {
    liveStreams: () => Record<string, number>;
    maxStreams: number;
    stt: SttProvider;
    load?: () => number;
    workers?: () => Promise<WorkerLoad[]>;
    capacity?: (() => CapacityReport) | undefined;
  }) {
    const registers = [this.registry];
    this.capacitySource = sources.capacity;
    collectDefaultMetrics({ register: this.registry, prefix: 'tolk_' });
    if (sources.capacity) capacityMetrics(sources.capacity, registers);
    new Gauge({
      name: 'tolk_streams_active', help: 'Live realtime streams, by surface', labelNames: ['surface'], registers,
      collect() {
        for (const [surface, n] of Object.entries(sources.liveStreams())) this.set({ surface }, n);
      },
    });
    new Gauge({
      name: 'tolk_worker_load_ratio', help: 'Live /vt streams divided by the stream capacity of this process (its real-time budget\'s when it runs pipelines)', registers,
      collect() {
        const capacity = sources.capacity ? sources.capacity().capacity : sources.maxStreams;
        this.set((sources.load ? sources.load() : (sources.liveStreams().vt ?? 0)) / Math.max(1, capacity));
      },
    });
    const workers = async (): Promise<WorkerLoad[] | undefined> => {
      if (!sources.workers) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), REGISTRY_SCRAPE_TIMEOUT_MS)));
      try {
        return await Promise.race([sources.workers(), timeout]);
      } catch {
        return undefined; // registry unreachable: the gauges are left out of this scrape
      } finally {
        clearTimeout(timer);
      }
    };
    // The three worker gauges are collected concurrently: one registry read serves a scrape.
    let scrape: { atMs: number; list: Promise<WorkerLoad[] | undefined> } | undefined;
    const snapshot = (): Promise<WorkerLoad[] | undefined> => {
      if (!scrape || Date.now() - scrape.atMs > 250) scrape = { atMs: Date.now(), list: workers() };
      return scrape.list;
    };
    new Gauge({
      name: 'tolk_worker_registry_size', help: 'Live workers this process can send streams to (role all: itself)', registers,
      async collect() {
        const list = await snapshot();
        this.reset();
        if (list) this.set(list.length);
      },
    });
    new Gauge({
      name: 'tolk_worker_streams', help: 'Live streams of each worker, as its registry entry reports', labelNames: ['worker'], registers,
      async collect() {
        const list = await snapshot();
        this.reset();
        for (const w of list ?? []) this.set({ worker: w.id }, w.load);
      },
    });
    new Gauge({
      name: 'tolk_worker_capacity_streams', help: 'Streams each worker accepts (its TOLK_MAX_STREAMS)', labelNames: ['worker'], registers,
      async collect() {
        const list = await snapshot();
        this.reset();
        for (const w of list ?? []) this.set({ worker: w.id }, w.capacity);
      },
    });
    this.leg2Failures = new Counter({
      name: 'tolk_leg2_failures_total', help: 'Workers that did not take or lost a stream, by reason (full, unreachable, no-worker, died)',
      labelNames: ['reason'], registers,
    });
    const realTimeFactor = (): number | undefined => {
      const now = sources.stt.stats?.();
      if (!now) return undefined;
      const audio = now.audioMs - this.lastStt.audioMs;
      const decode = now.decodeMs - this.lastStt.decodeMs;
      this.lastStt = now;
      return audio > 0 ? decode / audio : undefined;
    };
    new Gauge({
      name: 'tolk_stt_real_time_factor', help: 'Recognizer time per second of audio since the previous scrape (lower is faster)', registers,
      collect() {
        const rtf = realTimeFactor();
        if (rtf !== undefined) this.set(rtf);
      },
    });
    new Counter({
      name: 'tolk_stt_audio_seconds_total', help: 'Audio decoded by the recognizer', registers,
      collect() {
        const s = sources.stt.stats?.();
        if (!s) return;
        this.reset();
        this.inc(s.audioMs / 1000);
      },
    });
    preemptionMetrics(registers);
    this.engineRequests = new Counter({
      name: 'tolk_engine_requests_total', help: 'Requests to each engine instance, by outcome (ok, error: gave up, retry: tried again)',
      labelNames: ['engine', 'outcome'], registers,
    });
    this.engineDuration = new Histogram({
      name: 'tolk_engine_request_duration_ms', help: 'Wall time of each request attempt to an engine, in ms',
      labelNames: ['engine'], buckets: ENGINE_REQUEST_BUCKETS_MS, registers,
    });
    this.streamsStarted = new Counter({ name: 'tolk_streams_started_total', help: 'Realtime streams started, by surface', labelNames: ['surface'], registers });
    this.vadStreams = new Counter({ name: 'tolk_vad_streams_total', help: 'Pipelines started in this process, by the VAD that endpoints their utterances (TOLK_VAD)', labelNames: ['vad'], registers });
    this.utterances = new Counter({ name: 'tolk_utterances_total', help: 'Utterances finished (final transcript delivered)', registers });
    this.latency = new Histogram({
      name: 'tolk_utterance_latency_ms', help: 'End of speech → stage, per utterance, in ms',
      labelNames: ['stage'], buckets: LATENCY_BUCKETS_MS, registers,
    });
  }

  /** Counts a stream started on `surface`. */
  streamStarted(surface: 'vt' | 'single' | 'room' | 'leg2' | 'livekit' | 'calls' | 'phone'): void {
    this.streamsStarted.inc({ surface });
  }

  /** Counts a pipeline started in this process endpointed by `vad` (docs/operations.md "Metrics"). */
  vadStreamStarted(vad: VadName): void {
    this.vadStreams.inc({ vad });
  }

  /** Counts a worker that did not take a stream, or lost one (`died`). */
  leg2Failure(reason: Leg2FailureReason): void {
    this.leg2Failures.inc({ reason });
  }

  /** Counts one request attempt of an engine (an engine's `EngineContext.onRequest`, docs/engines.md). */
  engineRequest(record: EngineRequestRecord): void {
    this.engineRequests.inc({ engine: record.engine, outcome: record.outcome });
    this.engineDuration.observe({ engine: record.engine }, record.durationMs);
  }

  /** The process's real-time budget now (docs/deploy.md "Capacity"); undefined for a gateway, which runs no pipelines. */
  capacity(): CapacityReport | undefined {
    return this.capacitySource?.();
  }

  /**
   * What each engine instance reported since the process started (`tolk_engine_*`), by engine id:
   * attempts by outcome and their wall time. Engines that report nothing are absent.
   */
  async engineHealth(): Promise<Map<string, EngineHealth>> {
    const out = new Map<string, EngineHealth>();
    const of = (engine: string): EngineHealth => {
      const known = out.get(engine) ?? { requests: 0, failures: 0, retries: 0, meanMs: null, p95Ms: null };
      out.set(engine, known);
      return known;
    };
    for (const v of (await this.engineRequests.get()).values) {
      const h = of(String(v.labels.engine));
      if (v.labels.outcome === 'error') h.failures += v.value;
      else if (v.labels.outcome === 'retry') h.retries += v.value;
      h.requests += v.value;
    }
    const durations = (await this.engineDuration.get()).values;
    for (const engine of out.keys()) {
      const mine = durations.filter((v) => v.labels.engine === engine);
      const count = mine.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
      const sum = mine.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
      const h = of(engine);
      h.meanMs = count > 0 ? Math.round(sum / count) : null;
      const p95 = mine.find((v) => v.metricName?.endsWith('_bucket') && v.value >= 0.95 * count && count > 0);
      const le = (p95?.labels as { le?: string | number } | undefined)?.le;
      h.p95Ms = le !== undefined && le !== '+Inf' ? Number(le) : null;
    }
    return out;
  }

  /** Records an utterance's latency marks. */
  observeUtterance(latency: UtteranceLatency): void {
    this.utterances.inc();
    this.latency.observe({ stage: 'endpoint' }, latency.endpointMs);
    this.latency.observe({ stage: 'final_transcript' }, latency.finalTranscriptMs);
    this.latency.observe({ stage: 'translation' }, latency.translationMs);
    if (latency.firstAudioByteMs !== null) this.latency.observe({ stage: 'first_audio' }, latency.firstAudioByteMs);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** One engine instance's requests since start (docs/platform.md "Operations"). */
export interface EngineHealth {
  /** Attempts, whatever their outcome. */
  requests: number;
  /** Attempts given up (`error`). */
  failures: number;
  /** Attempts tried again (`retry`). */
  retries: number;
  /** Mean wall time of an attempt, in ms; null before the first. */
  meanMs: number | null;
  /** The histogram bucket (upper bound, in ms) holding the 95th percentile; null when unknown or above the last bucket. */
  p95Ms: number | null;
}

/**
 * The `tolk_capacity_*` metrics of a process's real-time budget (docs/deploy.md "Capacity"):
 * budget, measured cost per stream, streams that fit, streams running, refusals and sheds.
 */
function capacityMetrics(report: () => CapacityReport, registers: Registry[]): void {
  const gauge = (name: string, help: string, value: (r: CapacityReport) => number | undefined): void => {
    new Gauge({
      name, help, registers,
      collect() {
        const v = value(report());
        this.reset();
        if (v !== undefined) this.set(v);
      },
    });
  };
  gauge('tolk_capacity_budget_cpu_seconds', 'CPU seconds per second streams may use: cores × target utilisation', (r) => r.budgetCpu);
  gauge('tolk_capacity_cost_cpu_seconds_per_audio_second', 'Measured CPU seconds one second of a stream\'s audio costs (start-up calibration, then moving average)', (r) => r.costPerAudioS);
  gauge('tolk_capacity_streams', 'Streams that fit the real-time budget now (at most TOLK_MAX_STREAMS)', (r) => r.capacity);
  gauge('tolk_capacity_load_streams', 'Streams this process runs now', (r) => r.load);
  const counter = (name: string, help: string, value: (r: CapacityReport) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(value(report()));
      },
    });
  };
  counter('tolk_capacity_refused_total', 'Streams refused (429) because the real-time budget was spent', (r) => r.refused);
  counter('tolk_capacity_shed_total', 'Streams ended (429) because they fell more than TOLK_MAX_BACKLOG_MS behind real time', (r) => r.shed);
}

/**
 * Live streams by surface for `tolk_streams_active` (docs/operations.md): `vt`, `calls`, `phone` and `livekit`
 * always present (a gauge keeps a label's last value until it is set again), a stream without a
 * `surface` counted as `vt`.
 */
export function streamsBySurface(streams: Iterable<{ readonly surface?: string }>): Record<string, number> {
  const out: Record<string, number> = { vt: 0, calls: 0, phone: 0, livekit: 0 };
  for (const s of streams) {
    const surface = s.surface ?? 'vt';
    out[surface] = (out[surface] ?? 0) + 1;
  }
  return out;
}

/**
 * The `tolk_preemptive_*` counters (docs/stream-protocol.md "Preemptive synthesis"): speculations
 * started, used and discarded, and the engine time of the discarded ones.
 */
function preemptionMetrics(registers: Registry[]): void {
  const counter = (name: string, help: string, value: (s: PreemptionStats) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        this.reset();
        this.inc(value(preemptionStats()));
      },
    });
  };
  counter('tolk_preemptive_started_total', 'Speculative translations and syntheses started at a pause', (s) => s.started);
  counter('tolk_preemptive_used_total', 'Speculations sent because the final said the same text', (s) => s.used);
  counter('tolk_preemptive_discarded_total', 'Speculations discarded (speech resumed or the final differed); never sent', (s) => s.discarded);
  counter('tolk_preemptive_discarded_engine_seconds_total', 'MT and TTS time spent on discarded speculations', (s) => s.discardedEngineMs / 1000);
}
