#!/usr/bin/env bash
# SAM side by side on this machine, in one run: segment-anything / MobileSAM (PyTorch) and SharpVision, the same
# measurements, shapes, image and random weights, 2 threads each; prints one markdown table with the ratios.
#
#   apt-get install python3-torch python3-torchvision libopenblas0-pthread   # Debian 12: PyTorch 1.13.1 on OpenBLAS
#   bash bench/reference/sam_side_by_side.sh SEGMENT_ANYTHING_CLONE MOBILESAM_CLONE [OUT_DIR]
#
# The clones are github.com/facebookresearch/segment-anything and github.com/ChaoningZhang/MobileSAM, kept outside
# this repository. Run it on an idle machine: about 30 minutes. SHARPVISION_ONLY=1 skips the reference (reusing
# OUT_DIR/reference.json) and runs SharpVision's side alone.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0"; exit 2; }
sa=$(realpath "$1"); ms=$(realpath "$2"); out=$(realpath -m "${3:-/tmp/sam-side-by-side}")
cd "$(dirname "$0")/../.."
mkdir -p "$out/weights"
[ "${SHARPVISION_ONLY:-}" = 1 ] || /usr/bin/python3 bench/reference/segment_anything_timings.py "$sa" "$ms" "$out/weights" "$out/reference.json"
# MALLOC_ARENA_MAX=1: BenchmarkDotNet runs benchmarks on a thread of its own, and glibc serves a non-main thread's
# blocks over 64 MiB by mmap whatever NativeHeap.KeepFreedBlocksForReuse says (vit_b fp32 14.5 instead of 7.1 s here);
# one arena gives that thread the main thread's heap, so the runner measures what `segment`'s main thread gets.
SHARPVISION_SAM_WEIGHTS="$out/weights" MALLOC_ARENA_MAX=1 dotnet run -c Release --project bench/SharpVision.Benchmarks -- \
  --filter '*SamSideBySide*' --warmupCount 1 --iterationCount 2 --exporters json \
  --artifacts "$out/sharpvision" | tee "$out/sharpvision.log"
# The automatic mask generators take minutes a call: one timed call each, outside BenchmarkDotNet, on the main thread
# with glibc's defaults as `segment --auto` runs them.
for m in amg_vit_b amg_vit_t; do
  SHARPVISION_SAM_WEIGHTS="$out/weights" dotnet run -c Release --no-build --project bench/SharpVision.Benchmarks -- \
    --sam-side-by-side-once $m | tee -a "$out/sharpvision.log"
done
/usr/bin/python3 bench/reference/side_by_side_table.py "$out/reference.json" "$out/sharpvision" "$out/sharpvision.log"
