// The static rules a plugin's WGSL snippet must pass before it is spliced into a moec kernel.
// Shared by plugin registration (compiler/plugins/register.ts: errors at load time) and the router
// kernel generators (runtime/kernels/router-plugin-wgsl.ts), so both apply the same rules.

export class PluginWgslError extends Error {
  override name = "PluginWgslError";
  constructor(readonly source: string, readonly stage: string, message: string) {
    super(`plugin ${source}, stage '${stage}': ${message}`);
  }
}

// What a plugin snippet may not contain: it is spliced into our kernel, so it must not declare
// bindings, entry points or workgroup state, nor synchronize (barriers in divergent code hang GPUs).
const FORBIDDEN: [RegExp, string][] = [
  [/@/, "attributes (`@…`)"],
  [/\bvar\s*</, "module-scope variables (`var<…>`)"],
  [/\b(workgroupBarrier|storageBarrier|textureBarrier|workgroupUniformLoad)\b/, "barriers"],
  [/\batomic\w*/, "atomics"],
  [/\b(enable|requires|override|diagnostic)\b/, "directives"],
  [/\bsubgroup\w*/, "subgroup operations"],
];

/** Static checks of one snippet; expressions additionally may not contain statements. */
export function lintSnippet(st: { source: string; name: string }, field: string, code: string, expression: boolean): void {
  for (const [re, what] of FORBIDDEN) {
    if (re.test(code)) throw new PluginWgslError(st.source, st.name, `wgsl.${field} may not use ${what}`);
  }
  if (expression && /[;{}]/.test(code)) throw new PluginWgslError(st.source, st.name, `wgsl.${field} must be a single WGSL expression (no \`;\`, \`{\` or \`}\`)`);
  if (!expression) {
    for (const m of code.matchAll(/\bfn\s+([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!m[1]!.startsWith(`${st.name}_`)) {
        throw new PluginWgslError(st.source, st.name, `helper function '${m[1]}' must be named '${st.name}_…' (helpers share the kernel's namespace)`);
      }
    }
  }
}
