#!/bin/bash
# The GPU checks of issue 16 in one command, for a machine with a CUDA GPU:
#
#   bash benchmarks/gpu_checks.sh OUT_DIR [DATA_DIR]
#
# DATA_DIR (default ../shared/data) holds real/ and real2/ (E3, E3b). Needs the project's
# dependencies importable by `python3` (a CUDA build of torch) and the pose models
# installed (`avr models install pose`, or AVR_MODELS_DIR). Writes logs and JSON into
# OUT_DIR and prints a short summary; about 4 minutes on an H200 with 16 cores. Run
# without a GPU (each GPU step failing as it should) it took 2 min on 2 cores.
#
#  1. the tests that exercise CUDA (test_cuda_paths.py and the device-dependent ones);
#  2. bench_gpu.py: decode, encoder on CPU and CUDA, agreement, pipeline, cost matrices;
#  3. bench_index_auto.py with the appearance network on CUDA, then on the CPU;
#  4. bench_features.py's index_over_decode with AVR_DEVICE=cuda;
#  5. eval_real.py on E3 and E3b indexed on CUDA in a fresh work folder (compare with the
#     CPU figures in docs/RESULTS.md);
#  6. `avr query` on that E3 library, device auto and cpu, twice each (wall time).
set -u -o pipefail
out=${1:?usage: gpu_checks.sh OUT_DIR [DATA_DIR]}
data=${2:-../shared/data}
mkdir -p "$out"
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
clip="$data/real/pushup2.mp4"
step() { echo "== $1 ($(date +%T))"; }
python3 -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" || {
    echo "gpu_checks: torch sees no CUDA GPU here" >&2
    exit 2
}

step tests
python3 -m pytest -q -p no:cacheprovider -n 8 -o addopts="" -m "not network" -rfEs \
    tests/unit/test_cuda_paths.py tests/unit/test_context_cost_timemap.py \
    tests/unit/test_learn_infer.py tests/unit/test_encoder_ort.py \
    tests/unit/test_library_auto.py tests/unit/test_features.py tests/unit/test_learn.py \
    tests/unit/test_library_query.py tests/unit/test_partial_align.py \
    > "$out/pytest.log" 2>&1
echo "pytest rc $?"; grep -E "passed|failed|^FAILED|^ERROR" "$out/pytest.log" | tail -12

step bench_gpu
python3 benchmarks/bench_gpu.py --clip "$clip" --json "$out/bench_gpu.json" \
    > "$out/bench_gpu.log" 2>&1
echo "bench_gpu rc $?"

for dev in cuda cpu; do
    step "bench_index_auto $dev"
    AVR_DEVICE=$dev python3 benchmarks/bench_index_auto.py --clip "$clip" \
        --configs effnet,auto --repeats 3 --json "$out/index_auto_$dev.json" \
        > "$out/index_auto_$dev.log" 2>&1
    echo "rc $?"; grep -E "frames_per_s|index_over_decode" "$out/index_auto_$dev.log"
done

step "bench_features index_over_decode (cuda)"
AVR_DEVICE=cuda python3 benchmarks/bench_features.py --backends '' --index-clip "$clip" \
    --json "$out/bench_features_cuda.json" 2>&1 | tail -1

step "eval_real on CUDA"
work=$(mktemp -d)
AVR_DEVICE=cuda python3 benchmarks/eval_real.py --data "$data" --work "$work" \
    --sets real,real2 --json "$out/eval_real_cuda.json" > "$out/eval_real.log" 2>&1
echo "eval_real rc $?"; tail -9 "$out/eval_real.log"

step "avr query wall time"
for dev in auto cpu auto cpu; do
    t0=$(date +%s%N)
    AVR_DEVICE=$dev python3 -m avr_gui.cli query --index "$work/real" --top 3 "$clip" \
        > "$out/query_$dev.txt" 2>&1
    echo "query device=$dev rc $? $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
rm -rf "$work"
grep -E '"(decode_fps|encode_cpu_fps|encode_gpu_one_thread_fps|encode_gpu_new_thread_fps|pipeline_over_decode|cuda_start_s)"' \
    "$out/bench_gpu.json"
