/**
 * Recognizer cost in instructions (docs/architecture.md "Engines"): runs `pocketsphinx_continuous` under
 * `valgrind --tool=callgrind` on each of the five LibriVox recordings for each decoder setting and
 * counts the instructions spent in `ps_process_raw` and `ps_end_utt` (model loading excluded), with
 * the word error rate of the same runs. Instruction counts do not depend on what else the machine
 * runs, so settings compare exactly on a shared machine. The first row is the CLI with its
 * defaults: the WER baseline.
 * Usage: node --import tsx bench/stt-instructions.ts [setting names…]   (~1 min per setting)
 * Writes bench/results/stt-instructions.json.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { POCKETSPHINX_DECODER_ARGS } from '../src/providers/stt/pocketsphinx.js';
import { librivoxRecordings, wordErrors } from '../test/helpers.js';

const run = promisify(execFile);
const M = '/usr/share/pocketsphinx/model/en-us';
const TOLK_BEFORE = ['-fwdflat', 'no', '-bestpath', 'no', '-maxhmmpf', '3000', '-maxwpf', '5', '-pl_window', '5'];

/** Settings compared: name → pocketsphinx arguments beyond the model paths. */
export const SETTINGS: Record<string, readonly string[]> = {
  'cli defaults': [],
  'tolk': POCKETSPHINX_DECODER_ARGS,
  'tolk before beams': TOLK_BEFORE,
  'ds 2': [...TOLK_BEFORE, '-ds', '2'],
  'topn 2': [...TOLK_BEFORE, '-topn', '2'],
  'topn 3': [...TOLK_BEFORE, '-topn', '3'],
  'maxhmmpf 1500': [...TOLK_BEFORE.slice(0, 4), '-maxhmmpf', '1500', '-maxwpf', '5', '-pl_window', '5'],
  'pl_window 10': [...TOLK_BEFORE.slice(0, 8), '-pl_window', '10'],
  'beam 1e-40': [...TOLK_BEFORE, '-beam', '1e-40', '-pbeam', '1e-40'],
  'pbeam 1e-40': [...TOLK_BEFORE, '-pbeam', '1e-40'],
  'wbeam 1e-20': [...TOLK_BEFORE, '-wbeam', '1e-20'],
  'maxhmmpf 2000': [...TOLK_BEFORE.slice(0, 4), '-maxhmmpf', '2000', '-maxwpf', '5', '-pl_window', '5'],
  'pbeam 1e-40 maxhmmpf 2000': [...TOLK_BEFORE.slice(0, 4), '-maxhmmpf', '2000', '-maxwpf', '5', '-pl_window', '5', '-pbeam', '1e-40'],
};

async function measure(args: readonly string[], dir: string): Promise<{ instructions: number; errors: number; words: number }> {
  let instructions = 0;
  let errors = 0;
  let words = 0;
  for (const r of librivoxRecordings()) {
    const out = path.join(dir, `cg.${path.basename(r.path)}.out`);
    const { stdout, stderr } = await run('valgrind', [
      '--tool=callgrind', `--callgrind-out-file=${out}`, '--toggle-collect=ps_process_raw', '--toggle-collect=ps_end_utt',
      'pocketsphinx_continuous', '-infile', r.path, '-hmm', `${M}/en-us`, '-lm', `${M}/en-us.lm.bin`, '-dict', `${M}/cmudict-en-us.dict`,
      '-logfn', '/dev/null', ...args,
    ], { maxBuffer: 1 << 24, timeout: 900_000 });
    const collected = /Collected : (\d+)/.exec(stderr);
    if (!collected?.[1]) throw new Error(`no instruction count for ${r.path}: ${stderr.slice(-500)}`);
    instructions += Number(collected[1]);
    const e = wordErrors(r.reference, stdout.trim().split('\n').join(' '));
    errors += e.errors;
    words += e.words;
    fs.rmSync(out, { force: true });
  }
  return { instructions, errors, words };
}

const only = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stt-instructions-'));
const results: Record<string, { instructions: number; wer: number }> = {};
const names = Object.keys(SETTINGS).filter((n) => only.length === 0 || only.includes(n) || n === 'cli defaults');
// Two at a time: instruction counts are exact whatever runs beside them.
for (let i = 0; i < names.length; i += 2) {
  await Promise.all(names.slice(i, i + 2).map(async (name) => {
    const m = await measure(SETTINGS[name] ?? [], dir);
    results[name] = { instructions: m.instructions, wer: m.errors / m.words };
  }));
}
const base = results['cli defaults'];
for (const name of names) {
  const r = results[name];
  if (!r || !base) continue;
  console.log(`${name.padEnd(16)} ${(r.instructions / 1e9).toFixed(2)} G instructions (×${(r.instructions / base.instructions).toFixed(2)} of the CLI's), WER ${(100 * r.wer).toFixed(1)}% (CLI ${(100 * base.wer).toFixed(1)}%)`);
}
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/stt-instructions.json', `${JSON.stringify(results, null, 2)}\n`);
fs.rmSync(dir, { recursive: true, force: true });
