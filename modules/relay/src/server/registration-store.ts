// Webhook and Web Push registrations kept in this guardian's own LMDB environment (no consensus), so
// that a guardian restart loses none: push.ts writes each registration when it is made and deletes it
// when it is removed (deleted by its owner, expired, or its push subscription gone), and reloads the
// live ones at start. A record is what the registration needs to run again: its secret, its client
// network (for the per-network bound), its target (webhook URL or push subscription), its watches
// and its expiry. At most PushLimits.registrationsMax records exist, as at most that many live.
import { open } from "lmdb";
import type { RootDatabase } from "lmdb";
import { z } from "zod";
import { PushSubscriptionSchema, WatchTargetSchema } from "../watch-common.js";

export const StoredRegistrationSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  secret: z.string(),
  client: z.string(),
  target: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("webhook"), url: z.string() }),
    z.strictObject({ kind: z.literal("push"), subscription: PushSubscriptionSchema }),
  ]),
  watches: z.array(WatchTargetSchema),
  expiresAtMs: z.number().int(),
});
export type StoredRegistration = z.output<typeof StoredRegistrationSchema>;

export class RegistrationStore {
  static open(path: string): RegistrationStore {
    return new RegistrationStore(
      open<string, string>({ path, encoding: "string", keyEncoding: "ordered-binary" }),
    );
  }

  private constructor(private readonly db: RootDatabase<string, string>) {}

  async put(r: StoredRegistration): Promise<void> {
    await this.db.put(r.id, JSON.stringify(r));
  }

  async delete(id: string): Promise<void> {
    await this.db.remove(id);
  }

  /** Every stored registration; a record that does not parse (a damaged file) is skipped and reported. */
  all(): { readonly records: StoredRegistration[]; readonly damaged: string[] } {
    const records: StoredRegistration[] = [];
    const damaged: string[] = [];
    for (const { key, value } of this.db.getRange()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        damaged.push(String(key));
        continue;
      }
      const r = StoredRegistrationSchema.safeParse(parsed);
      if (r.success) records.push(r.data);
      else damaged.push(String(key));
    }
    return { records, damaged };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
