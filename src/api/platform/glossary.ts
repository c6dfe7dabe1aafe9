import fastifyMultipart from '@fastify/multipart';
import { supportedPairs } from '../../providers/registry.js';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { recordAudit } from '../../domain/audit.js';
import {
  createGlossaryTerm, deleteGlossaryTerm, glossaryLanguagePairs, importGlossaryTerms, listGlossaryTerms,
  MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_TERM_LENGTH, resolveLanguagePair, updateGlossaryTerm, type GlossaryTerm,
} from '../../domain/glossary.js';
import { AppError } from '../../errors.js';
import { principalOf, requireRole } from './auth.js';
import { handlePlatformError } from './errors.js';
import type { PlatformRoutePlugin } from './index.js';
import { errorResponses, idParams, successResponse } from './schemas.js';

const term = (what: string) => z.string().trim().min(1).max(MAX_TERM_LENGTH)
  .regex(/^\P{Cc}*$/u, 'must not contain line breaks or other control characters')
  .describe(`${what} (1–${MAX_TERM_LENGTH} characters, trimmed)`);
const languagePair = z.string().min(1).max(20).describe('`<source>-<target>` primary language subtags, e.g. "en-es"; must be a pair the installed engines translate');

const termBody = z.object({ id: z.string(), source_term: z.string(), target_term: z.string(), language_pair: z.string() });
const createBody = z.object({ source_term: term('Term in the source language'), target_term: term('Translation in the target language'), language_pair: languagePair });
const patchBody = z.object({ source_term: term('Updated source term').optional(), target_term: term('Updated translation').optional() });
const importResult = z.object({
  imported: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative().describe('Duplicates: source terms the pair already has, or repeated in the file'),
  errors: z.array(z.object({ row: z.number().int().positive().describe('1-based line of the file'), message: z.string() })),
});

// Documents the multipart form in /api/openapi.json; the multipart parser leaves request.body null, so
// the schema must accept that (the handler reads the parts itself).
const importForm = z.object({
  file: z.string().meta({ format: 'binary' }).describe('CSV or TXT file: source_term, target_term, language_pair'),
}).nullish();

const IMPORT_DESCRIPTION = `multipart/form-data with a \`file\` field: CSV (or TXT, tab-separated) with columns source_term, target_term, language_pair; header row optional. At most ${MAX_IMPORT_ROWS} rows and ${MAX_IMPORT_BYTES} bytes. Cells starting with =, +, -, @, tab or CR are stored prefixed with a single quote. Requires the admin or owner role.`;

function shapeOf(t: GlossaryTerm): z.infer<typeof termBody> {
  return { id: t.id, source_term: t.sourceTerm, target_term: t.targetTerm, language_pair: t.languagePair };
}

/**
 * The glossary of spec 000 "Glossary", for the caller's organization only: list, create, update,
 * delete, and bulk import (owner/admin). Another organization's term ids answer 404 `NOT_FOUND`;
 * a source term the pair already has answers 409 `CONFLICT`; a `language_pair` the installed engines
 * do not translate answers 400 `BAD_REQUEST` listing the supported pairs.
 */
export const glossaryRoutes: PlatformRoutePlugin = async (app: FastifyInstance, ctx: AppContext): Promise<void> => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const supported = glossaryLanguagePairs(supportedPairs(ctx.engines));

  r.get('/glossary', {
    schema: { tags: ['glossary'], summary: 'List the organization\'s glossary terms', response: { 200: z.object({ terms: z.array(termBody) }), ...errorResponses } },
  }, async (request) => ({ terms: (await listGlossaryTerms(ctx.db, principalOf(request).organizationId)).map(shapeOf) }));

  r.get('/glossary/language-pairs', {
    schema: {
      tags: ['glossary'], summary: 'The language pairs a term may have: those the installed engines translate',
      response: { 200: z.object({ language_pairs: z.array(z.string()).describe('`<source>-<target>` in lower case, sorted, e.g. ["en-ca","en-es"]') }), ...errorResponses },
    },
  }, async () => ({ language_pairs: supported }));

  r.post('/glossary', {
    schema: { tags: ['glossary'], summary: 'Create a glossary term', body: createBody, response: { 200: termBody, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const created = await createGlossaryTerm(ctx.db, {
      organizationId: principal.organizationId, sourceTerm: request.body.source_term, targetTerm: request.body.target_term,
      languagePair: resolveLanguagePair(request.body.language_pair, supported),
    });
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'glossary_term.created', targetId: created.id });
    return shapeOf(created);
  });

  r.patch('/glossary/:id', {
    schema: { tags: ['glossary'], summary: 'Update a glossary term', params: idParams, body: patchBody, response: { 200: termBody, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    const { source_term: sourceTerm, target_term: targetTerm } = request.body;
    if (sourceTerm === undefined && targetTerm === undefined) throw new AppError('BAD_REQUEST', 'Nothing to update: send source_term and/or target_term');
    const updated = await updateGlossaryTerm(ctx.db, { organizationId: principal.organizationId, id: request.params.id, sourceTerm, targetTerm });
    if (!updated) throw new AppError('NOT_FOUND', `Glossary term ${request.params.id} not found`);
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'glossary_term.updated', targetId: updated.id });
    return shapeOf(updated);
  });

  r.delete('/glossary/:id', {
    schema: { tags: ['glossary'], summary: 'Delete a glossary term', params: idParams, response: { 200: successResponse, ...errorResponses } },
  }, async (request) => {
    const principal = principalOf(request);
    if (!(await deleteGlossaryTerm(ctx.db, principal.organizationId, request.params.id))) {
      throw new AppError('NOT_FOUND', `Glossary term ${request.params.id} not found`);
    }
    await recordAudit(ctx.db, { organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'glossary_term.deleted', targetId: request.params.id });
    return { success: true as const };
  });

  // Multipart parsing stays inside this scope: no other route accepts multipart bodies.
  await app.register(async (scope) => {
    await scope.register(fastifyMultipart, { limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, parts: 11 } });
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      // Other content types stop at Fastify's parser (415) before the handler can explain the format.
      const wrongType = error.statusCode === 415 || error.statusCode === 406;
      handlePlatformError(wrongType ? notMultipart() : error, request, reply);
    });
    scope.withTypeProvider<ZodTypeProvider>().post('/glossary/import', {
      preHandler: requireRole('admin'),
      schema: { tags: ['glossary'], summary: 'Bulk-import glossary terms from a CSV or TXT file (owner/admin)', description: IMPORT_DESCRIPTION, consumes: ['multipart/form-data'], body: importForm, response: { 200: importResult, ...errorResponses } },
    }, async (request) => {
      const principal = principalOf(request);
      const file = await uploadedFile(request);
      const result = await importGlossaryTerms(ctx.db, { organizationId: principal.organizationId, file, supportedPairs: supported });
      await recordAudit(ctx.db, {
        organizationId: principal.organizationId, actorKeyId: principal.keyId, action: 'glossary.imported',
        detail: { imported: result.imported, skipped: result.skipped, errors: result.errors.length },
      });
      return result;
    });
  });
};

function notMultipart(): AppError {
  return new AppError('BAD_REQUEST', 'Send multipart/form-data with the file in a field named "file" (e.g. curl -F file=@terms.csv)');
}

/**
 * The bytes of the `file` part of a multipart request; other parts are read and discarded.
 * @throws {AppError} BAD_REQUEST when the request is not multipart, has no `file` part, or the file
 * is larger than {@link MAX_IMPORT_BYTES}.
 */
async function uploadedFile(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart()) throw notMultipart();
  let file: Buffer | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file' && part.fieldname === 'file' && !file) file = await part.toBuffer();
      else if (part.type === 'file') part.file.resume();
    }
  } catch (error) {
    if ((error as FastifyError).code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('BAD_REQUEST', `The file is larger than ${MAX_IMPORT_BYTES} bytes (1 MB); split it into several files. Nothing was imported`);
    }
    if (error instanceof AppError || (error as FastifyError).statusCode !== undefined) throw error;
    // busboy's own errors (no boundary, body cut short) are the client's malformed request.
    throw new AppError('BAD_REQUEST', `Malformed multipart/form-data body: ${(error as Error).message}`);
  }
  if (!file) throw notMultipart();
  return file;
}
