#!/usr/bin/env bash
# End-to-end and per-stage speed on this machine. Prints each figure next to a baseline measured
# in the same run: stages as shares of the in-process end-to-end time, tiled detection against a
# single detector pass, the CLI on video against ffmpeg's own decode + encode of the same clip.
# Usage: bench/run.sh [build-dir]   (default build/release, made by scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
standin="$build/tools/standin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
faces=/usr/share/doc/libdlib19.1/examples/faces

echo "== stages (Google Benchmark, 1920x1080 photo, 10 faces, blur)"
"$build/bench/bench_stages" --benchmark_format=json --benchmark_min_time=1 >"$work/stages.json" 2>/dev/null
/usr/bin/python3 - "$work/stages.json" <<'PY'
import json, sys
runs = {b["name"].split("/")[0]: b["real_time"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
e2e = runs["BM_EndToEnd"]
print(f"{'stage':<22}{'ms':>8}{'share of e2e':>14}")
for k in ["BM_Decode", "BM_Detect", "BM_Landmarks", "BM_Blur", "BM_Encode"]:
    print(f"{k[3:]:<22}{runs[k]:8.1f}{runs[k] / e2e:14.0%}")
print(f"{'end to end':<22}{e2e:8.1f}{'100%':>14}")
print(f"tiled detection vs one pass over the whole image: {runs['BM_Detect']:.1f} / "
      f"{runs['BM_DetectSinglePass']:.1f} ms = {runs['BM_Detect'] / runs['BM_DetectSinglePass']:.2f}x")
print(f"generate: {runs['BM_GenerateOneFace']:.1f} ms per face; whole photo "
      f"{runs['BM_EndToEndGenerate']:.1f} ms = {runs['BM_EndToEndGenerate'] / e2e:.2f}x the blur pipeline")
large, large64 = runs["BM_GenerateLargeFace"], runs["BM_GenerateLargeFaceNoRefine"]
print(f"generate, one large face: {large:.1f} ms painted at 128 px (refiner) against "
      f"{large64:.1f} ms at 64 px = {large / large64:.2f}x")
bench = json.load(open(sys.argv[1]))["benchmarks"]
base = next(b["real_time"] for b in bench if b["name"].startswith("BM_GenerateFaces/0/"))
print("identity guard, the generate method alone on the 10 faces (baseline: no guard, "
      f"{base:.0f} ms):")
for b in bench:
    if b["name"].startswith("BM_GenerateFaces/") and not b["name"].startswith("BM_GenerateFaces/0/"):
        k = int(b["name"].split("/")[1])
        print(f"  K = {k}: {b['real_time']:.0f} ms = {b['real_time'] / base:.2f}x")
guarded = next(b["real_time"] for b in bench if b["name"].startswith("BM_GenerateFaces/4/"))
margins = runs["BM_GenerateFacesMarginsOnly"]
print(f"  K = 4, margins only (--stranger-percentile 0 --donors 0): {margins:.0f} ms = "
      f"{margins / base:.2f}x; the default guard (stranger test, donors) is "
      f"{guarded / margins:.2f}x that")
print(f"photo end to end with the guard (default K): {runs['BM_EndToEndGenerateGuarded']:.0f} ms = "
      f"{runs['BM_EndToEndGenerateGuarded'] / runs['BM_EndToEndGenerate']:.2f}x generate without it")
attr = runs["BM_EndToEndGenerateGuardedAttributeChoice"]
print(f"  with the attribute choice (--attribute-weight 1; by default the first candidate that "
      f"passes is painted): {attr:.0f} ms = {attr / runs['BM_EndToEndGenerate']:.2f}x")
strict = runs["BM_EndToEndGenerateStrict"]
print(f"  the strict guard (--strict-guard): {strict:.0f} ms = "
      f"{strict / runs['BM_EndToEndGenerate']:.2f}x")
pose = runs["BM_EndToEndGenerateStrictPoseOrder"]
print(f"  session 22's strict guard (128 donors by pose, colour and attributes alone): "
      f"{pose:.0f} ms = {pose / runs['BM_EndToEndGenerate']:.2f}x; the donors' identity order "
      f"takes {strict / pose:.2f}x its time")
embed = {b["label"]: b["real_time"] for b in bench if b["name"].startswith("BM_IdentityEmbed/")}
print("per candidate: embedding " + ", ".join(f"{k} {v:.1f} ms" for k, v in embed.items()) +
      f", age + gender "
      f"{runs['BM_AgeGender']:.1f} ms, generator {runs['BM_GenerateOneFace']:.1f} ms")
PY

echo "== photo through the CLI (1920x1080, 10 faces)"
/usr/bin/python3 - "$work" <<PY
import cv2, numpy as np, sys
F = "$faces/"
ims = [cv2.resize(cv2.imread(F + f), (960, 540), interpolation=cv2.INTER_CUBIC)
       for f in ["2008_002506.jpg", "2008_001009.jpg", "2008_001322.jpg", "2009_004587.jpg"]]
g = np.vstack([np.hstack(ims[:2]), np.hstack(ims[2:])])
import os
os.makedirs(sys.argv[1] + "/photos", exist_ok=True)
os.makedirs(sys.argv[1] + "/photos40", exist_ok=True)
for i in range(40):
    if i < 20:
        cv2.imwrite(f"{sys.argv[1]}/photos/p{i:02}.jpg", g, [cv2.IMWRITE_JPEG_QUALITY, 92])
    cv2.imwrite(f"{sys.argv[1]}/photos40/p{i:02}.jpg", g, [cv2.IMWRITE_JPEG_QUALITY, 92])
PY
t0=$(date +%s.%N)
"$standin" "$work/photos/p00.jpg" -o "$work/one.jpg" -q -m blur
t1=$(date +%s.%N)
"$standin" "$work/photos" -o "$work/out" -q -m blur
t2=$(date +%s.%N)
"$standin" "$work/photos40" -o "$work/out40" -q -m blur
t3=$(date +%s.%N)
"$standin" "$work/photos/p00.jpg" -o "$work/one_gen.jpg" -q
t4=$(date +%s.%N)
/usr/bin/python3 -c "
one=$t1-$t0; f20=$t2-$t1; f40=$t3-$t2; gen=$t4-$t3
print(f'one photo, blur, including start-up (model loading, sha256 checks): {one*1000:.0f} ms')
print(f'each further photo (40-photo folder minus 20-photo folder, / 20): {(f40-f20)*1000/20:.0f} ms '
      f'(read, decode, detect, landmarks, blur, encode, fsync, rename)')
print(f'one photo, default (generate, identity guard), including start-up: {gen*1000:.0f} ms '
      f'({gen/one:.2f}x blur)')"

echo "== video through the CLI (1280x720, 25 fps, 10 s, AAC audio, 6 faces)"
ffmpeg -v error -y -loop 1 -framerate 25 -i "$faces/2008_002470.jpg" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -vf "scale=1600:-2,crop=1280:720:'(in_w-out_w)*n/250':'(in_h-out_h)/2'" -frames:v 250 \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$work/clip.mp4"
t0=$(date +%s.%N)
ffmpeg -v error -y -i "$work/clip.mp4" -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p \
  -c:a copy "$work/ffmpeg_only.mp4"
t1=$(date +%s.%N)
"$standin" "$work/clip.mp4" -o "$work/clip_anon.mp4" -q -m blur
t2=$(date +%s.%N)
"$standin" "$work/clip.mp4" -o "$work/clip_pix.mp4" -q --method pixelate
t3=$(date +%s.%N)
"$standin" "$work/clip.mp4" -o "$work/clip_gen.mp4" -q --method generate --seed 1
t4=$(date +%s.%N)
"$standin" "$work/clip.mp4" -o "$work/clip_gen0.mp4" -q --method generate --seed 1 --no-identity-guard
t5=$(date +%s.%N)
/usr/bin/python3 -c "
base=$t1-$t0; blur=$t2-$t1; pix=$t3-$t2; gen=$t4-$t3; gen0=$t5-$t4
print(f'ffmpeg decode+encode only: {250/base:6.1f} fps')
print(f'standin blur:              {250/blur:6.1f} fps  ({blur/base:.2f}x the time of ffmpeg alone)')
print(f'standin pixelate:          {250/pix:6.1f} fps  ({pix/base:.2f}x)')
print(f'standin generate (6 faces): {250/gen:5.1f} fps  ({gen/base:.2f}x; identity guard on, default)')
print(f'  without the identity guard: {250/gen0:5.1f} fps  (the guard costs {gen/gen0:.2f}x)')"
