import type { EngineKind, EngineModule } from './engine-module.js';
import { openaiChatLlmEngine } from './llm/openai-chat.js';
import { apertiumEngine } from './mt/apertium.js';
import { libretranslateEngine } from './mt/libretranslate.js';
import { openaiChatEngine } from './mt/openai-chat.js';
import { sonioxMtEngine } from './mt/soniox.js';
import { openaiSttEngine } from './stt/openai.js';
import { pocketsphinxEngine } from './stt/pocketsphinx-engine.js';
import { sonioxSttEngine } from './stt/soniox.js';
import { espeakEngine } from './tts/espeak.js';
import { openaiTtsEngine } from './tts/openai.js';

/**
 * Every engine module this build of Tolk has (docs/engines.md): the only place a configured
 * engine's `kind` and `name` map to code. Adding an engine is one file under
 * `src/providers/<kind>/` and one line here.
 */
export const ENGINE_MODULES: readonly EngineModule[] = [
  pocketsphinxEngine, openaiSttEngine, sonioxSttEngine,
  apertiumEngine, libretranslateEngine, openaiChatEngine, sonioxMtEngine,
  espeakEngine, openaiTtsEngine,
  openaiChatLlmEngine,
];

/** The module of `kind` called `name`, or undefined. */
export function findEngineModule(kind: EngineKind, name: string, modules: readonly EngineModule[] = ENGINE_MODULES): EngineModule | undefined {
  return modules.find((m) => m.kind === kind && m.name === name);
}

/** Names of the modules of one kind, for error messages. */
export function engineModuleNames(kind: EngineKind, modules: readonly EngineModule[] = ENGINE_MODULES): string[] {
  return modules.filter((m) => m.kind === kind).map((m) => m.name);
}
