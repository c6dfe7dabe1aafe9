import { z } from 'zod';
import { defineEngine } from '../engine-module.js';
import { EngineNotInstalledError } from '../engine-errors.js';
import { POCKETSPHINX_MODEL_DIR, PocketsphinxStt, pocketsphinxAvailable } from './pocketsphinx.js';

/** Settings of the `pocketsphinx` engine (docs/engines.md "Offline engines"). */
export const pocketsphinxSettings = z.strictObject({
  /** Folder holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir: z.string().min(1).default(POCKETSPHINX_MODEL_DIR),
  /** Decoders kept loaded between streams (~100 MB resident each); the process default is `TOLK_STT_IDLE_DECODERS`. */
  idleDecoders: z.number().int().min(0).max(256).default(4),
  /** Decoders kept ready ahead of the next stream (at most `idleDecoders`). */
  spareDecoders: z.number().int().min(0).max(256).default(1),
  /** Decoder arguments beyond the model paths; default {@link POCKETSPHINX_DECODER_ARGS}. */
  decoderArgs: z.array(z.string()).max(100).optional(),
});

/**
 * The `pocketsphinx` engine module (US English, in process; Debian `libpocketsphinx3`, `pocketsphinx-en-us`).
 * @throws {EngineNotInstalledError} from `create` when the library or the model is missing.
 */
export const pocketsphinxEngine = defineEngine({
  kind: 'stt',
  name: 'pocketsphinx',
  description: 'Offline US English speech recognition (pocketsphinx, in process)',
  settings: pocketsphinxSettings,
  async create(settings, context) {
    if (!pocketsphinxAvailable(settings.modelDir)) throw new EngineNotInstalledError('pocketsphinx', ['libpocketsphinx3', 'pocketsphinx-en-us']);
    const { modelDir, idleDecoders: maxIdleDecoders, spareDecoders, decoderArgs } = settings;
    return new PocketsphinxStt({ modelDir, maxIdleDecoders, spareDecoders, decoderArgs, context });
  },
});
