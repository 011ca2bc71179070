export { wrappedMoneroAbi, wrappedMoneroBytecode } from "./generated/wrapped-monero.js";
export * from "./typed-data.js";
export * from "./anvil.js";
