import fs from 'node:fs';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../audio/pcm.js';
import { resample } from '../audio/resampler.js';
import { readWav, writeWav } from '../audio/wav.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent, type StreamAudioResult } from '../client/vt-client.js';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';

/** Options of `tolk translate`. */
export interface TranslateOptions {
  from: string;
  to: string;
  voice: string;
  out?: string;
  json?: boolean;
  url?: string;
  apiKey?: string;
  fast?: boolean;
}

/** What `tolk translate` reads, for the error on any other file. */
const WAV_FORMATS = 'a WAV file (RIFF/WAVE) of PCM samples — 8, 16, 24 or 32-bit integer or 32-bit float, mono or stereo, any sample rate';

/**
 * The file's samples at a rate `/vt` takes (others resampled to 16 kHz).
 * @throws {Error} naming the file when it cannot be read, and the formats read when it is not one of them.
 */
function readInput(file: string): { samples: Int16Array; sampleRateHz: number } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`, { cause: err });
  }
  let wav: { samples: Int16Array; sampleRateHz: number };
  try {
    wav = readWav(bytes);
  } catch (err) {
    throw new Error(`${file} is not a file tolk translate can read (${(err as Error).message}). It reads ${WAV_FORMATS}; convert others first, e.g. \`sox in.mp3 -r 16000 -c 1 in.wav\``, { cause: err });
  }
  if (SUPPORTED_SAMPLE_RATES_HZ.includes(wav.sampleRateHz)) return wav;
  return { samples: resample(wav.samples, wav.sampleRateHz, 16000), sampleRateHz: 16000 };
}

/**
 * Opens `--out` for writing before anything is streamed, so an unwritable path fails at once.
 * @throws {Error} naming the path and the reason.
 */
function openOut(out: string | undefined): number | undefined {
  if (!out) return undefined;
  try {
    return fs.openSync(out, 'w', 0o644);
  } catch (err) {
    throw new Error(`cannot write --out ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (nothing was streamed)`, { cause: err });
  }
}

/** A stage of the command, on stderr (stdout carries the transcripts, or JSON with --json). */
function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The events as `tolk translate` prints them: finals and translations, interims on a terminal. */
function printer(o: TranslateOptions): (e: ReceivedEvent) => void {
  const tty = process.stdout.isTTY && !o.json;
  let interimShown = false;
  return (e) => {
    if (e.kind === 'audio') return;
    if (o.json) {
      process.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    if (e.kind === 'transcript' && !e.final) {
      if (tty) {
        process.stdout.write(`\r\x1b[K… ${e.text}`);
        interimShown = true;
      }
      return;
    }
    if (interimShown) process.stdout.write('\r\x1b[K');
    interimShown = false;
    if (e.kind === 'transcript') process.stdout.write(`[${o.from}] ${e.text}\n`);
    else if (e.kind === 'translate') process.stdout.write(`[${o.to}] ${e.text}\n`);
    else process.stderr.write(`error ${e.code} ${e.reason}: ${e.description}\n`);
  };
}

/**
 * Why the stream ended before the file did — the server closed it or the connection was lost
 * before every sample was sent — with how far it got; undefined when the whole file was sent and
 * the client closed.
 */
export function incompleteStream(result: StreamAudioResult, totalMs: number): string | undefined {
  const serverClosed = result.closeCode !== 1000;
  if (!serverClosed && result.sentAudioMs >= totalMs) return undefined;
  const finals = result.events.filter((e) => e.kind === 'transcript' && e.final).length;
  const translations = result.events.filter((e) => e.kind === 'translate' && e.final).length;
  const how = result.closeCode === 1006 ? 'the connection to the server was lost' : `the server closed the stream (${result.closeCode}${result.closeReason ? ` ${result.closeReason}` : ''})`;
  return `${how} after ${(result.sentAudioMs / 1000).toFixed(1)} s of ${(totalMs / 1000).toFixed(1)} s of audio had been sent; ` +
    `${finals} sentence${finals === 1 ? '' : 's'} recognized and ${translations} translated before it ended. The rest of the file was not translated`;
}

/**
 * `tolk translate <in.wav>`: streams the file through `/vt` (a running server with `--url`, else an
 * in-process one) at real-time pace, prints transcripts and translations as they arrive and writes
 * the translated speech; stages go to stderr. Returns the process exit code: 0, or 1 after an
 * `error` event or when the stream ended before the file did (the server stopped).
 * @throws {Error} for an unreadable input, an unwritable `--out`, or a server that does not answer.
 */
export async function translateCommand(file: string, o: TranslateOptions): Promise<number> {
  const { samples, sampleRateHz } = readInput(file);
  const totalMs = Math.round((samples.length * 1000) / sampleRateHz);
  const outFd = openOut(o.out);
  let server: RunningServer | undefined;
  let baseUrl = o.url?.replace(/\/$/, '');
  let apiKey = o.apiKey ?? process.env.TOLK_API_KEY;
  try {
    if (!baseUrl) {
      progress('starting an in-process server (loading the speech engines; give --url to use a running one)…');
      // A private in-process server: role all, whatever TOLK_ROLE says.
      // Its log (errors only) goes to stderr: stdout carries the transcripts.
      const config = loadConfig(process.env, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'error', role: 'all' });
      server = await startServer(config, { logStream: process.stderr });
      baseUrl = server.url;
      apiKey = server.firstOwnerKey;
    }
    if (!apiKey) throw new Error('--api-key (or TOLK_API_KEY) is required with --url');
    const sessionKey = await fetchSessionKey(baseUrl, apiKey);
    progress(`streaming ${(totalMs / 1000).toFixed(1)} s of audio ${o.fast ? 'as fast as the server reads' : 'at real-time pace'}…`);
    const result = await streamAudio({
      url: vtUrl(baseUrl, sessionKey),
      config: {
        audio: { format: 'pcm_s16le', sample_rate: sampleRateHz, channels: 1 },
        source_language: o.from,
        target_language: o.to,
        voice: o.voice,
        transcript: { interim: true, final: true, translate: true },
      },
      samples,
      sampleRateHz,
      realtime: !o.fast,
      idleCloseMs: o.fast ? 5000 : 1500,
      onEvent: printer(o),
    });
    if (outFd !== undefined) {
      fs.writeSync(outFd, writeWav({ samples: result.audio, sampleRateHz }));
      if (!o.json) process.stdout.write(`wrote ${(result.audio.length / sampleRateHz).toFixed(1)} s of translated speech to ${o.out}\n`);
    }
    const incomplete = incompleteStream(result, totalMs);
    if (incomplete) process.stderr.write(`tolk: ${incomplete}\n`);
    return incomplete || result.events.some((e) => e.kind === 'error') ? 1 : 0;
  } finally {
    if (outFd !== undefined) fs.closeSync(outFd);
    await server?.close();
  }
}
