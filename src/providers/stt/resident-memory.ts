import fs from 'node:fs';

/**
 * This process's memory from `/proc/self/smaps_rollup` (Linux), in MB: resident (`rssMb`) and
 * proportional (`pssMb`: shared pages divided among the processes sharing them).
 * @returns undefined where the file cannot be read (not Linux).
 */
export function processMemoryMb(): { rssMb: number; pssMb: number } | undefined {
  try {
    const text = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    const rssKb = kb('Rss');
    const pssKb = kb('Pss');
    if (!Number.isFinite(rssKb) || !Number.isFinite(pssKb)) return undefined;
    return { rssMb: rssKb / 1024, pssMb: pssKb / 1024 };
  } catch {
    return undefined;
  }
}

/** This process's resident memory in MB (`process.memoryUsage.rss()` where smaps_rollup is missing). */
export function residentMb(): number | undefined {
  return processMemoryMb()?.rssMb ?? process.memoryUsage.rss() / 1048576;
}
