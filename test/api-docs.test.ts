import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { closeTestEngines, testEngines } from './helpers.js';

// The shared engines' child processes and threads would keep this file's process alive.
after(closeTestEngines);

it('/api/docs (as the README links it) leads to the UI page whose every script and stylesheet loads', async () => {
  const server = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' }), { engines: await testEngines() });
  try {
    const bare = await fetch(`${server.url}/api/docs`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/api/docs/');
    const page = await fetch(`${server.url}/api/docs`);
    assert.equal(page.status, 200);
    assert.equal(page.url, `${server.url}/api/docs/`);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:href|src)="([^"]+\.(?:css|js|png))"/g)].map((m) => m[1] ?? '');
    assert.ok(assets.length >= 4, `the page links its assets: ${assets.join(', ')}`);
    for (const asset of assets) {
      const res = await fetch(new URL(asset, page.url));
      assert.equal(res.status, 200, `${asset} → ${new URL(asset, page.url).pathname}`);
    }
  } finally {
    await server.close();
  }
});
