import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UtteranceLatency } from './pipeline/latency.js';
import type { SttProvider } from './providers/stt/types.js';

/** Buckets of the stage latency histograms, in ms (end of speech → stage). */
const LATENCY_BUCKETS_MS = [50, 100, 200, 300, 400, 500, 650, 800, 1000, 1500, 2000, 3000, 5000, 10_000];

/**
 * Prometheus metrics of one Tolk process (DESIGN §3, `/metrics`): live streams per surface,
 * streams started, per-stage utterance latency histograms, the recognizer's real-time factor and
 * the process's load against its stream capacity, plus Node's default process metrics.
 */
export class TolkMetrics {
  readonly registry = new Registry();
  private readonly streamsStarted: Counter<'surface'>;
  private readonly latency: Histogram<'stage'>;
  private readonly utterances: Counter;
  private lastStt = { audioMs: 0, decodeMs: 0 };

  /**
   * @param sources.liveStreams - live streams per surface (`vt`, `single`, `room`) right now.
   * @param sources.maxStreams - the process's stream capacity (`TOLK_MAX_STREAMS`).
   * @param sources.stt - the recognizer, for its real-time factor.
   */
  constructor(sources: { liveStreams: () => Record<string, number>; maxStreams: number; stt: SttProvider }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tolk_' });
    new Gauge({
      name: 'tolk_streams_active', help: 'Live realtime streams, by surface', labelNames: ['surface'], registers,
      collect() {
        for (const [surface, n] of Object.entries(sources.liveStreams())) this.set({ surface }, n);
      },
    });
    new Gauge({
      name: 'tolk_worker_load_ratio', help: 'Live /vt streams divided by the stream capacity of this process', registers,
      collect() {
        this.set((sources.liveStreams().vt ?? 0) / Math.max(1, sources.maxStreams));
      },
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
    this.streamsStarted = new Counter({ name: 'tolk_streams_started_total', help: 'Realtime streams started, by surface', labelNames: ['surface'], registers });
    this.utterances = new Counter({ name: 'tolk_utterances_total', help: 'Utterances finished (final transcript delivered)', registers });
    this.latency = new Histogram({
      name: 'tolk_utterance_latency_ms', help: 'End of speech → stage, per utterance, in ms',
      labelNames: ['stage'], buckets: LATENCY_BUCKETS_MS, registers,
    });
  }

  /** Counts a stream started on `surface`. */
  streamStarted(surface: 'vt' | 'single' | 'room'): void {
    this.streamsStarted.inc({ surface });
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
