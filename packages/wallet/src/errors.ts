// The wallet's errors are the client core's (one class for the core and every client half, so that
// `instanceof WalletError` holds whichever half threw); the codes are listed in types.ts.
export { ClientError as WalletError, assert } from "@conclave/core-client";
