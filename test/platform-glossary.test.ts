import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { glossaryTerms } from '../src/db/schema.js';
import { createApiKey } from '../src/domain/api-keys.js';
import { glossaryTermsFor, MAX_IMPORT_BYTES } from '../src/domain/glossary.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, unknown>;
interface ImportBody { imported: number; skipped: number; errors: Array<{ row: number; message: string }> }
interface TermBody { id: string; source_term: string; target_term: string; language_pair: string }

describe('platform glossary (spec 000 "Glossary")', () => {
  let server: Server;
  let ownerKey: string;
  let memberKey: string;
  let adminKey: string;
  let otherOrgKey: string;
  let orgId: string;
  let importOrgKey: string;
  let importOrgId: string;

  before(async () => {
    server = await startTestServer({ rateLimitPerMin: 100_000 });
    ownerKey = server.apiKey;
    const member = await createApiKey(server.ctx.db, { organizationName: 'default', role: 'member' });
    memberKey = member.key;
    orgId = member.organizationId;
    adminKey = (await createApiKey(server.ctx.db, { organizationName: 'default', role: 'admin' })).key;
    otherOrgKey = (await createApiKey(server.ctx.db, { organizationName: 'other', role: 'owner' })).key;
    // Imports run in their own organization so their counts do not depend on the CRUD tests.
    const importer = await createApiKey(server.ctx.db, { organizationName: 'importer', role: 'owner' });
    importOrgKey = importer.key;
    importOrgId = importer.organizationId;
  });

  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, key: string | undefined, payload?: Json) {
    const response = await server.app.inject({
      method, url, ...(payload ? { payload } : {}), headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: response.statusCode, body: response.json<Json>() };
  }

  async function upload(content: string | Buffer, key: string, filename = 'terms.csv', type = 'text/csv'): Promise<{ status: number; body: Json }> {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), filename);
    const response = await fetch(`${server.url}/api/glossary/import`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as Json };
  }

  function errorCode(body: Json): unknown {
    return (body.error as Json | undefined)?.code;
  }

  async function storedTerms(organizationId: string): Promise<Array<{ sourceTerm: string; targetTerm: string; languagePair: string }>> {
    return server.ctx.db.select({ sourceTerm: glossaryTerms.sourceTerm, targetTerm: glossaryTerms.targetTerm, languagePair: glossaryTerms.languagePair })
      .from(glossaryTerms).where(eq(glossaryTerms.organizationId, organizationId));
  }

  async function clearImports(): Promise<void> {
    await server.ctx.db.delete(glossaryTerms).where(eq(glossaryTerms.organizationId, importOrgId));
  }

  describe('CRUD', () => {
    it('creates, lists, updates and deletes a term with the documented shapes', async () => {
      const created = await call('POST', '/api/glossary', ownerKey, { source_term: '  myocardial ', target_term: 'miocardial', language_pair: 'EN-ES' });
      assert.equal(created.status, 200);
      const term = created.body as unknown as TermBody;
      assert.match(term.id, /^gloss_[0-9A-Za-z]{20}$/);
      assert.deepEqual(created.body, { id: term.id, source_term: 'myocardial', target_term: 'miocardial', language_pair: 'en-es' });

      const listed = await call('GET', '/api/glossary', memberKey);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body, { terms: [{ id: term.id, source_term: 'myocardial', target_term: 'miocardial', language_pair: 'en-es' }] });

      const patched = await call('PATCH', `/api/glossary/${term.id}`, ownerKey, { target_term: 'del miocardio' });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body, { id: term.id, source_term: 'myocardial', target_term: 'del miocardio', language_pair: 'en-es' });
      const renamed = await call('PATCH', `/api/glossary/${term.id}`, ownerKey, { source_term: 'myocardium', target_term: 'miocardio' });
      assert.deepEqual(renamed.body, { id: term.id, source_term: 'myocardium', target_term: 'miocardio', language_pair: 'en-es' });
      assert.deepEqual(await glossaryTermsFor(server.ctx.db, orgId, 'en-US', 'es-MX'), [{ source: 'myocardium', target: 'miocardio' }]);

      const deleted = await call('DELETE', `/api/glossary/${term.id}`, ownerKey);
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, { success: true });
      assert.deepEqual((await call('GET', '/api/glossary', ownerKey)).body, { terms: [] });
      assert.equal((await call('DELETE', `/api/glossary/${term.id}`, ownerKey)).status, 404);
    });

    it('answers 401 without a key or with an unknown key', async () => {
      for (const key of [undefined, 'ip_live_00000000000000000000000000000000']) {
        const res = await call('GET', '/api/glossary', key);
        assert.equal(res.status, 401);
        assert.equal(errorCode(res.body), 'UNAUTHORIZED');
      }
      assert.equal((await call('POST', '/api/glossary', undefined, { source_term: 'a', target_term: 'b', language_pair: 'en-es' })).status, 401);
    });

    it('lists the language pairs a term may have (the pairs the installed engines translate), to any key', async () => {
      const res = await call('GET', '/api/glossary/language-pairs', memberKey);
      assert.equal(res.status, 200);
      const pairs = res.body.language_pairs as string[];
      assert.ok(pairs.includes('en-es') && pairs.includes('en-gl'), JSON.stringify(pairs));
      assert.deepEqual(pairs, [...pairs].sort());
      const refused = await call('POST', '/api/glossary', ownerKey, { source_term: 'a', target_term: 'b', language_pair: 'en-fr' });
      assert.match(String((refused.body.error as Json).message), new RegExp(`supported: ${pairs.join(', ')}$`));
      assert.equal((await call('GET', '/api/glossary/language-pairs', undefined)).status, 401);
    });

    it('answers 400 for invalid bodies, naming the problem', async () => {
      const cases: Array<{ payload: Json; message: RegExp }> = [
        { payload: { target_term: 'b', language_pair: 'en-es' }, message: /source_term/ },
        { payload: { source_term: '   ', target_term: 'b', language_pair: 'en-es' }, message: /source_term/ },
        { payload: { source_term: 'a'.repeat(201), target_term: 'b', language_pair: 'en-es' }, message: /source_term/ },
        { payload: { source_term: 'a\nb', target_term: 'b', language_pair: 'en-es' }, message: /control characters/ },
        { payload: { source_term: 'a', target_term: 'b', language_pair: 'english-spanish' }, message: /Invalid language_pair "english-spanish".*supported: .*en-es/ },
        { payload: { source_term: 'a', target_term: 'b', language_pair: 'en-fr' }, message: /Unsupported language_pair "en-fr"; supported: en-ca, en-en, en-eo, en-es, en-gl/ },
        { payload: { source_term: 'a', target_term: 'b', language_pair: 'es-en' }, message: /Unsupported language_pair "es-en"/ },
      ];
      for (const { payload, message } of cases) {
        const res = await call('POST', '/api/glossary', ownerKey, payload);
        assert.equal(res.status, 400, JSON.stringify(payload));
        assert.equal(errorCode(res.body), 'BAD_REQUEST');
        assert.match(String((res.body.error as Json).message), message);
      }
      const created = await call('POST', '/api/glossary', ownerKey, { source_term: 'stent', target_term: 'stent', language_pair: 'en-es' });
      const id = String(created.body.id);
      const empty = await call('PATCH', `/api/glossary/${id}`, ownerKey, {});
      assert.equal(empty.status, 400);
      assert.match(String((empty.body.error as Json).message), /Nothing to update/);
      assert.equal((await call('PATCH', `/api/glossary/${id}`, ownerKey, { target_term: '' })).status, 400);
      assert.equal((await call('DELETE', `/api/glossary/${id}`, ownerKey)).status, 200);
    });

    it('answers 409 for a duplicate source term of the same pair (case-insensitive), also on rename', async () => {
      const first = await call('POST', '/api/glossary', ownerKey, { source_term: 'Aspirin', target_term: 'aspirina', language_pair: 'en-es' });
      assert.equal(first.status, 200);
      for (const sourceTerm of ['Aspirin', 'aspirin']) {
        const dup = await call('POST', '/api/glossary', ownerKey, { source_term: sourceTerm, target_term: 'otra', language_pair: 'en-es' });
        assert.equal(dup.status, 409);
        assert.equal(errorCode(dup.body), 'CONFLICT');
      }
      const otherPair = await call('POST', '/api/glossary', ownerKey, { source_term: 'Aspirin', target_term: 'aspirina', language_pair: 'en-ca' });
      assert.equal(otherPair.status, 200);
      const second = await call('POST', '/api/glossary', ownerKey, { source_term: 'ibuprofen', target_term: 'ibuprofeno', language_pair: 'en-es' });
      const clash = await call('PATCH', `/api/glossary/${String(second.body.id)}`, ownerKey, { source_term: 'ASPIRIN' });
      assert.equal(clash.status, 409);
      assert.equal(errorCode(clash.body), 'CONFLICT');
      const sameTerm = await call('PATCH', `/api/glossary/${String(first.body.id)}`, ownerKey, { source_term: 'aspirin' });
      assert.equal(sameTerm.status, 200, 'renaming a term to its own source term in another case is not a conflict');
      for (const res of [first, otherPair, second]) assert.equal((await call('DELETE', `/api/glossary/${String(res.body.id)}`, ownerKey)).status, 200);
    });

    it('answers 404 for unknown ids and for another organization\'s ids, without touching them', async () => {
      const mine = await call('POST', '/api/glossary', ownerKey, { source_term: 'angina', target_term: 'angina de pecho', language_pair: 'en-es' });
      const id = String(mine.body.id);
      for (const [method, payload] of [['PATCH', { target_term: 'hijacked' }], ['DELETE', undefined]] as const) {
        const unknown = await call(method, '/api/glossary/gloss_doesnotexist', ownerKey, payload);
        assert.equal(unknown.status, 404);
        assert.equal(errorCode(unknown.body), 'NOT_FOUND');
        const foreign = await call(method, `/api/glossary/${id}`, otherOrgKey, payload);
        assert.equal(foreign.status, 404);
        assert.equal(errorCode(foreign.body), 'NOT_FOUND');
        assert.equal(String((foreign.body.error as Json).message), `Glossary term ${id} not found`);
      }
      assert.deepEqual((await call('GET', '/api/glossary', otherOrgKey)).body, { terms: [] });
      const stillMine = (await call('GET', '/api/glossary', ownerKey)).body.terms as TermBody[];
      assert.deepEqual(stillMine.find((t) => t.id === id), { id, source_term: 'angina', target_term: 'angina de pecho', language_pair: 'en-es' });
      assert.equal((await call('DELETE', `/api/glossary/${id}`, ownerKey)).status, 200);
    });

    it('documents the routes in /api/openapi.json under the glossary tag', async () => {
      const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { tags?: string[]; requestBody?: { content: Record<string, { schema: { properties: Json } }> } }>> }>();
      for (const [path, method] of [['/api/glossary', 'get'], ['/api/glossary/language-pairs', 'get'], ['/api/glossary', 'post'], ['/api/glossary/{id}', 'patch'], ['/api/glossary/{id}', 'delete'], ['/api/glossary/import', 'post']] as const) {
        assert.deepEqual(doc.paths[path]?.[method]?.tags, ['glossary'], `${method} ${path}`);
      }
      const form = doc.paths['/api/glossary/import']?.post?.requestBody?.content['multipart/form-data'];
      assert.deepEqual(Object.keys(form?.schema.properties ?? {}), ['file']);
    });
  });

  describe('import', () => {
    it('imports a CSV with a header, reports malformed rows by line, skips duplicates and neutralizes formulas', async () => {
      await clearImports();
      await call('POST', '/api/glossary', importOrgKey, { source_term: 'stent', target_term: 'endoprótesis', language_pair: 'en-es' });
      const csv = [
        'source_term,target_term,language_pair', // 1
        'myocardial,miocardial,en-es', // 2
        '', // 3
        'stent,stent,en-es', // 4: already stored → skipped
        'MYOCARDIAL,otra,EN-ES', // 5: repeated in the file → skipped
        'only two,columns', // 6
        ',empty source,en-es', // 7
        'tachycardia,taquicardia,en-fr', // 8: pair not installed
        '"=HYPERLINK(""http://x"")",formula,en-es', // 9
        '+1,-1,en-ca', // 10
        '@SUM(A1),"\tcmd",en-es', // 11
        '"multi', // 12
        'line",x,en-es', // 13
        'bradycardia,"bradicardia, sinusal",en-gl', // 14
      ].join('\r\n') + '\r\n';
      const res = await upload(csv, importOrgKey);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as unknown as ImportBody;
      assert.equal(body.imported, 5);
      assert.equal(body.skipped, 2);
      assert.deepEqual(body.errors.map((e) => e.row), [6, 7, 8, 12]);
      assert.match(body.errors[0]?.message ?? '', /Expected 3 columns.*found 2/);
      assert.match(body.errors[1]?.message ?? '', /source_term is empty/);
      assert.match(body.errors[2]?.message ?? '', /Unsupported language_pair "en-fr"; supported: /);
      assert.match(body.errors[3]?.message ?? '', /control character/);

      const stored = await storedTerms(importOrgId);
      const bySource = new Map(stored.map((t) => [t.sourceTerm, t]));
      assert.equal(stored.length, 6);
      assert.deepEqual(bySource.get('myocardial'), { sourceTerm: 'myocardial', targetTerm: 'miocardial', languagePair: 'en-es' });
      assert.deepEqual(bySource.get('stent'), { sourceTerm: 'stent', targetTerm: 'endoprótesis', languagePair: 'en-es' }, 'a skipped duplicate leaves the stored term as it was');
      assert.deepEqual(bySource.get('\'=HYPERLINK("http://x")'), { sourceTerm: '\'=HYPERLINK("http://x")', targetTerm: 'formula', languagePair: 'en-es' });
      assert.deepEqual(bySource.get('\'+1'), { sourceTerm: '\'+1', targetTerm: '\'-1', languagePair: 'en-ca' });
      assert.deepEqual(bySource.get('\'@SUM(A1)'), { sourceTerm: '\'@SUM(A1)', targetTerm: '\'cmd', languagePair: 'en-es' });
      assert.deepEqual(bySource.get('bradycardia'), { sourceTerm: 'bradycardia', targetTerm: 'bradicardia, sinusal', languagePair: 'en-gl' });

      const dictionary = await glossaryTermsFor(server.ctx.db, importOrgId, 'en-US', 'es-ES');
      assert.deepEqual(new Set(dictionary.map((t) => `${t.source}=${t.target}`)), new Set(['myocardial=miocardial', 'stent=endoprótesis', '\'=HYPERLINK("http://x")=formula', '\'@SUM(A1)=\'cmd']));
    });

    it('imports a tab-separated TXT file without a header', async () => {
      await clearImports();
      const txt = 'heart attack, acute\tinfarto agudo\ten-es\nfever\tfiebre\ten-es\n';
      const res = await upload(txt, importOrgKey, 'terms.txt', 'text/plain');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { imported: 2, skipped: 0, errors: [] });
      const dictionary = await glossaryTermsFor(server.ctx.db, importOrgId, 'en', 'es');
      assert.deepEqual(dictionary.map((t) => `${t.source}=${t.target}`).sort(), ['fever=fiebre', 'heart attack, acute=infarto agudo']);
    });

    it('imports exactly 5,000 rows in one request, and the pipeline lookup returns them', async (t) => {
      await clearImports();
      const rows = Array.from({ length: 5_000 }, (_, i) => `term${i},término${i},en-es`);
      const started = performance.now();
      const res = await upload(['source_term,target_term,language_pair', ...rows].join('\n'), importOrgKey);
      const elapsedMs = performance.now() - started;
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
      assert.deepEqual(res.body, { imported: 5_000, skipped: 0, errors: [] });
      assert.ok(elapsedMs < 10_000, `5,000 rows took ${Math.round(elapsedMs)} ms`);
      t.diagnostic(`5,000-row import over HTTP: ${Math.round(elapsedMs)} ms`);
      const dictionary = await glossaryTermsFor(server.ctx.db, importOrgId, 'en-US', 'es-ES');
      assert.equal(dictionary.length, 5_000);
      assert.deepEqual(dictionary.find((t) => t.source === 'term4999'), { source: 'term4999', target: 'término4999' });

      const again = await upload(rows.slice(0, 10).join('\n'), importOrgKey);
      assert.deepEqual(again.body, { imported: 0, skipped: 10, errors: [] });
    });

    it('rejects 5,001 rows with 400 and imports nothing', async () => {
      await clearImports();
      const rows = Array.from({ length: 5_001 }, (_, i) => `term${i},término${i},en-es`);
      const res = await upload(['source_term,target_term,language_pair', ...rows, '', ''].join('\n'), importOrgKey);
      assert.equal(res.status, 400);
      assert.equal(errorCode(res.body), 'BAD_REQUEST');
      assert.match(String((res.body.error as Json).message), /5001 rows.*at most 5000/);
      assert.equal((await storedTerms(importOrgId)).length, 0);
    });

    it('accepts a file of exactly 1 MiB and rejects one byte more with 400', async () => {
      await clearImports();
      const rows = Array.from({ length: 2_500 }, (_, i) => `${'s'.repeat(190)}${String(i).padStart(5, '0')},${'t'.repeat(190)},en-es`);
      const base = rows.join('\n') + '\n';
      const exact = base + '\n'.repeat(MAX_IMPORT_BYTES - Buffer.byteLength(base));
      assert.equal(Buffer.byteLength(exact), MAX_IMPORT_BYTES);
      const accepted = await upload(exact, importOrgKey);
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body).slice(0, 500));
      assert.equal((accepted.body as unknown as ImportBody).imported, 2_500);

      await clearImports();
      const tooLarge = await upload(exact + '\n', importOrgKey);
      assert.equal(tooLarge.status, 400);
      assert.equal(errorCode(tooLarge.body), 'BAD_REQUEST');
      assert.match(String((tooLarge.body.error as Json).message), /larger than 1048576 bytes/);
      assert.equal((await storedTerms(importOrgId)).length, 0);

      const farTooLarge = await upload(Buffer.alloc(5 * MAX_IMPORT_BYTES, 'a'), importOrgKey);
      assert.equal(farTooLarge.status, 400);
    });

    it('answers 403 for a member key and 401 without a key; admins may import', async () => {
      await clearImports();
      const forbidden = await upload('x,y,en-es\n', memberKey);
      assert.equal(forbidden.status, 403);
      assert.equal(errorCode(forbidden.body), 'FORBIDDEN');
      const anonymous = await fetch(`${server.url}/api/glossary/import`, { method: 'POST', body: new FormData() });
      assert.equal(anonymous.status, 401);
      const admin = await upload('admin term,término,en-es\n', adminKey);
      assert.deepEqual(admin.body, { imported: 1, skipped: 0, errors: [] });
      const deleted = await call('GET', '/api/glossary', adminKey);
      const id = (deleted.body.terms as TermBody[]).find((t) => t.source_term === 'admin term')?.id;
      assert.ok(id);
      assert.equal((await call('DELETE', `/api/glossary/${id}`, adminKey)).status, 200);
    });

    it('answers 400 when the request carries no file field or is not multipart', async () => {
      const form = new FormData();
      form.append('other', new Blob(['a,b,en-es']), 'terms.csv');
      const wrongField = await fetch(`${server.url}/api/glossary/import`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ownerKey}` } });
      assert.equal(wrongField.status, 400);
      const json = await call('POST', '/api/glossary/import', ownerKey, { file: 'a,b,en-es' });
      assert.equal(json.status, 400);
      assert.match(String((json.body.error as Json).message), /multipart\/form-data/);
      const csvBody = await server.app.inject({ method: 'POST', url: '/api/glossary/import', payload: 'a,b,en-es', headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'text/csv' } });
      assert.equal(csvBody.statusCode, 400);
      assert.equal(csvBody.json<Json>().error && (csvBody.json<{ error: Json }>().error.code), 'BAD_REQUEST');
      const noBoundary = await server.app.inject({ method: 'POST', url: '/api/glossary/import', payload: 'x', headers: { authorization: `Bearer ${ownerKey}`, 'content-type': 'multipart/form-data' } });
      assert.equal(noBoundary.statusCode, 400);
    });
  });
});
