// Types for scripts/build-web.mjs (plain JavaScript so that it runs with node alone).
export declare const WEB_PAGE_OUT: string;
export declare const WALLET_PAGE_OUT: string;
export interface WebPage {
  readonly html: Uint8Array;
  /** SHA-256 of html, hex. */
  readonly sha256: string;
  readonly scriptBytes: number;
  readonly styleBytes: number;
  /** Each source file's bytes in the minified script (esbuild's metafile), heaviest first; paths relative to the repository. */
  readonly modules: readonly { readonly path: string; readonly bytes: number }[];
}
export declare function buildWebPage(): Promise<WebPage>;
export declare function writeWebPage(out?: string): Promise<WebPage & { readonly path: string }>;
export declare function buildWalletPage(): Promise<WebPage>;
export declare function writeWalletPage(out?: string): Promise<WebPage & { readonly path: string }>;
