#!/usr/bin/env python3
"""Train the conditional face generator.

  /usr/bin/python3 training/train.py --config training/configs/gen64.json --out RUN_DIR
      [--resume] [--minutes N] [--threads 2] [--data PACKED.npz] [--device cpu|cuda] [--init-g CKPT]

RUN_DIR gets: checkpoint.pt (atomic), log.jsonl, samples/step_NNNNNNN.png, config.json.
"""
import argparse
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
from model import Discriminator, EqDiscriminator, Generator, count_params  # noqa: E402


def load_packed(path, device, product_context=False):
    """-> (imgs, kp, val, names, ctx): ctx is None, or with product_context the crops the
    condition is built from (prepare.py's context crops where a crop reaches past its chip)."""
    d = np.load(path)
    off, blob = d["offsets"], d["jpeg"]

    def decode(b, o, i):
        return cv2.imdecode(b[o[i]:o[i + 1]], cv2.IMREAD_COLOR)[:, :, ::-1]

    def to_tensor(a):  # uint8 NCHW RGB
        return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).contiguous().to(device)

    imgs = np.stack([decode(blob, off, i) for i in range(len(off) - 1)])
    ctx = None
    if product_context:
        if "ctx_index" not in d.files:
            raise SystemExit(f"{path} has no context crops: rebuild it with training/prepare.py")
        ci, co, cb = d["ctx_index"], d["ctx_offsets"], d["ctx_jpeg"]
        beyond_only = "ctx_format" in d.files and str(d["ctx_format"]) == "beyond-chip"

        def context(i):
            if ci[i] < 0:
                return imgs[i]
            c = decode(cb, co, ci[i])
            if not beyond_only:  # an older pack: the whole context crop was stored
                return c
            outside = contract.beyond_image(d["align"][i], imgs.shape[1], *d["chip_hw"][i])
            return np.where(outside[..., None], c, imgs[i])
        ctx = to_tensor(np.stack([context(i) for i in range(len(imgs))]))
    kp = torch.from_numpy(d["kp"].astype(np.float32)).to(device)
    val = torch.from_numpy(d["val"].astype(bool))
    return to_tensor(imgs), kp, val, [n.decode() if isinstance(n, bytes) else str(n) for n in d["names"]], ctx


def masked_spectrum(img, m):
    """Mean power spectrum [R, R/2 + 1] of the images' region under the mask (each channel, its
    mean under the mask removed, windowed by the mask), averaged over the batch and channels."""
    w = m.expand_as(img)
    mean = (img * w).sum(dim=[2, 3], keepdim=True) / (w.sum(dim=[2, 3], keepdim=True) + 1e-6)
    return torch.fft.rfft2((img - mean) * w).abs().pow(2).mean(dim=[0, 1])


def spectral_excess(p_gen, p_real, R, margin=0.1):
    """How far the generated faces' power exceeds real faces' at frequencies above R/8 cycles per
    crop: mean of relu(log ratio - margin). Periodic artefacts of any period (the pixel lattice,
    the diamond cross-hatch a penalty on the lattice pattern alone turned it into, session 8)
    are peaks there."""
    fy = torch.fft.fftfreq(R).abs().reshape(-1, 1)
    fx = torch.fft.rfftfreq(R).reshape(1, -1)
    high = (torch.sqrt(fx * fx + fy * fy) > 0.125).to(p_gen.device)
    ratio = torch.log(p_gen + 1e-8) - torch.log(p_real + 1e-8)
    return (F.relu(ratio - margin) * high).sum() / high.sum()


def make_generator(cfg):
    return Generator(num_kp=contract.NUM_KP, zdim=cfg["zdim"], channels=cfg["g_channels"],
                     zmap_ch=cfg["zmap_ch"], mod_levels=cfg["mod_levels"])


def torch_heatmaps(kp, R, sigma):
    g = torch.arange(R, dtype=torch.float32, device=kp.device)
    dx = g.view(1, 1, 1, R) - kp[..., 0].unsqueeze(-1).unsqueeze(-1)
    dy = g.view(1, 1, R, 1) - kp[..., 1].unsqueeze(-1).unsqueeze(-1)
    return torch.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))


def torch_masks(n, R, device, jitter=None, gen=None):
    e = contract.MASK_ELLIPSE
    cx = torch.full((n,), e["cx"], device=device)
    cy = torch.full((n,), e["cy"], device=device)
    ax = torch.full((n,), e["ax"], device=device)
    ay = torch.full((n,), e["ay"], device=device)
    edge = torch.full((n,), contract.MASK_EDGE, device=device)
    if jitter:
        u = lambda: torch.rand(n, device=device)  # noqa: E731
        c = jitter["center"]
        cx = cx + (u() * 2 - 1) * c
        cy = cy + (u() * 2 - 1) * c
        lo, hi = jitter["scale"]
        ax = ax * (lo + (hi - lo) * u())
        ay = ay * (lo + (hi - lo) * u())
        lo, hi = jitter["edge"]
        edge = lo + (hi - lo) * u()
    g = torch.arange(R, dtype=torch.float32, device=device) / R
    dx = (g.view(1, 1, R) - cx.view(n, 1, 1)) / ax.view(n, 1, 1)
    dy = (g.view(1, R, 1) - cy.view(n, 1, 1)) / ay.view(n, 1, 1)
    r = torch.sqrt(dx * dx + dy * dy)
    return ((1 - r) / edge.view(n, 1, 1)).clamp(0, 1).unsqueeze(1)


def color_jitter(x, cj):
    """x in [-1, 1], [N,3,H,W]; per-sample brightness, contrast, saturation."""
    n = x.shape[0]
    u = lambda: torch.rand(n, 1, 1, 1, device=x.device) * 2 - 1  # noqa: E731
    x = x + cj["brightness"] * 2 * u()
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - mean) * (1 + cj["contrast"] * u()) + mean
    gray = x.mean(dim=1, keepdim=True)
    x = (x - gray) * (1 + cj["saturation"] * u()) + gray
    if cj.get("grayscale", 0) > 0:
        # Some photos have no colour at all (night and infrared cameras, old scans, the AT&T set
        # the evaluation re-identifies on): a share of the crops, context and target alike, are
        # turned to luma, so a grey surrounding is inside what the generator was trained on.
        luma = (x * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
        to_gray = torch.rand(n, 1, 1, 1, device=x.device) < cj["grayscale"]
        x = torch.where(to_gray, luma.expand_as(x), x)
    return x.clamp(-1, 1)


def make_batch(imgs, kp, idx, cfg, train=True, ctx=None):
    """-> (x, m, hm, cond, seen). x: the real crops (the L1 target). seen: the crops the
    condition's pixels come from: ctx (the product's context crops) when given, else x. The
    critic judges stand-ins and real faces both in `seen`'s surroundings: beyond the chip a plain
    crop repeats the original face's edge, which gives away any stand-in painted without seeing
    it (a first run composited into x: the critic's fake score fell from -0.06 to -1.09 in 960
    steps and the samples grew blotches)."""
    R = cfg["res"]
    x = imgs[idx].float() / 127.5 - 1.0
    # Context and target side by side, so flips and colour jitter treat them alike.
    xx = x if ctx is None else torch.cat([x, ctx[idx].float() / 127.5 - 1.0], 3)
    k = kp[idx].clone()
    n = x.shape[0]
    if train:
        flip = torch.rand(n, device=x.device) < 0.5
        flipped = xx.flip(3) if ctx is None else torch.cat([half_.flip(3) for half_ in xx.split(R, 3)], 3)
        xx = torch.where(flip.view(n, 1, 1, 1), flipped, xx)
        kf = k[:, contract.FLIP_PERM].clone()
        kf[..., 0] = (R - 1) - kf[..., 0]
        k = torch.where(flip.view(n, 1, 1), kf, k)
        k = k + torch.randn_like(k) * cfg["kp_jitter_px"] * R / 64.0
        xx = color_jitter(xx, cfg["color_jitter"])
    x, seen = (xx, xx) if ctx is None else xx.split(R, 3)
    if ctx is not None and train and cfg.get("product_context_p", 1.0) < 1:
        # Some crops keep the chip's plain replicated border: the generator still learns to use
        # a full ring of surroundings, as ordinary photos give it.
        use = torch.rand(n, device=x.device) < cfg["product_context_p"]
        seen = torch.where(use.view(n, 1, 1, 1), seen, x)
    m = torch_masks(n, R, x.device, cfg["mask_jitter"] if train else None)
    hm = torch_heatmaps(k, R, contract.SIGMA_NORM * R)
    cond = torch.cat([seen * contract.seen_rgb(m, cfg.get("seal_band", False)), m, hm], 1)
    return x, m, hm, cond, seen


def ramp(pair, step, steps):
    a, b = pair
    t = min(1.0, step / max(1, steps))
    return a + (b - a) * t


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def to_u8(x):
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def write_samples(G_ema, imgs, kp, val_idx, cfg, path, n_faces=8, n_z=4, ctx=None):
    R = cfg["res"]
    g = torch.Generator().manual_seed(1234)
    idx = val_idx[:n_faces]
    x, m, hm, cond, seen = make_batch(imgs, kp, idx, cfg, train=False, ctx=ctx)
    zs = torch.randn(n_z, cfg["zdim"], generator=g).to(x.device)
    cols = [to_u8(cond[:, :3] + hm.sum(1, keepdim=True).clamp(0, 1) * torch.tensor([-1.0, 1.0, -1.0], device=x.device).view(1, 3, 1, 1))]
    was = G_ema.training
    G_ema.eval()
    for j in range(n_z):
        out = G_ema(cond, zs[j:j + 1].expand(len(idx), -1))
        cols.append(to_u8(out * m + seen * (1 - m)))
    G_ema.train(was)
    cols.append(to_u8(x))
    grid = np.concatenate([np.concatenate(list(c), 0) for c in cols], 1)
    scale = max(1, 128 // R)
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(path, grid[:, :, ::-1])


def run_arguments():
    """The options every training script here takes (train.py, refine.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--minutes", type=float, default=0, help="stop cleanly after this many minutes (0 = never)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default=None)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def open_run(args):
    """Threads and device, the config file, and the run's checkpoint path with its checkpoint
    when resuming (None otherwise). A run that exists is continued only with --resume."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    with open(args.config) as f:
        cfg = json.load(f)
    os.makedirs(os.path.join(args.out, "samples"), exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    ckpt = None
    if args.resume and os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location="cpu")
    elif os.path.exists(ckpt_path):
        raise SystemExit(f"{ckpt_path} exists: pass --resume or use a fresh --out")
    return device, cfg, ckpt, ckpt_path


def write_config(out, cfg):
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def discriminator_step(D, opt_d, real, fake, m, kp, step, cfg):
    """One critic update (non-saturating loss) and, every r1_every steps, the lazy R1 penalty on
    the real batch. Returns loss_d, d_real, d_fake and r1 (0 when not taken)."""
    D.requires_grad_(True)
    d_real = D(real, m, kp)
    d_fake = D(fake, m, kp)
    loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    r1 = torch.zeros(())
    if step % cfg["r1_every"] == 0:
        xr = real.detach().requires_grad_(True)
        grad, = torch.autograd.grad(D(xr, m, kp).sum(), xr, create_graph=True)
        r1 = grad.pow(2).sum(dim=[1, 2, 3]).mean()
        opt_d.zero_grad(set_to_none=True)
        (r1 * cfg["r1_gamma"] / 2 * cfg["r1_every"]).backward()
        opt_d.step()
    return loss_d, d_real, d_fake, r1


@torch.no_grad()
def ema_update(ema, model, step, beta_max):
    """The exponential moving average of the parameters (warmed up over the first steps); buffers
    (BatchNorm statistics) are copied."""
    beta = min(beta_max, (1 + step) / (10 + step))
    for pe, pg in zip(ema.parameters(), model.parameters()):
        pe.mul_(beta).add_(pg, alpha=1 - beta)
    for be, bg in zip(ema.buffers(), model.buffers()):
        be.copy_(bg)


def main():
    ap = run_arguments()
    ap.add_argument("--data", default=None, help="override the packed data path in the config")
    ap.add_argument("--init-g", default=None, help="start G and EMA G from this checkpoint or slim .pt (fresh D, optimisers, step 0)")
    ap.add_argument("--init-d", action="store_true",
                    help="with --init-g on a full checkpoint: start D from it too (a fine-tune under new loss weights "
                         "keeps the critic it was trained against)")
    args = ap.parse_args()

    device, cfg, ckpt, ckpt_path = open_run(args)
    if args.data:
        cfg["data"] = args.data
    if ckpt:  # the saved config, with this call's data path
        cfg = dict(ckpt["config"], data=cfg["data"])
    write_config(args.out, cfg)

    torch.manual_seed(args.seed)
    data_path = cfg["data"] if os.path.isabs(cfg["data"]) else os.path.join(HERE, "..", cfg["data"])
    imgs, kp, val, names, ctx = load_packed(data_path, device, cfg.get("product_context", False))
    R, B = cfg["res"], cfg["batch"]
    assert imgs.shape[-1] == R, "packed data resolution does not match the config"
    train_idx = torch.nonzero(~val).squeeze(1).to(device)
    val_idx = torch.nonzero(val).squeeze(1).to(device)

    G = make_generator(cfg).to(device)
    D_cls = EqDiscriminator if cfg.get("d_type", "eq") == "eq" else Discriminator
    D = D_cls(num_kp=contract.NUM_KP, channels=cfg["d_channels"]).to(device)
    G_ema = make_generator(cfg).to(device)
    G_ema.load_state_dict(G.state_dict())
    G_ema.eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg["g_lr"], betas=tuple(cfg["betas"]))
    # lazy R1: rescale Adam's hyper-parameters as in StyleGAN2
    c = cfg["r1_every"] / (cfg["r1_every"] + 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg["d_lr"] * c, betas=tuple(b ** c for b in cfg["betas"]))
    step, wall = 0, 0.0
    p_real = None  # running mean of real faces' spectrum (spectral_weight), kept in checkpoints
    lineage = []  # the runs this one continues: [{"from", "step", "wall_s"}], oldest first
    if args.init_g and not ckpt:
        src = torch.load(args.init_g, map_location="cpu")
        # A full checkpoint has G and G_ema; a slim one (export.py --slim, fp16) only G_ema,
        # which then starts both.
        ema = {k: v.float() if v.is_floating_point() else v for k, v in src["G_ema"].items()}
        G.load_state_dict(src["G"] if "G" in src else ema)
        G_ema.load_state_dict(ema)
        if args.init_d:
            if "D" not in src:
                raise SystemExit(f"--init-d: {args.init_g} has no discriminator (a slim export)")
            D.load_state_dict(src["D"])
        lineage = list(src.get("lineage", [])) + [{"from": os.path.basename(args.init_g), "step": src["step"],
                                                   "wall_s": src.get("wall_s", 0.0)}]
        print(f"G initialised from {args.init_g} (step {src['step']})")
    if ckpt:
        G.load_state_dict(ckpt["G"])
        D.load_state_dict(ckpt["D"])
        G_ema.load_state_dict(ckpt["G_ema"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        step, wall = ckpt["step"], ckpt["wall_s"]
        lineage = ckpt.get("lineage", [])
        p_real = ckpt.get("p_real")
        if p_real is not None:
            p_real = p_real.to(device)
        torch.manual_seed(args.seed + step)
        print(f"resumed at step {step}")
    arcface = theta = None
    if cfg.get("id_weight", 0) > 0:
        # Identity distance (FALCO-like): the stand-in's ArcFace embedding is pushed below a
        # cosine margin from the face it replaces. Training-time only: the product never
        # embeds a face to paint it.
        from onnx_nets import DEFAULT_MODEL, OnnxArcFace, crop_to_arcface_theta, robust_view, to_arcface
        arcface = OnnxArcFace(cfg.get("id_model", DEFAULT_MODEL)).to(device).eval()
        theta = crop_to_arcface_theta(R)
    age_net = gender_net = attr_theta = None
    if cfg.get("attr_weight", 0) > 0:
        # Attributes kept (FALCO keeps age and expression while it moves identity): the stand-in's
        # age and gender, as the product's SSR-Net models read them, held to the original's.
        from onnx_nets import MODELS_DIR, OnnxSsr, attribute_theta, view
        models = cfg.get("attr_models", MODELS_DIR)
        age_net = OnnxSsr(os.path.join(models, "fr_age.onnx")).to(device).eval()
        gender_net = OnnxSsr(os.path.join(models, "fr_gender.onnx")).to(device).eval()
        attr_theta = attribute_theta(R)
    print(f"device {device}, G {count_params(G) / 1e6:.2f} M, D {count_params(D) / 1e6:.2f} M, "
          f"train {len(train_idx)}, val {len(val_idx)}", flush=True)

    def save():
        atomic_save({"G": G.state_dict(), "D": D.state_dict(), "G_ema": G_ema.state_dict(),
                     "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                     "wall_s": wall, "config": cfg, "hardware": hardware(device), "lineage": lineage,
                     "p_real": p_real}, ckpt_path)

    log = open(os.path.join(args.out, "log.jsonl"), "a")
    t_start = time.time()
    t_ckpt = time.time()
    t_last, acc = time.time(), {}
    half = B // 2
    while True:
        idx = train_idx[torch.randint(len(train_idx), (B,), device=device)]
        x, m, hm, cond, seen = make_batch(imgs, kp, idx, cfg, ctx=ctx)
        cond2 = torch.cat([cond, cond[:half]], 0)
        z = torch.randn(B + half, cfg["zdim"], device=device)
        gen = G(cond2, z)
        s2, m2, hm2 = torch.cat([seen, seen[:half]]), torch.cat([m, m[:half]]), torch.cat([hm, hm[:half]])
        comp = gen * m2 + s2 * (1 - m2)

        loss_d, d_real, d_fake, r1 = discriminator_step(D, opt_d, seen, comp[:B].detach(), m, hm, step, cfg)

        # generator
        D.requires_grad_(False)
        loss_adv = F.softplus(-D(comp, m2, hm2)).mean()
        p = cfg["l1_pool"]
        diff = gen[:B] - x
        mp = F.avg_pool2d(m, p)
        l1_low = (F.avg_pool2d(diff, p).abs() * mp).sum() / (mp.sum() * 3 + 1e-6)
        l1_full = (diff.abs() * m).sum() / (m.sum() * 3 + 1e-6)
        div = ((gen[:half] - gen[B:]).abs() * m[:half]).sum(dim=[1, 2, 3]) / (m[:half].sum(dim=[1, 2, 3]) * 3 + 1e-6)
        loss_div = F.relu(cfg["div_tau"] - div).mean()
        w_low = ramp(cfg["l1_low"], step, cfg["l1_decay_steps"])
        w_full = ramp(cfg["l1_full"], step, cfg["l1_decay_steps"])
        loss_g = loss_adv + w_low * l1_low + w_full * l1_full + cfg["div_weight"] * loss_div
        spectral = torch.zeros(())
        if cfg.get("spectral_weight", 0) > 0:
            with torch.no_grad():  # real faces' spectrum, a running mean over batches
                pr = masked_spectrum(x, m)
                p_real = pr if p_real is None else 0.98 * p_real + 0.02 * pr
            spectral = spectral_excess(masked_spectrum(gen, m2), p_real, R)
            loss_g = loss_g + cfg["spectral_weight"] * spectral
        id_cos = torch.zeros(())
        if arcface is not None:
            with torch.no_grad():
                e_real = arcface(to_arcface(x, theta))
            e_gen = arcface(robust_view(comp, theta))
            cos = (e_gen * torch.cat([e_real, e_real[:half]])).sum(1)
            id_cos = cos.mean()
            loss_g = loss_g + cfg["id_weight"] * F.relu(cos - cfg["id_margin"]).mean()
        attr = torch.zeros(())
        if age_net is not None:
            v_gen = view(comp, attr_theta, 64)
            with torch.no_grad():  # the originals once; the second latent's half reuses them
                v_real = view(x, attr_theta, 64)
                age_real, male_real = age_net(v_real), gender_net(v_real)
                age_real, male_real = torch.cat([age_real, age_real[:half]]), torch.cat([male_real, male_real[:half]])
            # age in tenths of the scale (10 years ~ 1), gender as a probability
            attr = 10 * (age_net(v_gen) - age_real).abs().mean() + (gender_net(v_gen) - male_real).abs().mean()
            loss_g = loss_g + cfg["attr_weight"] * attr
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        ema_update(G_ema, G, step, cfg["ema_beta"])

        step += 1
        vals = {"loss_d": loss_d.item(), "loss_adv": loss_adv.item(), "l1_low": l1_low.item(),
                "l1_full": l1_full.item(), "div": div.mean().item(), "d_real": d_real.mean().item(),
                "d_fake": d_fake.mean().item(), "spectral": spectral.item(), "id_cos": id_cos.item(),
                "attr": attr.item()}
        if not math.isfinite(vals["loss_d"] + vals["loss_adv"]):
            raise SystemExit(f"non-finite loss at step {step}: {vals}")
        for k, v in vals.items():
            acc[k] = acc.get(k, 0.0) + v
        acc["n"] = acc.get("n", 0) + 1
        if r1.item() > 0:
            acc["r1"] = r1.item()
        now = time.time()
        if step % cfg["log_every_steps"] == 0:
            n = acc.pop("n")
            rec = {k: round(v / n, 5) if k != "r1" else round(v, 5) for k, v in acc.items()}
            dt = now - t_last
            wall += dt
            rec.update(step=step, wall_s=round(wall, 1), s_per_step=round(dt / n, 4), w_l1_low=round(w_low, 3))
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            t_last, acc = now, {}
        if step % cfg["sample_every_steps"] == 0 or step == 50:
            write_samples(G_ema, imgs, kp, val_idx, cfg, os.path.join(args.out, "samples", f"step_{step:07d}.png"),
                          ctx=ctx)
        stop = args.minutes > 0 and now - t_start > args.minutes * 60
        if stop or now - t_ckpt > cfg["checkpoint_every_minutes"] * 60:
            save()
            t_ckpt = now
            if stop:
                write_samples(G_ema, imgs, kp, val_idx, cfg, os.path.join(args.out, "samples", f"step_{step:07d}.png"),
                          ctx=ctx)
                print(f"stopped after {args.minutes} min at step {step}", flush=True)
                break


def hardware(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform
    return f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"


if __name__ == "__main__":
    main()
