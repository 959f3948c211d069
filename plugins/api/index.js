// @moec/plugin-api — the contract between moec and router plugins (types in index.d.ts).
//
// A plugin is an ESM module whose default export is a plugin object, or a function that
// receives this module and returns one (so a plugin outside any npm project needs no import):
//
//   export default (api) => api.definePlugin({ apiVersion: api.API_VERSION, name, version, stages })
//
// moec checks `apiVersion` against API_VERSION when it loads the plugin.

/** Version of this contract. A plugin built for another version is refused at load. */
export const API_VERSION = 1;

/** Stage kinds of a router pipeline (LANGUAGE.md §5); `post` = post-select. */
export const STAGE_KINDS = Object.freeze(["score", "transform", "select", "post"]);

/** Row reductions a WGSL transform may ask for (over the experts of one token). */
export const TRANSFORM_REDUCTIONS = Object.freeze(["max", "sum", "sumexp", "sumsq"]);

/** Reductions a WGSL post-select stage may ask for (over the token's selected weights). */
export const POST_REDUCTIONS = Object.freeze(["max", "sum", "sumexp"]);

/** Identity with types: `definePlugin({...})` type-checks the object in editors. */
export function definePlugin(plugin) {
  return plugin;
}

/** Identity with types for a single stage (handy when stages live in their own files). */
export function defineStage(stage) {
  return stage;
}

/** Identity with types for an expert kind. */
export function defineExpertKind(kind) {
  return kind;
}
