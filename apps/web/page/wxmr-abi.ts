// No DOM here: wxmr-abi.test.ts compares it in Node with the generated ABI.
const bytes32 = { internalType: "bytes32", name: "depositId", type: "bytes32" } as const;
const addressIn = (name: string) => ({ internalType: "address", name, type: "address" }) as const;
const uintIn = (bits: number, name: string) =>
  ({ internalType: `uint${bits}`, name, type: `uint${bits}` }) as const;

/**
 * The entries of WrappedMonero's ABI the page uses: mint, depositUsed, totalSupply, balanceOf and
 * the errors a mint can revert with. The whole generated ABI (@conclave/evm/abi) is 14.7 KB in the
 * bundle; wxmr-abi.test.ts checks each entry here equals the generated one.
 */
export const wxmrAbi = [
  {
    inputs: [
      {
        components: [
          { internalType: "address", name: "recipient", type: "address" },
          { internalType: "uint256", name: "amount", type: "uint256" },
          { internalType: "bytes32", name: "depositId", type: "bytes32" },
          { internalType: "uint64", name: "deadline", type: "uint64" },
          { internalType: "uint32", name: "setIndex", type: "uint32" },
        ],
        internalType: "struct WrappedMonero.Mint",
        name: "m",
        type: "tuple",
      },
      { internalType: "bytes[]", name: "signatures", type: "bytes[]" },
    ],
    name: "mint",
    outputs: [],
    stateMutability: "nonpayable",
    type: "function",
  },
  {
    inputs: [{ internalType: "bytes32", name: "depositId", type: "bytes32" }],
    name: "depositUsed",
    outputs: [{ internalType: "bool", name: "", type: "bool" }],
    stateMutability: "view",
    type: "function",
  },
  {
    inputs: [],
    name: "totalSupply",
    outputs: [{ internalType: "uint256", name: "", type: "uint256" }],
    stateMutability: "view",
    type: "function",
  },
  { inputs: [bytes32], name: "DepositUsed", type: "error" },
  { inputs: [addressIn("signer")], name: "DuplicateSigner", type: "error" },
  { inputs: [], name: "ECDSAInvalidSignature", type: "error" },
  { inputs: [uintIn(256, "length")], name: "ECDSAInvalidSignatureLength", type: "error" },
  {
    inputs: [{ internalType: "bytes32", name: "s", type: "bytes32" }],
    name: "ECDSAInvalidSignatureS",
    type: "error",
  },
  { inputs: [], name: "Expired", type: "error" },
  { inputs: [uintIn(256, "got"), uintIn(256, "need")], name: "NotEnoughSignatures", type: "error" },
  { inputs: [], name: "Paused", type: "error" },
  { inputs: [uintIn(256, "available")], name: "RateLimited", type: "error" },
  { inputs: [uintIn(32, "setIndex")], name: "SetExpired", type: "error" },
  { inputs: [addressIn("signer")], name: "SignerNotGuardian", type: "error" },
  { inputs: [], name: "SignersNotAscending", type: "error" },
  { inputs: [uintIn(32, "setIndex")], name: "UnknownSet", type: "error" },
  { inputs: [], name: "ZeroAmount", type: "error" },
  { inputs: [], name: "ZeroDepositId", type: "error" },
  { inputs: [], name: "ZeroRecipient", type: "error" },
] as const;
