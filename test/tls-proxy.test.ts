import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { freePort, testEngines } from './helpers.js';

// Tolk behind a real TLS-terminating nginx with a self-signed certificate, configured with the
// nginx block of docs/deploy.md "TLS, a public address and a reverse proxy".

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
const skip = NGINX ? false : 'SKIPPED: nginx is not installed (apt-get install nginx-light; make test-deps installs it)';

/** The documented nginx server block, on `listenPort` with `certDir`'s certificate, proxying to `tolkPort`. */
function documentedNginxConfig(dir: string, listenPort: number, tolkPort: number): string {
  const doc = fs.readFileSync('docs/deploy.md', 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/deploy.md has an nginx example');
  const server = block
    .replace('listen 443 ssl;', `listen 127.0.0.1:${listenPort} ssl;`)
    .replace('/etc/ssl/tolk/fullchain.pem', path.join(dir, 'cert.pem'))
    .replace('/etc/ssl/tolk/privkey.pem', path.join(dir, 'key.pem'))
    .replace('http://127.0.0.1:8080', `http://127.0.0.1:${tolkPort}`);
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
${server}
}
`;
}

/** Resolves once something accepts TCP connections on `port`. */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1').once('connect', () => resolve(true)).once('error', () => resolve(false));
      s.once('connect', () => s.end());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A JSON request over https, trusting only `ca`. */
function httpsJson(url: string, ca: Buffer, init: { method: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method, headers: init.headers, ca }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Record<string, unknown> }));
    });
    req.once('error', reject).end(init.body);
  });
}

describe('behind a TLS-terminating nginx (docs/deploy.md "TLS")', { skip }, () => {
  let dir: string;
  let server: RunningServer;
  let nginx: ChildProcess;
  let proxyPort: number;
  let ca: Buffer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tolk-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    const config = loadConfig({ TOLK_TRUST_PROXY: '127.0.0.1' }, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' });
    server = await startServer(config, { engines: await testEngines() });
    proxyPort = await freePort();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), documentedNginxConfig(dir, proxyPort, Number(new URL(server.url).port)));
    nginx = spawn(NGINX as string, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
    await listening(proxyPort, nginx);
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = once(nginx, 'exit');
      nginx.kill('SIGQUIT');
      await exited;
    }
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('POST /api/sessions through the proxy answers wss:// on the https host, and a /vt stream opens on it', async () => {
    const origin = `https://localhost:${proxyPort}`;
    const res = await httpsJson(`${origin}/api/sessions`, ca, {
      method: 'POST', headers: { authorization: `Bearer ${server.firstOwnerKey ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source_lang: 'en', target_lang: 'es' }),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.streamUrl, `wss://localhost:${proxyPort}/vt`);

    const ws = new WebSocket(`${String(res.body.streamUrl)}?authorization=${encodeURIComponent(`api-key ${String(res.body.streamToken)}`)}`, { ca });
    await once(ws, 'open');
    ws.send(JSON.stringify({ config: { audio: { format: 'pcm_s16le', sample_rate: 16000, channels: 1 }, source_language: 'en-US', target_language: 'es-ES', voice: 'female' } }));
    ws.send(Buffer.alloc(6400));
    ws.close(1000);
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    assert.equal(code, 1000, `the WebSocket went through the proxy both ways: ${reason.toString()}`);

    const conversation = await httpsJson(`${origin}/api/v1/session/create`, ca, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'en', translate_language: 'es' }),
    });
    assert.equal(conversation.status, 200, JSON.stringify(conversation.body));
    assert.match(String(conversation.body.join_url), new RegExp(`^https://localhost:${proxyPort}/join/[\\w-]+$`));
    assert.match(String(conversation.body.join_url_warning), /^This link uses localhost:\d+, a loopback address: it opens only on this computer, not on a phone\./);
  });

  it('without TOLK_TRUST_PROXY forwarded headers are ignored; TOLK_PUBLIC_URL wins over everything', async () => {
    const forged = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', authorization: `Bearer ${server.firstOwnerKey ?? ''}`, 'content-type': 'application/json' };
    const untrusting = await startServer(loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' }), { engines: await testEngines() });
    try {
      const res = await untrusting.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...forged, authorization: `Bearer ${untrusting.firstOwnerKey ?? ''}`, host: 'tolk.lan:8080' }, payload: { source_lang: 'en', target_lang: 'es' } });
      assert.equal(res.json<{ streamUrl: string }>().streamUrl, 'ws://tolk.lan:8080/vt');
      const conversation = await untrusting.app.inject({ method: 'POST', url: '/api/v1/session/create', headers: { host: 'tolk.lan:8080' }, payload: { language: 'en', translate_language: 'es' } });
      assert.equal(conversation.json<{ join_url_warning: unknown }>().join_url_warning, null, 'a LAN address gets no warning');
    } finally {
      await untrusting.close();
    }
    const pinned = await startServer(loadConfig({ TOLK_PUBLIC_URL: 'https://tolk.example.com', TOLK_TRUST_PROXY: 'true' }, { port: 0, host: '127.0.0.1', dataDir: 'memory://', logLevel: 'silent' }), { engines: await testEngines() });
    try {
      const res = await pinned.app.inject({ method: 'POST', url: '/api/sessions', headers: { ...forged, authorization: `Bearer ${pinned.firstOwnerKey ?? ''}` }, payload: { source_lang: 'en', target_lang: 'es' } });
      assert.equal(res.json<{ streamUrl: string }>().streamUrl, 'wss://tolk.example.com/vt');
      const conversation = await pinned.app.inject({ method: 'POST', url: '/api/v1/session/create', headers: forged, payload: { language: 'en', translate_language: 'es' } });
      assert.match(conversation.json<{ join_url: string }>().join_url, /^https:\/\/tolk\.example\.com\/join\//);
    } finally {
      await pinned.close();
    }
  });
});
