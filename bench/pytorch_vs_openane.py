#!/usr/bin/env python3
"""Trains the same llama2-style model in PyTorch (CPU, AdamW) and in OpenANE (`ane train`) and
prints the median ms/step of each and their ratio.

The two programs alternate over several repetitions because these machines are noisy (a
2-thread run sometimes gets one core's worth); medians are compared. PyTorch gets its best
configuration: torch.set_num_threads(THREADS) and OMP_WAIT_POLICY=PASSIVE.

  bench/pytorch_vs_openane.py [--config stories110M] [--threads 2] [--steps 4] [--reps 3]
                              [--ane build/src/tools/ane]
Needs Debian's python3-torch and python3-numpy (run with /usr/bin/python3).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

PRESETS = {  # dim, hidden, layers, heads, kv_heads, vocab, seq (src/formats/model_config.cpp)
    "stories15M": (288, 768, 6, 6, 6, 32000, 256),
    "stories42M": (512, 1376, 8, 8, 8, 32000, 256),
    "stories110M": (768, 2048, 12, 12, 12, 32000, 256),
}


def torch_step_times(cfg, threads, steps, seed=0):
    """ms of each of `steps` AdamW steps of a llama2 model in PyTorch (after one warm-up step)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq = cfg
    head = dim // n_heads

    def param(*shape, std=0.02):
        return torch.nn.Parameter(torch.randn(*shape) * std)

    emb = param(vocab, dim)
    layers = [dict(att=torch.nn.Parameter(torch.ones(dim)), wq=param(dim, dim), wk=param(n_kv * head, dim),
                   wv=param(n_kv * head, dim), wo=param(dim, dim), ffn=torch.nn.Parameter(torch.ones(dim)),
                   w1=param(hidden, dim), w2=param(dim, hidden), w3=param(hidden, dim)) for _ in range(n_layers)]
    final = torch.nn.Parameter(torch.ones(dim))
    params = [emb, final] + [p for l in layers for p in l.values()]
    decay = [p for p in params if p.dim() == 2]
    no_decay = [p for p in params if p.dim() == 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95))

    pos = torch.arange(seq, dtype=torch.float32)
    freqs = 1.0 / (10000.0 ** (torch.arange(0, head, 2, dtype=torch.float32) / head))
    angles = torch.outer(pos, freqs)
    cos, sin = angles.cos(), angles.sin()
    mask = torch.full((seq, seq), float("-inf")).triu(1)

    def rmsnorm(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(x):  # x [seq, heads, head]: rotate adjacent pairs (llama2.c's convention)
        a, b = x[..., 0::2], x[..., 1::2]
        c, s = cos[:, None, :], sin[:, None, :]
        return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)

    def forward(tokens, targets):
        x = emb[tokens]
        for l in layers:
            h = rmsnorm(x, l["att"])
            q = rope((h @ l["wq"].T).view(seq, n_heads, head))
            k = rope((h @ l["wk"].T).view(seq, n_kv, head))
            v = (h @ l["wv"].T).view(seq, n_kv, head)
            rep = n_heads // n_kv
            k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(head) + mask
            o = torch.einsum("hts,shd->thd", s.softmax(-1), v).reshape(seq, dim)
            x = x + o @ l["wo"].T
            h = rmsnorm(x, l["ffn"])
            x = x + (F.silu(h @ l["w1"].T) * (h @ l["w3"].T)) @ l["w2"].T
        logits = rmsnorm(x, final) @ emb.T
        return F.cross_entropy(logits, targets)

    gen = torch.Generator().manual_seed(seed)
    times = []
    for i in range(steps + 1):
        window = torch.randint(0, vocab, (seq + 1,), generator=gen)
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = forward(window[:-1], window[1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if i > 0:  # the first step allocates the optimizer state
            times.append((time.perf_counter() - t) * 1e3)
    return times


def machine_summary():
    """The processor, and the PyTorch build and BLAS this run measured: results differ by machine."""
    import torch

    model, flags = "unknown CPU", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    isa = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    capability = next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                       if "CPU capability usage" in l), "unknown")
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return (f"{model} ({isa}, {os.cpu_count()} CPUs); torch {torch.__version__}, CPU capability {capability}, "
            f"BLAS {os.path.basename(os.path.dirname(blas))}")


def ane_step_times(ane, config, threads, steps, data, workdir):
    metrics = os.path.join(workdir, "m.jsonl")
    cmd = [ane, "train", "--config", config, "--data", data, "--steps", str(steps + 1), "--threads", str(threads),
           "--ckpt", os.path.join(workdir, "b.ckpt"), "--metrics", metrics, "--eval-windows", "1",
           "--peak-gflops", "1"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(metrics) as f:
        records = [json.loads(line) for line in f]
    return [r["ms"] for r in records if r["type"] == "step"][1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="stories110M", choices=sorted(PRESETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ane", default=os.path.join(os.path.dirname(__file__), "..", "build", "src", "tools", "ane"))
    args = ap.parse_args()
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # must be set before torch starts its threads
    import numpy as np

    cfg = PRESETS[args.config]
    print(f"machine: {machine_summary()}", flush=True)
    torch_ms, ane_ms, rep_ratios = [], [], []
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "tokens.bin")
        np.random.default_rng(0).integers(0, cfg[5], size=200_000, dtype=np.uint16).tofile(data)
        for rep in range(args.reps):
            t = torch_step_times(cfg, args.threads, args.steps, seed=rep)
            a = ane_step_times(args.ane, args.config, args.threads, args.steps, data, work)
            torch_ms += t
            ane_ms += a
            rep_ratios.append(statistics.median(t) / statistics.median(a))
            print(f"rep {rep + 1}/{args.reps}: pytorch {statistics.median(t):8.1f} ms/step   "
                  f"openane {statistics.median(a):8.1f} ms/step   ratio {rep_ratios[-1]:.2f}", flush=True)
    tm, am = statistics.median(torch_ms), statistics.median(ane_ms)
    print(f"{args.config}, seq {cfg[6]}, {args.threads} threads, AdamW, median of {len(torch_ms)} steps each:")
    print(f"  pytorch {tm:.1f} ms/step, openane {am:.1f} ms/step: openane is {tm / am:.2f}x faster")
    # Adjacent repetitions share the machine's slow and fast stretches: their ratios show how
    # much of the spread is the machine's rather than either program's.
    print(f"  ratio within each repetition: median {statistics.median(rep_ratios):.2f}x "
          f"({min(rep_ratios):.2f}-{max(rep_ratios):.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
