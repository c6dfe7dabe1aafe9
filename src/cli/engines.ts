import type { z } from 'zod';
import type { TolkConfig } from '../config.js';
import { ENGINE_KINDS, parseEnginesConfig, readEnginesConfig, type EnginesPlan } from '../providers/engine-config.js';
import type { EngineModule } from '../providers/engine-module.js';
import { closeEngines, createEngines } from '../providers/index.js';
import { withLlmShorthand } from '../providers/llm/chat-engines.js';
import { ENGINE_MODULES } from '../providers/modules.js';
import { supportedPairs } from '../providers/registry.js';

/** The setting names of a module (its schema's keys), for listings. */
function settingNames(module: EngineModule): string[] {
  const shape = (module.settings as unknown as { shape?: Record<string, z.ZodType> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** `tolk engines`: every engine module of this build, with its settings (docs/engines.md). */
export function enginesListCommand(o: { json?: boolean }): void {
  if (o.json) {
    const list = ENGINE_MODULES.map((m) => ({ kind: m.kind, name: m.name, description: m.description, settings: settingNames(m) }));
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return;
  }
  const lines = ENGINE_MODULES.flatMap((m) => [`${m.kind.padEnd(4)}${m.name.padEnd(16)}${m.description}`, `${' '.repeat(20)}settings: ${settingNames(m).join(', ')}`]);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function describePlan(plan: EnginesPlan): string[] {
  const lines = plan.engines.map((e) => `engine ${e.id}: ${e.kind} ${e.module.name}`);
  for (const kind of ENGINE_KINDS) {
    const ids = plan.engines.filter((e) => e.kind === kind).map((e) => e.id);
    const routes = plan.routes[kind];
    lines.push(`routes.${kind}: default ${(routes.default ?? ids).join(' → ')}`);
    for (const [key, order] of Object.entries(routes)) if (key !== 'default') lines.push(`routes.${kind}.${key}: ${order.join(' → ')}`);
  }
  return lines;
}

/** How long `engines check --start` waits for an engine's server to answer, in ms. */
const PROBE_TIMEOUT_MS = 3000;

/** The server address an engine's settings name (`baseUrl`, or Soniox's `apiUrl`), if it has one. */
function engineUrl(settings: unknown): string | undefined {
  if (typeof settings !== 'object' || settings === null) return undefined;
  const s = settings as { baseUrl?: unknown; apiUrl?: unknown };
  const url = s.baseUrl ?? s.apiUrl;
  return typeof url === 'string' ? url : undefined;
}

/**
 * Whether a server answers at `url`: any HTTP answer (a 401 or 404 too) counts as reachable.
 * @returns undefined when it answered, else why not (`ECONNREFUSED`, `timed out after 3000 ms`, …).
 */
async function unreachableReason(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return undefined;
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `timed out after ${PROBE_TIMEOUT_MS} ms`;
    return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  }
}

/** One line per engine with a server address: `reachable: id (url)` or `unreachable: id (url: reason)`. */
async function probeEngines(plan: EnginesPlan): Promise<{ lines: string[]; unreachable: string[] }> {
  const targets = plan.engines.flatMap((e) => {
    const url = engineUrl(e.settings);
    return url ? [{ id: e.id, url }] : [];
  });
  const reasons = await Promise.all(targets.map((t) => unreachableReason(t.url)));
  const lines = targets.map((t, i) => (reasons[i] === undefined ? `reachable: ${t.id} (${t.url})` : `unreachable: ${t.id} (${t.url}: ${reasons[i]})`));
  return { lines, unreachable: targets.filter((_, i) => reasons[i] !== undefined).map((t) => t.id) };
}

/**
 * `tolk engines check`: validates the routing configuration of `TOLK_ENGINES` / `TOLK_ENGINES_FILE`
 * (or `--file`), with the deprecated `TOLK_LLM_*` shorthand merged as the server merges it, and
 * prints its engines and routes; with `--start`, also starts the engines (no
 * prewarming), prints the languages they offer together, then stops them, and asks every engine
 * with a server address (`baseUrl`, `apiUrl`) whether its server answers.
 * @throws {Error} naming the engine id and setting at fault, the engine that failed to start, or
 *   (after printing the report) the engines whose server did not answer.
 */
export async function enginesCheckCommand(config: TolkConfig, o: { file?: string; start?: boolean }): Promise<void> {
  const source = o.file ? { file: o.file } : config.engines;
  // The deprecated TOLK_LLM_* variables count as the server counts them: an llm engine "tolk-llm".
  const raw = withLlmShorthand(readEnginesConfig(source), config.calls.llm).config;
  const plan = parseEnginesConfig(raw, { env: process.env });
  const lines = [raw === undefined ? 'no configuration: the offline engines' : 'configuration is valid', ...describePlan(plan)];
  let unreachable: string[] = [];
  if (o.start) {
    const probe = await probeEngines(plan);
    unreachable = probe.unreachable;
    const engines = await createEngines(raw, { prewarm: false, idleDecoders: 0 });
    try {
      const pairs = supportedPairs(engines).filter((p) => p.source !== p.target);
      lines.push(
        `recognized: ${[...engines.stt.capabilities.languages].sort().join(', ')}`,
        `translated: ${pairs.map((p) => `${p.source}-${p.target}`).join(', ') || 'none'}`,
        `spoken: ${[...new Set(engines.tts.capabilities.languages.map((l) => l.split('-')[0]))].sort().join(', ')}`,
      );
      lines.push(...probe.lines);
    } finally {
      await closeEngines(engines);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (unreachable.length > 0) {
    throw new Error(`the configuration is valid, but no server answered for engine ${unreachable.join(', ')}: start it or fix its URL`);
  }
}
