// Requests a guardian makes on a client's behalf (webhooks, Web Push) without becoming a way into its
// own network (SSRF). A destination is refused when its host is, or resolves to, anything but a public
// unicast address (ipaddr.js's range(): loopback, private, link-local such as 169.254.169.254,
// carrier-grade NAT, unique-local, IPv4-mapped, 6to4, Teredo, reserved...) or an address of this
// host's own interfaces (the guardian itself). Every address a name resolves to must pass, the
// connection goes to the address that was checked (the lookup is pinned: a DNS answer that changes
// between check and connect, "rebinding", changes nothing), and redirects are never followed (a 3xx
// is a failed delivery). Only https, unless the operator allowed an origin (guardian.local.json
// `outboundAllowedOrigins`: its own push gateway, or tests).
import { lookup } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { networkInterfaces } from "node:os";
import { InvalidRequestError } from "@conclave/core-common";
import ipaddr from "ipaddr.js";

export interface OutboundPolicy {
  /** Origins (scheme://host:port) exempt from the address checks, and allowed over plain http. */
  readonly allowedOrigins: readonly string[];
  /** Resolves a host name (tests pass their own; default: the system's resolver, all addresses). */
  readonly resolve?: (host: string) => Promise<readonly { address: string; family: number }[]>;
}

export class AddressRefusedError extends InvalidRequestError {
  constructor(message: string) {
    super(message, { reason: "address_refused" });
  }
}

export interface Destination {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) own.add(ipaddr.process(a.address.split("%")[0]!).toString());
  return own;
}

/** Why `address` may not be a destination, or undefined when it may. */
export function refusedAddress(
  address: string,
  own: ReadonlySet<string> = ownAddresses(),
): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns an IPv4-mapped IPv6 address into the IPv4 address it carries.
    parsed = ipaddr.process(address);
  } catch {
    return `${address} is not an IP address`;
  }
  const range = parsed.range();
  if (range !== "unicast") return `${address} is a ${range} address`;
  if (own.has(parsed.toString())) return `${address} is this guardian's own address`;
  return undefined;
}

/** Checks a URL a client gave for outbound requests; resolves its host once and returns the address to use. */
export async function checkDestination(text: string, policy: OutboundPolicy): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidRequestError(`not a URL: ${text.slice(0, 80)}`);
  }
  const allowed = policy.allowedOrigins.includes(url.origin);
  if (url.protocol !== "https:" && !(allowed && url.protocol === "http:"))
    throw new InvalidRequestError(`only https URLs are accepted, not ${url.protocol}`);
  if (url.username || url.password) throw new InvalidRequestError("a URL with credentials is refused");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: readonly { address: string; family: number }[];
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  else {
    try {
      addresses = await (policy.resolve ?? ((h) => lookup(h, { all: true, verbatim: true })))(host);
    } catch {
      throw new InvalidRequestError(`${host} does not resolve`);
    }
    if (addresses.length === 0) throw new InvalidRequestError(`${host} does not resolve`);
  }
  if (!allowed) {
    const own = ownAddresses();
    for (const a of addresses) {
      const why = refusedAddress(a.address, own);
      if (why)
        throw new AddressRefusedError(
          `refused: ${host} ${why === `${a.address} is not an IP address` ? why : `resolves to ${why}`}`,
        );
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

export interface OutboundAnswer {
  readonly status: number;
}

/**
 * POSTs `body` to a checked destination: pinned to its address, no redirects, a deadline for the
 * whole exchange, and at most `answerBytesMax` of the answer read (the rest discarded).
 */
export async function postTo(
  text: string,
  policy: OutboundPolicy,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  options: { timeoutMs: number; answerBytesMax?: number },
): Promise<OutboundAnswer> {
  const dest = await checkDestination(text, policy);
  const pinned: LookupFunction = (_host, opts, callback) => {
    if (typeof opts === "object" && opts.all)
      callback(null, [{ address: dest.address, family: dest.family }]);
    else callback(null, dest.address, dest.family);
  };
  const request = dest.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const req = request(
      dest.url,
      {
        method: "POST",
        lookup: pinned,
        headers: { ...headers, "content-length": String(body.length) },
        timeout: options.timeoutMs,
      },
      (res: IncomingMessage) => {
        let seen = 0;
        res.on("data", (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > (options.answerBytesMax ?? 4096)) res.destroy();
        });
        res.on("close", () => resolve({ status: res.statusCode ?? 0 }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error("timed out")), options.timeoutMs);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    req.on("close", () => clearTimeout(deadline));
    req.end(body);
  });
}
