import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { checkStreamAdmission, getOrganizationAdmission, MemoryStreamCounter, recordUsage } from '../src/domain/admission.js';
import { startServer } from '../src/server.js';
import { streamProviders } from '../src/gateway/stream-service.js';
import { closeTestEngines, testEngines } from './helpers.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

const CLI = path.resolve('src/cli/main.ts');

/** Runs the CLI in a child process (asynchronously: the server under test shares this event loop). */
async function runCli(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return stdout;
}

/** Runs the CLI expecting it to fail; returns its stderr. */
async function failingCli(args: string[]): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    assert.equal(e.code, 1);
    return e.stderr ?? '';
  }
  assert.fail(`tolk ${args.join(' ')} succeeded`);
}

interface OrgJson {
  org: string;
  organization_id: string;
  tier: number;
  tier_policy: string;
  minutes_balance_ms: number | null;
  max_concurrent_streams: number | null;
  translated_ms: number;
  engines: { stt?: string; translator?: string; tts?: string };
}

it('tolk orgs set/show work with and without a running server on the same data dir', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-orgs-'));
  const cli = async (args: string[]) => JSON.parse(await runCli([...args, '--json', '--data-dir', dataDir])) as OrgJson;
  try {
    // Without a server: created on set, defaults for what is not given.
    const offline = await cli(['orgs', 'set', '--org', 'clinic', '--max-streams', '1']);
    assert.match(offline.organization_id, /^org_/);
    assert.deepEqual(offline, {
      org: 'clinic', organization_id: offline.organization_id, tier: 1, tier_policy: 'standard', minutes_balance_ms: null, max_concurrent_streams: 1, translated_ms: 0, engines: {},
    });
    assert.match(await failingCli(['orgs', 'show', '--org', 'nobody', '--data-dir', dataDir]), /tolk: no organization named "nobody"/);
    assert.match(await failingCli(['orgs', 'set', '--org', 'clinic', '--data-dir', dataDir]), /nothing to set/);
    assert.match(await failingCli(['orgs', 'set', '--org', 'clinic', '--minutes', '-3', '--data-dir', dataDir]), /--minutes.*is invalid/);
    assert.match(await failingCli(['orgs', 'set', '--org', 'clinic', '--stt', 'Whisper Large', '--data-dir', dataDir]), /--stt.*is invalid.*engine id or module name/);

    const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' }), { engines: await testEngines(), adminSocket: true });
    try {
      // With the server holding the embedded database: through its admin socket, seen by its admission at once.
      const online = await cli(['orgs', 'set', '--org', 'clinic', '--tier', '0', '--minutes', '2.5', '--max-streams', 'unlimited']);
      assert.deepEqual(online, { ...offline, tier: 0, tier_policy: 'transcription', minutes_balance_ms: 150_000, max_concurrent_streams: null });
      assert.deepEqual(await cli(['orgs', 'show', '--org', 'clinic']), online);
      const stream = { organizationId: online.organization_id, sourceLanguage: 'en-US', targetLanguage: 'es-ES', voice: 'female' };
      const refused = await checkStreamAdmission(server.ctx.db, new MemoryStreamCounter(), stream);
      assert.equal(!refused.ok && refused.status, 400, 'tier 0 refuses translation');
      await cli(['orgs', 'set', '--org', 'clinic', '--minutes', '0']);
      const spent = await checkStreamAdmission(server.ctx.db, new MemoryStreamCounter(), { ...stream, targetLanguage: 'en-GB' });
      assert.equal(!spent.ok && spent.status, 402);
      assert.match(await failingCli(['orgs', 'show', '--org', 'nobody', '--data-dir', dataDir]), /tolk: no organization named "nobody"/);

      // Live usage is counted (and shown) whether or not Stripe is configured (docs/billing.md "Usage").
      await recordUsage(server.ctx.db, online.organization_id, 90_000);
      const text = await runCli(['orgs', 'show', '--org', 'clinic', '--data-dir', dataDir]);
      assert.match(text, /^Organization clinic \(org_\w+\)\n {2}tier: +0 \(transcription: the source language only; voices female\)\n {2}minutes balance: +-1\.5 minutes \(-90000 ms\)\n {2}max concurrent streams: unlimited\n {2}translated so far: +1\.5 minutes \(90000 ms; docs\/billing\.md\)\n {2}engines: +stt default, translator default, tts default\n$/);

      // Engine choice (docs/engines.md "Organizations"): stored with the organization, merged into leg 2's providers.
      const chosen = await cli(['orgs', 'set', '--org', 'clinic', '--stt', 'pocketsphinx', '--tts', 'espeak-ng', '--minutes', 'unlimited']);
      assert.deepEqual(chosen.engines, { stt: 'pocketsphinx', tts: 'espeak-ng' });
      const cleared = await cli(['orgs', 'set', '--org', 'clinic', '--tts', 'default', '--translator', 'apertium']);
      assert.deepEqual(cleared.engines, { stt: 'pocketsphinx', translator: 'apertium' });
      const admitted = await checkStreamAdmission(server.ctx.db, new MemoryStreamCounter(), { ...stream, targetLanguage: 'en-GB' });
      assert.ok(admitted.ok);
      assert.deepEqual(admitted.engines, { stt: 'pocketsphinx', translator: 'apertium' });
      assert.deepEqual(streamProviders(server.ctx.engines, admitted.engines), { stt: 'pocketsphinx', translator: 'apertium', tts: 'espeak-ng' });
      await cli(['orgs', 'set', '--org', 'clinic', '--stt', 'default', '--translator', 'default', '--minutes', '0']);
    } finally {
      await server.close();
    }
    // Again without a server: what was set through the socket is in the database.
    const db = await openDatabase({ dataDir });
    try {
      assert.deepEqual(await getOrganizationAdmission(db.db, 'clinic'), {
        organizationId: offline.organization_id, name: 'clinic', tier: 0, minutesBalanceMs: 0, maxConcurrentStreams: null, translatedMs: 90_000, engines: {},
      });
    } finally {
      await db.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    const engines = await testEngines();
    await engines.mt.close();
    await engines.stt.close();
  }
});
