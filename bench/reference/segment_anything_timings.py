"""The reference side of the SAM side-by-side (bench/reference/sam_side_by_side.sh): segment-anything and MobileSAM
timed on this machine with the shapes, prompts, image and weights the BenchmarkDotNet classes use.

    /usr/bin/python3 bench/reference/segment_anything_timings.py SEGMENT_ANYTHING MOBILESAM WEIGHTS_DIR OUT.json

SEGMENT_ANYTHING and MOBILESAM are clones of github.com/facebookresearch/segment-anything and
github.com/ChaoningZhang/MobileSAM (nothing of them is copied into this repository). Debian 12 packages PyTorch 1.13.1
and torchvision; `apt-get install python3-torch python3-torchvision libopenblas0-pthread` (without OpenBLAS, Debian's
PyTorch multiplies matrices with the reference BLAS, many times slower). Each measurement runs in its own process, so
its peak resident set (ru_maxrss) is its own; times are the median of the timed calls after one warm-up call, 2 threads.
WEIGHTS_DIR receives the random weights both sides use (sam_vit_b.pth, mobile_sam.pt; seed 0), so the automatic mask
generators see the same model and keep the same masks.
"""
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import timm_stand_ins

MEASUREMENTS = {
    # name: (what, repetitions)
    "encoder_vit_b_fp32": ("vit_b image encoder, 1024², fp32", 3),
    "encoder_vit_b_bf16": ("vit_b image encoder, 1024², bf16", 3),
    "encoder_vit_t_fp32": ("vit_t (MobileSAM) image encoder, 1024², fp32", 5),
    "decoder_fp32": ("prompt encoder + mask decoder, point + box, multimask, fp32", 30),
    "decoder_bf16": ("prompt encoder + mask decoder, point + box, multimask, bf16", 30),
    "amg_vit_b": ("automatic masks, 32×32 points, vit_b, fp32 (encoder included)", 2),
    "amg_vit_t": ("automatic masks, 32×32 points, vit_t, fp32 (encoder included)", 2),
}


def scene(height, width):
    """SamAutomaticMaskBenchmarks.Scene: a gradient with a rectangle, a disc and a white band (integer arithmetic)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 90)], -1)
    rect = (x > width // 8) & (x < width * 3 // 8) & (y > height // 6) & (y < height // 2)
    rgb[rect] = (230, 40, 40)
    disc = (x - width * 2 // 3) ** 2 + (y - height * 2 // 3) ** 2 < height * height // 25
    rgb[disc] = (30, 60, 220)
    rgb[(x > width // 2) & (y < height // 4)] = (240, 240, 240)
    return rgb.astype(np.uint8)


def build(model_type, sa_root, ms_root, weights):
    if model_type == "vit_t":
        timm_stand_ins.install()
        sys.path.insert(0, str(ms_root))
        from mobile_sam import sam_model_registry, SamAutomaticMaskGenerator
        name = "mobile_sam.pt"
    else:
        sys.path.insert(0, str(sa_root))
        from segment_anything import sam_model_registry, SamAutomaticMaskGenerator
        name = "sam_vit_b.pth"
    path = Path(weights) / name
    if not path.exists():
        torch.manual_seed(0)
        torch.save(sam_model_registry[model_type]().state_dict(), path)
    sam = sam_model_registry[model_type](checkpoint=str(path)).eval()
    return sam, SamAutomaticMaskGenerator


def median_seconds(fn, repetitions):
    fn()  # warm-up
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def measure(name, sa_root, ms_root, weights):
    torch.set_num_threads(2)
    torch.manual_seed(0)
    what, repetitions = MEASUREMENTS[name]
    extra = {}
    if name.startswith("encoder"):
        model_type = "vit_t" if "vit_t" in name else "vit_b"
        sam, _ = build(model_type, sa_root, ms_root, weights)
        dtype = torch.bfloat16 if name.endswith("bf16") else torch.float32
        encoder = sam.image_encoder.to(dtype)
        x = torch.randn(1, 3, 1024, 1024).to(dtype)
        with torch.inference_mode():
            seconds, times = median_seconds(lambda: encoder(x), repetitions)
    elif name.startswith("decoder"):
        sam, _ = build("vit_b", sa_root, ms_root, weights)
        dtype = torch.bfloat16 if name.endswith("bf16") else torch.float32
        # The reference's prompt encoder multiplies float32 coordinates by its Gaussian matrix, so it stays float32
        # (0.2 ms of the call) and its outputs are cast to the decoder's dtype.
        prompt, decoder = sam.prompt_encoder, sam.mask_decoder.to(dtype)
        embedding = torch.randn(1, 256, 64, 64).to(dtype)
        coords, labels = torch.tensor([[[500.0, 375.0]]]), torch.tensor([[1]])
        box = torch.tensor([[200.0, 150.0, 700.0, 800.0]])
        with torch.inference_mode():
            dense_pe = prompt.get_dense_pe().to(dtype)  # cached per image, as SamPredictor does

            def once():
                sparse, dense = prompt(points=(coords, labels), boxes=box, masks=None)
                sparse, dense = sparse.to(dtype), dense.to(dtype)
                return decoder(image_embeddings=embedding, image_pe=dense_pe, sparse_prompt_embeddings=sparse,
                               dense_prompt_embeddings=dense, multimask_output=True)

            seconds, times = median_seconds(once, repetitions)
    else:
        model_type = name.split("_", 1)[1]
        sam, generator_type = build(model_type, sa_root, ms_root, weights)
        generator = generator_type(sam)
        image = scene(768, 1024)
        masks = []
        with torch.inference_mode():
            seconds, times = median_seconds(lambda: masks.append(len(generator.generate(image))), repetitions)
        extra["masks"] = masks[-1]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"name": name, "what": what, "seconds": seconds, "times": times, "peak_mib": peak_mib, **extra}


def main(argv):
    if len(argv) == 6 and argv[1] == "--one":
        print(json.dumps(measure(argv[2], argv[3], argv[4], argv[5])))
        return
    if len(argv) != 5:
        sys.exit(__doc__)
    sa_root, ms_root, weights, out = argv[1:]
    Path(weights).mkdir(parents=True, exist_ok=True)
    results = {"torch": torch.__version__, "threads": 2, "segment_anything": commit(sa_root),
               "mobile_sam": commit(ms_root), "measurements": []}
    for name in MEASUREMENTS:
        run = subprocess.run([sys.executable, __file__, "--one", name, sa_root, ms_root, weights],
                             capture_output=True, text=True)
        if run.returncode != 0:
            # A measurement the reference cannot run (PyTorch 1.13's CPU bf16 transposed convolution rejects the
            # decoder's weights) is reported with its error, not dropped.
            error = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit code {run.returncode}"
            result = {"name": name, "what": MEASUREMENTS[name][0], "error": error}
            print(f"{result['what']}: fails: {error}", file=sys.stderr)
        else:
            result = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{result['what']}: {result['seconds']:.4f} s, peak {result['peak_mib']:.0f} MiB", file=sys.stderr)
        results["measurements"].append(result)
    Path(out).write_text(json.dumps(results, indent=2) + "\n")


def commit(root):
    return subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main(sys.argv)
