// modeling_moec.py for one lowered program: the shared helpers (ops, attention, routers,
// statistics), the stage functions the routers name, then `MoecModel`, a plain nn.Module whose
// parameters and buffers carry the program's canonical weight names (state_dict keys are the
// names of LANGUAGE.md §7), whose `forward` is the IR op by op, and `from_pretrained`, which reads
// model.safetensors with torch alone; last a transformers wrapper used only where transformers
// imports (remote code: AutoModelForCausalLM / AutoModel through config.json's auto_map).
import type { IrAgentMember, IrPool, IrProgram, IrRouter, IrWeight } from "../../ir/ir.js";
import { emitExpertMethod } from "./expert-kinds.js";
import { allOps, emitAgentMethod, emitOp, valueNames, type OpContext } from "./op-emitters.js";
import { PRELUDE_ATTENTION } from "./prelude-attention.js";
import { PRELUDE_OPS } from "./prelude-ops.js";
import { PyWriter, pyStr } from "./python-source.js";
import { PRELUDE_ROUTER, StageFunctions, TorchExportRefusal, emitRouterMethod } from "./router-stages.js";
import { PRELUDE_STATS } from "./stats.js";
import { poolTensors } from "../../ir/pool-tensors.js";

/** Every tensor the module owns: the IR's list, plus each pool's stacked (or per-member) tensors. */
export function moduleTensors(program: IrProgram): IrWeight[] {
  const out = new Map(program.weights.map((w) => [w.name, w]));
  for (const op of allOps(program.ops)) {
    if (op.op !== "moe" && op.op !== "shared") continue;
    for (const t of poolTensors(op.pool)) if (!out.has(t.name)) out.set(t.name, { name: t.name, shape: t.shape, role: "param" });
  }
  return [...out.values()];
}

/** Attribute names an nn.Module (or MoecModel) already has: a weight path component cannot be one. */
const RESERVED = new Set(
  ("add_module apply bfloat16 block buffers call_super_init children cpu cuda double dump_patches eval extra_repr float " +
    "forward from_pretrained get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict load_weights " +
    "modules named_buffers named_children named_modules named_parameters parameters register_backward_hook register_buffer " +
    "register_forward_hook register_forward_pre_hook register_full_backward_hook register_module register_parameter " +
    "requires_grad_ set_extra_state share_memory state_dict tensor to to_empty train training type xpu zero_grad").split(" "),
);

function initOf(w: IrWeight, normWeights: Set<string>): string {
  if (w.role === "state") return w.init === "ones" ? '"ones"' : '"zeros"';
  if (normWeights.has(w.name)) return '"ones"';
  if (w.shape.length === 1) return '"zeros"';
  return String(1 / Math.sqrt(w.shape[w.shape.length - 1]!));
}

/** Norm weights (initialized to 1 for training from scratch); everything else by its fan-in. */
function normWeightNames(program: IrProgram): Set<string> {
  const s = new Set<string>();
  for (const op of allOps(program.ops)) {
    if (op.op === "norm") s.add(`${op.weight}.weight`);
    if (op.op === "attention" || op.op === "mla") for (const n of ["q_norm", "k_norm", "kv_norm"]) s.add(`${op.attn.key}.${n}`);
  }
  return s;
}

export function emitModeling(program: IrProgram, header: string): string {
  const problems: string[] = [];
  const tensors = moduleTensors(program);
  for (const w of tensors) {
    const bad = w.name.split(".").find((p) => RESERVED.has(p) || p === "");
    if (bad !== undefined) problems.push(`weight '${w.name}': its name part '${bad}' is an attribute every nn.Module has; rename the declaration`);
  }
  const names = valueNames(program);
  const widths = new Map(program.values.map((v) => [v.id, v.width]));
  const pools = new Map<string, IrPool>();
  const routers = new Map<string, IrRouter>();
  const agents = new Map<string, IrAgentMember[]>();
  const ctx: OpContext = { program, name: (id) => names.get(id)!, width: (id) => widths.get(id)!, pools, routers, agents };

  // forward first: it tells which pools and routers need methods.
  const fw = new PyWriter().indent();
  const ins = program.inputs.map((i) => names.get(i.value)!);
  fw.line(`def forward(self, ${ins.join(", ")}, return_stats=False):`).indent();
  const ret = program.outputs.length === 1 && program.outputs[0]!.name !== "y" && !program.model ? `{${pyStr(program.outputs[0]!.name)}: …}` : program.outputs.length === 1 ? "a tensor" : "a dict";
  fw.line(`"""${program.model ? "Token ids [T] → logits [T, V]" : `${program.inputs.map((i) => `${i.name} [T, ${widths.get(i.value)}]`).join(", ")} → ${ret}`}; with return_stats, (output, statistics)."""`);
  for (const i of program.inputs) {
    const n = names.get(i.value)!;
    const width = widths.get(i.value)!;
    const dtype = program.values.find((v) => v.id === i.value)!.dtype;
    if (dtype === "i32") {
      fw.line(`if ${n}.dim() != 1:`).indent().line(`raise ValueError(f"forward: ${i.name} must be token ids [T], got shape {list(${n}.shape)}")`).dedent();
    } else {
      fw.line(`if ${n}.dim() != 2 or ${n}.shape[1] != ${width}:`).indent().line(`raise ValueError(f"forward: ${i.name} must be [T, ${width}], got shape {list(${n}.shape)}")`).dedent();
    }
  }
  fw.line("stats = RoutingStats() if return_stats else None");
  for (const op of program.ops) emitOp(fw, op, ctx);
  const outs = program.outputs.map((o) => `${pyStr(o.name)}: ${names.get(o.value)!}`);
  const single = program.outputs.length === 1 && (program.outputs[0]!.name === "y" || program.model);
  fw.line(`out = ${single ? names.get(program.outputs[0]!.value)! : `{${outs.join(", ")}}`}`);
  fw.line("return (out, stats.result()) if return_stats else out").dedent();

  const fns = new StageFunctions();
  const methods = new PyWriter().indent();
  // Agents first: their bodies add the pools and routers they use (a Map visits later entries too).
  for (const [key, members] of agents) {
    members.forEach((m, j) => {
      methods.line();
      emitAgentMethod(methods, key, j, m, ctx);
    });
  }
  for (const r of routers.values()) {
    methods.line();
    emitRouterMethod(methods, r, fns);
  }
  for (const p of pools.values()) {
    methods.line();
    emitExpertMethod(methods, p);
  }
  problems.push(...fns.problems);
  if (problems.length) throw new TorchExportRefusal(problems);

  const norms = normWeightNames(program);
  const params = new PyWriter();
  params.comment("(name, shape, role, init): parameters, and state (router e_bias, BatchNorm statistics) as buffers.");
  params.comment("init: the std of N(0, std²) for a matrix (1/√fan-in), or \"zeros\" / \"ones\".");
  params.line("TENSORS = [").indent();
  for (const w of tensors) params.line(`(${pyStr(w.name)}, (${w.shape.join(", ")}${w.shape.length === 1 ? "," : ""}), ${pyStr(w.role)}, ${initOf(w, norms)}),`);
  params.dedent().line("]");

  return [
    header,
    PRELUDE_OPS,
    PRELUDE_ATTENTION,
    PRELUDE_ROUTER,
    PRELUDE_STATS,
    "# ---- the stages this program's routers name ----\n\n",
    fns.source(),
    "\n# ---- the program ----\n",
    params.toString(),
    MODEL_CLASS_HEAD.replace("ENTRY", program.entry).replace("KIND", program.model ? "model" : "layer"),
    fw.toString(),
    methods.toString(),
    "\n",
    program.model ? HF_WRAPPER_MODEL : HF_WRAPPER_LAYER,
  ].join("\n").replace(/\n{3,}(?=\S)/g, "\n\n\n").replace(/\n{3,}(?= )/g, "\n\n");
}

const MODEL_CLASS_HEAD = String.raw`

class MoecModel(nn.Module):
    """The KIND ${"`"}ENTRY${"`"} as a plain nn.Module; state_dict keys are its moec weight names."""

    def __init__(self, dtype=torch.float32):
        super().__init__()
        self._owners = {}
        for name, shape, role, init in TENSORS:
            *path, leaf = name.split(".")
            owner = self
            for part in path:
                if part not in owner._modules:
                    owner.add_module(part, nn.Module())
                owner = owner._modules[part]
            if init == "zeros":
                value = torch.zeros(shape, dtype=dtype)
            elif init == "ones":
                value = torch.ones(shape, dtype=dtype)
            else:
                value = torch.randn(shape, dtype=dtype) * init
            if role == "param":
                owner.register_parameter(leaf, nn.Parameter(value))
            else:
                owner.register_buffer(leaf, value)
            self._owners[name] = (owner, leaf)

    def tensor(self, name):
        """The parameter or state tensor of this moec weight name."""
        owner, leaf = self._owners[name]
        return getattr(owner, leaf)

    def block(self, key, names):
        """A block's tensors by their short names (wq, wk, …) under its key."""
        return {n: self.tensor(f"{key}.{n}") for n in names}

    def load_weights(self, tensors, where="weights"):
        """Copies {name: tensor}; missing parameters, unknown names and wrong shapes are errors."""
        missing = [n for n, _, role, _ in TENSORS if role == "param" and n not in tensors]
        if missing:
            raise ValueError(f"{where}: missing tensor '{missing[0]}' ({len(missing)} missing)")
        for name, value in tensors.items():
            if name not in self._owners:
                raise ValueError(f"{where}: tensor '{name}' is not a weight of this model")
            target = self.tensor(name)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"{where}: tensor '{name}' has shape {list(value.shape)}, "
                    f"expected {list(target.shape)}"
                )
            with torch.no_grad():
                target.copy_(value.to(target.dtype))
        return self

    @classmethod
    def from_pretrained(cls, path, dtype=torch.float32):
        """The model with the weights of path (a directory with model.safetensors, or the file)."""
        file = os.path.join(path, "model.safetensors") if os.path.isdir(path) else path
        return cls(dtype=dtype).load_weights(load_safetensors(file), where=file)

`;

const HF_IMPORTS = String.raw`
# ---- transformers remote code (used only where transformers imports) ----

try:
    from transformers import PreTrainedModel

    try:
        from .configuration_moec import MoecConfig
    except ImportError:
        from configuration_moec import MoecConfig
except ImportError:
    PreTrainedModel = None
`;

const HF_WRAPPER_MODEL = HF_IMPORTS + String.raw`

if PreTrainedModel is not None:
    from transformers.modeling_outputs import CausalLMOutput

    class MoecForCausalLM(PreTrainedModel):
        """AutoModelForCausalLM.from_pretrained(OUT, trust_remote_code=True): ids [B, T] → logits."""

        config_class = MoecConfig
        base_model_prefix = "model"

        def __init__(self, config):
            super().__init__(config)
            self.model = MoecModel()

        def forward(self, input_ids, labels=None, **kwargs):
            logits = torch.stack([self.model(ids) for ids in input_ids])
            loss = None
            if labels is not None:
                loss = F.cross_entropy(
                    logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1)
                )
            return CausalLMOutput(loss=loss, logits=logits)
`;

const HF_WRAPPER_LAYER = HF_IMPORTS + String.raw`

if PreTrainedModel is not None:

    class MoecLayerModel(PreTrainedModel):
        """AutoModel.from_pretrained(OUT, trust_remote_code=True): the layer's forward."""

        config_class = MoecConfig
        base_model_prefix = "model"

        def __init__(self, config):
            super().__init__(config)
            self.model = MoecModel()

        def forward(self, *inputs, return_stats=False):
            return self.model(*inputs, return_stats=return_stats)
`;
