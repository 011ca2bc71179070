// The relay's routes for the federation-held recovery shard (docs/relay.md, "The federation's shard";
// the store is escrow-store.ts): deposit, request, cancel, collect and status, each limited per client
// network. Split out of server.ts; RelayServerModule gives them its store, identity and log.
import { InvalidRequestError, fromHex, toHex } from "@conclave/core-common";
import type { ModuleApiEndpoint, ModuleContext } from "@conclave/core-server";
import type { z } from "zod";
import { EmptyRequestSchema } from "../common.js";
import {
  CancelRequestSchema,
  CancelResponseSchema,
  CollectRequestSchema,
  CollectResponseSchema,
  DepositRequestSchema,
  DepositResponseSchema,
  EscrowParamsSchema,
  EscrowStatusSchema,
  ReleaseRequestSchema,
  RequestResponseSchema,
} from "../escrow.js";
import type { EscrowStore } from "./escrow-store.js";

/** A request's part checked against its schema; anything else is a 400 naming where and what. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const at = first && first.path.length > 0 ? `${first.path.map(String).join(".")}: ` : "";
  throw new InvalidRequestError(`invalid ${where}: ${at}${first?.message ?? "unexpected shape"}`);
}

/** What the routes need of the relay module (read when a request comes: `self` is set at start). */
export interface EscrowRouteDeps {
  readonly instanceId: number;
  self(): number;
  escrow(): EscrowStore;
  /** Takes one request from the client network's bucket (throws 429 past it). */
  limit(client: string): void;
  log: ModuleContext["log"];
  /** A deposit, request or cancel changed a set's status: tell its watchers. */
  changed(): void;
}

export function escrowEndpoints(d: EscrowRouteDeps): ModuleApiEndpoint[] {
  const setIdOf = (params: unknown, client: string) => {
    d.limit(client);
    return fromHex(parse(EscrowParamsSchema, params, "path").setId);
  };
  return [
    {
      method: "POST",
      path: "escrow/:setId/deposit",
      summary: "Keep this guardian's piece of a federation-held recovery shard (signed by its owner)",
      params: EscrowParamsSchema,
      body: DepositRequestSchema,
      response: DepositResponseSchema,
      handle: async ({ params, body, client = "unknown" }) => {
        const setId = setIdOf(params, client);
        const r = await d
          .escrow()
          .deposit(d.instanceId, d.self(), setId, parse(DepositRequestSchema, body, "body"));
        if (r.stored) d.changed();
        return r;
      },
    },
    {
      method: "POST",
      path: "escrow/:setId/request",
      summary: "Ask for this guardian's piece, sealed to a temporary key, after the owner's delay",
      params: EscrowParamsSchema,
      body: ReleaseRequestSchema,
      response: RequestResponseSchema,
      handle: async ({ params, body, client = "unknown" }) => {
        const setId = setIdOf(params, client);
        const b = parse(ReleaseRequestSchema, body, "body");
        const r = await d.escrow().request(setId, b.requestId, b.tempKey);
        d.log("escrow.requested", {
          setId: toHex(setId),
          requestId: b.requestId,
          releaseAtMs: r.releaseAtMs,
        });
        d.changed();
        return r;
      },
    },
    {
      method: "POST",
      path: "escrow/:setId/cancel",
      summary: "Cancel a release request (signed by the owner's key for this guardian and request)",
      params: EscrowParamsSchema,
      body: CancelRequestSchema,
      response: CancelResponseSchema,
      handle: async ({ params, body, client = "unknown" }) => {
        const setId = setIdOf(params, client);
        const b = parse(CancelRequestSchema, body, "body");
        const cancelled = await d.escrow().cancel(d.instanceId, d.self(), setId, b.requestId, b.signature);
        if (cancelled) d.changed();
        return { cancelled };
      },
    },
    {
      method: "POST",
      path: "escrow/:setId/collect",
      summary: "The piece sealed to the request's temporary key (425 before the delay, 410 cancelled)",
      params: EscrowParamsSchema,
      body: CollectRequestSchema,
      response: CollectResponseSchema,
      handle: async ({ params, body, client = "unknown" }) => {
        const setId = setIdOf(params, client);
        const b = parse(CollectRequestSchema, body, "body");
        const sealed = await d.escrow().collect(d.self(), setId, b.requestId);
        return { sealed: Buffer.from(sealed).toString("base64url") };
      },
    },
    {
      method: "POST",
      path: "escrow/:setId/status",
      summary: "The deposit's owner key, delay and release requests (what its owner needs to cancel)",
      params: EscrowParamsSchema,
      body: EmptyRequestSchema,
      response: EscrowStatusSchema,
      handle: ({ params, body, client = "unknown" }) => {
        const setId = setIdOf(params, client);
        parse(EmptyRequestSchema, body, "body");
        return d.escrow().status(setId);
      },
    },
  ];
}
