import { execFileSync, spawn } from 'node:child_process';
import { z } from 'zod';
import { S16leDecoder } from '../../audio/pcm.js';
import { defineEngine, type EngineContext } from '../engine-module.js';
import { EngineNotInstalledError } from '../engine-errors.js';
import type { TtsCapabilities, TtsProvider, TtsRequest, VoiceName } from './types.js';

const ESPEAK_RATE_HZ = 22050;
/** espeak-ng variants used for Tolk's two voices. */
const VARIANT: Record<VoiceName, string> = { male: 'm3', female: 'f3' };

/** Lists espeak-ng's voices' language tags (lower case), e.g. `es`, `en-us`; empty if not installed. */
export function discoverEspeakLanguages(binary = 'espeak-ng'): string[] {
  let listing: string;
  try {
    listing = execFileSync(binary, ['--voices'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return [];
  }
  const tags = new Set<string>();
  for (const line of listing.split('\n').slice(1)) {
    const tag = line.trim().split(/\s+/)[1];
    if (tag) tags.add(tag.toLowerCase());
  }
  return [...tags].sort();
}

/**
 * espeak-ng TTS, one short-lived process per utterance (it starts in ~13 ms); the audio is streamed
 * from its stdout as it is produced. Voices: `male` and `female` variants for every language.
 */
export class EspeakTts implements TtsProvider {
  readonly name = 'espeak-ng';
  readonly capabilities: TtsCapabilities;
  private readonly binary: string;

  private readonly context: EngineContext | undefined;

  /** @param options.context - where each synthesis is reported, up to its first block (`/metrics`). */
  constructor(options: { binary?: string; languages?: string[]; context?: EngineContext } = {}) {
    this.context = options.context;
    this.binary = options.binary ?? 'espeak-ng';
    const languages = options.languages ?? discoverEspeakLanguages(this.binary);
    this.capabilities = { languages, voices: ['male', 'female'], sampleRateHz: ESPEAK_RATE_HZ };
  }

  /** The espeak-ng voice for a locale: the exact tag if installed, else its primary subtag. */
  voiceFor(language: string): string | undefined {
    const tag = language.toLowerCase();
    if (this.capabilities.languages.includes(tag)) return tag;
    const primary = tag.split('-')[0] ?? '';
    return this.capabilities.languages.includes(primary) ? primary : undefined;
  }

  async *synthesize(text: string, request: TtsRequest): AsyncIterable<Int16Array> {
    const startedAt = performance.now();
    let reported = false;
    const report = (outcome: 'ok' | 'error'): void => {
      if (reported || !this.context?.onRequest) return;
      reported = true;
      this.context.onRequest({ engine: this.context.id, kind: 'tts', outcome, durationMs: performance.now() - startedAt });
    };
    try {
      for await (const samples of this.speak(text, request)) {
        report('ok');
        yield samples;
      }
      report('ok');
    } catch (err) {
      report('error');
      throw err;
    }
  }

  /** One espeak-ng process speaking `text`, its samples as they come. */
  private async *speak(text: string, request: TtsRequest): AsyncIterable<Int16Array> {
    const voice = this.voiceFor(request.language);
    if (!voice) throw new Error(`espeak-ng has no voice for ${request.language}`);
    // espeak-ng speaks 175 words per minute by default (`-s`).
    const rate = request.speed !== undefined && request.speed !== 1 ? ['-s', String(Math.round(Math.min(450, Math.max(80, 175 * request.speed))))] : [];
    const proc = spawn(this.binary, ['-v', `${voice}+${VARIANT[request.voice]}`, ...rate, '--stdout'], { stdio: 'pipe' });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(text.replace(/\0/g, ' '));
    const decoder = new S16leDecoder();
    let header = Buffer.alloc(0);
    let inData = false;
    try {
      for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
        let bytes = chunk;
        if (!inData) {
          header = Buffer.concat([header, chunk]);
          const dataAt = header.indexOf('data');
          if (dataAt < 0 || header.length < dataAt + 8) continue;
          bytes = header.subarray(dataAt + 8);
          inData = true;
        }
        const samples = decoder.decode(bytes);
        if (samples.length > 0) yield samples;
      }
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    const code = await exited;
    if (code !== 0 && code !== null) throw new Error(`espeak-ng exited with ${code}: ${stderr.trim()}`);
  }
}

/** Settings of the `espeak-ng` engine (docs/engines.md "Offline engines"). */
export const espeakSettings = z.strictObject({
  /** The espeak-ng program (a name on PATH or a path). */
  binary: z.string().min(1).default('espeak-ng'),
  /** Voice tags to offer (lower case, e.g. `es`, `en-us`); default: every voice espeak-ng lists. */
  languages: z.array(z.string().min(1).max(35)).max(500).optional(),
});

/**
 * The `espeak-ng` engine module: a male and a female voice in every language espeak-ng has.
 * @throws {EngineNotInstalledError} from `create` when espeak-ng is not installed.
 */
export const espeakEngine = defineEngine({
  kind: 'tts',
  name: 'espeak-ng',
  description: 'Offline formant speech synthesis (espeak-ng, one process per utterance)',
  settings: espeakSettings,
  async create(settings, context) {
    const tts = new EspeakTts({ binary: settings.binary, languages: settings.languages?.map((l) => l.toLowerCase()), context });
    if (tts.capabilities.languages.length === 0) throw new EngineNotInstalledError('espeak-ng', ['espeak-ng']);
    return tts;
  },
});
