/**
 * An offline engine whose Debian packages are missing. The engine loader gathers these into one
 * message naming every package to install (`make start` installs them all).
 */
export class EngineNotInstalledError extends Error {
  /**
   * @param engine - the module name (`pocketsphinx`, `apertium`, `espeak-ng`).
   * @param packages - the Debian packages that provide it.
   */
  constructor(
    readonly engine: string,
    readonly packages: readonly string[],
  ) {
    super(`${engine} is not installed; apt-get install ${packages.join(' ')}`);
    this.name = 'EngineNotInstalledError';
  }
}
