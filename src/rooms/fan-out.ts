import { primaryLanguage } from '../common/language-tags.js';
import type { DictionaryEntry } from '../pipeline/glossary.js';
import { synthesizePcm, translateWithGlossary } from '../pipeline/translate-speak.js';
import type { Engines } from '../providers/registry.js';
import type { VoiceName } from '../providers/tts/types.js';

/** A speaker's final transcript, recognized once, to fan out to the room's languages. */
export interface FanOutFinal {
  utteranceId: string;
  text: string;
  /** BCP-47 tag of the speaker's language. */
  sourceLanguage: string;
}

/**
 * A listener language of the room: `key` is its primary subtag (`es`), what groups listeners;
 * `tag` the BCP-47 tag translated and spoken into (the first listener's, e.g. `es-MX`).
 */
export interface ListenerLanguage {
  key: string;
  tag: string;
}

/**
 * The glossary terms for a language pair (BCP-47 tags), read before each translation; a room
 * without a glossary (spec 003 conversations) passes none.
 */
export type PairDictionary = (sourceLanguage: string, targetLanguage: string) => Promise<readonly DictionaryEntry[]>;

/** Options of a {@link RoomFanOut}. */
export interface RoomFanOutOptions {
  /** Voice of the translated speech. */
  voice: VoiceName;
  /** Rate of the synthesized PCM (s16le mono), in Hz. */
  sampleRateHz: number;
  dictionary?: PairDictionary;
  /** Where failures that reach no caller go (a failed translation or synthesis of one language). */
  log?: (err: unknown, message: string) => void;
}

/** What the fan-out hands each language's speech to. */
export interface SpeechSink {
  /** A block of one language's speech of one utterance. */
  speech(language: ListenerLanguage, pcm: Buffer): void;
  /** That language's speech of the utterance is complete (also after a failure). */
  end(language: ListenerLanguage): void;
}

/**
 * The room core of docs/architecture.md "Processes"–3, transport-neutral: a speaker is recognized once (upstream); each
 * final is translated once per listener language — with the glossary of the pair — and spoken once
 * per language, one utterance after another. Spec-003 conversation rooms render its results as
 * JSON messages; a LiveKit room would publish them as data packets and audio tracks.
 */
export class RoomFanOut {
  private speaking: Promise<void> = Promise.resolve();
  private readonly log: (err: unknown, message: string) => void;

  constructor(private readonly engines: Engines, private readonly options: RoomFanOutOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Translates `final` into each language once, concurrently; `onTranslation` gets each as soon as
   * it is ready. The speaker's own language gets the text itself (with its glossary applied). A
   * failed language gets the original text and is logged; the others go on.
   * @returns the translations by language key.
   */
  async translate(final: FanOutFinal, languages: readonly ListenerLanguage[], onTranslation: (language: ListenerLanguage, text: string) => void): Promise<Map<string, string>> {
    const translations = new Map<string, string>();
    await Promise.all(languages.map(async (language) => {
      let text = final.text;
      try {
        const dictionary = (await this.options.dictionary?.(final.sourceLanguage, language.tag)) ?? [];
        text = await translateWithGlossary(this.engines.mt, final.text, final.sourceLanguage, language.tag, dictionary);
      } catch (err) {
        this.log(err, 'room translation failed');
      }
      translations.set(language.key, text);
      onTranslation(language, text);
    }));
    return translations;
  }

  /**
   * The languages of `languages` that get speech for a speaker of `sourceLanguage`: not the
   * speaker's own, and only those the TTS engine has a voice for.
   */
  spokenLanguages(sourceLanguage: string, languages: readonly ListenerLanguage[]): ListenerLanguage[] {
    const source = primaryLanguage(sourceLanguage);
    const voices = new Set(this.engines.tts.capabilities.languages.map(primaryLanguage));
    return languages.filter((l) => l.key !== source && voices.has(l.key));
  }

  /**
   * Speaks each language's translation, after the speech of every earlier utterance of this room
   * (speech of consecutive finals never interleaves). A language whose synthesis fails is logged
   * and ended; the others go on.
   * @returns when this utterance's speech is complete in every language.
   */
  speak(translations: ReadonlyMap<string, string>, languages: readonly ListenerLanguage[], sink: SpeechSink): Promise<void> {
    const run = this.speaking.then(async () => {
      for (const language of languages) {
        try {
          const text = translations.get(language.key) ?? '';
          for await (const pcm of synthesizePcm(this.engines.tts, text, { language: language.tag, voice: this.options.voice, sampleRateHz: this.options.sampleRateHz })) {
            sink.speech(language, pcm);
          }
        } catch (err) {
          this.log(err, 'room speech synthesis failed');
        } finally {
          sink.end(language);
        }
      }
    });
    this.speaking = run.catch(() => undefined);
    return run;
  }
}

/**
 * Groups members by language (primary subtag), keeping the first member's tag for each: the
 * languages a final is translated into, and who reads each.
 */
export function listenerLanguages<M extends { language: string }>(members: readonly M[]): Map<string, { language: ListenerLanguage; members: M[] }> {
  const groups = new Map<string, { language: ListenerLanguage; members: M[] }>();
  for (const m of members) {
    const key = primaryLanguage(m.language);
    const group = groups.get(key) ?? { language: { key, tag: m.language }, members: [] };
    group.members.push(m);
    groups.set(key, group);
  }
  return groups;
}
