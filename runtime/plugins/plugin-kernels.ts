// Compiles the kernels a router's plugin stages contribute to, before they are used, so that
// WGSL that does not compile is reported against the plugin and stage that wrote it (E0904)
// rather than as a failure of a generated kernel: the failing variant is recompiled with one
// plugin stage at a time until the culprit is found.
import type { GpuContext } from "../gpu/device.js";
import { KernelCompileError } from "../gpu/pipeline-cache.js";
import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "../kernels/kernel-spec.js";
import { chooseThresholdKernel, routerStateKernel } from "../kernels/router-aux-kernels.js";
import { fusedRouterKernel } from "../kernels/router-fused.js";
import { stdStateRules, type RouterPlan } from "../kernels/router-plan.js";
import { PluginWgslError } from "../../stdlib/wgsl-lint.js";

/** The compiler's first message, without the kernel listing. */
function firstError(e: KernelCompileError): string {
  const lines = e.message.split("\n").map((l) => l.trim());
  const msg = lines.find((l) => /^\d+:\d+: /.test(l));
  return msg ? msg.replace(/^\d+:\d+: /, "") : lines[0]!;
}

async function compiles(gpu: GpuContext, spec: KernelSpec): Promise<KernelCompileError | undefined> {
  try {
    await gpu.pipelines.get(spec);
    return undefined;
  } catch (e) {
    if (e instanceof KernelCompileError) return e;
    throw e;
  }
}

export async function checkPluginKernels(gpu: GpuContext, plan: RouterPlan, dtype: StorageDtype, subgroups: boolean): Promise<void> {
  const main = fusedRouterKernel({ dtype, subgroups, plugins: plan.plugins }).spec;
  const variants: { spec: KernelSpec; one: (i: number) => KernelSpec }[] = [
    { spec: main, one: (i) => fusedRouterKernel({ dtype, subgroups, plugins: [plan.plugins[i]!] }).spec },
  ];
  if (plan.scope === "run") variants.push({ spec: chooseThresholdKernel(plan.plugins).spec, one: (i) => chooseThresholdKernel([plan.plugins[i]!]).spec });
  for (const v of variants) {
    const err = await compiles(gpu, v.spec);
    if (!err) continue;
    for (let i = 0; i < plan.plugins.length; i++) {
      const e1 = await compiles(gpu, v.one(i));
      if (e1) throw new PluginWgslError(plan.plugins[i]!.source, plan.plugins[i]!.name, `its WGSL does not compile (E0904): ${firstError(e1)}`);
    }
    throw err;
  }
  const std = stdStateRules();
  const own = plan.stateRules.filter((r) => !std.some((s) => s.code === r.code));
  if (own.length && (await compiles(gpu, routerStateKernel(plan.stateRules).spec))) {
    for (const r of own) {
      const e1 = await compiles(gpu, routerStateKernel([...std, r]).spec);
      if (e1) throw new PluginWgslError(r.source, r.stage, `the WGSL update rule of its state '${r.state}' does not compile (E0904): ${firstError(e1)}`);
    }
  }
}
