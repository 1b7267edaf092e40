/**
 * Guards for outgoing requests to addresses users configure (HTTP sources, webhooks): cloud
 * metadata services and link-local addresses answer with credentials, so they are refused
 * unless a project explicitly allows them.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidInputError } from './errors.js';

/** Addresses never reached unless allowed: link-local (incl. 169.254.169.254 metadata), and cloud metadata names. */
const BLOCKED_NAMES = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

function ipv4Parts(ip: string): number[] | undefined {
  const parts = ip.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)
    ? parts
    : undefined;
}

/** True for link-local and metadata addresses (IPv4, IPv6 and IPv4-mapped IPv6). */
export function isForbiddenAddress(ip: string): boolean {
  const lower = ip.toLowerCase();
  const mapped = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  const v4 = ipv4Parts(mapped);
  if (v4) {
    const [a, b] = v4;
    return (a === 169 && b === 254) || (a === 100 && b === 100 && v4[2] === 100 && v4[3] === 200) || a === 0;
  }
  // fe80::/10 link-local, fd00:ec2::254 (AWS IMDS over IPv6).
  return /^fe[89ab][0-9a-f]:/.test(lower) || lower === 'fd00:ec2::254';
}

/**
 * Resolve the URL's host and refuse metadata/link-local targets.
 * @throws InvalidInputError naming the URL and the address when refused
 */
export async function assertReachableUrl(
  url: string | URL,
  o: { allowLinkLocal?: boolean } = {},
): Promise<void> {
  if (o.allowLinkLocal) return;
  const u = typeof url === 'string' ? new URL(url) : url;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const refuse = (address: string) => {
    throw new InvalidInputError(
      `refusing to request ${u.origin}: ${address} is a link-local or cloud metadata address`,
      'such addresses hand out credentials; set allow_link_local: true on the source if this is intended',
    );
  };
  if (BLOCKED_NAMES.has(host.toLowerCase())) refuse(host);
  const addresses = isIP(host)
    ? [host]
    : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  for (const address of addresses) if (isForbiddenAddress(address)) refuse(address);
}
