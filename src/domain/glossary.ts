import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { glossaryTerms } from '../db/schema.js';
import { primaryLanguage } from '../providers/registry.js';

/** A source → target term pair as the pipeline enforces it. */
export interface DictionaryTerm {
  source: string;
  target: string;
}

/**
 * The `language_pair` value of spec 000 for two BCP-47 tags: primary subtags joined by `-`
 * (`en-US` → `es-MX` is `en-es`).
 */
export function languagePairOf(sourceLang: string, targetLang: string): string {
  return `${primaryLanguage(sourceLang)}-${primaryLanguage(targetLang)}`;
}

/**
 * An organization's glossary for one language pair, as a dictionary the pipeline enforces in MT and
 * turns into STT vocabulary (spec 000 "Glossary"; DESIGN §3).
 */
export async function glossaryTermsFor(db: Database, organizationId: string, sourceLang: string, targetLang: string): Promise<DictionaryTerm[]> {
  const rows = await db
    .select({ source: glossaryTerms.sourceTerm, target: glossaryTerms.targetTerm })
    .from(glossaryTerms)
    .where(and(eq(glossaryTerms.organizationId, organizationId), eq(glossaryTerms.languagePair, languagePairOf(sourceLang, targetLang))));
  return rows;
}
