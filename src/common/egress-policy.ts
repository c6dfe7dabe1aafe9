import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where Tolk may send requests that a tenant chose the destination of (webhook URLs; docs/security.md
 * "Outbound requests"): never to this machine, private networks, link-local or unique-local
 * addresses or cloud metadata services, unless the operator allows a host or a range
 * (`TOLK_WEBHOOK_ALLOW_HOSTS`). The check runs twice: on the URL when it is stored (an address literal,
 * `localhost`, a metadata name) and on every address a name resolves to when a request connects, so
 * a name that resolves to a refused address (DNS rebinding) is refused too.
 */
export interface EgressPolicy {
  /** Host names (lowercase) the operator allows whatever they resolve to. */
  readonly allowedHosts: ReadonlySet<string>;
  /** Addresses and CIDR ranges the operator allows. */
  readonly allowedAddresses: BlockList;
  /** The setting as given, for messages. */
  readonly source: string;
}

/** The refused ranges, each with the reason named in errors. */
const REFUSED_RANGES: ReadonlyArray<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local or metadata address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a reserved address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a reserved address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['::', 96, 'ipv6', 'an IPv4-compatible address'],
  ['::ffff:0:0', 96, 'ipv6', 'an IPv4-mapped address'],
  ['64:ff9b::', 96, 'ipv6', 'a NAT64 address'],
  ['fc00::', 7, 'ipv6', 'a unique-local address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const REFUSED: Array<{ list: BlockList; reason: string }> = REFUSED_RANGES.map(([net, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, reason };
});

/** Names that are this machine or a cloud metadata service whatever DNS says. */
const REFUSED_NAMES = new Set(['localhost', 'metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data']);

/**
 * Parses `TOLK_WEBHOOK_ALLOW_HOSTS`: comma-separated host names (`hooks.internal`), addresses
 * (`127.0.0.1`, `::1`) and CIDR ranges (`10.1.0.0/16`). Empty or unset: nothing is allowed beyond
 * public addresses.
 * @throws {Error} naming the entry that is neither a name, an address nor a range.
 */
export function parseEgressPolicy(setting: string | undefined): EgressPolicy {
  const allowedHosts = new Set<string>();
  const allowedAddresses = new BlockList();
  for (const raw of (setting ?? '').split(',')) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (entry === '') continue;
    const [address, prefix] = entry.split('/', 2) as [string, string | undefined];
    const family = isIP(address);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) allowedAddresses.addAddress(address, type);
      else {
        const bits = Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`TOLK_WEBHOOK_ALLOW_HOSTS: '${raw.trim()}' has a bad prefix length`);
        allowedAddresses.addSubnet(address, bits, type);
      }
    } else if (/^[a-z0-9.-]+$/.test(entry) && prefix === undefined) {
      allowedHosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`TOLK_WEBHOOK_ALLOW_HOSTS: '${raw.trim()}' is not a host name, an address or a CIDR range`);
    }
  }
  return { allowedHosts, allowedAddresses, source: setting ?? '' };
}

/** Why `address` (an IP address) is refused as a destination, or undefined when it may be reached. */
export function refusedAddressReason(policy: EgressPolicy, address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (policy.allowedAddresses.check(address, type)) return undefined;
  for (const { list, reason } of REFUSED) if (list.check(address, type)) return reason;
  return undefined;
}

/** `hostname` of a WHATWG URL without IPv6 brackets and a trailing dot, lowercase. */
function bareHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * The check made when a URL is stored: why `url`'s host is refused, or undefined. Address literals
 * are checked here (WHATWG URL parsing already turned `0x7f000001`, `2130706433` and `127.1` into
 * `127.0.0.1`); names are checked again on every address they resolve to when a request connects
 * ({@link guardedLookup}).
 */
export function refusedUrlReason(policy: EgressPolicy, url: URL): string | undefined {
  const host = bareHost(url.hostname);
  if (policy.allowedHosts.has(host)) return undefined;
  if (isIP(host) !== 0) {
    const reason = refusedAddressReason(policy, host);
    return reason && `${host} is ${reason}`;
  }
  if (REFUSED_NAMES.has(host) || host.endsWith('.localhost')) return `${host} names this machine or a metadata service`;
  return undefined;
}

/** An error for a refused destination; `code` `EDESTREFUSED`. */
export class DestinationRefusedError extends Error {
  readonly code = 'EDESTREFUSED';
  constructor(reason: string) {
    super(`destination refused: ${reason} (allow it with TOLK_WEBHOOK_ALLOW_HOSTS)`);
    this.name = 'DestinationRefusedError';
  }
}

/**
 * A `lookup` for `http.request`/`net.connect` that resolves as usual and then refuses the
 * connection ({@link DestinationRefusedError}) when any address the name resolves to is refused —
 * checked at connect time, so a name that resolved to a public address when the URL was stored and
 * to a private one now is refused. Names the operator allowed resolve unchecked.
 */
export function guardedLookup(policy: EgressPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    const host = bareHost(hostname);
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as LookupAddress[];
      if (!policy.allowedHosts.has(host)) {
        if (REFUSED_NAMES.has(host) || host.endsWith('.localhost')) return callback(new DestinationRefusedError(`${host} names this machine`), '', 0);
        for (const a of list) {
          const reason = refusedAddressReason(policy, a.address);
          if (reason) return callback(new DestinationRefusedError(`${host} resolves to ${a.address}, ${reason}`), '', 0);
        }
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
