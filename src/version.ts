import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tolk's version, read from package.json (beside `src/` and `dist/`). */
export const TOLK_VERSION: string = (
  JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8')) as { version: string }
).version;
