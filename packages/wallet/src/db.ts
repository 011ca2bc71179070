// The client database lives in the client core (@conclave/core-client): re-exported here for the
// wallet's own modules and its tests.
export { MemoryClientDb, del, prefixEnd, put, scanPrefix } from "@conclave/core-client";
export type { ClientDb, DbOp } from "@conclave/core-client";
