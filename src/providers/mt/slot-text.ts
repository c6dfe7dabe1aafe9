/**
 * Glossary slots through remote MT engines (docs/architecture.md "The pipeline" "Glossary"): each engine renders a slot as a
 * placeholder its server leaves alone, and these helpers read the placeholders back into
 * {@link MtText} and put back the spacing around them that an engine may have eaten.
 */
import type { MtText } from './types.js';

/** True when the text has at least one slot. */
export function hasSlots(input: MtText): boolean {
  return input.some((part) => typeof part !== 'string');
}

/** Renders text with each slot as `placeholder(slot)` and each plain run through `escape`. */
export function renderSlots(input: MtText, placeholder: (slot: number) => string, escape: (text: string) => string = (t) => t): string {
  return input.map((part) => (typeof part === 'string' ? escape(part) : placeholder(part.slot))).join('');
}

/**
 * Splits engine output at the placeholders `pattern` matches (global, group 1 = the slot number)
 * back into text and slots. Slot numbers the input did not have are dropped with their placeholder.
 */
export function parseSlots(output: string, pattern: RegExp, known: ReadonlySet<number>): Array<string | { slot: number }> {
  const parts: Array<string | { slot: number }> = [];
  let last = 0;
  for (const m of output.matchAll(pattern)) {
    const index = m.index ?? 0;
    if (index > last) parts.push(output.slice(last, index));
    const slot = Number(m[1]);
    if (known.has(slot)) parts.push({ slot });
    last = index + m[0].length;
  }
  if (last < output.length) parts.push(output.slice(last));
  return parts;
}

/** The slot numbers of an input. */
export function slotNumbers(input: MtText): Set<number> {
  return new Set(input.flatMap((part) => (typeof part === 'string' ? [] : [part.slot])));
}

function spacing(input: MtText): Map<number, { before: boolean; after: boolean }> {
  const map = new Map<number, { before: boolean; after: boolean }>();
  input.forEach((part, i) => {
    if (typeof part === 'string') return;
    const prev = input[i - 1];
    const next = input[i + 1];
    map.set(part.slot, {
      before: typeof prev === 'string' && /\s$/.test(prev),
      after: typeof next === 'string' && /^\s/.test(next),
    });
  });
  return map;
}

/**
 * Puts back a blank between a slot and a neighbouring word where the input had one and the
 * engine dropped it (engines that translate the runs between placeholders one by one trim them:
 * `el<slot/>es` → `el <slot/> es`).
 */
export function restoreSlotSpacing(output: ReadonlyArray<string | { slot: number }>, input: MtText): MtText {
  const around = spacing(input);
  const parts = [...output];
  parts.forEach((part, i) => {
    if (typeof part === 'string') return;
    const s = around.get(part.slot);
    const prev = parts[i - 1];
    const next = parts[i + 1];
    if (s?.before && typeof prev === 'string' && /[\p{L}\p{N}]$/u.test(prev)) parts[i - 1] = `${prev} `;
    if (s?.after && typeof next === 'string' && /^[\p{L}\p{N}]/u.test(next)) parts[i + 1] = ` ${next}`;
  });
  return parts.filter((p) => typeof p !== 'string' || p.length > 0);
}
