// `recovery recover --federation`: the requester's side of the federation's shard on a new device
// (docs/relay.md, "The federation's shard"). The first run asks every guardian for its piece, sealed
// to a temporary key this device keeps in the data directory until the wallet is recovered; later runs
// (or this one, with --wait) collect the pieces once t guardians released them after the owner's delay.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  FederationRequest,
  FederationWaitProgress,
  FederationWaitResult,
  NodeWalletEntry,
} from "@conclave/wallet-standard";
import { CliError, EXIT_PENDING } from "./errors.js";
import type { CliIo } from "./io.js";
import type { Output } from "./presentations.js";

/** The pending request in the data directory: it holds the temporary key's secret (mode 0600). */
export const REQUEST_FILE = "federation-request.json";

interface StoredRequest {
  readonly v: 1;
  readonly invite: string;
  readonly request: FederationRequest;
}

const isHex = (x: unknown, chars: number): x is string =>
  typeof x === "string" && x.length === chars && /^[0-9a-f]+$/.test(x);

/** The file is this CLI's own; a damaged one is named, not guessed at. */
function readStored(path: string): StoredRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError("bad_request_file", `${path} is not a request this CLI wrote: ${String(e)}`, { path });
  }
  const s = parsed as Partial<StoredRequest> | null;
  const r = s?.request;
  if (
    s?.v !== 1 ||
    typeof s.invite !== "string" ||
    !isHex(r?.setId, 32) ||
    !isHex(r?.requestId, 32) ||
    !isHex(r?.tempSeed, 64) ||
    !Array.isArray(r?.releases)
  )
    throw new CliError("bad_request_file", `${path} is not a request this CLI wrote; delete it to ask anew`, {
      path,
    });
  return s as StoredRequest;
}

export function forgetRequest(dir: string): void {
  rmSync(join(dir, REQUEST_FILE), { force: true });
}

function inText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function readyText(readyAtMs: number | undefined, nowMs: number): string {
  return readyAtMs === undefined
    ? "when is unknown (too few guardians answer)"
    : `ready in ${inText(readyAtMs - nowMs)} (at ${new Date(readyAtMs).toISOString()})`;
}

export function waitLine(p: FederationWaitProgress, nowMs: number): string {
  return (
    `The federation's shard: ${p.released} of ${p.needed} pieces released; ${readyText(p.readyAtMs, nowMs)}` +
    (p.cancelledAt.length > 0 ? `; cancelled at guardians ${p.cancelledAt.join(", ")}` : "") +
    (p.failedAt.length > 0
      ? `; no answer from guardians ${p.failedAt.map((f) => f.guardian).join(", ")}`
      : "")
  );
}

export type FederationOutcome =
  { readonly kind: "shard"; readonly shard: string } | { readonly kind: "pending"; readonly output: Output };

/**
 * The federation's shard for `recovery recover --federation`: asks for it if this directory keeps no
 * request yet (`anyShard` names the set), then collects it, waiting if `wait`.
 */
export async function federationShard(
  command: { readonly invite: string; readonly wait: boolean },
  dir: string,
  anyShard: string,
  io: CliIo,
  json: boolean,
  entry: NodeWalletEntry,
): Promise<FederationOutcome> {
  const path = join(dir, REQUEST_FILE);
  let stored: StoredRequest;
  if (existsSync(path)) {
    stored = readStored(path);
    if (stored.invite !== command.invite)
      throw new CliError(
        "other_request",
        `${dir} keeps a request to another federation's guardians; recover into another directory`,
        { dir },
      );
    io.stderr(`Collecting the federation's shard (request ${stored.request.requestId.slice(0, 16)}…)…\n`);
  } else {
    const request = await entry.requestFederationShard(command.invite, anyShard);
    if (request.releases.length === 0)
      throw new CliError("not_requested", "no guardian took the request for the federation's shard", {
        failedAt: request.failedAt,
      });
    stored = { v: 1, invite: command.invite, request };
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, JSON.stringify(stored), { mode: 0o600 });
    const last = Math.max(...request.releases.map((r) => r.releaseAtMs));
    io.stderr(
      `Asked guardians ${request.releases.map((r) => r.guardian).join(", ")} for the federation's shard ` +
        `(request ${request.requestId.slice(0, 16)}…); they release it from ${new Date(last).toISOString()} ` +
        `unless the wallet's owner cancels\n`,
    );
  }
  const onProgress = (p: FederationWaitProgress) =>
    io.stderr(json ? JSON.stringify({ progress: p }) + "\n" : waitLine(p, Date.now()) + "\n");
  let r: FederationWaitResult;
  try {
    r = await entry.waitFederationShard(command.invite, stored.request, { wait: command.wait, onProgress });
  } catch (e) {
    // Cancelled: this request will never be served; the next run asks anew.
    if (e instanceof Error && "code" in e && e.code === "request_cancelled") forgetRequest(dir);
    throw e;
  }
  if (r.shard !== undefined) {
    io.stderr(`The federation's shard: pieces from guardians ${r.piecesFrom.join(", ")} combined\n`);
    return { kind: "shard", shard: r.shard };
  }
  const now = Date.now();
  return {
    kind: "pending",
    output: {
      exitCode: EXIT_PENDING,
      json: {
        status: "pending",
        setId: stored.request.setId,
        requestId: stored.request.requestId,
        released: r.piecesFrom.length,
        needed: r.needed,
        ...(r.readyAtMs === undefined ? {} : { readyAtMs: r.readyAtMs }),
        pending: r.pending,
        cancelledAt: r.cancelledAt,
      },
      lines: [
        `The federation's shard is not released yet: ${r.piecesFrom.length} of ${r.needed} pieces; ${readyText(r.readyAtMs, now)}.`,
        `Run the same command again then (the request is kept in ${path}), or add --wait.`,
      ],
    },
  };
}
