// The guardian's side of sealed messages (core-common seal.ts): a capability handed to each module in
// its ModuleContext. The guardian's secret seed stays in this closure: a module can open what was
// sealed to this guardian for itself (its instance id and a purpose it names), and nothing else.
import { SealError, bytesEqual, openSealed, toHex } from "@conclave/core-common";
import type { FederationConfig, Sealed } from "@conclave/core-common";

/** Opens a message sealed to this guardian for the calling module and `purpose`; throws SealError. */
export type Unseal = (sealed: Sealed, purpose: string) => Promise<Uint8Array>;

export interface SealOpenerOptions {
  readonly federation: FederationConfig;
  readonly federationId: Uint8Array;
  readonly self: number;
  readonly secretSeed: Uint8Array;
  readonly instanceId: number;
}

function guardianText(federation: FederationConfig, index: number): string {
  const g = federation.guardians[index];
  if (!g) return `guardian ${index}`;
  return `guardian ${index} (${g.name}${g.api ? `, ${g.api.url}` : ""})`;
}

export function sealOpener(options: SealOpenerOptions): Unseal {
  const { federation, federationId, self, instanceId } = options;
  const secretSeed = Uint8Array.from(options.secretSeed);
  return async (sealed, purpose) => {
    if (!bytesEqual(sealed.federationId, federationId))
      throw new SealError(
        "misdirected_sealed",
        `this sealed message is for another federation (${toHex(sealed.federationId).slice(0, 16)}…), ` +
          `not this one (${toHex(federationId).slice(0, 16)}…)`,
        { federationId: toHex(sealed.federationId) },
      );
    if (sealed.instanceId !== instanceId)
      throw new SealError(
        "misdirected_sealed",
        `this sealed message is for module instance ${sealed.instanceId}, not this endpoint's (${instanceId})`,
        { instanceId: sealed.instanceId },
      );
    if (sealed.guardian !== self) {
      const entry = federation.guardians[sealed.guardian];
      throw new SealError(
        "misdirected_sealed",
        entry
          ? `this sealed message is for ${guardianText(federation, sealed.guardian)}; this is ` +
              `${guardianText(federation, self)}, which cannot open it: send it to guardian ${sealed.guardian}`
          : `this sealed message is for guardian ${sealed.guardian}, which this federation does not have ` +
              `(${federation.guardians.length} guardians)`,
        {
          guardian: sealed.guardian,
          ...(entry ? { name: entry.name } : {}),
          ...(entry?.api ? { url: entry.api.url } : {}),
        },
      );
    }
    return openSealed(secretSeed, sealed, purpose);
  };
}
