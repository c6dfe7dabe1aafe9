import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../../db/data-dir.js';
import { wavHeader } from '../../audio/wav.js';
import type { CallLeg } from '../../domain/calls/model.js';

/** Rate recordings are written at, in Hz (the rate call audio is processed at). */
export const RECORDING_RATE_HZ = 16000;
/** Samples read per step when the channels are interleaved or mixed at the end. */
const STEP_SAMPLES = 16000;

/**
 * The folder recordings live in: `recordings/` in the data dir, or a private folder under the
 * system temp dir for an in-memory data dir (`memory://`, tests).
 */
export function recordingsDir(dataDir: string): string {
  return dataDir === 'memory://' ? path.join(os.tmpdir(), `tolk-recordings-${process.pid}`) : path.join(dataDir, 'recordings');
}

/**
 * Absolute path of a recording stored as `relative` (a file name made by Tolk).
 * @throws {Error} when `relative` would leave the recordings folder.
 */
export function recordingPath(dataDir: string, relative: string): string {
  const dir = recordingsDir(dataDir);
  const full = path.resolve(dir, relative);
  if (!full.startsWith(dir + path.sep)) throw new Error('recording path outside the recordings folder');
  return full;
}

/** A finished recording file. */
export interface FinishedRecording {
  /** File name inside the recordings folder. */
  relativePath: string;
  channels: number;
  sampleRateHz: number;
  durationMs: number;
  sizeBytes: number;
}

/** Path of `leg`'s raw file (s16le mono at {@link RECORDING_RATE_HZ}) of a session being recorded. */
export function rawLegPath(dir: string, sessionId: string, leg: CallLeg): string {
  return path.join(dir, `${sessionId}.${leg}.raw`);
}

/**
 * Records a call as it happens (docs/calls.md "Recording"): each leg's speech (s16le mono at
 * {@link RECORDING_RATE_HZ}) goes to its own raw file, placed on the call's timeline by arrival time
 * (gaps are silence), so memory stays flat however long the call. The raw files are opened for
 * appending: a call resumed after a restart continues them (the time the server was away is
 * silence) instead of truncating what was recorded. {@link finish} writes the WAV (see
 * {@link finishRecording}).
 */
export class CallRecorder {
  private readonly files: Record<CallLeg, { fd: number; samples: number }>;
  private finished = false;

  /**
   * @param startedAtMs - the call's timeline origin (its `started_at`, epoch ms): sample 0 of both legs.
   * @throws {Error} when the recordings folder or a raw file cannot be opened.
   */
  constructor(private readonly dir: string, private readonly sessionId: string, private readonly channels: 'dual' | 'mono', private readonly startedAtMs = Date.now()) {
    fs.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
    const open = (leg: CallLeg) => {
      const fd = fs.openSync(rawLegPath(dir, sessionId, leg), 'a', DATA_FILE_MODE);
      return { fd, samples: Math.floor(fs.fstatSync(fd).size / 2) };
    };
    this.files = { customer: open('customer'), agent: open('agent') };
  }

  /** Appends `pcm` (s16le mono at {@link RECORDING_RATE_HZ}) of `leg`, heard now. */
  write(leg: CallLeg, pcm: Buffer): void {
    if (this.finished || pcm.length < 2) return;
    const file = this.files[leg];
    const chunkSamples = Math.floor(pcm.length / 2);
    // Where the chunk began on the call's timeline; a gap before it is silence.
    const startSample = Math.floor(((Date.now() - this.startedAtMs) * RECORDING_RATE_HZ) / 1000) - chunkSamples;
    if (startSample > file.samples) {
      fs.writeSync(file.fd, Buffer.alloc((startSample - file.samples) * 2));
      file.samples = startSample;
    }
    fs.writeSync(file.fd, pcm, 0, chunkSamples * 2);
    file.samples += chunkSamples;
  }

  /** Closes the raw files and keeps them (the server stops; a restart resumes or finishes the call). */
  suspend(): void {
    if (this.finished) return;
    this.finished = true;
    for (const f of Object.values(this.files)) fs.closeSync(f.fd);
  }

  /** Writes the WAV file and removes the raw files. Idempotent (later calls return undefined). */
  finish(): FinishedRecording | undefined {
    if (this.finished) return undefined;
    this.finished = true;
    for (const f of Object.values(this.files)) fs.closeSync(f.fd);
    return finishRecording(this.dir, this.sessionId, this.channels);
  }
}

/**
 * Writes a session's WAV from its raw leg files and removes them: `dual` — stereo, customer left,
 * agent right; `mono` — both legs mixed. Used when a call ends and, after a crash, on what the
 * previous process left (docs/calls.md "Restarts"). A missing leg file is silence.
 * @returns undefined when neither raw file exists.
 * @throws {Error} when a file cannot be read or written.
 */
export function finishRecording(dir: string, sessionId: string, channels: 'dual' | 'mono'): FinishedRecording | undefined {
  const paths = { customer: rawLegPath(dir, sessionId, 'customer'), agent: rawLegPath(dir, sessionId, 'agent') };
  const sizes = { customer: fileSize(paths.customer), agent: fileSize(paths.agent) };
  if (sizes.customer === undefined && sizes.agent === undefined) return undefined;
  const total = Math.floor(Math.max(sizes.customer ?? 0, sizes.agent ?? 0) / 2);
  const outChannels = channels === 'dual' ? 2 : 1;
  const relativePath = `${sessionId}.${channels}.wav`;
  const out = fs.openSync(path.join(dir, relativePath), 'w', DATA_FILE_MODE);
  const customer = sizes.customer === undefined ? undefined : fs.openSync(paths.customer, 'r');
  const agent = sizes.agent === undefined ? undefined : fs.openSync(paths.agent, 'r');
  try {
    fs.writeSync(out, wavHeader(outChannels, RECORDING_RATE_HZ, total * outChannels * 2));
    for (let at = 0; at < total; at += STEP_SAMPLES) {
      const n = Math.min(STEP_SAMPLES, total - at);
      fs.writeSync(out, combine(readSamples(customer, at, n), readSamples(agent, at, n), outChannels));
    }
    fs.fsyncSync(out);
  } finally {
    for (const fd of [out, customer, agent]) if (fd !== undefined) fs.closeSync(fd);
  }
  for (const p of Object.values(paths)) fs.rmSync(p, { force: true });
  return { relativePath, channels: outChannels, sampleRateHz: RECORDING_RATE_HZ, durationMs: Math.round((total * 1000) / RECORDING_RATE_HZ), sizeBytes: 44 + total * outChannels * 2 };
}

function fileSize(p: string): number | undefined {
  try {
    return fs.statSync(p).size;
  } catch {
    return undefined;
  }
}

function combine(customer: Int16Array, agent: Int16Array, outChannels: number): Buffer {
  const n = customer.length;
  const out = new Int16Array(n * outChannels);
  for (let i = 0; i < n; i++) {
    const c = customer[i] ?? 0;
    const a = agent[i] ?? 0;
    if (outChannels === 2) {
      out[i * 2] = c;
      out[i * 2 + 1] = a;
    } else {
      out[i] = Math.max(-32768, Math.min(32767, c + a));
    }
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** `n` samples from sample `at` of a raw s16le file; past its end (or without a file), zeros. */
function readSamples(fd: number | undefined, at: number, n: number): Int16Array {
  const buf = Buffer.alloc(n * 2);
  if (fd !== undefined) fs.readSync(fd, buf, 0, n * 2, at * 2);
  return new Int16Array(buf.buffer, buf.byteOffset, n);
}
