// The browser module as the page sees it: playground.js imports ./moec.js (the built
// moec/browser) beside it at run time (scripts/build-playground.mjs keeps this import external),
// so the compiler is loaded once; types come from dist/browser/index.d.ts.
export * as moec from "moec/browser";
export type { JsonDiagnostic } from "moec/browser";
