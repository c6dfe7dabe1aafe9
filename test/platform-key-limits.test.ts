import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from '../src/domain/api-keys.js';
import { closeEngines } from '../src/providers/index.js';
import { startTestServer, testEngines } from './helpers.js';

describe('API keys an organization can mint', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    server = await startTestServer({ maxApiKeysPerOrg: 4 });
  });
  after(async () => {
    await server.close();
    await closeEngines(await testEngines());
  });

  it('a member key cannot mint keys without bound: the organization holds at most TOLK_MAX_API_KEYS_PER_ORG (409 past it)', async () => {
    const member = (await createApiKey(server.ctx.db, { organizationName: 'default', name: 'member', role: 'member' })).key;
    const mint = (key: string, role = 'member') => server.app.inject({ method: 'POST', url: '/api/api-keys', headers: { authorization: `Bearer ${key}` }, payload: { name: 'minted', role } });
    assert.equal((await mint(member, 'admin')).statusCode, 403, 'no key of more privilege than its own');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await mint(member)).statusCode);
    assert.deepEqual(statuses, [200, 200, 409, 409], 'the owner key, the member key and two minted ones fill the cap of 4');
    const refused = await mint(server.apiKey);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ error: { code: string; message: string } }>().error.code, 'CONFLICT');
    assert.match(refused.json<{ error: { message: string } }>().error.message, /holds 4 API keys.*TOLK_MAX_API_KEYS_PER_ORG/);
  });
});
