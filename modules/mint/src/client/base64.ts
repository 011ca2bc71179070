// Base64 lives in core-common now (sealed messages use it too); the wallet's modules keep importing it
// from here.
export { base64Decode, base64Encode, base64UrlDecode, base64UrlEncode } from "@conclave/core-common";
export type { Base64Decoded as Decoded } from "@conclave/core-common";
