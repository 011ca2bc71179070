// The guardian/Node fast path of the threshold blind signatures, on blst (@chainsafe/blst).
export {
  blind,
  blstTbs,
  checkG1Point,
  combineBlindShares,
  findBadKeyedNotes,
  findBadNotes,
  verifyKeyedNotesBatch,
  hashNote,
  hashNoteBytes,
  signBlindShare,
  unblind,
  verifyBlindShare,
  verifyBlindSharesBatch,
  verifyNote,
  verifyNotesBatch,
} from "./tbs-blst.js";
