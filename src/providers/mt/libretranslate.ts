/**
 * The `libretranslate` MT engine (docs/architecture.md "Engines"): a LibreTranslate server (Argos Translate models),
 * self-hosted or libretranslate.com. `GET /languages` at start gives the pairs (each language's
 * `targets`); `POST /translate {q, source, target, format, api_key}` translates one utterance.
 * Glossary slots travel as `<span translate="no">` elements with `format: "html"`: LibreTranslate's
 * HTML translation (translate-html) leaves elements marked `translate="no"` untranslated.
 */
import { z } from 'zod';
import { primaryLanguage } from '../../common/language-tags.js';
import { defineEngine, type EngineContext } from '../engine-module.js';
import type { HttpEngineClient } from '../http/http-engine-client.js';
import { httpClientFor, httpEngineSettingsShape } from '../http/http-settings.js';
import { hasSlots, parseSlots, renderSlots, restoreSlotSpacing, slotNumbers } from './slot-text.js';
import type { LanguagePair, MtCapabilities, MtProvider, MtText, MtRequestOptions } from './types.js';

/** Settings of the `libretranslate` engine (docs/engines.md "Engines: libretranslate"). */
export const libretranslateSettings = z.strictObject({
  ...httpEngineSettingsShape,
  /** Only pairs between these primary subtags are offered; default: every pair the server has. */
  languages: z.array(z.string().regex(/^[a-z]{2,3}$/, 'languages are primary subtags such as "en"')).min(1).optional(),
});

/** Parsed {@link libretranslateSettings}. */
export type LibreTranslateSettings = z.output<typeof libretranslateSettings>;

/** One entry of `GET /languages`. */
export interface LibreTranslateLanguage {
  code: string;
  name: string;
  targets: string[];
}

/** The `<span translate="no">` of slot `n`; its text is the slot number, which Argos keeps as is. */
export function slotElement(slot: number): string {
  return `<span translate="no" data-slot="${slot}">${slot}</span>`;
}

const SLOT_ELEMENT = /<span\b[^>]*\bdata-slot="(\d+)"[^>]*>[^<]*<\/span>/g;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Reads `GET /languages` into pairs keyed by primary subtag, and the server's code for each
 * subtag (its exact code when it has one, e.g. `pt` over `pt-BR`).
 */
export function languagePairs(languages: readonly LibreTranslateLanguage[], only?: readonly string[]): { pairs: LanguagePair[]; codes: Map<string, string> } {
  const codes = new Map<string, string>();
  for (const l of languages) {
    const primary = primaryLanguage(l.code);
    if (!codes.has(primary) || l.code.toLowerCase() === primary) codes.set(primary, l.code);
  }
  const allowed = (tag: string): boolean => !only || only.includes(tag);
  const pairs: LanguagePair[] = [];
  for (const l of languages) {
    const source = primaryLanguage(l.code);
    if (codes.get(source) !== l.code || !allowed(source)) continue;
    for (const t of l.targets) {
      const target = primaryLanguage(t);
      if (target !== source && allowed(target) && !pairs.some((p) => p.source === source && p.target === target)) pairs.push({ source, target });
    }
  }
  return { pairs, codes };
}

function isLanguageList(body: unknown): body is LibreTranslateLanguage[] {
  return Array.isArray(body) && body.every((l) => l && typeof l === 'object' && typeof l.code === 'string' && Array.isArray(l.targets) && l.targets.every((t: unknown) => typeof t === 'string'));
}

/** LibreTranslate as an {@link MtProvider}; see the module doc. */
export class LibreTranslateMt implements MtProvider {
  readonly name = 'libretranslate';
  readonly capabilities: MtCapabilities;

  constructor(
    private readonly client: HttpEngineClient,
    private readonly settings: LibreTranslateSettings,
    private readonly codes: ReadonlyMap<string, string>,
    pairs: readonly LanguagePair[],
  ) {
    this.capabilities = { pairs };
  }

  /**
   * @throws {Error} when the pair is not offered.
   * @throws {EngineHttpError} when the server fails (after retries) or answers without `translatedText`.
   */
  async translate(input: MtText, pair: LanguagePair, options: MtRequestOptions = {}): Promise<MtText> {
    if (!this.capabilities.pairs.some((p) => p.source === pair.source && p.target === pair.target)) {
      throw new Error(`libretranslate has no ${pair.source}→${pair.target} pair at ${this.settings.baseUrl}`);
    }
    if (!input.some((p) => typeof p !== 'string' || p.trim())) return [...input];
    const slots = hasSlots(input);
    const body = {
      q: slots ? renderSlots(input, slotElement, escapeHtml) : renderSlots(input, () => ''),
      source: this.codes.get(pair.source) ?? pair.source,
      target: this.codes.get(pair.target) ?? pair.target,
      format: slots ? 'html' : 'text',
      ...(this.settings.apiKey ? { api_key: this.settings.apiKey } : {}),
    };
    const request = { method: 'POST', path: '/translate', json: body, signal: options.signal } as const;
    const answer = await this.client.requestJson(request);
    const text = (answer as { translatedText?: unknown } | null)?.translatedText;
    if (typeof text !== 'string') throw this.client.malformed(request, 'expected {"translatedText": "…"}');
    if (!slots) return [text];
    // LibreTranslate unescapes the translated HTML before answering: the text is plain already.
    return restoreSlotSpacing(parseSlots(text, SLOT_ELEMENT, slotNumbers(input)), input);
  }

  /** Nothing to start: the server keeps its models loaded. */
  async prewarm(): Promise<void> {}

  /** Nothing to stop: requests end with their callers. */
  async close(): Promise<void> {}
}

/**
 * Discovers a server's pairs.
 * @throws {Error} naming the server when `GET /languages` fails or offers no pair.
 */
async function discover(client: HttpEngineClient, settings: LibreTranslateSettings, context: EngineContext): Promise<LibreTranslateMt> {
  const request = { method: 'GET', path: '/languages', signal: context.signal } as const;
  const body = await client.requestJson(request);
  if (!isLanguageList(body)) throw client.malformed(request, 'expected [{"code", "name", "targets": [...]}]');
  const { pairs, codes } = languagePairs(body, settings.languages);
  if (pairs.length === 0) {
    throw new Error(`libretranslate at ${settings.baseUrl} offers no language pair${settings.languages ? ` between ${settings.languages.join(', ')}` : ''}`);
  }
  return new LibreTranslateMt(client, settings, codes, pairs);
}

/** The `libretranslate` engine module: `create` reads the server's pairs from `GET /languages`. */
export const libretranslateEngine = defineEngine({
  kind: 'mt',
  name: 'libretranslate',
  description: 'LibreTranslate server (Argos Translate), pairs discovered from GET /languages; glossary slots kept as translate="no" elements',
  settings: libretranslateSettings,
  async create(settings, context) {
    return discover(httpClientFor('mt', settings, context, false), settings, context);
  },
});
