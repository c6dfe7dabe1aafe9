/**
 * Room latency benchmark: end of speech → first translated audio frame a client receives through
 * the LiveKit SFU, against the same figure over `/vt`, measured in the same run on the same Tolk
 * server (one server with LiveKit configured serves both).
 *
 * Both transports get the same five streams as bench/stream-latency.ts's baseline (each of the
 * five LibriVox recordings followed by the next two, 1 s of silence between them, spoken at
 * real-time pace), one stream at a time, alternating `/vt` and room so drift of a noisy machine
 * hits both alike.
 *
 * - End of speech: the end of the last voiced frame of each utterance as Tolk's energy VAD finds it
 *   in the published recording (the VAD run offline over the samples, with the server's endpoint
 *   settings — what the server's `start + duration` reports over `/vt`), on the speaker's clock:
 *   the wall time the first sample was handed to the transport plus that offset. `/vt` paces
 *   frames on the wall clock; the room client hands frames to rtc-node's AudioSource, whose native
 *   queue plays them out in real time from the first frame.
 * - First translated audio: the first 10 ms frame with RMS above {@link SPEECH_RMS} received after
 *   the utterance's translation — over `/vt` in the binary messages (the first binary message's
 *   time, as stream-latency reports it, is kept in the JSON too); in a room on the interpreter's
 *   subscribed `translation` track (rtc-node AudioStream, after the client's jitter buffer).
 * - Utterances: each final transcript is matched to the last speech end at least the endpoint
 *   silence before it; a speech end matched twice, or an utterance without translated audio before
 *   the next translation, is left out.
 *
 * Prints one `#` line per utterance, then a one-line summary with p50/p95 of both and the ratios
 * rooms ÷ `/vt`; writes bench/results/room-latency.json. Needs livekit-server (`make livekit`, or
 * LIVEKIT_SERVER_BIN). Run: `node --import tsx bench/room-latency.ts`.
 */
import './quiet-rtc-node.js';
import fs from 'node:fs';
import os from 'node:os';
import { dispose } from '@livekit/rtc-node';
import { concatSamples } from '../src/audio/pcm.js';
import { StreamingResampler } from '../src/audio/resampler.js';
import { fetchSessionKey, streamAudio, vtUrl } from '../src/client/vt-client.js';
import { loadConfig } from '../src/config.js';
import { closeEngines, createOfflineEngines } from '../src/providers/index.js';
import { EnergyVad } from '../src/providers/vad/energy.js';
import { startServer } from '../src/server.js';
import { librivoxRecordings, loadWav } from '../test/helpers.js';
import { SPEECH_RMS, TestRoomClient } from '../test/livekit-room-client.js';
import { liveKitSkipReason, startLiveKitServer } from '../test/livekit-server.js';

process.env.UV_THREADPOOL_SIZE ??= '16';

const RATE_HZ = 16_000;
const GAP_MS = 1000;
const TRAILING_MS = 1000;
const LANGS = { source: 'en-US', target: 'es-ES' } as const;
const VOICE = 'female';
/** The test client's AudioSource queue (rtc-node's default), in ms. */
const CLIENT_QUEUE_MS = 1000;

/** What a client received from one stream, in wall ms; `t0` is when its first sample was handed over. */
interface Take { t0: number; finalsAt: number[]; translationsAt: number[]; speechAt: number[]; firstBytesAt?: number[]; playoutLagMs?: number }
/** A transport's utterances, measured on the client, and the server's own marks of them. */
interface Figures { latencies: Latency[]; serverFirstAudioByteMs: number[] }
/** One utterance's latencies from its speech end, in ms. */
interface Latency { endMs: number; final: number; translation: number; audio: number; firstByte?: number }

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** Speech ends (audio ms from the first sample) of the utterances Tolk's VAD finds in `samples`. */
function speechEnds(samples: Int16Array, sttRateHz: number, settings: { endpointSilenceMs: number; maxUtteranceMs: number }): number[] {
  const vad = new EnergyVad({ sampleRateHz: sttRateHz, ...settings });
  const audio = new StreamingResampler(RATE_HZ, sttRateHz).process(samples);
  const events = [...vad.push(audio), ...vad.push(new Int16Array((sttRateHz * TRAILING_MS) / 1000)), ...vad.flush()];
  return events.flatMap((e) => (e.type === 'speech-end' ? [e.atMs] : []));
}

/** First received translated audio of each matched utterance (see the header for the matching). */
function latencies(take: Take, ends: number[], endpointSilenceMs: number): Latency[] {
  const used = new Set<number>();
  const out: Latency[] = [];
  for (const finalAt of take.finalsAt) {
    // Frames are handed over up to one frame early: allow 50 ms.
    const endMs = ends.filter((e) => take.t0 + e + endpointSilenceMs - 50 <= finalAt).at(-1);
    const translationAt = take.translationsAt.find((t) => t >= finalAt);
    if (endMs === undefined || used.has(endMs) || translationAt === undefined) continue;
    const nextTranslationAt = take.translationsAt.find((t) => t > translationAt) ?? Infinity;
    const audioAt = take.speechAt.find((t) => t >= translationAt && t < nextTranslationAt);
    if (audioAt === undefined) continue;
    used.add(endMs);
    const speechEnd = take.t0 + endMs;
    const firstByte = take.firstBytesAt?.find((t) => t >= translationAt);
    out.push({
      endMs, final: finalAt - speechEnd, translation: translationAt - speechEnd, audio: audioAt - speechEnd,
      ...(firstByte !== undefined ? { firstByte: firstByte - speechEnd } : {}),
    });
  }
  return out;
}

/** Streams `samples` over `/vt` as stream-latency does; speech frames are found in the binary messages. */
async function runVt(serverUrl: string, apiKey: string, samples: Int16Array): Promise<Take> {
  const key = await fetchSessionKey(serverUrl, apiKey, 600);
  const result = await streamAudio({
    url: vtUrl(serverUrl, key),
    config: { source_language: LANGS.source, target_language: LANGS.target, voice: VOICE, transcript: { interim: true } },
    samples, sampleRateHz: RATE_HZ, trailingSilenceMs: TRAILING_MS,
  });
  // Each audio message's last sample, to date the 10 ms frames of the received speech.
  const ends: Array<{ endSample: number; atMs: number }> = [];
  let total = 0;
  for (const e of result.events) {
    if (e.kind !== 'audio') continue;
    total += e.bytes / 2;
    ends.push({ endSample: Math.floor(total), atMs: e.atMs });
  }
  const frame = RATE_HZ / 100; // /vt answers at the stream's rate
  const speechAt: number[] = [];
  for (let i = 0; i + frame <= result.audio.length; i += frame) {
    if (rms(result.audio.subarray(i, i + frame)) <= SPEECH_RMS) continue;
    const at = ends.find((m) => m.endSample >= i + frame)?.atMs;
    if (at !== undefined) speechAt.push(at);
  }
  const finals = result.events.filter((e) => e.kind === 'transcript' && e.final && e.text);
  return {
    t0: result.firstSendAtMs,
    finalsAt: finals.map((e) => e.atMs),
    translationsAt: result.events.filter((e) => e.kind === 'translate').map((e) => e.atMs),
    speechAt,
    firstBytesAt: result.events.filter((e) => e.kind === 'audio').map((e) => e.atMs),
  };
}

/** Polls `condition` every 50 ms. @throws {Error} naming `what` after `timeoutMs`. */
async function poll(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Opens a spec-001 session, joins its room and waits until the interpreter and the client hear each other. */
async function joinRoom(serverUrl: string, apiKey: string): Promise<TestRoomClient> {
  const res = await fetch(`${serverUrl}/api/beta1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ source_language: LANGS.source, target_language: LANGS.target, voice_type: VOICE }),
  });
  if (res.status !== 200) throw new Error(`POST /api/beta1/session answered ${res.status}: ${await res.text()}`);
  const { url, token } = (await res.json()) as { url: string; token: string };
  const client = new TestRoomClient();
  let heard = false;
  client.room.on('localTrackSubscribed', () => (heard = true));
  await client.connect(url, token);
  await client.speak([]); // publishes the microphone
  const subscribed = (): boolean => [...(client.room.remoteParticipants.get('tolk-interpreter')?.trackPublications.values() ?? [])]
    .some((p) => p.name === 'translation' && p.subscribed);
  await poll('the interpreter to subscribe to the microphone and the client to its translation track', () => heard && subscribed(), 15_000);
  return client;
}

/** Speaks `samples` into a fresh room and collects what the interpreter sent back. */
async function runRoom(serverUrl: string, apiKey: string, samples: Int16Array): Promise<Take> {
  const client = await joinRoom(serverUrl, apiKey);
  try {
    // speak() hands the first frame to the AudioSource at once; its queue plays out in real time from there.
    const t0 = Date.now();
    await client.speak([samples, TRAILING_MS]);
    // The last frame is taken once the 1 s queue has room for it: 0 when playout ran in real time from t0.
    const playoutLagMs = Date.now() - (t0 + (samples.length * 1000) / RATE_HZ + TRAILING_MS - CLIENT_QUEUE_MS);
    const finals = (): number[] => client.ofType('original_transcript').filter((m) => m.message.is_final === true).map((m) => m.receivedAtMs);
    const translations = (): number[] => client.ofType('translated_transcript').map((m) => m.receivedAtMs);
    // Until every final has its translation and nothing has arrived for 1.5 s (at most 30 s).
    const lastEvent = (): number => Math.max(t0, ...client.messages.map((m) => m.receivedAtMs), ...client.speechFrameTimesMs.slice(-1));
    await poll('the room to go quiet', () => translations().length >= finals().length && Date.now() - lastEvent() > 1500, 30_000)
      .catch((err: unknown) => console.log(`# room: ${(err as Error).message}`));
    return { t0, finalsAt: finals(), translationsAt: translations(), speechAt: [...client.speechFrameTimesMs], playoutLagMs };
  } finally {
    await client.close();
  }
}

const round = (v: number): number => Math.round(v);
const stats = (vs: number[]): { p50: number; p95: number } => ({ p50: round(percentile(vs, 50)), p95: round(percentile(vs, 95)) });
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));

/** The five streams of stream-latency's baseline: each recording followed by the next two, 1 s of silence after each. */
function streams(): Int16Array[] {
  const single = librivoxRecordings().map((r) => loadWav(r.path).samples);
  const gap = new Int16Array((RATE_HZ * GAP_MS) / 1000);
  return single.map((_, i) => concatSamples([0, 1, 2].flatMap((k) => [single[(i + k) % single.length] as Int16Array, gap])));
}

/** Prints one `#` line per speech end, both transports side by side. */
function printUtterances(i: number, ends: number[], vt: Latency[], room: Latency[]): void {
  const cell = (l: Latency | undefined): string => (l ? `final ${round(l.final)} / translation ${round(l.translation)} / audio ${round(l.audio)}` : '—');
  for (const endMs of ends) {
    const v = vt.find((l) => l.endMs === endMs);
    const r = room.find((l) => l.endMs === endMs);
    if (!v && !r) continue;
    console.log(`# stream ${i} speech end ${(endMs / 1000).toFixed(2)} s  room: ${cell(r)}  |  /vt: ${cell(v)} ms`);
  }
}

async function main(): Promise<void> {
  const skip = liveKitSkipReason();
  if (skip) throw new Error(skip);
  const lk = await startLiveKitServer();
  const engines = await createOfflineEngines({ idleDecoders: 4 });
  const config = loadConfig({}, {
    port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn',
    liveKit: { url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, configured: true },
  });
  const server = await startServer(config, { engines });
  const apiKey = server.firstOwnerKey ?? '';
  const vt: Figures = { latencies: [], serverFirstAudioByteMs: [] };
  const room: Figures = { latencies: [], serverFirstAudioByteMs: [] };
  // The server's own marks (speech end as its audio arrived → first audio byte out of the worker).
  let marks: number[] = [];
  server.ctx.onUtterance = (e) => void (e.latency.firstAudioByteMs !== null && marks.push(e.latency.firstAudioByteMs));
  const run = async (figures: Figures, take: () => Promise<Take>, ends: number[]): Promise<Take> => {
    marks = figures.serverFirstAudioByteMs;
    const t = await take();
    figures.latencies.push(...latencies(t, ends, config.endpointSilenceMs));
    return t;
  };
  try {
    const sttRate = engines.stt.capabilities.sampleRateHz;
    for (const [i, samples] of streams().entries()) {
      const ends = speechEnds(samples, sttRate, config);
      const [nv, nr] = [vt.latencies.length, room.latencies.length];
      await run(vt, () => runVt(server.url, apiKey, samples), ends);
      const r = await run(room, () => runRoom(server.url, apiKey, samples), ends);
      console.log(`# stream ${i}: ${ends.length} speech ends; room client playout lag ${round(r.playoutLagMs ?? NaN)} ms`);
      printUtterances(i, ends, vt.latencies.slice(nv), room.latencies.slice(nr));
    }
  } finally {
    await server.close();
    await closeEngines(engines);
    await dispose();
    await lk.close();
  }
  report(vt, room);
}

/** A transport's figures as written to the JSON. */
function summary(f: Figures): Record<string, unknown> {
  const l = f.latencies;
  const firstBytes = l.flatMap((x) => (x.firstByte !== undefined ? [x.firstByte] : []));
  return {
    utterances: l.length,
    speechEndToFinalMs: stats(l.map((x) => x.final)),
    speechEndToTranslationMs: stats(l.map((x) => x.translation)),
    speechEndToFirstAudioFrameMs: stats(l.map((x) => x.audio)),
    ...(firstBytes.length > 0 ? { speechEndToFirstAudioByteMs: stats(firstBytes) } : {}),
    serverSpeechEndToFirstAudioByteMs: stats(f.serverFirstAudioByteMs),
  };
}

/** Writes bench/results/room-latency.json and prints the summary line. */
function report(vt: Figures, room: Figures): void {
  const roomAudio = stats(room.latencies.map((l) => l.audio));
  const vtAudio = stats(vt.latencies.map((l) => l.audio));
  const ratios = { p50: ratio(roomAudio.p50, vtAudio.p50), p95: ratio(roomAudio.p95, vtAudio.p95) };
  const result = { date: new Date().toISOString(), machine: { cpus: os.cpus().length }, rooms: summary(room), vt: summary(vt), ratioRoomsOverVt: ratios };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/room-latency.json', `${JSON.stringify(result, null, 2)}\n`);
  const server = (f: Figures): string => `${stats(f.serverFirstAudioByteMs).p50}/${stats(f.serverFirstAudioByteMs).p95}`;
  console.log(`# server marks, speech end as received → first audio byte out p50/p95: rooms ${server(room)} ms, /vt ${server(vt)} ms`);
  console.log(
    `room-latency: speech end → first translated audio frame: rooms p50 ${roomAudio.p50} / p95 ${roomAudio.p95} ms, /vt p50 ${vtAudio.p50} / p95 ${vtAudio.p95} ms; ` +
    `rooms ÷ /vt ×${ratios.p50} (p50), ×${ratios.p95} (p95); n ${room.latencies.length} rooms / ${vt.latencies.length} /vt utterances`,
  );
}

await main();
