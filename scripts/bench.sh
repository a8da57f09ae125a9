#!/usr/bin/env bash
# Measures what the gate costs and writes the report; `just bench` runs it.
#
#   scripts/bench.sh           full run (release build, about ten minutes): writes
#                              docs/benchmarks.md and docs/src/benchmarks.svg from the figures
#                              it measures
#   scripts/bench.sh --quick   smoke run (dev build, seconds of load, tiny storm, no cold build)
#                              for CI: writes its report under target/bench/quick/ and never
#                              touches docs/
#
# What it measures (see the generated page for what each figure means):
#   1. criterion micro-benchmarks: argon2id hash and verify, token issue and verify, the bearer
#      and scope check through a router;
#   2. gate overhead: the festival app under wrk, GET /health against
#      GET /api/backstage with a gold wristband, same concurrency, same duration, same run,
#      in two rounds ordered open, gated, gated, open so that drift cancels out;
#   3. login storm: 64 clients POSTing to /token for 30 s while a light client samples
#      GET /api/backstage latency; the server's peak RSS; every status code counted;
#   4. developer loop: a cold `cargo build` of the workspace (in target/bench-cold, so the main
#      target directory is left alone) and touch-a-lesson-to-green-snapshot-test time.
#
# The server and the load generator share the machine: they are pinned to separate CPUs with
# taskset (on two cores: server on CPU 0, wrk on CPU 1), and the report gives ratios.
#
# Exit status: 0 when the report is written and (full run) every target holds; 3 when a full
# run misses a target; any other non-zero status when the harness itself broke (no wrk, the
# server did not start, output that could not be parsed). A quick run exits 0 even when a
# target is missed: it checks the harness, not the figures.
#
# Environment: BENCH_LESSON (lesson directory for the edit loop, default the first lesson with
# tests), CARGO_TARGET_DIR is honoured. Installs wrk with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=full
for arg in "$@"; do
    case "$arg" in
        --quick) mode=quick ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
            exit 0
            ;;
        *)
            echo "bench: unknown argument '$arg' (expected --quick or --help)" >&2
            exit 2
            ;;
    esac
done

say() { printf '[bench] %s\n' "$*" >&2; }
fail() {
    say "error: $*"
    exit 1
}

# --- Settings per mode ------------------------------------------------------------------------

if [[ $mode == quick ]]; then
    warmup_s=1 phase_s=2 gate_connections=32
    storm_s=3 storm_clients=8
    criterion_args=(--warm-up-time 0.2 --measurement-time 0.5 --sample-size 10 --noplot)
else
    warmup_s=3 phase_s=10 gate_connections=32
    storm_s=30 storm_clients=64
    criterion_args=(--noplot)
fi
light_pause_ms=10

target_dir=$(cargo metadata --format-version 1 --no-deps --locked 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') ||
    fail "cargo cannot load the workspace (run 'cargo metadata --locked' to see why)"
out_dir="$target_dir/bench/$mode"
results="$out_dir/results"
rm -rf -- "$results"
mkdir -p -- "$results"
meta="$results/meta.env"
: >"$meta"
record() { printf '%s=%s\n' "$1" "$2" >>"$meta"; }
record mode "$mode"

# --- Tools ------------------------------------------------------------------------------------

install_with_apt() {
    local package=$1
    command -v apt-get >/dev/null || return 1
    local sudo=()
    if [[ $(id -u) != 0 ]]; then
        sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    say "installing $package with apt-get (Debian's package)..."
    "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq "$package" >&2
}

for tool in python3 curl; do
    command -v "$tool" >/dev/null || fail "$tool is required"
done
if ! command -v wrk >/dev/null; then
    install_with_apt wrk || fail "wrk is missing and could not be installed (apt-get install wrk)"
fi
if ! command -v taskset >/dev/null; then
    install_with_apt util-linux || fail "taskset is missing (it comes with util-linux)"
fi

# --- The machine ------------------------------------------------------------------------------

# Split the CPUs this script may use: the first half for the server (and the micro-benchmarks,
# so the hash time is measured on the cores that will hash), the rest for wrk.
read -r server_cpus client_cpus server_cores < <(python3 -c '
import os
cpus = sorted(os.sched_getaffinity(0))
half = max(1, len(cpus) // 2)
server, client = cpus[:half], (cpus[half:] or cpus[:half])
print(",".join(map(str, server)), ",".join(map(str, client)), len(server))
')
record nproc "$(nproc)"
record cpu_model "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
record mem_total_kib "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
record kernel "$(uname -sr)"
record loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
record rustc "$(rustc --version)"
record wrk "$( (wrk -v 2>&1 || true) | head -n 1)"
record commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo '+changes')"
record date_utc "$(date -u '+%Y-%m-%d %H:%M UTC')"
record server_cpus "$server_cpus"
record client_cpus "$client_cpus"
record server_cores "$server_cores"
say "mode $mode; server on CPU(s) $server_cpus, load generator on CPU(s) $client_cpus"

# --- Build ------------------------------------------------------------------------------------

# A full run measures release builds. A quick run checks the harness, not the figures, so it
# reuses the dev profile that `cargo test` has already built (argon2 and the hash crates are
# optimised even there) instead of paying for a second, release build of everything in CI.
if [[ $mode == quick ]]; then
    profile=dev profile_dir=debug
else
    profile=release profile_dir=release
fi
record profile "$profile"
bench_targets=(-p wristband-passwords -p wristband-tokens -p wristband-axum
    --bench hashing --bench tokens --bench gate)
say "building the festival app and the benchmarks ($profile profile)..."
cargo build --profile "$profile" --locked -p festival-app >&2
cargo bench --profile "$profile" --locked --no-run "${bench_targets[@]}" >&2 2>&1
server_bin="$target_dir/$profile_dir/festival-app"
[[ -x $server_bin ]] || fail "the build produced no $server_bin"

# --- 1. Micro-benchmarks ----------------------------------------------------------------------

say "micro-benchmarks (criterion, pinned to CPU(s) $server_cpus)..."
CRITERION_HOME="$results/criterion" taskset -c "$server_cpus" \
    cargo bench --profile "$profile" --locked "${bench_targets[@]}" -- "${criterion_args[@]}" \
    >"$results/criterion.txt" 2>&1 ||
    { tail -n 30 "$results/criterion.txt" >&2; fail "the criterion benchmarks failed"; }

# --- Start the server -------------------------------------------------------------------------

data_dir=$(mktemp -d "${TMPDIR:-/tmp}/wristband-bench.XXXXXX")
server_pid=""
load_pids=()
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        say "the server ignored SIGTERM for 10 s; killing it"
        kill -KILL "$server_pid" 2>/dev/null || true
        record server_stop killed
    fi
    local status=0
    wait "$server_pid" 2>/dev/null || status=$?
    grep -q '^server_stop=' "$meta" || record server_stop "exit $status"
    server_pid=""
}
cleanup() {
    for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    stop_server
    rm -rf -- "$data_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')
base="http://127.0.0.1:$port"
say "starting the festival app on $base (demo mode, data in $data_dir)..."
# The login throttle is off: every storm client logs in as bob, and the throttle would hold
# bob's logins to a few at a time, so the storm would measure the throttle instead of the
# hashing pool, which is what stands between any crowd of usernames and the server's memory.
record login_throttle off
FESTIVAL_DEMO=1 FESTIVAL_ADDR="127.0.0.1:$port" FESTIVAL_PUBLIC_URL="$base" \
    FESTIVAL_LOGIN_MAX_FAILURES=0 \
    FESTIVAL_DATA_DIR="$data_dir" DATABASE_URL="sqlite://$data_dir/festival.db?mode=rwc" \
    taskset -c "$server_cpus" "$server_bin" >"$results/server.log" 2>&1 &
server_pid=$!
record server_pool "app defaults"

for _ in $(seq 300); do
    kill -0 "$server_pid" 2>/dev/null ||
        { tail -n 20 "$results/server.log" >&2; server_pid=""; fail "the server exited at start"; }
    curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null "$base/health" ||
    { tail -n 20 "$results/server.log" >&2; fail "the server did not answer GET /health within 30 s"; }

cpu_seconds() { # user + system CPU time of the server so far
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$server_pid/stat"
}
now() { date +%s.%N; }
hashing_cpu_seconds() { # user + system CPU time of the server's argon2 worker threads so far
    local hz total=0 task
    hz=$(getconf CLK_TCK)
    for task in /proc/"$server_pid"/task/*; do
        [[ $(cat "$task/comm" 2>/dev/null) == argon2-worker* ]] || continue
        total=$(awk -v total="$total" '{print total + $14 + $15}' "$task/stat" 2>/dev/null || echo "$total")
    done
    awk -v total="$total" -v hz="$hz" 'BEGIN {printf "%.3f", total / hz}'
}

login_body=$(python3 -c '
import urllib.parse
print(urllib.parse.urlencode({"grant_type": "password", "username": "bob",
                              "password": "gold-wristband-demo", "scope": "stages backstage"}))
')
token_response=$(curl -sS -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "$login_body" "$base/token") || fail "POST /token failed"
token=$(python3 -c '
import json, sys
body = json.loads(sys.argv[1])
if "backstage" not in body.get("scope", "").split():
    sys.exit("the token response grants no backstage scope: %s" % body.get("scope"))
print(body["access_token"])
' "$token_response") || fail "POST /token gave no gold wristband: the demo login (bob) failed"
auth="Authorization: Bearer $token"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "$auth" "$base/api/backstage")
[[ $status == 200 ]] || fail "GET /api/backstage with bob's token answered $status, not 200"

# --- 2. Gate overhead -------------------------------------------------------------------------

run_wrk() { # name, then wrk arguments; output in $results/name.txt
    local name=$1
    shift
    taskset -c "$client_cpus" wrk "$@" >"$results/$name.txt" 2>&1 ||
        { cat "$results/$name.txt" >&2; fail "wrk failed ($name)"; }
}
gate_phase() { # name, url, extra wrk arguments
    local name=$1 url=$2
    shift 2
    BENCH_ROLE=gate run_wrk "warmup-$name" -t1 -c"$gate_connections" -d"${warmup_s}s" \
        -s scripts/bench/wrk.lua "$@" "$url"
    local cpu_before wall_before
    cpu_before=$(cpu_seconds) wall_before=$(now)
    BENCH_ROLE=gate run_wrk "$name" -t1 -c"$gate_connections" -d"${phase_s}s" --latency \
        -s scripts/bench/wrk.lua "$@" "$url"
    record "${name}_server_cpu_seconds" "$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$cpu_before" "$(cpu_seconds)")"
    record "${name}_wall_seconds" "$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$wall_before" "$(now)")"
}
# Two rounds per route in the order open, gated, gated, open (an "ABBA" design): a machine
# that slows down or speeds up steadily during the run then weighs on both routes alike,
# instead of favouring whichever route ran first. The report adds the rounds up.
say "gate overhead: $gate_connections connections, 2 rounds of ${phase_s} s per route (open, gated, gated, open), each after ${warmup_s} s warm-up..."
record gate_connections "$gate_connections"
record phase_seconds "$phase_s"
gate_phase gate-open-1 "$base/health"
gate_phase gate-gated-1 "$base/api/backstage" -H "$auth"
gate_phase gate-gated-2 "$base/api/backstage" -H "$auth"
gate_phase gate-open-2 "$base/health"

# --- 3. Login storm ---------------------------------------------------------------------------

say "login storm: $storm_clients clients POST /token for ${storm_s} s, a light client on /api/backstage..."
record storm_clients "$storm_clients"
record storm_seconds "$storm_s"
record light_pause_ms "$light_pause_ms"
status_field() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$server_pid/status"; }
record server_rss_before_storm_kib "$(status_field VmRSS)"
record server_threads_before_storm "$(status_field Threads)"
storm_cpu_before=$(cpu_seconds) storm_wall_before=$(now)
storm_hashing_before=$(hashing_cpu_seconds)
BENCH_ROLE=storm BENCH_LOGIN_BODY="$login_body" taskset -c "$client_cpus" \
    wrk -t"$storm_clients" -c"$storm_clients" -d"${storm_s}s" --timeout 10s \
    -s scripts/bench/wrk.lua "$base/token" >"$results/storm.txt" 2>&1 &
load_pids+=($!)
# The light client starts a second after the storm and stops a second before it ends, so
# every sample it takes is taken under the storm.
sleep 1
BENCH_ROLE=light BENCH_PAUSE_MS="$light_pause_ms" run_wrk storm-light -t1 -c1 \
    -d"$((storm_s > 2 ? storm_s - 2 : 1))s" --latency -H "$auth" \
    -s scripts/bench/wrk.lua "$base/api/backstage"
wait "${load_pids[0]}" || { cat "$results/storm.txt" >&2; fail "wrk failed (storm)"; }
load_pids=()
record storm_hashing_cpu_seconds "$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$storm_hashing_before" "$(hashing_cpu_seconds)")"
record storm_server_cpu_share "$(python3 -c 'import sys; a = [float(x) for x in sys.argv[1:]]; print("%.3f" % ((a[1] - a[0]) / (a[3] - a[2])))' \
    "$storm_cpu_before" "$(cpu_seconds)" "$storm_wall_before" "$(now)")"

record server_vmhwm_kib "$(status_field VmHWM)"
record server_threads_after_storm "$(status_field Threads)"
stop_server

# --- 4. Developer loop ------------------------------------------------------------------------

if [[ $mode == full ]]; then
    cold_dir="$target_dir/bench-cold"
    say "developer loop: cold cargo build of the workspace into $cold_dir..."
    rm -rf -- "$cold_dir"
    started=$(now)
    if CARGO_TARGET_DIR="$cold_dir" cargo build --workspace --locked >"$results/cold-build.txt" 2>&1; then
        record cold_build_seconds "$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$started" "$(now)")"
    else
        tail -n 20 "$results/cold-build.txt" >&2
        record cold_build_seconds failed
    fi

    lesson=${BENCH_LESSON:-}
    if [[ -z $lesson ]]; then
        for dir in lessons/*/; do
            [[ -d ${dir}tests ]] && { lesson=$(basename "$dir"); break; }
        done
    fi
    if [[ -n $lesson && -f lessons/$lesson/Cargo.toml ]]; then
        package=$(sed -n 's/^name = "\(.*\)"/\1/p' "lessons/$lesson/Cargo.toml" | head -n 1)
        source=lessons/$lesson/src/lib.rs
        [[ -f $source ]] || source=lessons/$lesson/src/main.rs
        record edit_lesson "$lesson"
        say "developer loop: touch $source, then cargo test -p $package..."
        # Build the tests once, so the timed run rebuilds only what the edit invalidates.
        if CARGO_TARGET_DIR="$cold_dir" cargo test --locked -p "$package" --no-run \
            >"$results/edit-warm.txt" 2>&1; then
            touch "$source"
            started=$(now)
            if INSTA_UPDATE=no CARGO_TARGET_DIR="$cold_dir" cargo test --locked -p "$package" \
                >"$results/edit-loop.txt" 2>&1; then
                record edit_loop_seconds "$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$started" "$(now)")"
            else
                tail -n 20 "$results/edit-loop.txt" >&2
                record edit_loop_seconds failed
            fi
        else
            tail -n 20 "$results/edit-warm.txt" >&2
            record edit_loop_seconds failed
        fi
    else
        record edit_loop_seconds "no lesson"
    fi
fi

# --- Report -----------------------------------------------------------------------------------

if [[ $mode == full ]]; then
    # docs/benchmarks.md is the report; the book's chapter (docs/src/benchmarks.md) includes
    # it and shows the chart, which lives in the book's source folder so the book carries it.
    report_md=docs/benchmarks.md report_svg=docs/src/benchmarks.svg
else
    report_md=$out_dir/benchmarks.md report_svg=$out_dir/benchmarks.svg
fi
status=0
python3 scripts/bench/report.py --results "$results" --markdown "$report_md" --svg "$report_svg" ||
    status=$?
case $status in
    0) say "report: $report_md (every target holds)" ;;
    3)
        if [[ $mode == quick ]]; then
            say "report: $report_md (a target was missed; a quick run only checks the harness)"
            status=0
        else
            say "report: $report_md (a target was missed; see the table)"
        fi
        ;;
    *) fail "the report could not be made from the results in $results" ;;
esac
exit "$status"
