// Watches over WebSocket (/v1/modules/relay/ws): the API keeps the connection (limits, rate limit,
// ping/pong keep-alive that drops a silent peer) and hands this module the parsed messages.
// {"type":"watch","id","kind","key"} answers "watching", then the state now when this guardian knows
// it, then every change (Cashu NUT-17's rule). The watch is registered with the source before the
// current state is read, so a change in between is sent, never lost; a change that arrives before
// the read finishes wins over the (older) read.
import { ConclaveError, InvalidRequestError, UnavailableError } from "@conclave/core-common";
import type {
  ModuleSocketHandler,
  ModuleSocketPeer,
  ModuleSocketSession,
  WatchFn,
  WatchHandle,
  WatchState,
} from "@conclave/core-server";
import { WATCHES_PER_CONNECTION_MAX, WatchClientMessageSchema } from "../watch-common.js";
import type { WatchServerMessage } from "../watch-common.js";

/** Refusals name what to do: too many watches is 429 with the limit. */
export class TooManyWatchesError extends ConclaveError {
  override readonly name = "TooManyWatchesError";
  constructor(limit: number, where: string) {
    super("too_many_watches", `at most ${limit} watches ${where}; unwatch finished ones first`, {
      status: 429,
      details: { limit },
    });
  }
}

/** Parses with a zod schema into an InvalidRequestError that names the field. */
export function parseOrRefuse<T>(
  r:
    | { success: true; data: T }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
  where: string,
): T {
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const at = first && first.path.length > 0 ? `${first.path.map(String).join(".")}: ` : "";
  throw new InvalidRequestError(`invalid ${where}: ${at}${first?.message ?? "unexpected shape"}`);
}

export class WatchSockets implements ModuleSocketHandler {
  /** Open sessions (metrics). */
  readonly sessions = new Set<WatchSession>();

  constructor(
    private readonly watch: () => WatchFn | undefined,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    private readonly watchesPerConnectionMax = WATCHES_PER_CONNECTION_MAX,
  ) {}

  get watchCount(): number {
    let n = 0;
    for (const s of this.sessions) n += s.size;
    return n;
  }

  open(peer: ModuleSocketPeer): ModuleSocketSession {
    const session = new WatchSession(peer, this);
    this.sessions.add(session);
    return session;
  }

  /** @internal */
  source(): WatchFn {
    const w = this.watch();
    if (!w) throw new UnavailableError("this guardian's relay has not started yet");
    return w;
  }

  /** @internal */
  closed(session: WatchSession): void {
    this.sessions.delete(session);
  }

  /** @internal */
  get limit(): number {
    return this.watchesPerConnectionMax;
  }

  /** @internal */
  logError(e: unknown): void {
    this.log("watch.source-failed", { error: e instanceof Error ? e.message : String(e) });
  }
}

class WatchSession implements ModuleSocketSession {
  private readonly watches = new Map<string, WatchHandle>();
  private open = true;

  constructor(
    private readonly peer: ModuleSocketPeer,
    private readonly owner: WatchSockets,
  ) {}

  get size(): number {
    return this.watches.size;
  }

  private send(m: WatchServerMessage): void {
    if (this.open) this.peer.send(m);
  }

  async message(value: unknown): Promise<void> {
    const m = parseOrRefuse(
      WatchClientMessageSchema.safeParse(value),
      'message (expected {"type":"watch","id","kind","key"}, {"type":"unwatch","id"} or {"type":"ping"})',
    );
    if (m.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    if (m.type === "unwatch") {
      this.watches.get(m.id)?.unsubscribe();
      this.watches.delete(m.id);
      this.send({ type: "unwatched", id: m.id });
      return;
    }
    const { id, kind, key } = m;
    const previous = this.watches.get(id);
    if (!previous && this.watches.size >= this.owner.limit)
      throw new TooManyWatchesError(this.owner.limit, "per connection");
    let changed = false;
    let handle: WatchHandle;
    try {
      handle = this.owner.source()(kind, key, (state: WatchState) => {
        changed = true;
        this.send({ type: "state", id, kind, key, state: { ...state } });
      });
    } catch (e) {
      if (e instanceof ConclaveError)
        throw new ConclaveError(e.code, e.message, { status: e.status, details: { ...e.details, id } });
      throw e;
    }
    previous?.unsubscribe();
    this.watches.set(id, handle);
    this.send({ type: "watching", id });
    let current: WatchState | undefined;
    try {
      current = await handle.current();
    } catch (e) {
      // The source could not read it now (its node is down): the watch stays, changes still come.
      this.owner.logError(e);
      return;
    }
    if (current !== undefined && !changed && this.watches.get(id) === handle)
      this.send({ type: "state", id, kind, key, state: { ...current } });
  }

  close(): void {
    this.open = false;
    for (const h of this.watches.values()) h.unsubscribe();
    this.watches.clear();
    this.owner.closed(this);
  }
}
