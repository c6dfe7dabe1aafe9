/**
 * A stand-in for a LibreTranslate server, written from its API documentation (libretranslate.com
 * /docs, the OpenAPI of `libretranslate/app.py`): `GET /languages` → `[{code, name, targets}]`;
 * `POST /translate` with `q`, `source`, `target`, `format` (`text`|`html`), `api_key` as JSON or
 * form fields → `{"translatedText"}`; errors as `{"error": "…"}` with 400 (missing parameter,
 * unsupported language or format, API key required), 403 (invalid API key), 429 (`Slowdown: …`),
 * 500 (`Cannot translate text: …`). HTML follows translate-html: elements with `translate="no"`
 * pass through, each text node is translated on its own (trimmed), and the result is unescaped.
 */
import type http from 'node:http';
import { HttpFake, writeScripted, type RecordedRequest, type ScriptedResponse } from './http-fake.js';

/** What the fake's `/languages` offers by default. */
export const DEFAULT_LANGUAGES = [
  { code: 'en', name: 'English', targets: ['de', 'en', 'es', 'fr', 'pt', 'zh-Hans'] },
  { code: 'es', name: 'Spanish', targets: ['en', 'es'] },
  { code: 'pt', name: 'Portuguese', targets: ['en', 'pt'] },
  { code: 'pt-BR', name: 'Portuguese (Brazil)', targets: ['en', 'pt-BR'] },
  { code: 'zh-Hans', name: 'Chinese (Simplified)', targets: ['en', 'zh-Hans'] },
];

/** Settings of the fake. */
export interface FakeLibreTranslateOptions {
  languages?: Array<{ code: string; name: string; targets: string[] }>;
  /** Valid API keys; when set, a request without one gets 400 and a wrong one 403. */
  apiKeys?: string[];
  /** Word-for-word dictionaries per `source-target` (lower-case words); unknown words stay. */
  dictionary?: Record<string, Record<string, string>>;
  /** Replaces the word-for-word translation of each text run (sees the run and the pair). */
  translateRun?: (run: string, source: string, target: string) => string;
}

/** `{"error": message}` with a status, as LibreTranslate answers. */
export function ltError(status: number, message: string, headers?: Record<string, string>): Exclude<ScriptedResponse, 'hang' | 'drop'> {
  return { status, body: { error: message }, headers };
}

const NO_TRANSLATE = /(<(\w+)\b[^>]*\btranslate="no"[^>]*>.*?<\/\2>)/g;

function unescapeHtml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** A running LibreTranslate stand-in; `origin` is what the engine's `baseUrl` takes. */
export class FakeLibreTranslateServer extends HttpFake {
  constructor(readonly options: FakeLibreTranslateOptions = {}) {
    super();
    this.route('GET', '/languages', (_r, res) => writeScripted(res, { status: 200, body: this.languages() }));
    this.route('POST', '/translate', (r, res) => this.translate(r, res));
  }

  private languages(): Array<{ code: string; name: string; targets: string[] }> {
    return this.options.languages ?? DEFAULT_LANGUAGES;
  }

  private param(r: RecordedRequest, name: string): unknown {
    if (r.json && typeof r.json === 'object') return (r.json as Record<string, unknown>)[name];
    return r.fields?.[name]?.[0];
  }

  private accessRefused(r: RecordedRequest, res: http.ServerResponse): boolean {
    const keys = this.options.apiKeys;
    if (!keys) return false;
    const key = this.param(r, 'api_key');
    if (typeof key === 'string' && key && !keys.includes(key)) {
      writeScripted(res, ltError(403, 'Invalid API key'));
      return true;
    }
    if (!key) {
      writeScripted(res, ltError(400, 'Please contact the server operator to get an API key'));
      return true;
    }
    return false;
  }

  private translate(r: RecordedRequest, res: http.ServerResponse): void {
    if (this.accessRefused(r, res)) return;
    const [q, source, target] = ['q', 'source', 'target'].map((n) => this.param(r, n));
    for (const [name, value] of [['q', q], ['source', source], ['target', target]] as const) {
      if (!value) return writeScripted(res, ltError(400, `Invalid request: missing ${name} parameter`));
    }
    const codes = this.languages().map((l) => l.code);
    for (const lang of [source, target]) {
      if (!codes.includes(String(lang))) return writeScripted(res, ltError(400, `${String(lang)} is not supported`));
    }
    const format = (this.param(r, 'format') as string | undefined) || 'text';
    if (format !== 'text' && format !== 'html') return writeScripted(res, ltError(400, `${format} format is not supported`));
    const from = this.languages().find((l) => l.code === source);
    if (!from?.targets.includes(String(target))) {
      return writeScripted(res, ltError(400, `${String(target)} is not available as a target language from ${String(source)}`));
    }
    const run = (text: string): string => this.translateRun(text.trim(), String(source), String(target));
    const text = String(q);
    const out = format === 'html' ? text.split(NO_TRANSLATE).filter((_, i) => i % 3 !== 2).map((part, i) => (i % 2 === 1 ? part : run(part))).join('') : run(text);
    writeScripted(res, { status: 200, body: { translatedText: unescapeHtml(out) } });
  }

  private translateRun(run: string, source: string, target: string): string {
    if (!run) return '';
    if (this.options.translateRun) return this.options.translateRun(run, source, target);
    const dict = this.options.dictionary?.[`${source}-${target}`] ?? {};
    return run.replace(/[\p{L}']+/gu, (w) => dict[w.toLowerCase()] ?? w);
  }
}

/** Starts a fake on port 0. */
export async function startFakeLibreTranslate(options: FakeLibreTranslateOptions = {}): Promise<FakeLibreTranslateServer> {
  return new FakeLibreTranslateServer(options).listen();
}
