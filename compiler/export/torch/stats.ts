// §10 statistics and the balance loss in PyTorch: what `forward(…, return_stats=True)` returns
// next to the output, computed as runtime/stats/router-stats.ts computes them from the float64
// trace. The balance loss α · E · Σ_e f_e · P_e stays differentiable through P (the normalized
// pre-selection weights), as Switch Transformer's load-balancing loss is trained; f is a count.

export const PRELUDE_STATS = String.raw`
# ---- statistics and losses (LANGUAGE.md §10) ----


class RoutingStats:
    """Per router key: load, importance, active_k, entropy, maxvio, drop_rate, balance."""

    def __init__(self):
        self.routers = {}
        self.losses = {"balance": {}}

    def record(self, key, w, mask, gates, soft, coef, max_k):
        T, E = mask.shape
        if soft:
            p = torch.softmax(w, dim=-1)
        else:
            s = w.sum(dim=-1, keepdim=True)
            safe = torch.where(s > 0, s, torch.ones_like(s))
            p = torch.where(s > 0, w / safe, torch.zeros_like(w))
        load = mask.sum(dim=0).to(w.dtype)
        total = load.sum()
        counts = mask.sum(dim=-1)
        histogram = torch.bincount(counts, minlength=max(max_k, int(counts.max()) if T else 0) + 1)
        plogp = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), p * 0)
        f = load / total if float(total) > 0 else load * 0
        unscaled = E * (f.detach() * p.mean(dim=0)).sum()
        mean = total / E
        stats = {
            "load": load,
            "importance": gates.sum(dim=0).detach(),
            "active_k": {"mean": counts.sum().to(w.dtype) / T, "histogram": histogram},
            "entropy": (-plogp.sum(dim=-1)).mean().detach(),
            "maxvio": (load.max() - mean) / mean if float(mean) > 0 else mean * 0,
            "drop_rate": histogram[0].to(w.dtype) / T,
            "balance_unscaled": unscaled.detach(),
        }
        if coef is not None:
            balance = coef * unscaled
            stats["balance"] = balance.detach()
            self.losses["balance"][key] = balance
        self.routers[key] = stats

    def result(self):
        """{"routers": …, "losses": {"balance": {key: loss}}, "loss": their sum (a tensor)}."""
        losses = list(self.losses["balance"].values())
        loss = sum(losses[1:], losses[0]) if losses else torch.zeros(())
        return {"routers": self.routers, "losses": self.losses, "loss": loss}
`.trimStart();
