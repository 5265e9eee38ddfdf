import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may never reach unless the operator allows private targets: loopback, private, shared
 * (CGNAT), link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254), multicast, reserved and
 * unspecified ranges. Without this, anyone with an account could make the server call its own network.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IP literal) is one a webhook may not reach. IPv4-mapped IPv6 is judged as its IPv4. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a webhook URL may be used, and why not in words. */
export type UrlVerdict = { ok: true } | { ok: false; reason: string; unresolvable?: boolean };

/** Every address `hostname` resolves to (the literal itself for an IP). */
export function resolveAll(hostname: string): Promise<LookupAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family !== 0) return Promise.resolve([{ address: bare, family }]);
  return new Promise((resolve, reject) => {
    dnsLookup(bare, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });
}

/** `https:`, or also `http:` when private targets are allowed: the one scheme rule of saving and of sending. */
export function schemeAllowed(url: URL, allowPrivate: boolean): boolean {
  return url.protocol === 'https:' || (allowPrivate && url.protocol === 'http:');
}

/**
 * Checks a webhook URL: `https://` only and no private address, unless `allowPrivate` (sandbox mode, tests,
 * `XGATE_WEBHOOK_ALLOW_PRIVATE=true`), which also allows `http://`. The host is resolved: a name that points
 * at a private address is refused like the address itself.
 */
export async function checkWebhookUrl(url: URL, allowPrivate: boolean): Promise<UrlVerdict> {
  if (!schemeAllowed(url, allowPrivate)) {
    return {
      ok: false,
      reason: allowPrivate ? 'must be an http:// or https:// URL' : 'must be an https:// URL',
    };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not contain a user name or password' };
  }
  if (allowPrivate) return { ok: true };
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(url.hostname);
  } catch {
    return {
      ok: false,
      reason: `has a host name, ${url.hostname}, that does not resolve`,
      unresolvable: true,
    };
  }
  const inside = addresses.find((a) => isPrivateAddress(a.address));
  if (inside) {
    return {
      ok: false,
      reason: `points at ${inside.address}, a loopback, private, link-local or reserved address, which webhooks may not reach`,
    };
  }
  return { ok: true };
}

/**
 * A `lookup` for `http.request` that refuses private addresses at connection time, so a name that resolved to a
 * public address when the webhook was created but to a private one now (DNS rebinding) is still refused.
 */
export function guardedLookup(
  hostname: string,
  options: { all?: boolean },
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  resolveAll(hostname).then(
    (addresses) => {
      const inside = addresses.find((a) => isPrivateAddress(a.address));
      if (inside) {
        const error = Object.assign(
          new Error(`${hostname} resolves to ${inside.address}, a private or reserved address`),
          { code: 'EPRIVATEADDRESS' },
        );
        callback(error, '');
        return;
      }
      const first = addresses[0];
      if (!first) {
        callback(Object.assign(new Error(`${hostname} did not resolve`), { code: 'ENOTFOUND' }), '');
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    },
    (error: Error) => callback(error, ''),
  );
}
