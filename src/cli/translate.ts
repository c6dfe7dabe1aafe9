import fs from 'node:fs';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../audio/pcm.js';
import { resample } from '../audio/resampler.js';
import { readWav, writeWav } from '../audio/wav.js';
import { fetchSessionKey, streamAudio, vtUrl, type ReceivedEvent } from '../client/vt-client.js';
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

/**
 * `tolk translate <in.wav>`: streams the file through `/vt` (a running server with `--url`, else an
 * in-process one) at real-time pace, prints transcripts and translations as they arrive and writes
 * the translated speech. Returns the process exit code (0, or 1 after an `error` event).
 */
export async function translateCommand(file: string, o: TranslateOptions): Promise<number> {
  const wav = readWav(fs.readFileSync(file));
  let { samples, sampleRateHz } = wav;
  if (!SUPPORTED_SAMPLE_RATES_HZ.includes(sampleRateHz)) {
    samples = resample(samples, sampleRateHz, 16000);
    sampleRateHz = 16000;
  }
  let server: RunningServer | undefined;
  let baseUrl = o.url?.replace(/\/$/, '');
  let apiKey = o.apiKey ?? process.env.TOLK_API_KEY;
  if (!baseUrl) {
    // A private in-process server: role all, whatever TOLK_ROLE says.
    const config = loadConfig(process.env, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'warn', role: 'all' });
    server = await startServer(config);
    baseUrl = server.url;
    apiKey = server.firstOwnerKey;
  }
  if (!apiKey) throw new Error('--api-key (or TOLK_API_KEY) is required with --url');
  try {
    const sessionKey = await fetchSessionKey(baseUrl, apiKey);
    const tty = process.stdout.isTTY && !o.json;
    let interimShown = false;
    const print = (e: ReceivedEvent): void => {
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
      onEvent: print,
    });
    if (o.out) {
      fs.writeFileSync(o.out, writeWav({ samples: result.audio, sampleRateHz }));
      if (!o.json) process.stdout.write(`wrote ${(result.audio.length / sampleRateHz).toFixed(1)} s of translated speech to ${o.out}\n`);
    }
    return result.events.some((e) => e.kind === 'error') ? 1 : 0;
  } finally {
    await server?.close();
  }
}
