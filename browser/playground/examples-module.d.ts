// The examples' sources, embedded by scripts/build-playground.mjs: path ("/examples/…") → text.
declare module "moec:examples" {
  const sources: Record<string, string>;
  export default sources;
}
