// The threshold blind signatures the mint uses (pure TypeScript; the native blst path is for later).
export {
  blind,
  combineBlindShares,
  signBlindShare,
  unblind,
  verifyBlindShare,
  verifyNote,
  type BlindShare,
  type TbsResult,
} from "@conclave/core-common/tbs";
