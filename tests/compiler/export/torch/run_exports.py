"""Runs many `moec export torch` packages in one python3 process (the test stays fast).

argv[1] is a JSON manifest: a list of {"dir", "input", "output"} (and "dtype": "float32" to run
in float32; float64 otherwise). Each package's MoecModel is imported from DIR/modeling_moec.py
under its own module name, loaded with MoecModel.from_pretrained(DIR, dtype=DTYPE), run on the
inputs of INPUT (safetensors, by parameter name; float inputs in DTYPE), and its outputs written to OUTPUT as JSON lists of float64, with the
§10 statistics under "stats.KEY.NAME". A failure is written as "error" in a JSON next to OUTPUT.
"""
import importlib.util
import json
import sys
import traceback

import torch


def run(case, index):
    spec = importlib.util.spec_from_file_location(f"moec_export_{index}", f"{case['dir']}/modeling_moec.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    dtype = torch.float32 if case.get("dtype") == "float32" else torch.float64
    model = mod.MoecModel.from_pretrained(case["dir"], dtype=dtype)
    inputs = mod.load_safetensors(case["input"])
    args = [inputs[n] if not inputs[n].is_floating_point() else inputs[n].to(dtype) for n in case["inputs"]]
    with torch.no_grad():
        out, stats = model(*args, return_stats=True)
    tensors = dict(out) if isinstance(out, dict) else {case["outputs"][0]: out}
    tensors = {k: v.double() for k, v in tensors.items()}
    for key, s in stats["routers"].items():
        for name in ("load", "importance", "entropy", "maxvio", "drop_rate", "balance_unscaled"):
            tensors[f"stats.{key}.{name}"] = torch.as_tensor(s[name], dtype=torch.float64).reshape(-1)
        tensors[f"stats.{key}.active_k"] = torch.as_tensor(s["active_k"]["mean"], dtype=torch.float64).reshape(-1)
    for key, loss in stats["losses"]["balance"].items():
        tensors[f"loss.{key}"] = loss.double().reshape(-1)
    with open(case["output"], "w") as f:  # JSON keeps every float64 exactly (repr round-trips)
        json.dump({k: v.reshape(-1).tolist() for k, v in tensors.items()}, f)


def main():
    cases = json.load(open(sys.argv[1]))
    for i, case in enumerate(cases):
        try:
            run(case, i)
        except Exception:  # reported to the test, which names the case
            with open(case["output"] + ".error.json", "w") as f:
                json.dump({"error": traceback.format_exc()}, f)


main()
