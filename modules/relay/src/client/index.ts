// @conclave/module-relay/client: the relay's client half (mailbox, contacts, recovery store, social
// recovery), browser-safe.
export * from "./relay-client.js";
export * from "./contacts.js";
export * from "./keys.js";
export * from "./mailbox.js";
export * from "./recovery.js";
export * from "./social.js";
export * from "./types.js";
export * from "./watch.js";
export * from "./commands.js";
export * from "./escrow.js";
export * from "./watch-commands.js";
export * from "./recovery-keeper.js";
