// @conclave/module-dummy/client: the test-only dummy module's client half, the dev faucet. It prints
// fresh notes through the mint half's interface (a faucet input of this module, notes out), in as
// many transactions as the faucet's limit and the mint's notes per transaction need.
import { ClientError, clientCommand, progressOf, startOperation } from "@conclave/core-client";
import type {
  OperationStream,
  ClientCommand,
  ClientContext,
  ClientModule,
  ClientModuleFactory,
  ClientModuleInit,
} from "@conclave/core-client";
import type { TxInput } from "@conclave/core-common";
import { denominationAmount } from "@conclave/module-mint/browser";
import { mergeResults } from "@conclave/module-mint/client";
import type { MintClient, ReissueResult } from "@conclave/module-mint/client";
import { z } from "zod";
import { DUMMY_KIND, encodeDummyInput } from "../common.js";

const dummyConfigSchema = z.object({
  faucetAmountMax: z.string().regex(/^\d{1,20}$/),
  feePerInput: z.string().regex(/^\d{1,20}$/),
});

/** The faucet's progress: what it issued so far, after each of its transactions. */
export interface FaucetProgress {
  readonly stage: "issued";
  readonly message: string;
  readonly issued: bigint;
  readonly amount: bigint;
  readonly transactions: number;
}

export class DummyClient implements ClientModule {
  readonly kind = DUMMY_KIND;
  readonly instanceId: number;
  private readonly ctx: ClientContext;

  constructor(
    init: ClientModuleInit,
    private readonly faucetAmountMax: bigint,
    private readonly feePerInput: bigint,
  ) {
    this.instanceId = init.instanceId;
    this.ctx = init.context;
  }

  /** Dev federations only (the test-only faucet module): issue `amount` in fresh notes. */
  devFaucet(amount: bigint, onProgress?: (p: FaucetProgress) => void): Promise<ReissueResult> {
    return progressOf(this.devFaucetOperation(amount), onProgress);
  }

  /** `devFaucet` as a stream: a progress event per faucet transaction settled, then the result. */
  devFaucetOperation(amount: bigint): OperationStream<FaucetProgress, ReissueResult> {
    return startOperation((progress) => this.faucet(amount, progress));
  }

  private faucet(amount: bigint, progress: (p: FaucetProgress) => void): Promise<ReissueResult> {
    return this.ctx.run(async () => {
      const mint = this.ctx.module<MintClient>("mint");
      if (!mint) throw new Error("the faucet needs the mint half (the federation runs no mint)");
      mint.checkAmount(amount);
      const results: ReissueResult[] = [];
      let chunk: number[] = [];
      let chunkValue = 0n;
      let issued = 0n;
      const flush = async () => {
        if (chunk.length === 0) return;
        const faucet: TxInput = {
          module: this.instanceId,
          amount: chunkValue + this.feePerInput,
          payload: encodeDummyInput({ kind: "faucet", nonce: this.ctx.random(16) }),
        };
        const r = await mint.issueLocked("faucet", { inputs: [faucet], outputs: chunk });
        results.push(r);
        issued += r.amount;
        progress({
          stage: "issued",
          message: `issued ${issued} of ${amount} in ${results.length} transaction(s)`,
          issued,
          amount,
          transactions: results.length,
        });
        chunk = [];
        chunkValue = 0n;
      };
      for (const log2 of mint.decompose(amount).notes) {
        const d = denominationAmount(log2);
        if (d + this.feePerInput > this.faucetAmountMax)
          throw new ClientError(
            "invalid_amount",
            `the faucet gives at most ${this.faucetAmountMax} per transaction`,
          );
        if (chunk.length >= mint.outputsMax() || chunkValue + d + this.feePerInput > this.faucetAmountMax)
          await flush();
        chunk.push(log2);
        chunkValue += d;
      }
      await flush();
      return mergeResults(results);
    });
  }
}

/** The faucet's client half: only in dev federations (and with a config it reads). */
export function dummyClientFactory(): ClientModuleFactory<DummyClient> {
  return {
    kind: DUMMY_KIND,
    init: (init) => {
      if (init.federation.environment !== "dev") return undefined;
      const parsed = dummyConfigSchema.safeParse(init.config);
      if (!parsed.success) return undefined;
      return new DummyClient(init, BigInt(parsed.data.faucetAmountMax), BigInt(parsed.data.feePerInput));
    },
  };
}

/** What the faucet's command needs of the wallet: the half's faucet (the facade passes it on). */
export type DummyCommandApi = Pick<DummyClient, "devFaucet">;

/** The faucet's command for a command-line front end (the contract: core-client commands.ts). */
export const dummyCommands = [
  clientCommand({
    name: "dev-faucet",
    args: ["amount"],
    options: {},
    summary: "get free notes from a dev federation's test-only faucet",
    details: [
      "Only a dev federation (like `npm start`'s) runs the faucet; a real one refuses.",
      'Amounts: XMR with up to 12 decimals ("0.25") or base units with a "p" suffix ("250000000000p").',
    ],
    examples: ["conclave dev-faucet 1.5", "conclave dev-faucet 1000000p"],
    movesNotes: true,
    parse: (p, _v, parsers) => ({ amount: parsers.amount(p[0]!) }),
    run: (api: DummyCommandApi, a) => api.devFaucet(a.amount),
  }),
] as const satisfies readonly ClientCommand<DummyCommandApi>[];
