// configuration_moec.py and config.json of a PyTorch export, following transformers' remote-code
// conventions: `auto_map` sends AutoConfig to configuration_moec.MoecConfig and AutoModelForCausalLM
// (a model) or AutoModel (a layer) to modeling_moec's wrapper, and `model_type` is "moec". The
// config only describes the program (entry, inputs, outputs, sizes); the computation is in code.
import type { IrProgram } from "../../ir/ir.js";

export const CONFIGURATION_PY = String.raw`
"""The configuration class of a moec PyTorch export (transformers remote code)."""

try:
    from transformers import PretrainedConfig
except ImportError:  # torch alone: MoecModel needs no configuration
    PretrainedConfig = None

if PretrainedConfig is not None:

    class MoecConfig(PretrainedConfig):
        """moec_entry, moec_kind, inputs and outputs of the exported program; sizes for tools."""

        model_type = "moec"

        def __init__(self, moec_entry=None, moec_kind=None, vocab_size=None, hidden_size=None, **kw):
            self.moec_entry = moec_entry
            self.moec_kind = moec_kind
            self.vocab_size = vocab_size
            self.hidden_size = hidden_size
            super().__init__(**kw)
`.trimStart();

export function configJson(program: IrProgram, version: string, dtype: string): string {
  const widths = new Map(program.values.map((v) => [v.id, v.width]));
  const embed = program.ops.find((o) => o.op === "embed");
  const vocab = program.model ? widths.get(program.outputs[0]!.value) : undefined;
  const hidden = embed ? widths.get(embed.out) : widths.get(program.inputs[0]!.value);
  const cls = program.model ? "MoecForCausalLM" : "MoecLayerModel";
  const config: Record<string, unknown> = {
    architectures: [cls],
    auto_map: {
      AutoConfig: "configuration_moec.MoecConfig",
      [program.model ? "AutoModelForCausalLM" : "AutoModel"]: `modeling_moec.${cls}`,
    },
    hidden_size: hidden,
    model_type: "moec",
    moec_entry: program.entry,
    moec_inputs: program.inputs.map((i) => ({ name: i.name, width: widths.get(i.value) })),
    moec_kind: program.model ? "model" : "layer",
    moec_outputs: program.outputs.map((o) => ({ name: o.name, width: widths.get(o.value) })),
    moec_version: version,
    torch_dtype: dtype,
    ...(vocab !== undefined ? { vocab_size: vocab } : {}),
  };
  return JSON.stringify(config, null, 2) + "\n";
}
