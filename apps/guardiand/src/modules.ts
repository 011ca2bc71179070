// The module kinds this guardian build can run, by the name federation configs use.
import type { ModuleFactory, ModuleSetup } from "@conclave/core-server";
import { dummyModuleFactory } from "@conclave/module-dummy";

export const MODULE_FACTORIES: Readonly<Record<string, ModuleFactory>> = {
  dummy: dummyModuleFactory,
};

/** Setup steps for the key ceremony, by module kind (the dummy module needs no keys). */
export const MODULE_SETUPS: Readonly<Record<string, ModuleSetup>> = {};
