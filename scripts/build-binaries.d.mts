// Types for build-binaries.mjs (imported by apps/guardiand/src/build.ts).
export declare const EXTERNAL_PACKAGES: readonly string[];
export declare const CONCLAVED_BUNDLE: string;
export declare const CONCLAVE_BUNDLE: string;
export declare function buildConclaved(): Promise<string>;
export declare function buildConclave(): Promise<string>;
