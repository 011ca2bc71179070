// The client core, for Node and the browser alike (no node: imports): transport to many guardians,
// joining with an invite, and answers trusted only when t guardians agree or a proof verifies.
//
//   const client = await FederationClient.join(inviteCode);
//   const { txid } = await client.submitTransaction(encodeTransaction(tx));
//   const { value } = await client.awaitTransaction(txid);   // accepted or rejected, per t guardians
//   const session = await client.session(0);                 // verified: t signatures over its header
export * from "./errors.js";
export * from "./federation-client.js";
export * from "./invite.js";
export * from "./limits.js";
export * from "./quorum.js";
export * from "./session-verify.js";
export * from "./transport.js";
export * from "./wire.js";
export * from "./client/index.js";
