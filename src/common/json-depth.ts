/**
 * Whether a parsed JSON value nests arrays and objects deeper than `maxDepth` levels (a scalar is
 * depth 0, `{}` depth 1). Iterative, so a hostile 100,000-level body cannot overflow the stack here
 * — it is refused before anything recursive (`JSON.stringify`, hashing) touches it.
 */
export function jsonDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}
