// The #info panel: `moec info --json`'s document as a table (entry, kind, bindings, parameter
// and FLOP counts, parameters by category, weight tensors), with the full text table of
// `moec info` below it. Each row carries data-key, the document field it shows.
const grouped = new Intl.NumberFormat("en-US");

function row(table: HTMLTableElement, key: string, label: string, value: string, numeric = false): void {
  const tr = table.insertRow();
  tr.dataset.key = key;
  const th = document.createElement("th");
  th.textContent = label;
  const td = tr.insertCell();
  td.textContent = value;
  if (numeric) td.className = "num";
  tr.prepend(th);
}

const num = (v: unknown) => (typeof v === "number" ? grouped.format(v) : String(v));

export function showInfo(table: HTMLTableElement, note: HTMLElement, json: Record<string, unknown> | undefined, text: string | undefined): void {
  table.replaceChildren();
  note.replaceChildren();
  if (!json) {
    note.textContent = "no entry to describe (see the diagnostics)";
    return;
  }
  row(table, "entry", "entry", `${json.entry} (${json.kind})`);
  const hp = (json.hyper_parameters ?? {}) as Record<string, unknown>;
  if (Object.keys(hp).length) row(table, "hyper_parameters", "bindings", Object.entries(hp).map(([k, v]) => `${k} = ${v}`).join(", "));
  const params = (json.params ?? {}) as { total?: number; active?: number };
  row(table, "params.total", "total parameters", num(params.total), true);
  row(table, "params.active", "active per token", num(params.active), true);
  if (json.flops_per_token !== undefined) row(table, "flops_per_token", "FLOPs per token", num(json.flops_per_token), true);
  const cats = (json.params_by_category ?? {}) as Record<string, { total: number; active: number }>;
  for (const [cat, v] of Object.entries(cats)) row(table, `params_by_category.${cat}`, `  ${cat.replace(/_/g, " ")}`, `${num(v.total)} total · ${num(v.active)} active`, true);
  const weights = json.weights as unknown[] | undefined;
  if (weights) row(table, "weights", "weight tensors", num(weights.length), true);
  if (text) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "moec info (full table)";
    const pre = document.createElement("pre");
    pre.textContent = text;
    details.append(summary, pre);
    note.append(details);
  }
}
