// Loads a compilation unit: the given files and everything they import (relative `.moe` paths),
// each parsed once, with file scopes of their declarations. Diagnoses missing files and names,
// import cycles and duplicate declarations.
import type * as A from "../syntax/ast.js";
import { parseSource } from "../syntax/parse.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { Registry } from "../../stdlib/registry.js";
import { BUILTIN_FUNCTIONS } from "../../stdlib/registry.js";
import { didYouMean } from "./suggest.js";
import { isMoePath } from "./source-text.js";
import type { SourceHost } from "./source-host.js";
import { baseName, dirName, resolvePath } from "./source-paths.js";

export type { SourceHost } from "./source-host.js";

export interface SourceFile {
  path: string;
  text: string;
  program: A.Program;
}

export type TopDecl = A.ConstDecl | A.LayerDecl | A.GraphDecl;

export interface ScopeEntry {
  decl: TopDecl;
  /** File that declares it. */
  file: string;
  /** Where this scope got the name from: its own declaration, or an import name. */
  via: A.Span;
}

export interface FileScope {
  file: SourceFile;
  names: Map<string, ScopeEntry>;
}

export interface Unit {
  files: Map<string, SourceFile>;
  scopes: Map<string, FileScope>;
  /** The files asked for, in order (their own declarations are candidates for entry points). */
  roots: string[];
  diagnostics: Diagnostic[];
}

export function stdNames(registry: Registry): Set<string> {
  return new Set<string>([
    ...registry.stages.keys(),
    ...registry.expertKinds.keys(),
    ...BUILTIN_FUNCTIONS.elementwise,
    ...BUILTIN_FUNCTIONS.weightOwning,
    ...BUILTIN_FUNCTIONS.special,
  ]);
}

export function loadUnit(rootFiles: string[], host: SourceHost, registry: Registry): Unit {
  const unit: Unit = { files: new Map(), scopes: new Map(), roots: rootFiles.map((f) => resolvePath(f)), diagnostics: [] };
  const std = stdNames(registry);
  const state = new Map<string, "loading" | "done">();

  const load = (file: string, text: string | undefined): FileScope | undefined => {
    if (unit.scopes.has(file)) return unit.scopes.get(file);
    if (text === undefined) return undefined;
    state.set(file, "loading");
    const parsed = parseSource(text, file);
    unit.diagnostics.push(...parsed.diagnostics);
    const sf: SourceFile = { path: file, text, program: parsed.program };
    unit.files.set(file, sf);
    const scope: FileScope = { file: sf, names: new Map() };
    const bag = new DiagnosticBag(file);

    const declare = (name: A.Ident, entry: ScopeEntry) => {
      const prev = scope.names.get(name.name);
      if (prev) {
        bag.error("E0200", `\`${name.name}\` is declared twice in this file`, name.span, {
          label: "declared again here",
          secondary: [{ file, span: prev.via, message: "first declared here" }],
        });
        return;
      }
      scope.names.set(name.name, entry);
    };

    // Own declarations first, so that imports clashing with them are reported at the import.
    for (const d of sf.program.decls) {
      if (d.kind === "Import") continue;
      declare(d.name, { decl: d, file, via: d.name.span });
    }
    for (const d of sf.program.decls) {
      if (d.kind !== "Import") continue;
      if (d.from.value === "std") {
        for (const n of d.names) {
          if (!std.has(n.name)) {
            bag.error("E0201", `\`${n.name}\` is not in the standard library or a loaded plugin`, n.span, {
              label: "not found in `std`",
              help: didYouMean(n.name, std),
            });
          }
        }
        continue;
      }
      if (!isMoePath(d.from.value)) {
        // Refused before reading: a device, /proc file or binary is never opened or echoed.
        bag.error("E0205", `imports read only \`.moe\` files, not \`${d.from.value}\``, d.from.span, {
          label: "not a `.moe` file",
          help: "import declarations from another `.moe` source, or `\"std\"` for the standard library",
        });
        continue;
      }
      const target = resolvePath(dirName(file), d.from.value);
      if (state.get(target) === "loading") {
        bag.error("E0202", `import cycle: \`${baseName(file)}\` imports \`${d.from.value}\`, which (directly or through other files) imports \`${baseName(file)}\``, d.from.span, {
          label: "this import closes a cycle",
          help: "move the shared declarations into a third file that both import",
        });
        continue;
      }
      const targetText = unit.scopes.has(target) ? "" : host.readFile(target);
      const targetScope = unit.scopes.get(target) ?? load(target, targetText);
      if (!targetScope) {
        const why = host.problem?.(target);
        bag.error("E0203", `cannot read \`${d.from.value}\` (resolved to ${target})${why ? `: ${why}` : ""}`, d.from.span, {
          label: why && why !== "no such file" ? "cannot be read" : "file not found",
          help: why && why !== "no such file" ? undefined : "import paths are relative to the importing file; use `\"std\"` for the standard library",
        });
        continue;
      }
      for (const n of d.names) {
        const found = targetScope.names.get(n.name);
        const own = found && found.file === target;
        if (!found || !own) {
          const candidates = [...targetScope.names.entries()].filter(([, e]) => e.file === target).map(([k]) => k);
          bag.error("E0204", `\`${d.from.value}\` has no declaration named \`${n.name}\``, n.span, {
            label: "not declared there",
            help: didYouMean(n.name, candidates) ?? (candidates.length ? `it declares ${candidates.map((c) => "`" + c + "`").join(", ")}` : undefined),
          });
          continue;
        }
        declare(n, { decl: found.decl, file: found.file, via: n.span });
      }
    }
    unit.diagnostics.push(...bag.items);
    unit.scopes.set(file, scope);
    state.set(file, "done");
    return scope;
  };

  for (const root of unit.roots) {
    const text = host.readFile(root);
    if (text === undefined) {
      const why = host.problem?.(root);
      unit.diagnostics.push({
        code: "E0003", severity: "error", message: `cannot read file \`${root}\`${why ? `: ${why}` : ""}`, file: root,
        span: { start: 0, end: 0 }, secondary: [], fileLevel: true,
      });
      continue;
    }
    load(root, text);
  }
  return unit;
}
