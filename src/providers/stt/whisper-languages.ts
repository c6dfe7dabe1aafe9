/**
 * The languages Whisper recognizes (openai/whisper `whisper/tokenizer.py`, `LANGUAGES` and
 * `TO_LANGUAGE_CODE`): the default `languages` of the `openai` STT engine, and the names OpenAI's
 * `verbose_json` gives as `language` (`"english"`) mapped back to codes.
 */

/** Whisper's language codes → the lower-case names its tokenizer uses. */
export const WHISPER_LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'english', zh: 'chinese', de: 'german', es: 'spanish', ru: 'russian', ko: 'korean', fr: 'french',
  ja: 'japanese', pt: 'portuguese', tr: 'turkish', pl: 'polish', ca: 'catalan', nl: 'dutch', ar: 'arabic',
  sv: 'swedish', it: 'italian', id: 'indonesian', hi: 'hindi', fi: 'finnish', vi: 'vietnamese', he: 'hebrew',
  uk: 'ukrainian', el: 'greek', ms: 'malay', cs: 'czech', ro: 'romanian', da: 'danish', hu: 'hungarian',
  ta: 'tamil', no: 'norwegian', th: 'thai', ur: 'urdu', hr: 'croatian', bg: 'bulgarian', lt: 'lithuanian',
  la: 'latin', mi: 'maori', ml: 'malayalam', cy: 'welsh', sk: 'slovak', te: 'telugu', fa: 'persian',
  lv: 'latvian', bn: 'bengali', sr: 'serbian', az: 'azerbaijani', sl: 'slovenian', kn: 'kannada',
  et: 'estonian', mk: 'macedonian', br: 'breton', eu: 'basque', is: 'icelandic', hy: 'armenian',
  ne: 'nepali', mn: 'mongolian', bs: 'bosnian', kk: 'kazakh', sq: 'albanian', sw: 'swahili', gl: 'galician',
  mr: 'marathi', pa: 'punjabi', si: 'sinhala', km: 'khmer', sn: 'shona', yo: 'yoruba', so: 'somali',
  af: 'afrikaans', oc: 'occitan', ka: 'georgian', be: 'belarusian', tg: 'tajik', sd: 'sindhi',
  gu: 'gujarati', am: 'amharic', yi: 'yiddish', lo: 'lao', uz: 'uzbek', fo: 'faroese', ht: 'haitian creole',
  ps: 'pashto', tk: 'turkmen', nn: 'nynorsk', mt: 'maltese', sa: 'sanskrit', lb: 'luxembourgish',
  my: 'myanmar', bo: 'tibetan', tl: 'tagalog', mg: 'malagasy', as: 'assamese', tt: 'tatar', haw: 'hawaiian',
  ln: 'lingala', ha: 'hausa', ba: 'bashkir', jw: 'javanese', su: 'sundanese', yue: 'cantonese',
};

/** Every code Whisper recognizes, in its tokenizer's order. */
export const WHISPER_LANGUAGES: readonly string[] = Object.keys(WHISPER_LANGUAGE_NAMES);

const ALIASES: Readonly<Record<string, string>> = {
  burmese: 'my', valencian: 'ca', flemish: 'nl', haitian: 'ht', letzeburgesch: 'lb', pushto: 'ps',
  panjabi: 'pa', moldavian: 'ro', moldovan: 'ro', sinhalese: 'si', castilian: 'es', mandarin: 'zh',
};

const CODE_BY_NAME: ReadonlyMap<string, string> = new Map([
  ...Object.entries(WHISPER_LANGUAGE_NAMES).map(([code, name]) => [name, code] as const),
  ...Object.entries(ALIASES),
]);

/**
 * The language code of a `verbose_json` `language` value: servers built on faster-whisper send a
 * code (`en`), OpenAI sends Whisper's name (`english`). Undefined for an empty or unknown value.
 */
export function whisperLanguageCode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (!v) return undefined;
  if (v in WHISPER_LANGUAGE_NAMES) return v;
  return CODE_BY_NAME.get(v) ?? (/^[a-z]{2,3}(-[a-z0-9]+)*$/.test(v) ? v.split('-')[0] : undefined);
}
