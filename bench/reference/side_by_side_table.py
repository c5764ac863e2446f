"""Joins the two sides of bench/reference/sam_side_by_side.sh into one markdown table:
    side_by_side_table.py REFERENCE.json BENCHMARKDOTNET_ARTIFACTS SHARPVISION.log"""
import glob
import json
import re
import sys


def main(reference_path, artifacts, log_path):
    reference = json.load(open(reference_path))
    report = glob.glob(f"{artifacts}/**/*SamSideBySide*.json", recursive=True)
    if not report:
        sys.exit(f"no SamSideBySide JSON report under {artifacts}")
    ours = {}
    for b in json.load(open(report[0]))["Benchmarks"]:
        name = re.search(r"Measurement=(\w+)", b["Parameters"]).group(1)
        ours[name] = b["Statistics"]["Median"] / 1e9
    log = open(log_path).read()
    for m in re.finditer(r"// (\w+): one call ([\d.]+) s", log):
        ours.setdefault(m.group(1), float(m.group(2)))
    peaks = {m.group(1): float(m.group(3)) for m in re.finditer(r"// (\w+): (\d+ masks kept; )?peak resident set \(VmHWM\) (\d+) MiB", log)}
    kept = {m.group(1): int(m.group(2)) for m in re.finditer(r"// (\w+): (\d+) masks kept", log)}
    print(f"segment-anything {reference['segment_anything']}, MobileSAM {reference['mobile_sam']}, torch {reference['torch']}, "
          f"{reference['threads']} threads; medians (SharpVision's automatic masks: one call); peak resident set of each measurement's process (reference) or since its setup (SharpVision)\n")
    print("| measurement | reference | SharpVision | reference / SharpVision | peak MiB, reference | peak MiB, SharpVision |")
    print("|---|---:|---:|---:|---:|---:|")
    for m in reference["measurements"]:
        if "error" in m:
            s = ours.get(m["name"])
            shown = "n/a" if s is None else (f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s")
            print(f"| {m['what']} | fails: {m['error']} | {shown} | – | – | {peaks.get(m['name'], float('nan')):.0f} |")
            continue
        name, r = m["name"], m["seconds"]
        s = ours.get(name)
        what = m["what"] + (f" ({m['masks']} / {kept.get(name, '?')} masks)" if "masks" in m else "")
        fmt = (lambda t: f"{t * 1000:.1f} ms") if r < 1 else (lambda t: f"{t:.2f} s")
        print(f"| {what} | {fmt(r)} | {fmt(s) if s else 'n/a'} | {r / s:.2f}× |" if s else f"| {what} | {fmt(r)} | n/a | n/a |", end="")
        print(f" {m['peak_mib']:.0f} | {peaks.get(name, float('nan')):.0f} |")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
