#!/usr/bin/env python3
"""Train the 128 px refiner: the second stage of the stand-in generator.

The 64 px generator (standin-gen64) paints a face of nobody from the keypoints and the
surroundings; the refiner takes that face, upsampled to 128 x 128, together with the 128 px
surroundings (sealed exactly as the generator's condition: no pixel of the face region or its
soft band) and paints the detail a 64 px face cannot hold. It never sees the original face.

Each batch has two halves:
  - supervised: a real 128 px crop, degraded to what a 64 px stand-in carries (area-downsampled
    to 64, blurred, noised, upsampled) -> the real crop (L1 on the face region + adversarial);
  - generated: the pinned 64 px generator's own stand-in for a training crop, low-passed as the
    product does (`coarse_smooth`, the product's --smooth) and upsampled -> only
    adversarial, with the refined face held to the stand-in below 1/4 of the crop's frequencies
    (so the refiner adds detail and mends artefacts, but keeps the stand-in's face and colour).
The critic compares composites of both halves with real 128 px crops in their surroundings.

  /usr/bin/python3 training/refine.py --config training/configs/refine128.json --out RUN_DIR
      [--resume] [--minutes N] [--threads 2] [--device cpu|cuda] [--set KEY=JSON ...]

RUN_DIR gets checkpoint.pt (atomic), log.jsonl, samples/step_NNNNNNN.png, config.json. The
generator's stand-ins for the training crops are computed once with cv2.dnn (~3 min on 2 cores)
and cached next to the 64 px pack (`*.coarse-<generator sha>.npy`).
"""
import hashlib
import json
import math
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import contract  # noqa: E402
from model import EqDiscriminator, Refiner, count_params  # noqa: E402
from train import (atomic_save, color_jitter, discriminator_step, ema_update, hardware, load_packed,  # noqa: E402
                   make_batch, open_run, run_arguments, to_u8, torch_masks, write_config)

REPO = os.path.abspath(os.path.join(HERE, ".."))


def make_refiner(cfg):
    return Refiner(channels=cfg["channels"], blocks=cfg["blocks"], up=cfg.get("up", "transposed"))


def generator_coarse(gen_json, pack64, n_latents, threads):
    """[N, L, 64, 64, 3] uint8 RGB: the pinned generator's raw outputs for every crop of the 64 px
    pack (its product context, the fixed mask, the crop's keypoints), L latents each. Cached."""
    with open(gen_json) as f:
        spec = json.load(f)
    onnx = os.path.join(os.path.dirname(gen_json), spec["file"])
    sha = hashlib.sha256(open(onnx, "rb").read()).hexdigest()
    if sha != spec["sha256"]:
        raise SystemExit(f"{onnx}: sha256 does not match {gen_json}")
    cache = f"{os.path.splitext(pack64)[0]}.coarse-{sha[:12]}-{n_latents}.npy"
    if os.path.exists(cache):
        return np.load(cache), sha
    cv2.setNumThreads(threads)
    net = cv2.dnn.readNetFromONNX(onnx)
    imgs, kp, _, _, ctx = load_packed(pack64, torch.device("cpu"), product_context=True)
    cfg = {"res": 64, "seal_band": spec["mask"].get("sealed_band", False)}
    rng = np.random.RandomState(1)
    out = np.zeros((len(imgs), n_latents, 64, 64, 3), np.uint8)
    t = time.time()
    for i in range(len(imgs)):
        _, _, _, cond, _ = make_batch(imgs, kp, torch.tensor([i]), cfg, train=False, ctx=ctx)
        c = cond.numpy()
        for j in range(n_latents):
            net.setInput(c, "condition")
            net.setInput(rng.standard_normal((1, spec["inputs"]["z"]["shape"][1])).astype(np.float32), "z")
            y = net.forward("image")[0]
            out[i, j] = np.clip((y.transpose(1, 2, 0) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        if i % 1000 == 0:
            print(f"coarse {i}/{len(imgs)} ({time.time() - t:.0f} s)", flush=True)
    np.save(cache + ".tmp.npy", out)
    os.replace(cache + ".tmp.npy", cache)
    return out, sha


def degrade(x, cfg):
    """Real 128 px crops [-1, 1] -> what a 64 px stand-in carries, back at 128 px."""
    n = x.shape[0]
    lo = F.avg_pool2d(x, 2)
    sig = torch.rand(n) * cfg["degrade_blur"]
    out = []
    for i in range(n):  # a Gaussian of its own width per crop (separable, 5 taps at 64 px)
        s = float(sig[i])
        if s < 0.05:
            out.append(lo[i:i + 1])
            continue
        t = torch.arange(-2, 3, dtype=x.dtype, device=x.device)
        k = torch.exp(-t * t / (2 * s * s))
        k = k / k.sum()
        y = F.conv2d(F.pad(lo[i:i + 1], (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5).repeat(3, 1, 1, 1), groups=3)
        y = F.conv2d(F.pad(y, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1).repeat(3, 1, 1, 1), groups=3)
        out.append(y)
    lo = torch.cat(out, 0)
    lo = lo + torch.randn_like(lo) * (torch.rand(n, 1, 1, 1, device=x.device) * cfg["degrade_noise"])
    return upsample(lo)


def smooth3(x, sigma):
    """The product's low-pass of the generator's crop (GeneratorOptions::smooth_sigma): a 3x3
    Gaussian, as cv2.GaussianBlur(ksize 3) with its default reflect-101 border."""
    if sigma <= 0:
        return x
    t = torch.tensor([-1.0, 0.0, 1.0], dtype=x.dtype, device=x.device)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    y = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="reflect"), k.view(1, 1, 1, 3).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(F.pad(y, (0, 0, 1, 1), mode="reflect"), k.view(1, 1, 3, 1).repeat(3, 1, 1, 1), groups=3)


def upsample(lo):
    return F.interpolate(lo, scale_factor=2, mode="bilinear", align_corners=False)


def batch(imgs, kp, ctx, coarse, idx, cfg, train=True, latent=None):
    """-> x (real 128 crops), m (mask), seen (surroundings), up (the coarse face at 128, the
    refiner's first input), ctx_in (sealed surroundings + mask, its second), gen (bool per crop:
    `up` is the generator's stand-in, not a degraded real crop)."""
    R = cfg["res"]
    n = len(idx)
    x = imgs[idx].float() / 127.5 - 1.0
    s = ctx[idx].float() / 127.5 - 1.0
    j = torch.randint(coarse.shape[1], (n,)) if latent is None else torch.full((n,), latent)
    c = torch.from_numpy(coarse[idx.cpu().numpy(), j.numpy()]).permute(0, 3, 1, 2).float().to(x.device) / 127.5 - 1.0
    c = upsample(smooth3(c, cfg.get("coarse_smooth", 0)))
    xx = torch.cat([x, s, c], 3)  # flips and colour jitter alike for all three
    if train:
        flip = torch.rand(n, device=x.device) < 0.5
        flipped = torch.cat([h.flip(3) for h in xx.split(R, 3)], 3)
        xx = torch.where(flip.view(n, 1, 1, 1), flipped, xx)
        xx = color_jitter(xx, cfg["color_jitter"])
    x, seen, c = xx.split(R, 3)
    if train and cfg.get("product_context_p", 1.0) < 1:
        use = torch.rand(n, device=x.device) < cfg["product_context_p"]
        seen = torch.where(use.view(n, 1, 1, 1), seen, x)
    gen = torch.rand(n, device=x.device) < cfg["gen_share"] if train else torch.ones(n, dtype=torch.bool)
    up = torch.where(gen.view(n, 1, 1, 1), c, degrade(x, cfg))
    m = torch_masks(n, R, x.device, cfg["mask_jitter"] if train else None)
    ctx_in = torch.cat([seen * contract.seen_rgb(m, True), m], 1)
    return x, m, seen, up, ctx_in, gen


@torch.no_grad()
def write_samples(Rf, imgs, kp, ctx, coarse, val_idx, cfg, path):
    """Rows: held-out crops. Columns: the generator's stand-in (bilinear), refined; a degraded
    real crop, refined; the real crop."""
    idx = val_idx[:8]
    torch.manual_seed(4321)
    x, m, seen, up, ctx_in, _ = batch(imgs, kp, ctx, coarse, idx, cfg, train=False, latent=0)
    was = Rf.training
    Rf.eval()
    ref = Rf(up, ctx_in)
    dg = degrade(x, cfg)
    ref_dg = Rf(dg, ctx_in)
    Rf.train(was)
    comp = lambda y: y * m + seen * (1 - m)  # noqa: E731
    cols = [to_u8(comp(up)), to_u8(comp(ref)), to_u8(comp(dg)), to_u8(comp(ref_dg)), to_u8(x)]
    grid = np.concatenate([np.concatenate(list(c), 0) for c in cols], 1)
    cv2.imwrite(path, grid[:, :, ::-1])


def main():
    ap = run_arguments()
    ap.add_argument("--init", default=None, help="start the refiner (and its critic) from another run's checkpoint: "
                                                 "every tensor whose name and shape match; fresh optimisers, step 0")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a config value (also on --resume), e.g. --set adv_weight=0.2")
    args = ap.parse_args()

    device, cfg, ckpt, ckpt_path = open_run(args)
    if ckpt:
        cfg = ckpt["config"]
    for kv in args.set:
        key, value = kv.split("=", 1)
        cfg[key] = json.loads(value)
        print(f"config {key} = {cfg[key]}")
    write_config(args.out, cfg)
    torch.manual_seed(args.seed)

    def path(p):
        return p if os.path.isabs(p) else os.path.join(REPO, p)

    coarse, gen_sha = generator_coarse(path(cfg["generator"]), path(cfg["data64"]), cfg["latents"], args.threads)
    imgs, kp, val, names, ctx = load_packed(path(cfg["data"]), device, product_context=True)
    R, B = cfg["res"], cfg["batch"]
    assert imgs.shape[-1] == R and coarse.shape[0] == imgs.shape[0]
    train_idx = torch.nonzero(~val).squeeze(1).to(device)
    val_idx = torch.nonzero(val).squeeze(1).to(device)

    Rf = make_refiner(cfg).to(device)
    Rf_ema = make_refiner(cfg).to(device)
    Rf_ema.load_state_dict(Rf.state_dict())
    Rf_ema.eval().requires_grad_(False)
    D = EqDiscriminator(num_kp=0, channels=cfg["d_channels"]).to(device)
    opt_g = torch.optim.Adam(Rf.parameters(), lr=cfg["g_lr"], betas=tuple(cfg["betas"]))
    c = cfg["r1_every"] / (cfg["r1_every"] + 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg["d_lr"] * c, betas=tuple(b ** c for b in cfg["betas"]))
    step, wall = 0, 0.0
    lineage = []
    if args.init and not ckpt:
        src = torch.load(args.init, map_location="cpu")

        def matching(module, state):
            own = module.state_dict()
            keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
            module.load_state_dict(keep, strict=False)
            return len(own) - len(keep)

        fresh = matching(Rf, src["R"])
        matching(Rf_ema, src["R_ema"])
        matching(D, src["D"])
        lineage = list(src.get("lineage", [])) + [{"from": os.path.basename(os.path.dirname(os.path.abspath(args.init))),
                                                   "step": src["step"], "wall_s": src["wall_s"]}]
        print(f"initialised from {args.init} (step {src['step']}); {fresh} refiner tensors fresh")
    if ckpt:
        lineage = ckpt.get("lineage", [])
        Rf.load_state_dict(ckpt["R"])
        Rf_ema.load_state_dict(ckpt["R_ema"])
        D.load_state_dict(ckpt["D"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        step, wall = ckpt["step"], ckpt["wall_s"]
        torch.manual_seed(args.seed + step)
        print(f"resumed at step {step}")
    print(f"device {device}, refiner {count_params(Rf) / 1e6:.3f} M, D {count_params(D) / 1e6:.2f} M, "
          f"train {len(train_idx)}, val {len(val_idx)}, generator {gen_sha[:12]}", flush=True)

    def save():
        atomic_save({"R": Rf.state_dict(), "R_ema": Rf_ema.state_dict(), "D": D.state_dict(),
                     "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step, "wall_s": wall,
                     "config": cfg, "generator_sha256": gen_sha, "hardware": hardware(device), "lineage": lineage},
                    ckpt_path)

    log = open(os.path.join(args.out, "log.jsonl"), "a")
    t_start = t_ckpt = t_last = time.time()
    acc = {}
    no_kp = torch.zeros(B, 0, R, R, device=device)
    pool = cfg["keep_pool"]
    while True:
        idx = train_idx[torch.randint(len(train_idx), (B,), device=device)]
        x, m, seen, up, ctx_in, gen = batch(imgs, kp, ctx, coarse, idx, cfg)
        out = Rf(up, ctx_in)
        comp = out * m + seen * (1 - m)

        loss_d, d_real, d_fake, r1 = discriminator_step(D, opt_d, seen, comp.detach(), m, no_kp, step, cfg)

        D.requires_grad_(False)
        loss_adv = F.softplus(-D(comp, m, no_kp)).mean()
        sup = (~gen).float().view(-1, 1, 1, 1)
        g = gen.float().view(-1, 1, 1, 1)
        l1 = ((out - x).abs() * m * sup).sum() / ((m * sup).sum() * 3 + 1e-6)
        mp = F.avg_pool2d(m, pool)
        keep = ((F.avg_pool2d(out, pool) - F.avg_pool2d(up, pool)).abs() * mp * g).sum() / ((mp * g).sum() * 3 + 1e-6)
        loss_g = cfg["adv_weight"] * loss_adv + cfg["l1_weight"] * l1 + cfg["keep_weight"] * keep
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ema_update(Rf_ema, Rf, step, cfg["ema_beta"])

        step += 1
        vals = {"loss_d": loss_d.item(), "loss_adv": loss_adv.item(), "l1": l1.item(), "keep": keep.item(),
                "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}
        if not math.isfinite(vals["loss_d"] + vals["loss_adv"]):
            raise SystemExit(f"non-finite loss at step {step}: {vals}")
        for k, v in vals.items():
            acc[k] = acc.get(k, 0.0) + v
        acc["n"] = acc.get("n", 0) + 1
        now = time.time()
        if step % cfg["log_every_steps"] == 0:
            n = acc.pop("n")
            rec = {k: round(v / n, 5) for k, v in acc.items()}
            dt = now - t_last
            wall += dt
            rec.update(step=step, wall_s=round(wall, 1), s_per_step=round(dt / n, 4))
            if r1.item() > 0:
                rec["r1"] = round(r1.item(), 5)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            t_last, acc = now, {}
        if step % cfg["sample_every_steps"] == 0 or step == 50:
            write_samples(Rf_ema, imgs, kp, ctx, coarse, val_idx, cfg,
                          os.path.join(args.out, "samples", f"step_{step:07d}.png"))
        stop = args.minutes > 0 and now - t_start > args.minutes * 60
        if stop or now - t_ckpt > cfg["checkpoint_every_minutes"] * 60:
            save()
            t_ckpt = now
            if stop:
                print(f"stopped after {args.minutes} min at step {step}", flush=True)
                break


if __name__ == "__main__":
    main()
