import koffi from 'koffi';

/**
 * A decoder's live cepstral mean (CMN): the running average of its input's cepstra that every frame
 * is normalized by. pocketsphinx updates it at the end of each utterance and keeps it across
 * utterances, so a pooled decoder would start a new stream from whatever the previous stream's
 * caller sounded like (a telephone line, another room, another voice) and recognize the same audio
 * differently. Tolk snapshots the mean of a freshly primed decoder and restores it on every stream
 * it hands out (docs/engines.md "pocketsphinx"): recognition of a stream depends on that stream only.
 *
 * pocketsphinx 0.8 has no call for the mean of a decoder, only sphinxbase's `cmn_live_get`/`cmn_live_set`
 * on the decoder's `cmn_t`, which lives in its `feat_t` (`ps_get_feat`). The `feat_t` layout of
 * Debian's sphinxbase 0.8+5prealpha (x86-64 and arm64 alike: LP64) is read at two offsets, and checked:
 * the `cmn_t`'s vector length must equal the feature's cepstrum size and the scheme must be `live`.
 */

/** Offsets in `feat_t` (sphinxbase 0.8+5prealpha, LP64), in bytes. */
const FEAT_CEPSIZE_OFFSET = 16;
const FEAT_CMN_TYPE_OFFSET = 68;
const FEAT_CMN_STRUCT_OFFSET = 88;
const FEAT_BYTES = 96;
/** `cmn_t`: three pointers, then `nframe` and `veclen` (int32). */
const CMN_VECLEN_OFFSET = 28;
const CMN_BYTES = 32;
/** sphinxbase's `CMN_LIVE`. */
const CMN_LIVE = 2;
/** A cepstrum is 13 coefficients in every en-us model; anything else means the layout is not the one read here. */
const MAX_CEPSTRUM = 64;

interface CmnFns {
  getFeat: (ps: number) => number;
  copy: (dst: Buffer, src: number, n: number) => unknown;
  liveGet: (cmn: number, vec: Float32Array) => void;
  liveSet: (cmn: number, vec: Float32Array) => void;
}

let fns: CmnFns | undefined;

function load(): CmnFns {
  if (fns) return fns;
  const ps = koffi.load('libpocketsphinx.so.3');
  const sb = koffi.load('libsphinxbase.so.3');
  const libc = koffi.load('libc.so.6');
  fns = {
    getFeat: ps.func('intptr_t ps_get_feat(intptr_t ps)'),
    copy: libc.func('void *memcpy(_Out_ uint8_t *dst, intptr_t src, size_t n)'),
    liveGet: sb.func('void cmn_live_get(intptr_t cmn, _Out_ float *vec)'),
    liveSet: sb.func('void cmn_live_set(intptr_t cmn, const float *vec)'),
  };
  return fns;
}

/** The decoder's `cmn_t` and its vector length, or undefined when the layout is not the expected one. */
function cmnOf(decoder: number): { cmn: number; length: number } | undefined {
  const f = load();
  const feat = f.getFeat(decoder);
  if (!feat) return undefined;
  const featBytes = Buffer.alloc(FEAT_BYTES);
  f.copy(featBytes, feat, FEAT_BYTES);
  const cepsize = featBytes.readInt32LE(FEAT_CEPSIZE_OFFSET);
  const cmn = Number(featBytes.readBigInt64LE(FEAT_CMN_STRUCT_OFFSET));
  if (featBytes.readInt32LE(FEAT_CMN_TYPE_OFFSET) !== CMN_LIVE || cepsize <= 0 || cepsize > MAX_CEPSTRUM || !cmn) return undefined;
  const cmnBytes = Buffer.alloc(CMN_BYTES);
  f.copy(cmnBytes, cmn, CMN_BYTES);
  return cmnBytes.readInt32LE(CMN_VECLEN_OFFSET) === cepsize ? { cmn, length: cepsize } : undefined;
}

/**
 * The decoder's current live cepstral mean (a copy), or undefined when the decoder does not use live
 * CMN or its layout is not the one this module knows (the caller then does not restore means).
 * Cheap (no decoding): call it on the thread that owns the idle decoder.
 */
export function cepstralMean(decoder: number): Float32Array | undefined {
  const at = cmnOf(decoder);
  if (!at) return undefined;
  const mean = new Float32Array(at.length);
  load().liveGet(at.cmn, mean);
  return mean;
}

/**
 * Sets the decoder's live cepstral mean to `mean` (from {@link cepstralMean} of a decoder of the same
 * model), as if it had just heard the speech that produced it. Call it only between utterances.
 * @returns false (and changes nothing) when the decoder's layout or vector length does not match.
 */
export function setCepstralMean(decoder: number, mean: Float32Array): boolean {
  const at = cmnOf(decoder);
  if (!at || at.length !== mean.length) return false;
  load().liveSet(at.cmn, mean);
  return true;
}
