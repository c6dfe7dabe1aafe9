import type { LanguagePair, MtCapabilities, MtProvider, MtRequestOptions, MtText } from '../mt/types.js';
import { allFailedError, routedName, routeOrder, runsEngine, type RoutedEngine, type RoutedProviderInfo } from './route-order.js';

const pairKey = (p: LanguagePair): string => `${p.source}-${p.target}`;

/**
 * Machine translation over several engines (docs/engines.md "Routing and fallback"): each pair is
 * routed by its `routes.mt` entry (`en-es`), else `default`, else configuration order, among the
 * engines that have the pair. When an engine fails for an utterance the next one translates that
 * same utterance; the caller sees an error only when none could. Pairs are the union of what the
 * routes can serve.
 */
export class RoutedMt implements MtProvider, RoutedProviderInfo {
  readonly name: string;
  readonly capabilities: MtCapabilities;
  readonly engineIds: readonly string[];

  /**
   * @param engines - the running MT engines, in configuration order (at least one).
   * @param routes - `routes.mt` of the configuration.
   */
  constructor(
    private readonly engines: readonly RoutedEngine<MtProvider>[],
    private readonly routes: Readonly<Record<string, readonly string[]>>,
  ) {
    this.name = routedName(engines);
    this.engineIds = engines.map((e) => e.id);
    const pairs = new Map<string, LanguagePair>();
    for (const e of engines) {
      for (const p of e.provider.capabilities.pairs) {
        if (!pairs.has(pairKey(p)) && this.order(p).length > 0) pairs.set(pairKey(p), { source: p.source, target: p.target });
      }
    }
    this.capabilities = { pairs: [...pairs.values()] };
  }

  runs(provider: string): boolean {
    return runsEngine(this.engines, provider);
  }

  /** The engines tried for `pair`, in order. */
  order(pair: LanguagePair, preferred?: readonly string[]): RoutedEngine<MtProvider>[] {
    const has = (e: RoutedEngine<MtProvider>): boolean => e.provider.capabilities.pairs.some((p) => p.source === pair.source && p.target === pair.target);
    return routeOrder(this.engines, this.routes, pairKey(pair), has, preferred);
  }

  /** @throws {Error} naming every engine's failure when none could translate, or when no engine has the pair. */
  async translate(input: MtText, pair: LanguagePair, options: MtRequestOptions = {}): Promise<MtText> {
    const failures: Array<{ id: string; error: unknown }> = [];
    for (const e of this.order(pair, options.engines)) {
      try {
        return await e.provider.translate(input, pair, options);
      } catch (error) {
        failures.push({ id: e.id, error });
      }
    }
    throw allFailedError(`translate ${pairKey(pair)}`, failures);
  }

  /** Starts each engine for the pairs it serves first. */
  async prewarm(pairs: readonly LanguagePair[] = this.capabilities.pairs): Promise<void> {
    await Promise.all(
      this.engines.map((e) => {
        const mine = pairs.filter((p) => this.order(p)[0] === e);
        return mine.length > 0 ? e.provider.prewarm(mine) : undefined;
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((e) => e.provider.close()));
  }
}
