// The module kinds this guardian build can run, by the name federation configs use.
import type { ModuleFactory } from "@conclave/core-server";
import { dummyModuleFactory } from "@conclave/module-dummy";

export const MODULE_FACTORIES: Readonly<Record<string, ModuleFactory>> = {
  dummy: dummyModuleFactory,
};
