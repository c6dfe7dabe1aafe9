import { randomBytes } from 'node:crypto';
import type { DictionaryEntry } from '../pipeline/glossary.js';
import type { Leg2Config, TRANSLATOR_MODES } from './leg2-protocol.js';

/** Tier of a stream when no admission check names one (Tolk has no paid tiers yet). */
export const DEFAULT_TIER = 1;

/** What the gateway knows about a stream after Part 2 steps 1–3, the input of {@link buildLeg2Config}. */
export interface Leg2ConfigInput {
  /** See {@link newRequestId}. */
  requestId: string;
  /** The client's `config` (spec 002 Part 1) after defaults; `api_key` is never forwarded. */
  client: {
    audio: { format: string; sample_rate: number; channels: number };
    voice: string;
    transcript: { interim: boolean; final: boolean; translate: boolean };
    features?: Record<string, unknown> | undefined;
    metadata?: Record<string, unknown> | undefined;
  };
  /** BCP-47 tags the stream uses (a platform session's languages for a session-bound stream). */
  sourceLanguage: string;
  targetLanguage: string;
  /** STT vocabulary: the config's words plus the organization's glossary source words. */
  vocabulary: readonly string[];
  /** The config's `translation_dictionary` merged with the organization's glossary (config first). */
  dictionary: readonly DictionaryEntry[];
  /** Engine names of the stream's providers (`pocketsphinx`, `apertium`, `espeak-ng`). */
  providers: { stt: string; translator: string; tts: string };
  /** From the admission check (Part 2 step 2); {@link DEFAULT_TIER} when there is none. */
  tier?: number | undefined;
  /**
   * Gateway-side identity added to `metadata`; it wins over client keys of the same name. Absent
   * for a conversation (spec 003), whose capability is its id, not a key.
   */
  organizationId?: string | undefined;
  apiKeyId?: string | undefined;
  /** For a conversation's connection (spec 003). */
  conversationId?: string | undefined;
  /** `translator.mode` (default `synchronous`); `none` for a conversation room's speaker (see {@link TRANSLATOR_MODES}). */
  translatorMode?: (typeof TRANSLATOR_MODES)[number] | undefined;
  /** For a platform session's `streamToken` (spec 000). */
  sessionId?: string | undefined;
  participantId?: string | undefined;
}

/** A request id in the spec's style: `api-<epoch ms>-<11 base-36 chars>`. */
export function newRequestId(nowMs: number = Date.now()): string {
  const random = [...randomBytes(11)].map((b) => (b % 36).toString(36)).join('');
  return `api-${nowMs}-${random}`;
}

/**
 * Source → target object of spec 002 Part 3 `translator.dictionary`. The first entry of a source
 * term wins (entries come config first, glossary after), compared after trimming.
 */
export function dictionaryObject(entries: readonly DictionaryEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const source = e.source.trim();
    if (source && !Object.hasOwn(out, source)) out[source] = e.target;
  }
  return out;
}

/**
 * Part 2 step 3 ("Configuration Enrichment"): the merged configuration the gateway sends a worker
 * as leg 2's first frame, exactly the shape of spec 002 Part 3 "Initial Worker Message". Never sent
 * to the client.
 */
export function buildLeg2Config(input: Leg2ConfigInput): Leg2Config {
  const c = input.client;
  const vocabulary = [...input.vocabulary];
  const metadata: Record<string, unknown> = {
    ...(c.metadata ?? {}),
    ...(input.organizationId !== undefined ? { organization_id: input.organizationId } : {}),
    ...(input.apiKeyId !== undefined ? { api_key_id: input.apiKeyId } : {}),
    ...(input.conversationId !== undefined ? { conversation_id: input.conversationId } : {}),
    ...(input.sessionId !== undefined ? { session_id: input.sessionId } : {}),
    ...(input.participantId !== undefined ? { participant_id: input.participantId } : {}),
  };
  return {
    request_id: input.requestId,
    source_lang: input.sourceLanguage,
    target_lang: input.targetLanguage,
    audio: { format: c.audio.format, sample_rate: c.audio.sample_rate, channels: c.audio.channels },
    tier: input.tier ?? DEFAULT_TIER,
    translator: {
      provider: input.providers.translator,
      settings: null,
      mode: input.translatorMode ?? 'synchronous',
      vocabulary,
      dictionary: dictionaryObject(input.dictionary),
    },
    stt: {
      provider: input.providers.stt,
      settings: null,
      interim: c.transcript.interim,
      final: c.transcript.final,
      translate: c.transcript.translate,
      vocabulary: [...vocabulary],
    },
    tts: {
      provider: input.providers.tts,
      settings: null,
      voice: { id: c.voice, speed: 1, settings: null },
    },
    features: { ...(c.features ?? {}) },
    metadata,
  };
}
