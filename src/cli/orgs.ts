import { InvalidArgumentError } from 'commander';
import type { TolkConfig } from '../config.js';
import {
  ENGINE_CHOICE_FIELDS, getOrganizationAdmission, setOrganizationAdmission, tierPolicy,
  type AdmissionChanges, type OrganizationAdmission,
} from '../domain/admission.js';
import { listOrganizationsForOperator, type OperatorOrganization } from '../domain/operator.js';
import { parseEnginesConfig, readEnginesConfig } from '../providers/engine-config.js';
import type { EngineKind } from '../providers/engine-module.js';
import { engineModuleNames } from '../providers/modules.js';
import { table } from './keys.js';
import { viaServerOrDatabase, type CliTarget } from './target.js';

const MS_PER_MINUTE = 60_000;

/** The highest tier an organization may be given: spec 002 Part 3 sends tiers up to 2. */
export const MAX_TIER = 2;

/**
 * `--tier N`: an integer from 0 to {@link MAX_TIER} (commander argument parser); tiers above the
 * last policy of `TIER_POLICIES` get its rules (docs/admission.md).
 */
export function parseTierOption(value: string): number {
  const n = Number(value);
  const tiers = Array.from({ length: MAX_TIER + 1 }, (_, i) => `${i} (${tierPolicy(i).name})`).join(', ');
  if (!/^\d+$/.test(value.trim()) || n > MAX_TIER) throw new InvalidArgumentError(`a tier is one of ${tiers}`);
  return n;
}

/**
 * `--minutes N|unlimited`: minutes (decimals allowed) → ms, or `unlimited` (commander turns a parsed
 * null into '', hence the word rather than null).
 */
export function parseMinutesOption(value: string): number | 'unlimited' {
  if (value.trim().toLowerCase() === 'unlimited') return 'unlimited';
  const minutes = Number(value);
  if (value.trim() === '' || !Number.isFinite(minutes) || minutes < 0) throw new InvalidArgumentError('give a number of minutes ≥ 0, or "unlimited"');
  const ms = Math.round(minutes * MS_PER_MINUTE);
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError('too many minutes');
  return ms;
}

/** `--max-streams N|unlimited`: an integer ≥ 0, or `unlimited` for no organization limit. */
export function parseMaxStreamsOption(value: string): number | 'unlimited' {
  if (value.trim().toLowerCase() === 'unlimited') return 'unlimited';
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 2_147_483_647) throw new InvalidArgumentError('give an integer ≥ 0, or "unlimited"');
  return n;
}

/**
 * `--stt|--translator|--tts <engine|default>`: an engine id or module name the organization's
 * streams use first, or `default` for the process's routing (kept as the word: commander turns a
 * parsed null into '').
 */
export function parseEngineOption(value: string): string {
  const v = value.trim();
  if (v === 'default') return v;
  if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(v)) throw new InvalidArgumentError('give an engine id or module name (e.g. pocketsphinx), or "default"');
  return v;
}

/** The engine options of `tolk orgs set`. */
export interface EngineOptions {
  /** An engine id or module name, or `default`. */
  stt?: string;
  translator?: string;
  tts?: string;
}

/**
 * `tolk orgs set`: changes an organization's tier, minutes balance, stream limit and engine choice
 * (docs/engines.md "Organizations"; created when missing), through the running server's admin socket when there is one, otherwise directly in the
 * database (spec 002 Part 2 step 2, docs/admission.md).
 * @throws {Error} when nothing is to be set or a value is invalid.
 */
export async function orgsSetCommand(
  target: CliTarget,
  o: { org: string; tier?: number; minutes?: number | 'unlimited'; maxStreams?: number | 'unlimited'; json?: boolean } & EngineOptions,
): Promise<void> {
  const changes: AdmissionChanges = {};
  if (o.tier !== undefined) changes.tier = o.tier;
  if (o.minutes !== undefined) changes.minutesBalanceMs = o.minutes === 'unlimited' ? null : o.minutes;
  if (o.maxStreams !== undefined) changes.maxConcurrentStreams = o.maxStreams === 'unlimited' ? null : o.maxStreams;
  const engines = Object.fromEntries(ENGINE_CHOICE_FIELDS.filter((f) => o[f] !== undefined).map((f) => [f, o[f] === 'default' ? null : o[f]]));
  if (Object.keys(engines).length > 0) changes.engines = engines;
  if (Object.keys(changes).length === 0) throw new Error('nothing to set: give --tier, --minutes, --max-streams, --stt, --translator or --tts');
  for (const field of ENGINE_CHOICE_FIELDS) {
    const problem = engineProblem(target.config, field, o[field]);
    if (problem) throw new Error(problem);
  }
  const settings = await viaServerOrDatabase(target, '/orgs', { org: o.org, changes }, (db) => setOrganizationAdmission(db, o.org, changes));
  print(settings, Boolean(o.json));
}

/**
 * `tolk orgs show`: prints an organization's admission settings.
 * @throws {Error} when there is no such organization.
 */
export async function orgsShowCommand(target: CliTarget, o: { org: string; json?: boolean }): Promise<void> {
  const settings = await viaServerOrDatabase(target, '/orgs', { org: o.org }, (db) => getOrganizationAdmission(db, o.org));
  print(settings, Boolean(o.json));
}

/** `tolk orgs list`: every organization with its id, tier and number of live keys. */
export async function orgsListCommand(target: CliTarget, o: { json?: boolean }): Promise<void> {
  const { organizations } = await viaServerOrDatabase<{ organizations: OperatorOrganization[] }>(target, '/orgs/list', {}, async (db) => ({
    organizations: await listOrganizationsForOperator(db),
  }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(organizations)}\n`);
    return;
  }
  const rows = [['ID', 'NAME', 'TIER', 'KEYS'], ...organizations.map((g) => [g.id, g.name, `${g.tier} (${tierPolicy(g.tier).name})`, String(g.keys)])];
  process.stdout.write(organizations.length === 0 ? 'no organizations\n' : table(rows));
}

const KIND_OF_FIELD: Record<(typeof ENGINE_CHOICE_FIELDS)[number], EngineKind> = { stt: 'stt', translator: 'mt', tts: 'tts' };

/**
 * Why `--stt|--translator|--tts <value>` names no engine of its kind — neither a module of this
 * build nor an engine id of this environment's `TOLK_ENGINES` — or undefined when it does (or is
 * `default`, or not given). Every stream of the organization would otherwise fail with 400.
 */
export function engineProblem(config: TolkConfig, field: (typeof ENGINE_CHOICE_FIELDS)[number], value: string | undefined): string | undefined {
  if (value === undefined || value === 'default') return undefined;
  const kind = KIND_OF_FIELD[field];
  const modules = engineModuleNames(kind);
  let ids: string[] = [];
  try {
    ids = parseEnginesConfig(readEnginesConfig(config.engines), { env: process.env }).engines.filter((e) => e.kind === kind && !modules.includes(e.id)).map((e) => e.id);
  } catch {
    // an invalid TOLK_ENGINES: `tolk engines check` reports it; the module names still apply
  }
  if (modules.includes(value) || ids.includes(value)) return undefined;
  return `--${field} ${value}: there is no ${kind} engine "${value}". Modules of this build: ${modules.join(', ')}` +
    `${ids.length > 0 ? `; engine ids of TOLK_ENGINES: ${ids.join(', ')}` : ''} (tolk engines; docs/engines.md)`;
}

function print(s: OrganizationAdmission, json: boolean): void {
  const policy = tierPolicy(s.tier);
  if (json) {
    process.stdout.write(`${JSON.stringify({
      org: s.name, organization_id: s.organizationId, tier: s.tier, tier_policy: policy.name,
      minutes_balance_ms: s.minutesBalanceMs, max_concurrent_streams: s.maxConcurrentStreams, translated_ms: s.translatedMs, engines: s.engines,
    })}\n`);
    return;
  }
  const targets = policy.targets === 'any' ? 'every installed language pair' : 'the source language only';
  const balance = s.minutesBalanceMs === null ? 'unlimited' : `${+(s.minutesBalanceMs / MS_PER_MINUTE).toFixed(2)} minutes (${s.minutesBalanceMs} ms)`;
  process.stdout.write([
    `Organization ${s.name} (${s.organizationId})`,
    `  tier:                   ${s.tier} (${policy.name}: ${targets}; voices ${policy.voices.join(', ')})`,
    `  minutes balance:        ${balance}`,
    `  max concurrent streams: ${s.maxConcurrentStreams ?? 'unlimited'}`,
    `  translated so far:      ${+(s.translatedMs / MS_PER_MINUTE).toFixed(2)} minutes (${s.translatedMs} ms; docs/billing.md)`,
    `  engines:                ${ENGINE_CHOICE_FIELDS.map((f) => `${f} ${s.engines[f] ?? 'default'}`).join(', ')}`,
    '',
  ].join('\n'));
}
