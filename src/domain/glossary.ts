import { parse as parseCsv } from 'csv-parse/sync';
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { glossaryTerms } from '../db/schema.js';
import { AppError } from '../errors.js';
import { primaryLanguage } from '../common/language-tags.js';
import { newId } from './api-keys.js';

/** A source → target term pair as the pipeline enforces it. */
export interface DictionaryTerm {
  source: string;
  target: string;
}

/** Longest accepted source or target term, in characters (after trimming). */
export const MAX_TERM_LENGTH = 200;
/** Largest accepted import file, in bytes (1 MiB; spec 000 "Max … 1 MB"). */
export const MAX_IMPORT_BYTES = 1_048_576;
/** Most data rows (header and blank lines excluded) one import may hold (spec 000 "Max 5,000 rows"). */
export const MAX_IMPORT_ROWS = 5_000;

/** One stored glossary term of an organization (spec 000 "Glossary"). */
export interface GlossaryTerm {
  /** `gloss_…` */
  id: string;
  sourceTerm: string;
  targetTerm: string;
  /** `<source>-<target>` primary language subtags, lower case (`en-es`). */
  languagePair: string;
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
 * turns into STT vocabulary (spec 000 "Glossary"; docs/architecture.md "The pipeline").
 */
export async function glossaryTermsFor(db: Database, organizationId: string, sourceLang: string, targetLang: string): Promise<DictionaryTerm[]> {
  const rows = await db
    .select({ source: glossaryTerms.sourceTerm, target: glossaryTerms.targetTerm })
    .from(glossaryTerms)
    .where(and(eq(glossaryTerms.organizationId, organizationId), eq(glossaryTerms.languagePair, languagePairOf(sourceLang, targetLang))));
  return rows;
}

/**
 * The language pairs a glossary may be kept for: those the installed engines translate, sorted
 * (`en-es`, …). `pairs` come from `supportedPairs` of the provider registry.
 */
export function glossaryLanguagePairs(pairs: ReadonlyArray<{ source: string; target: string }>): string[] {
  return [...new Set(pairs.map((p) => `${p.source}-${p.target}`))].sort();
}

/**
 * Checks a `language_pair` against the installed pairs: `<source>-<target>` primary subtags (2–3
 * letters each, any case, surrounding spaces ignored), e.g. `en-es` or `EN-ES`.
 * @returns the pair in lower case.
 * @throws {AppError} BAD_REQUEST naming the supported pairs when malformed or not installed.
 */
export function resolveLanguagePair(input: string, supported: readonly string[]): string {
  const pair = input.trim().toLowerCase();
  const listed = supported.join(', ') || 'none';
  if (!/^[a-z]{2,3}-[a-z]{2,3}$/.test(pair)) {
    throw new AppError('BAD_REQUEST', `Invalid language_pair "${input}": use <source>-<target> primary language subtags such as en-es; supported: ${listed}`);
  }
  if (!supported.includes(pair)) throw new AppError('BAD_REQUEST', `Unsupported language_pair "${pair}"; supported: ${listed}`);
  return pair;
}

const columns = { id: glossaryTerms.id, sourceTerm: glossaryTerms.sourceTerm, targetTerm: glossaryTerms.targetTerm, languagePair: glossaryTerms.languagePair };

/** Every term of an organization, by language pair then source term (spec 000 `GET /api/glossary`). */
export async function listGlossaryTerms(db: Database, organizationId: string): Promise<GlossaryTerm[]> {
  return db.select(columns).from(glossaryTerms).where(eq(glossaryTerms.organizationId, organizationId))
    .orderBy(asc(glossaryTerms.languagePair), asc(glossaryTerms.sourceTerm));
}

/** Terms match case-insensitively in the pipeline, so `Aspirin` and `aspirin` are one term. */
async function assertSourceTermFree(db: Database, organizationId: string, languagePair: string, sourceTerm: string, exceptId?: string): Promise<void> {
  const found = await db.select({ id: glossaryTerms.id }).from(glossaryTerms).where(and(
    eq(glossaryTerms.organizationId, organizationId),
    eq(glossaryTerms.languagePair, languagePair),
    sql`lower(${glossaryTerms.sourceTerm}) = lower(${sourceTerm})`,
    ...(exceptId ? [ne(glossaryTerms.id, exceptId)] : []),
  )).limit(1);
  if (found[0]) throw duplicateTerm(sourceTerm, languagePair, found[0].id);
}

function duplicateTerm(sourceTerm: string, languagePair: string, existingId?: string): AppError {
  const which = existingId ? ` (${existingId})` : '';
  return new AppError('CONFLICT', `The glossary already has the source term "${sourceTerm}" for ${languagePair}${which}; update that term instead`);
}

/** True for Postgres' unique_violation (23505), however drizzle wraps it. */
function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * Adds a term (spec 000 `POST /api/glossary`). Terms are stored as given (already trimmed and
 * bounded by the caller); `languagePair` must be normalized (see {@link resolveLanguagePair}).
 * @throws {AppError} CONFLICT when the pair already has this source term (compared case-insensitively).
 */
export async function createGlossaryTerm(
  db: Database,
  options: { organizationId: string; sourceTerm: string; targetTerm: string; languagePair: string },
): Promise<GlossaryTerm> {
  await assertSourceTermFree(db, options.organizationId, options.languagePair, options.sourceTerm);
  const inserted = await db.insert(glossaryTerms).values({ id: newId('gloss'), ...options }).onConflictDoNothing().returning(columns);
  if (!inserted[0]) throw duplicateTerm(options.sourceTerm, options.languagePair);
  return inserted[0];
}

/**
 * Changes a term's source and/or target (spec 000 `PATCH /api/glossary/:id`).
 * @returns undefined when the organization has no such term (another organization's id included).
 * @throws {AppError} CONFLICT when the new source term is another term's of the same pair.
 */
export async function updateGlossaryTerm(
  db: Database,
  options: { organizationId: string; id: string; sourceTerm?: string | undefined; targetTerm?: string | undefined },
): Promise<GlossaryTerm | undefined> {
  const owned = and(eq(glossaryTerms.id, options.id), eq(glossaryTerms.organizationId, options.organizationId));
  const current = (await db.select(columns).from(glossaryTerms).where(owned).limit(1))[0];
  if (!current) return undefined;
  if (options.sourceTerm !== undefined) await assertSourceTermFree(db, options.organizationId, current.languagePair, options.sourceTerm, current.id);
  const changes = {
    ...(options.sourceTerm !== undefined ? { sourceTerm: options.sourceTerm } : {}),
    ...(options.targetTerm !== undefined ? { targetTerm: options.targetTerm } : {}),
    updatedAt: new Date(),
  };
  try {
    const updated = await db.update(glossaryTerms).set(changes).where(owned).returning(columns);
    return updated[0];
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateTerm(options.sourceTerm ?? current.sourceTerm, current.languagePair);
    throw error;
  }
}

/**
 * Deletes a term (spec 000 `DELETE /api/glossary/:id`).
 * @returns false when the organization has no such term.
 */
export async function deleteGlossaryTerm(db: Database, organizationId: string, id: string): Promise<boolean> {
  const deleted = await db.delete(glossaryTerms)
    .where(and(eq(glossaryTerms.id, id), eq(glossaryTerms.organizationId, organizationId)))
    .returning({ id: glossaryTerms.id });
  return deleted.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Bulk import (spec 000 `POST /api/glossary/import`)
// ---------------------------------------------------------------------------------------------

/** A row the import could not take: `row` is the 1-based line of the file where the row starts. */
export interface ImportRowError {
  row: number;
  message: string;
}

/** What an import did: `skipped` counts duplicates (already stored, or repeated in the file). */
export interface ImportResult {
  imported: number;
  skipped: number;
  errors: ImportRowError[];
}

/** One non-blank record of an import file, with the 1-based line it starts on. */
export interface GlossaryFileRecord {
  row: number;
  cells: string[];
}

const FORMULA_START = /^[=+\-@\t\r]/;
const HEADER = ['source_term', 'target_term', 'language_pair'] as const;

/**
 * Neutralizes a spreadsheet formula (CSV injection, OWASP): a cell that starts with `=`, `+`, `-`,
 * `@`, tab or carriage return, before or after trimming, is returned trimmed and prefixed with a
 * single quote (`=SUM(A1)` → `'=SUM(A1)`, `-ase` → `'-ase`); any other cell is returned trimmed.
 */
export function neutralizeFormula(cell: string): string {
  const trimmed = cell.trim();
  return FORMULA_START.test(cell) || FORMULA_START.test(trimmed) ? `'${trimmed}` : trimmed;
}

/** The field delimiter of a file: tab when its first line has one, else comma, else semicolon. */
function detectDelimiter(text: string): string {
  const firstLine = /^[^\r\n]*/.exec(text.replace(/^\uFEFF/, '').replace(/^[\r\n]+/, ''))?.[0] ?? '';
  if (firstLine.includes('\t')) return '\t';
  if (firstLine.includes(',') || !firstLine.includes(';')) return ',';
  return ';';
}

/** 1-based line number of each byte offset asked for in increasing order (CRLF, LF or CR endings). */
function lineCounter(file: Buffer): (offset: number) => number {
  let position = 0;
  let line = 1;
  return (offset) => {
    for (; position < offset && position < file.length; position++) {
      const byte = file[position];
      if (byte === 0x0a || (byte === 0x0d && file[position + 1] !== 0x0a)) line++;
    }
    return line;
  };
}

/**
 * Reads an import file (CSV, or TXT separated by tabs; UTF-8, BOM allowed) into its non-blank
 * records with their line numbers, the optional `source_term,target_term,language_pair` header
 * dropped. A record csv-parse cannot read (an unclosed quote swallows the rest of the file) is
 * reported, not thrown.
 * @throws {AppError} BAD_REQUEST when the file has more than {@link MAX_IMPORT_ROWS} data rows.
 */
export function readGlossaryFile(file: Buffer): { records: GlossaryFileRecord[]; errors: ImportRowError[] } {
  const lineAt = lineCounter(file);
  const errors: ImportRowError[] = [];
  let recordStart = 0;
  const parsed: GlossaryFileRecord[] = [];
  parseCsv(file, {
    bom: true, delimiter: detectDelimiter(file.toString('utf8', 0, 4096)),
    relax_column_count: true, relax_quotes: true, skip_empty_lines: false, skip_records_with_error: true,
    on_skip: (error) => {
      errors.push({ row: lineAt(recordStart), message: `Unreadable row: ${error?.message ?? 'invalid CSV'}` });
      return undefined;
    },
    on_record: (cells, context) => {
      parsed.push({ row: lineAt(recordStart), cells });
      recordStart = context.bytes;
      return null; // collected above, with the line the record starts on
    },
  });
  let records = parsed.filter((r) => r.cells.some((cell) => cell.trim() !== ''));
  const first = records[0]?.cells.map((cell) => cell.trim().toLowerCase().replace(/\s+/g, '_'));
  if (first && HEADER.every((name, i) => first[i] === name) && first.length === HEADER.length) records = records.slice(1);
  if (records.length > MAX_IMPORT_ROWS) {
    throw new AppError('BAD_REQUEST', `The file has ${records.length} rows; an import takes at most ${MAX_IMPORT_ROWS}. Split it into several files; nothing was imported`);
  }
  return { records, errors };
}

type ImportCandidate = { sourceTerm: string; targetTerm: string; languagePair: string };

function termProblem(name: string, cell: string): string | undefined {
  const term = cell.trim();
  if (term === '') return `${name} is empty`;
  if (term.length > MAX_TERM_LENGTH) return `${name} is longer than ${MAX_TERM_LENGTH} characters`;
  if (/\p{Cc}/u.test(term)) return `${name} contains a line break or another control character`;
  return undefined;
}

/** Validates one record into a term to store, or says what is wrong with it. */
function candidateOf(cells: string[], supported: readonly string[]): ImportCandidate | string {
  if (cells.length !== HEADER.length) {
    return `Expected ${HEADER.length} columns (source_term, target_term, language_pair), found ${cells.length}`;
  }
  const [source = '', target = '', pair = ''] = cells;
  const problem = termProblem('source_term', source) ?? termProblem('target_term', target);
  if (problem) return problem;
  try {
    const languagePair = resolveLanguagePair(pair, supported);
    return { sourceTerm: neutralizeFormula(source), targetTerm: neutralizeFormula(target), languagePair };
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
}

const termKey = (languagePair: string, sourceTerm: string): string => `${languagePair}\u0000${sourceTerm.toLowerCase()}`;
const INSERT_BATCH_ROWS = 1_000;

/**
 * Bulk-imports glossary terms (spec 000 `POST /api/glossary/import`) from a file read by
 * {@link readGlossaryFile}: each row is `source_term, target_term, language_pair`. Malformed rows
 * (column count, empty or over-long term, unknown or uninstalled pair) are reported by line and not
 * imported; a source term the pair already has, or that an earlier row of the file has (compared
 * case-insensitively), is skipped. Cells are neutralized with {@link neutralizeFormula}. Valid rows
 * are inserted in batches in one transaction.
 * @throws {AppError} BAD_REQUEST when the file has too many rows (nothing is imported).
 */
export async function importGlossaryTerms(
  db: Database,
  options: { organizationId: string; file: Buffer; supportedPairs: readonly string[] },
): Promise<ImportResult> {
  const { records, errors } = readGlossaryFile(options.file);
  const candidates: ImportCandidate[] = [];
  for (const record of records) {
    const candidate = candidateOf(record.cells, options.supportedPairs);
    if (typeof candidate === 'string') errors.push({ row: record.row, message: candidate });
    else candidates.push(candidate);
  }
  errors.sort((a, b) => a.row - b.row);
  const pairs = [...new Set(candidates.map((c) => c.languagePair))];
  const seen = new Set<string>();
  if (pairs.length > 0) {
    const stored = await db.select({ languagePair: glossaryTerms.languagePair, sourceTerm: glossaryTerms.sourceTerm }).from(glossaryTerms)
      .where(and(eq(glossaryTerms.organizationId, options.organizationId), inArray(glossaryTerms.languagePair, pairs)));
    for (const term of stored) seen.add(termKey(term.languagePair, term.sourceTerm));
  }
  const fresh = candidates.filter((c) => {
    const key = termKey(c.languagePair, c.sourceTerm);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const imported = await db.transaction(async (tx) => {
    let count = 0;
    for (let i = 0; i < fresh.length; i += INSERT_BATCH_ROWS) {
      const batch = fresh.slice(i, i + INSERT_BATCH_ROWS).map((c) => ({ id: newId('gloss'), organizationId: options.organizationId, ...c }));
      count += (await tx.insert(glossaryTerms).values(batch).onConflictDoNothing().returning({ id: glossaryTerms.id })).length;
    }
    return count;
  });
  return { imported, skipped: candidates.length - imported, errors };
}
