import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineEngine, type EngineContext } from '../engine-module.js';
import { reportedRequest } from '../engine-reporting.js';
import { EngineNotInstalledError } from '../engine-errors.js';
import type { LanguagePair, MtCapabilities, MtProvider, MtText } from './types.js';
import type { Socket } from 'node:net';

/** Where Debian's Apertium pair packages install their mode files. */
export const APERTIUM_MODES_DIR = '/usr/share/apertium/modes';

/** ISO 639-3 codes used in Apertium pair names → the BCP 47 primary subtags Tolk speaks. */
const ISO639_3_TO_1: Record<string, string> = {
  eng: 'en', spa: 'es', cat: 'ca', glg: 'gl', epo: 'eo', fra: 'fr', por: 'pt', ita: 'it', deu: 'de',
  nld: 'nl', oci: 'oc', arg: 'an', ast: 'ast', eus: 'eu', ron: 'ro', swe: 'sv', dan: 'da', nob: 'nb',
  nno: 'nn', isl: 'is', rus: 'ru', ukr: 'uk', bel: 'be', pol: 'pl', ces: 'cs', slk: 'sk', hbs: 'sh',
  bul: 'bg', mkd: 'mk', kaz: 'kk', tat: 'tt', tur: 'tr', hin: 'hi', urd: 'ur', afr: 'af', mlt: 'mt',
};

const PAIR_MODE = /^([a-z]{2,3})-([a-z]{2,3})\.mode$/;
const REQUEST_TIMEOUT_MS = 10_000;
const SLOT_PATTERN = /\[tolkslot(\d+)\]/g;

/** One installed pair: its languages and the shell pipeline of its mode file. */
export interface ApertiumMode extends LanguagePair {
  name: string;
  pipeline: string;
}

/**
 * Finds the installed Apertium pairs. Only plain `xxx-yyy.mode` files count (variants such as
 * `eng-cat_valencia` or `en-eo-bytecode` are skipped), and each stage gets `-z` (null flush) so the
 * pipeline stays up and answers every request as soon as it ends with a NUL.
 */
export function discoverApertiumModes(modesDir = APERTIUM_MODES_DIR): ApertiumMode[] {
  let files: string[];
  try {
    files = fs.readdirSync(modesDir);
  } catch {
    return [];
  }
  const modes: ApertiumMode[] = [];
  for (const file of files.sort()) {
    const m = PAIR_MODE.exec(file);
    if (!m) continue;
    const source = ISO639_3_TO_1[m[1] ?? ''] ?? m[1] ?? '';
    const target = ISO639_3_TO_1[m[2] ?? ''] ?? m[2] ?? '';
    const text = fs.readFileSync(path.join(modesDir, file), 'utf8').trim();
    if (!text) continue;
    // $1: generation without unknown-word marks (as `apertium -u`); $2: no extra tagger option.
    const pipeline = text
      .split(/\s*\|\s*/)
      .map((stage) => stage.replace(/\$1/g, '-n').replace(/\$2/g, '').replace(/^(\S+)/, '$1 -z'))
      .join(' | ');
    if (!modes.some((x) => x.source === source && x.target === target)) {
      modes.push({ name: file.replace(/\.mode$/, ''), source, target, pipeline });
    }
  }
  return modes;
}

/** Escapes the characters that are special in Apertium's stream format. */
function escapeApertium(text: string): string {
  return text.replace(/[\\[\]{}^$/@<>*#]/g, (c) => `\\${c}`);
}

function renderInput(input: MtText): string {
  return input
    .map((part) => (typeof part === 'string' ? escapeApertium(part.replace(/[\0\n]/g, ' ')) : `[tolkslot${part.slot}]`))
    .join('');
}

function parseOutput(raw: string): MtText {
  const out: Array<string | { slot: number }> = [];
  let last = 0;
  for (const m of raw.matchAll(SLOT_PATTERN)) {
    out.push(cleanOutput(raw.slice(last, m.index)));
    out.push({ slot: Number(m[1]) });
    last = (m.index ?? 0) + m[0].length;
  }
  out.push(cleanOutput(raw.slice(last)));
  return out.filter((p) => typeof p !== 'string' || p.length > 0);
}

/** Drops Apertium's marks for unknown (`*`), ungenerated (`#`) and untranslated (`@`) words. */
function cleanOutput(text: string): string {
  return text.replace(/(^|[\s(¿¡"'])[*#@](?=\S)/g, '$1').replace(/\\(.)/g, '$1').replace(/\n/g, ' ');
}

/**
 * A warm Apertium pipeline for one pair: one long-lived `sh -c` process chain with every stage in
 * null-flush mode. Requests are answered in order; a crashed pipeline is restarted on the next request.
 */
class ApertiumPipeline {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private buffer = '';
  private readonly waiting: Array<{ resolve: (s: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];

  constructor(private readonly mode: ApertiumMode) {}

  request(text: string): Promise<string> {
    const proc = this.ensure();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`apertium ${this.mode.name} timed out after ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.waiting.push({ resolve, reject, timer });
      // lt-proc waits for one character after the last word before it flushes: end with a blank.
      proc.stdin.write(`${text}\n\0`);
    });
  }

  stop(): void {
    const p = this.proc;
    this.proc = undefined;
    if (p?.pid) {
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawn('sh', ['-c', this.mode.pipeline], { detached: true, stdio: 'pipe' });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\0')) >= 0) {
        const out = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiting.shift();
        if (w) {
          clearTimeout(w.timer);
          w.resolve(out);
        }
      }
    });
    proc.stderr.setEncoding('utf8');
    let stderr = '';
    proc.stderr.on('data', (c: string) => {
      stderr = (stderr + c).slice(-500);
    });
    proc.stdin.on('error', () => undefined);
    proc.on('exit', (code) => {
      if (this.proc === proc) {
        this.proc = undefined;
        this.fail(new Error(`apertium ${this.mode.name} exited (${code}): ${stderr.trim()}`));
      }
    });
    // An idle pipeline never keeps the process alive: neither the child nor its pipes (a pending
    // translation's timeout timer does while it waits).
    proc.unref();
    for (const pipe of [proc.stdin, proc.stdout, proc.stderr]) (pipe as unknown as Socket).unref();
    this.proc = proc;
    this.buffer = '';
    return proc;
  }

  private fail(error: Error): void {
    this.stop();
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}

/**
 * Apertium MT (docs/architecture.md "Engines"): pairs discovered from the installed mode files, each served by a warm
 * null-flush pipeline, never a process per sentence. Glossary slots travel as superblanks
 * (`[tolkslotN]`), which Apertium passes through unchanged.
 */
export class ApertiumMt implements MtProvider {
  readonly name = 'apertium';
  readonly capabilities: MtCapabilities;
  private readonly modes: ApertiumMode[];
  private readonly pipelines = new Map<string, ApertiumPipeline>();

  private readonly context: EngineContext | undefined;

  /** @param options.context - where each translation is reported (`/metrics`); none outside an engine configuration. */
  constructor(options: { modesDir?: string; context?: EngineContext } = {}) {
    this.context = options.context;
    this.modes = discoverApertiumModes(options.modesDir);
    this.capabilities = { pairs: this.modes.map(({ source, target }) => ({ source, target })) };
  }

  async translate(input: MtText, pair: LanguagePair): Promise<MtText> {
    const pipeline = this.pipeline(pair);
    const raw = await reportedRequest(this.context, 'mt', () => pipeline.request(renderInput(input)));
    return parseOutput(raw.trim());
  }

  async prewarm(pairs: readonly LanguagePair[] = this.capabilities.pairs): Promise<void> {
    // Straight to the pipelines: warming up is not a request of a stream (`/metrics`).
    await Promise.all(pairs.map((p) => Promise.resolve().then(() => this.pipeline(p).request('hello')).catch(() => undefined)));
  }

  async close(): Promise<void> {
    for (const p of this.pipelines.values()) p.stop();
    this.pipelines.clear();
  }

  private pipeline(pair: LanguagePair): ApertiumPipeline {
    const key = `${pair.source}-${pair.target}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const mode = this.modes.find((m) => m.source === pair.source && m.target === pair.target);
      if (!mode) throw new Error(`apertium has no ${key} pair installed`);
      p = new ApertiumPipeline(mode);
      this.pipelines.set(key, p);
    }
    return p;
  }
}

/** Settings of the `apertium` engine (docs/engines.md "Offline engines"). */
export const apertiumSettings = z.strictObject({
  /** Folder of the installed pairs' mode files. */
  modesDir: z.string().min(1).default(APERTIUM_MODES_DIR),
});

/**
 * The `apertium` engine module: every pair installed under `modesDir` (Debian `apertium-*` packages).
 * @throws {EngineNotInstalledError} from `create` when no pair is installed.
 */
export const apertiumEngine = defineEngine({
  kind: 'mt',
  name: 'apertium',
  description: 'Offline rule-based machine translation (Apertium, one warm pipeline per pair)',
  settings: apertiumSettings,
  async create(settings, context) {
    const mt = new ApertiumMt({ modesDir: settings.modesDir, context });
    if (mt.capabilities.pairs.length === 0) throw new EngineNotInstalledError('apertium', ['apertium', 'apertium-eng-spa']);
    return mt;
  },
});
