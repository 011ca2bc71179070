// Writes vectors.json next to this file: `npx tsx packages/core-common/src/tbs/make-vectors.ts`,
// then `npx prettier --write packages/core-common/src/tbs/vectors.json`.
import { writeFileSync } from "node:fs";
import { computeVectors } from "./vectors.js";

const path = new URL("./vectors.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(computeVectors(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
