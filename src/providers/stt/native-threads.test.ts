import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pocketsphinxAvailable } from './pocketsphinx.js';

/**
 * Starts loading two recognizers, then reads a file, in a process whose libuv pool has one thread;
 * prints which finished first.
 */
const SCRIPT = `
import fs from 'node:fs';
import { callSlow, loadLib } from './src/providers/stt/pocketsphinx-lib.ts';
import { POCKETSPHINX_MODEL_DIR as m } from './src/providers/stt/pocketsphinx.ts';
const l = loadLib();
const argv = ['-hmm', m + '/en-us', '-lm', m + '/en-us.lm.bin', '-dict', m + '/cmudict-en-us.dict'];
const order = [];
const loads = Promise.all([0, 1].map(() => callSlow('psInit', l.cmdLnParse(null, l.psArgs(), argv.length, argv, 1))))
  .then((decoders) => { order.push('recognizers loaded'); return decoders; });
const read = fs.promises.readFile('package.json').then(() => order.push('file read'));
const [decoders] = await Promise.all([loads, read]);
for (const d of decoders) await callSlow('psFree', d);
console.log(JSON.stringify(order));
process.exit(0);
`;

function orderWith(threads: string): string[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '1', TOLK_STT_THREADS: threads }, encoding: 'utf8', timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[];
}

describe('recognizer threads', { skip: !pocketsphinxAvailable() && 'pocketsphinx is not installed' }, () => {
  it('load recognizers off libuv\'s pool: a file read while they load is not queued behind them', { timeout: 240_000 }, () => {
    assert.deepEqual(orderWith(''), ['file read', 'recognizers loaded']);
    // The old path (koffi async calls on libuv's pool) for contrast: the read waits for the loads.
    assert.deepEqual(orderWith('libuv'), ['recognizers loaded', 'file read']);
  });
});
