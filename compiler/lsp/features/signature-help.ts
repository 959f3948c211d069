// Signature help for stages, expert kinds, blocks and layer calls.
import type { Position, SignatureHelp, SignatureInformation } from "vscode-languageserver";
import type { Analysis } from "../analysis.js";
import { toOffset } from "../analysis.js";
import type { ParamSpec } from "../../../stdlib/registry.js";
import { BLOCKS } from "../../semantic/blocks.js";
import { enclosingCall } from "./context.js";

function sig(label: string, params: readonly ParamSpec[], doc: string): SignatureInformation {
  const parts = params.map((p) => (p.positional ? p.name : `${p.name} = ${p.default ?? "…"}`));
  return {
    label: `${label}(${parts.join(", ")})`,
    documentation: doc,
    parameters: params.map((p, i) => ({ label: parts[i]!, documentation: p.doc })),
  };
}

export function signatureHelp(a: Analysis, pos: Position, text = a.text(a.file)): SignatureHelp | undefined {
  const call = enclosingCall(text, toOffset(a.lines(a.file), pos));
  if (!call) return undefined;
  const reg = a.compilation.registry;
  let info: SignatureInformation | undefined;
  let params: readonly ParamSpec[] = [];
  const stage = reg.stages.get(call.callee), kind = reg.expertKinds.get(call.callee), block = BLOCKS[call.callee];
  if (stage) { params = stage.params; info = sig(stage.name, params, stage.doc); }
  else if (kind) { params = kind.params; info = sig(kind.name, params, kind.doc); }
  else if (block) {
    params = [{ name: "x", type: "string", positional: true, doc: block.input === "ids" ? "token ids [T]" : "input [T, D]" }, ...block.params];
    info = sig(block.name, params, block.doc);
  } else {
    const entry = a.compilation.unit.scopes.get(a.file)?.names.get(call.callee);
    if (entry && (entry.decl.kind === "Layer" || entry.decl.kind === "Graph")) {
      const ps = entry.decl.params;
      const labels = ps.map((p) => (p.kind === "TensorParam" ? `${p.name.name}: [${p.dims.map((d) => (d.kind === "Call" ? d.callee.name : d.kind === "Number" ? d.text : "…")).join(", ")}]` : `${p.name.name}${p.default ? " = " + a.text(entry.file).slice(p.default.span.start, p.default.span.end) : ""}`));
      info = { label: `${call.callee}(${labels.join(", ")})`, parameters: labels.map((l) => ({ label: l })) };
      params = ps.map((p) => ({ name: p.name.name, type: "int", positional: p.kind === "TensorParam", doc: "" }));
    }
  }
  if (!info) return undefined;
  let active = call.argIndex;
  if (call.namedArg) active = params.findIndex((p) => p.name === call.namedArg);
  else {
    const positional = params.filter((p) => p.positional);
    if (active >= positional.length) active = params.findIndex((p) => !p.positional && !call.givenNames.includes(p.name));
    else active = params.indexOf(positional[active]!);
  }
  return { signatures: [info], activeSignature: 0, activeParameter: Math.max(0, active) };
}
