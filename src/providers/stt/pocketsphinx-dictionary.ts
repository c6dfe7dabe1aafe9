import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callSlow, loadLib } from './pocketsphinx-lib.js';

/** The dictionary of Debian's en-us model folder. */
const FULL_DICTIONARY = 'cmudict-en-us.dict';

/** A dictionary line's word: `word` or `word(2)` for a second pronunciation. */
function headword(line: string): string {
  return (line.slice(0, line.indexOf(' ')) || line).replace(/\(\d+\)$/, '');
}

/**
 * The words of the language model `lmPath`, read on a recognizer thread (`ngram_model_read`, ~0.3 s
 * of CPU) and listed on the calling thread (~70k words).
 * @throws {Error} when pocketsphinx cannot read it.
 */
async function languageModelWords(lmPath: string): Promise<Set<string>> {
  const l = loadLib();
  const lmath = await callSlow<number>('logmathInit', 1.0001, 0, 0);
  const model = await callSlow<number>('ngramModelRead', 0, lmPath, 0, lmath);
  try {
    if (!model) throw new Error(`pocketsphinx could not read ${lmPath}`);
    const words = new Set<string>();
    const n = l.ngramUnigrams(model);
    for (let wid = 0; wid < n; wid++) words.add(l.ngramWord(model, wid) ?? '');
    return words;
  } finally {
    if (model) await callSlow<number>('ngramModelFree', model);
    await callSlow<number>('logmathFree', lmath);
  }
}

const made = new Map<string, Promise<string>>();

/**
 * The dictionary a decoder of `modelDir` loads: the model's 134k-word CMU dictionary cut to the
 * ~72k words of its language model. A word the language model lacks is never recognized, so the
 * cut changes no transcript, and it makes each decoder ~22 MB smaller (88 → 66 MB anonymous memory,
 * docs/deploy.md "Memory"). Written once per model (keyed by the files' sizes and times) under the
 * system's temporary folder; the full dictionary when the cut cannot be made.
 */
export function decoderDictionary(modelDir: string): Promise<string> {
  let run = made.get(modelDir);
  if (!run) {
    run = cutDictionary(modelDir).catch(() => path.join(modelDir, FULL_DICTIONARY));
    made.set(modelDir, run);
  }
  return run;
}

async function cutDictionary(modelDir: string): Promise<string> {
  const dictPath = path.join(modelDir, FULL_DICTIONARY);
  const lmPath = path.join(modelDir, 'en-us.lm.bin');
  const key = createHash('sha256')
    .update([dictPath, lmPath].map((f) => `${f}:${fs.statSync(f).size}:${fs.statSync(f).mtimeMs}`).join('\n'))
    .digest('hex').slice(0, 16);
  const target = path.join(os.tmpdir(), `tolk-pocketsphinx-${key}.dict`);
  if (fs.existsSync(target)) return target;
  const words = await languageModelWords(lmPath);
  const lines = (await fs.promises.readFile(dictPath, 'utf8')).split('\n').filter((line) => line && words.has(headword(line)));
  const partial = `${target}.${process.pid}`;
  await fs.promises.writeFile(partial, `${lines.join('\n')}\n`);
  await fs.promises.rename(partial, target);
  return target;
}

const pronunciations = new Map<string, Promise<string>>();

/**
 * The CMU dictionary's first pronunciation of `word` (lower case) in `modelDir`'s full dictionary,
 * for vocabulary words the decoder's dictionary lacks; undefined when the dictionary has none.
 */
export async function dictionaryPhones(modelDir: string, word: string): Promise<string | undefined> {
  let text = pronunciations.get(modelDir);
  if (!text) {
    text = fs.promises.readFile(path.join(modelDir, FULL_DICTIONARY), 'utf8').catch(() => '');
    pronunciations.set(modelDir, text);
  }
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped} (.+)$`, 'm').exec(await text)?.[1]?.trim();
}
