import type { z } from 'zod';
import type { TolkConfig } from '../config.js';
import { ENGINE_KINDS, parseEnginesConfig, readEnginesConfig, type EnginesPlan } from '../providers/engine-config.js';
import type { EngineModule } from '../providers/engine-module.js';
import { closeEngines, createEngines } from '../providers/index.js';
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

/**
 * `tolk engines check`: validates the routing configuration of `TOLK_ENGINES` / `TOLK_ENGINES_FILE`
 * (or `--file`) and prints its engines and routes; with `--start`, also starts the engines (no
 * prewarming) and prints the languages they offer together, then stops them.
 * @throws {Error} naming the engine id and setting at fault, or the engine that failed to start.
 */
export async function enginesCheckCommand(config: TolkConfig, o: { file?: string; start?: boolean }): Promise<void> {
  const source = o.file ? { file: o.file } : config.engines;
  const raw = readEnginesConfig(source);
  const plan = parseEnginesConfig(raw, { env: process.env });
  const lines = [raw === undefined ? 'no configuration: the offline engines' : 'configuration is valid', ...describePlan(plan)];
  if (o.start) {
    const engines = await createEngines(raw, { prewarm: false, idleDecoders: 0 });
    try {
      const pairs = supportedPairs(engines).filter((p) => p.source !== p.target);
      lines.push(
        `recognized: ${[...engines.stt.capabilities.languages].sort().join(', ')}`,
        `translated: ${pairs.map((p) => `${p.source}-${p.target}`).join(', ') || 'none'}`,
        `spoken: ${[...new Set(engines.tts.capabilities.languages.map((l) => l.split('-')[0]))].sort().join(', ')}`,
      );
    } finally {
      await closeEngines(engines);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
