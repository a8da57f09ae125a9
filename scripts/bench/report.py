#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh into the benchmarks page and its chart.

Usage: report.py --results DIR --markdown FILE --svg FILE

DIR holds what bench.sh collected: meta.env (machine, versions, settings, server figures),
criterion/ (criterion's estimates), and one wrk output per load phase, each ending with the
`BENCH_RESULT {json}` line that scripts/bench/wrk.lua prints.

Exit status: 0 when every target holds, 3 when one is missed, 1 when the results are missing or
cannot be parsed (the harness is broken). Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# The targets. They are requirements, not tuning knobs: change them only with the issue.
GATED_VS_OPEN_MIN = 0.90
LOGIN_VS_LIMIT_MIN = 0.85
STORM_P99_MAX_MS = 10.0
PEAK_RSS_MAX_MIB = 256.0

MICRO_BENCHMARKS = [
    ("argon2id/hash", "argon2id hash (OWASP: 19 MiB, t=2, p=1)"),
    ("argon2id/verify", "argon2id verify, i.e. one login's password check"),
    ("wristband_token/issue", "issue a wristband token (Ed25519 signature)"),
    ("wristband_token/verify", "verify a wristband token"),
    ("gate/open_route", "open route through the router (`oneshot`)"),
    ("gate/bearer_and_scope", "gated route, gold wristband: bearer + verify + scope check"),
    (
        "gate/bearer_and_scope_cached",
        "the same, token already verified once (verified-token cache, as the app runs)",
    ),
    ("gate/missing_scope_403", "gated route, green wristband: refused with 403"),
]


class HarnessError(Exception):
    """The results are missing or malformed: the measurement itself failed."""


@dataclass
class Estimate:
    mean_ns: float
    low_ns: float
    high_ns: float


@dataclass
class Load:
    duration_s: float
    requests: int
    errors: dict
    latency_us: dict
    statuses: dict

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s

    @property
    def socket_errors(self) -> int:
        return sum(self.errors[kind] for kind in ("connect", "read", "write", "timeout"))


@dataclass
class Target:
    name: str
    measured: str
    wanted: str
    holds: bool | None


def read_meta(results: Path) -> dict[str, str]:
    path = results / "meta.env"
    if not path.is_file():
        raise HarnessError(f"{path} is missing")
    meta = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            meta[key] = value
    return meta


def read_criterion(results: Path) -> dict[str, Estimate]:
    estimates = {}
    for benchmark in (results / "criterion").rglob("new/benchmark.json"):
        full_id = json.loads(benchmark.read_text())["full_id"]
        data = json.loads((benchmark.parent / "estimates.json").read_text())
        mean = data["mean"]
        estimates[full_id] = Estimate(
            mean["point_estimate"],
            mean["confidence_interval"]["lower_bound"],
            mean["confidence_interval"]["upper_bound"],
        )
    missing = [name for name, _ in MICRO_BENCHMARKS if name not in estimates]
    if missing:
        raise HarnessError(f"criterion results missing for {', '.join(missing)}")
    return estimates


def read_wrk(results: Path, name: str) -> Load:
    path = results / f"{name}.txt"
    if not path.is_file():
        raise HarnessError(f"{path} is missing")
    for line in path.read_text().splitlines():
        if line.startswith("BENCH_RESULT "):
            data = json.loads(line[len("BENCH_RESULT ") :])
            load = Load(
                duration_s=data["duration_us"] / 1e6,
                requests=int(data["requests"]),
                errors={key: int(value) for key, value in data["errors"].items()},
                latency_us=data["latency_us"],
                statuses={key: int(value) for key, value in data["statuses"].items()},
            )
            if load.duration_s <= 0:
                raise HarnessError(f"{path}: zero duration")
            return load
    raise HarnessError(f"{path} has no BENCH_RESULT line (did wrk run scripts/bench/wrk.lua?)")


def read_rounds(results: Path, meta: dict[str, str], name: str) -> tuple[Load, float]:
    """The rounds `name-1`, `name-2` of one route as one load, and the server's CPU share.

    Counts and durations add up. Latency percentiles cannot be merged exactly from two
    summaries, so each is the request-weighted mean of the rounds' values; the maximum is the
    larger maximum.
    """
    rounds = [read_wrk(results, f"{name}-{n}") for n in (1, 2)]
    requests = sum(load.requests for load in rounds)

    def weighted(key: str) -> float:
        return sum(load.latency_us[key] * load.requests for load in rounds) / max(requests, 1)

    def added(attribute: str) -> dict:
        total: dict = {}
        for load in rounds:
            for key, value in getattr(load, attribute).items():
                total[key] = total.get(key, 0) + value
        return total

    load = Load(
        duration_s=sum(load.duration_s for load in rounds),
        requests=requests,
        errors=added("errors"),
        latency_us={
            **{key: weighted(key) for key in ("mean", "p50", "p90", "p99")},
            "max": max(load.latency_us["max"] for load in rounds),
        },
        statuses=added("statuses"),
    )
    cpu = sum(number(meta, f"{name}-{n}_server_cpu_seconds") for n in (1, 2))
    wall = sum(number(meta, f"{name}-{n}_wall_seconds") for n in (1, 2))
    return load, cpu / wall


def number(meta: dict[str, str], key: str) -> float:
    try:
        return float(meta[key])
    except (KeyError, ValueError) as error:
        raise HarnessError(f"meta.env has no numeric {key}") from error


def fmt_duration_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def fmt_int(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def mark(holds: bool | None) -> str:
    return {True: "✅", False: "❌", None: "—"}[holds]


# --- The figures ----------------------------------------------------------------------------


def analyse(results: Path) -> dict:
    meta = read_meta(results)
    micro = read_criterion(results)
    open_load, open_cpu_share = read_rounds(results, meta, "gate-open")
    gated_load, gated_cpu_share = read_rounds(results, meta, "gate-gated")
    storm = read_wrk(results, "storm")
    light = read_wrk(results, "storm-light")

    for name, load in (("GET /health", open_load), ("GET /api/backstage", gated_load)):
        if load.errors["status"]:
            raise HarnessError(
                f"{name} answered {load.errors['status']} non-2xx responses during the gate "
                "phase: the throughput figure would measure refusals, not the gate"
            )
        if load.requests == 0:
            raise HarnessError(f"{name}: no request completed")
    logins_ok = storm.statuses.get("200", 0)
    if logins_ok == 0:
        raise HarnessError("no login succeeded during the storm (check the demo credentials)")
    if light.requests == 0:
        raise HarnessError("the light client completed no request during the storm")

    server_cores = number(meta, "server_cores")
    # One hash time, measured in the storm itself: the CPU time the server's hashing threads
    # spent, over the logins they checked (every storm login is bob's right password, one
    # hash each). Measured in the same seconds and on the same core as the throughput, it
    # moves with the machine; the criterion figure, taken minutes earlier, is shown beside it.
    hash_s = number(meta, "storm_hashing_cpu_seconds") / logins_ok
    criterion_verify_s = micro["argon2id/verify"].mean_ns / 1e9
    limit = server_cores / hash_s
    login_rps = logins_ok / storm.duration_s
    refused = {kind: n for kind, n in storm.statuses.items() if kind.endswith("_retry_after")}
    bad_5xx = {
        kind: n
        for kind, n in storm.statuses.items()
        if kind.startswith("5") and kind != "503_retry_after"
    }
    other = {
        kind: n
        for kind, n in storm.statuses.items()
        if kind != "200" and kind not in refused and kind not in bad_5xx
    }
    rss_mib = number(meta, "server_vmhwm_kib") / 1024

    return {
        "meta": meta,
        "micro": micro,
        "open": open_load,
        "gated": gated_load,
        "open_cpu_share": open_cpu_share,
        "gated_cpu_share": gated_cpu_share,
        "storm": storm,
        "light": light,
        "server_cores": server_cores,
        "limit": limit,
        "hash_s": hash_s,
        "criterion_limit": server_cores / criterion_verify_s,
        "login_rps": login_rps,
        "refused": refused,
        "bad_5xx": bad_5xx,
        "other": other,
        "rss_mib": rss_mib,
        "gate_ratio": gated_load.rps / open_load.rps,
        "login_ratio": login_rps / limit,
    }


def targets(fig: dict) -> list[Target]:
    meta = fig["meta"]
    storm, light = fig["storm"], fig["light"]
    bad_5xx = sum(fig["bad_5xx"].values())
    storm_p99_ms = light.latency_us["p99"] / 1000
    listed = [
        Target(
            "Gated throughput ÷ open throughput",
            f"{fig['gate_ratio']:.2f}",
            f"≥ {GATED_VS_OPEN_MIN:.2f}",
            fig["gate_ratio"] >= GATED_VS_OPEN_MIN,
        ),
        Target(
            "Login throughput ÷ limit (cores ÷ one hash time)",
            f"{fig['login_ratio']:.2f}",
            f"≥ {LOGIN_VS_LIMIT_MIN:.2f}",
            fig["login_ratio"] >= LOGIN_VS_LIMIT_MIN,
        ),
        Target(
            "Gated p99 latency during the login storm",
            f"{storm_p99_ms:.2f} ms",
            f"≤ {STORM_P99_MAX_MS:.0f} ms",
            storm_p99_ms <= STORM_P99_MAX_MS,
        ),
        Target(
            "Server peak RSS (VmHWM)",
            f"{fig['rss_mib']:.1f} MiB",
            f"≤ {PEAK_RSS_MAX_MIB:.0f} MiB",
            fig["rss_mib"] <= PEAK_RSS_MAX_MIB,
        ),
        Target(
            "5xx answers other than 503 + Retry-After",
            str(bad_5xx),
            "0",
            bad_5xx == 0,
        ),
        Target(
            "Failed requests: socket errors and timeouts (storm and light client), "
            "non-2xx answers to the light client",
            str(storm.socket_errors + light.socket_errors + light.errors["status"]),
            "0",
            storm.socket_errors + light.socket_errors + light.errors["status"] == 0,
        ),
    ]
    if meta.get("mode") == "full":
        for key, label in (
            ("cold_build_seconds", "Cold `cargo build` of the workspace"),
            ("edit_loop_seconds", "Touch a lesson → its tests pass again"),
        ):
            value = meta.get(key, "not run")
            try:
                measured, holds = f"{float(value):.1f} s", None
            except ValueError:
                measured, holds = value, False
            listed.append(Target(label, measured, "recorded, no limit", holds))
    return listed


# --- The page -------------------------------------------------------------------------------


def markdown(fig: dict, listed: list[Target], svg_name: str) -> str:
    meta, micro = fig["meta"], fig["micro"]
    open_load, gated_load, storm, light = fig["open"], fig["gated"], fig["storm"], fig["light"]
    quick = meta.get("mode") == "quick"
    out: list[str] = []
    add = out.append

    add("# Benchmarks: what the gate costs")
    add("")
    # The book's chapter includes this page between these anchors (mdBook drops the marker
    # lines), leaving out the title and the chart, whose path differs there.
    add("<!-- ANCHOR: targets -->")
    add(
        "<!-- Generated by `just bench` (scripts/bench.sh and scripts/bench/report.py) from the "
        "figures of one run. Do not edit by hand: run `just bench` again. -->"
    )
    add("")
    if quick:
        add(
            "> **Quick smoke run** (`just bench --quick`): seconds of load and a tiny storm, to "
            "check that the harness works. These figures are not meaningful; the published page "
            "comes from a full `just bench`."
        )
        add("")
    add(
        "A security layer is only adopted if it is cheap. This page measures what Wristband "
        "costs: one password check, one token, the gate in front of a route, a crowd logging in "
        "at once, and the time a change takes to build and test. Every figure below comes from "
        f"one run of `just bench` on {meta.get('date_utc', 'an unknown date')} "
        f"(commit `{meta.get('commit', 'unknown')}`); nothing on this page is typed by hand."
    )
    add("")
    add(
        "Absolute numbers move from machine to machine, so the targets are ratios against "
        "references measured in the same run, on the same machine."
    )
    add("")

    add("## Targets")
    add("")
    add("| Figure | Measured | Target | Holds |")
    add("|---|---|---|---|")
    for target in listed:
        add(f"| {target.name} | {target.measured} | {target.wanted} | {mark(target.holds)} |")
    add("")
    add("<!-- ANCHOR_END: targets -->")
    add("")
    add(f"![Throughput ratios and latencies of this run]({svg_name})")
    add("")
    add("<!-- ANCHOR: details -->")

    add("## The machine")
    add("")
    add(
        "The server and the load generator run on the same machine and share its CPUs. To keep "
        "them from stealing each other's time, each is pinned with `taskset`: the server (and "
        f"the micro-benchmarks) on CPU {meta['server_cpus']}, `wrk` on CPU {meta['client_cpus']}."
    )
    add("")
    add("| | |")
    add("|---|---|")
    mem_gib = number(meta, "mem_total_kib") / 1024 / 1024
    rows = [
        ("CPU", meta.get("cpu_model", "unknown")),
        ("CPUs (`nproc`)", meta.get("nproc", "?")),
        ("Memory", f"{mem_gib:.1f} GiB"),
        ("Kernel", meta.get("kernel", "?")),
        ("Load average at start (1, 5, 15 min)", meta.get("loadavg_start", "?")),
        ("Server CPUs", f"{meta['server_cpus']} ({fig['server_cores']:.0f} core(s))"),
        ("Load generator CPUs", meta["client_cpus"]),
        ("Rust", f"`{meta.get('rustc', '?')}`"),
        ("Load generator", f"`{meta.get('wrk', '?')}`"),
        ("Server build", "release profile, `festival-app --demo`, SQLite in a temporary folder"),
        ("Hashing pool", meta.get("server_pool", "?")),
    ]
    for key, value in rows:
        add(f"| {key} | {value} |")
    add("")

    add("## 1. Micro-benchmarks")
    add("")
    add(
        "Measured with [criterion](https://docs.rs/criterion) in the same run, pinned to the "
        "server's CPU: the mean time of one operation and its 95 % confidence interval."
    )
    add("")
    add("| Operation | Mean | 95 % CI |")
    add("|---|---|---|")
    for name, label in MICRO_BENCHMARKS:
        est = micro[name]
        add(
            f"| {label} (`{name}`) | {fmt_duration_ns(est.mean_ns)} | "
            f"{fmt_duration_ns(est.low_ns)} – {fmt_duration_ns(est.high_ns)} |"
        )
    add("")
    gate_cost = micro["gate/bearer_and_scope"].mean_ns - micro["gate/open_route"].mean_ns
    cached_cost = (
        micro["gate/bearer_and_scope_cached"].mean_ns - micro["gate/open_route"].mean_ns
    )
    verify_ratio = micro["argon2id/verify"].mean_ns / micro["wristband_token/verify"].mean_ns
    add(
        f"The gate adds {fmt_duration_ns(gate_cost)} to a request in-process (gated minus open "
        f"route), almost all of it the Ed25519 signature check. A token the verifier has fully "
        f"checked once is remembered, so on its next requests the gate adds "
        f"{fmt_duration_ns(cached_cost)}: a lookup by the whole token, then expiry, not-before "
        f"and scope, checked every time. One password check costs as much as "
        f"{fmt_int(verify_ratio)} full token checks: this is why the festival checks the ticket "
        "once at the gate and the wristband everywhere else."
    )
    add("")

    add("## 2. Gate overhead under load")
    add("")
    add(
        f"`wrk` holds {meta['gate_connections']} connections open against the running server "
        f"in two rounds of {meta['phase_seconds']} s per route (each after a warm-up), in the "
        "order open, gated, gated, open, so that a machine drifting faster or slower during "
        "the run weighs on both routes alike: the open `GET /health` and the gated "
        "`GET /api/backstage` with bob's gold wristband. The table adds the two rounds up "
        "(latency percentiles are the request-weighted mean of the rounds'). Every gated request passes the whole gate: bearer header, token, "
        "expiry, scope. The app's verifier remembers tokens that passed every check "
        "(`FESTIVAL_TOKEN_CACHE`), so the one token wrk repeats is signature-checked once and "
        "looked up after that; a forged or altered token is never remembered and always pays "
        "for the full check measured above."
    )
    add("")
    add("| Route | Requests/s | p50 | p99 | Server CPU busy | Server CPU per request |")
    add("|---|---|---|---|---|---|")
    for label, share, load in (
        ("`GET /health` (open)", fig["open_cpu_share"], open_load),
        ("`GET /api/backstage` (gold wristband)", fig["gated_cpu_share"], gated_load),
    ):
        per_request = share / load.rps * 1e9
        add(
            f"| {label} | {fmt_int(load.rps)} | {fmt_ms(load.latency_us['p50'])} | "
            f"{fmt_ms(load.latency_us['p99'])} | {share:.0%} | {fmt_duration_ns(per_request)} |"
        )
    add("")
    add(
        f"Gated ÷ open throughput: **{fig['gate_ratio']:.2f}** (target ≥ {GATED_VS_OPEN_MIN:.2f})."
        " \"Server CPU busy\" is the server's CPU time over wall time: near 100 % per server core "
        "means the server, not the load generator, was the bottleneck."
    )
    add("")

    add("## 3. Login storm")
    add("")
    add(
        f"{meta['storm_clients']} clients POST bob's credentials to `/token` for "
        f"{meta['storm_seconds']} s, each sending its next login as soon as the last one is "
        "answered. A client refused with `429` or `503` waits as long as the `Retry-After` "
        "header asks before trying again, as RFC 9110 §10.2.3 expects of a client. Meanwhile a "
        f"light client (one connection, one request every {meta['light_pause_ms']} ms) measures "
        "`GET /api/backstage` latency."
    )
    add("")
    add(
        "The festival's login throttle is turned off for the whole run "
        "(`FESTIVAL_LOGIN_MAX_FAILURES=0`). With every client logging in as bob, it would hold "
        "bob's logins to ten in progress at a time and answer the rest `429`, and the storm "
        "would measure the throttle. Off, it measures the hashing pool, which is what protects "
        "the server from a crowd of logins whatever usernames they carry."
    )
    add("")
    add(
        "The limit is what the server's cores can hash: each login is one argon2id "
        "verification, so logins/s cannot exceed cores ÷ one verification time. The "
        "verification time is measured during the storm itself: the CPU time of the server's "
        "hashing threads over the logins they checked, so the limit and the throughput come "
        "from the same seconds on the same core. (This machine's neighbours make its speed "
        "drift by a fifth from one minute to the next, and a limit taken from the "
        "micro-benchmark minutes earlier once put the throughput above what any server can "
        "hash. The micro-benchmark's limit is shown beside it for comparison.) Throughput ÷ "
        "limit is then the share of the server's CPU time that went into password hashing."
    )
    add("")
    answers = ", ".join(f"{kind}: {n}" for kind, n in sorted(storm.statuses.items()))
    add("| Figure | Value |")
    add("|---|---|")
    rows = [
        ("Successful logins (200)", fmt_int(storm.statuses.get("200", 0))),
        ("Login throughput", f"{fig['login_rps']:.1f} logins/s"),
        (
            "Limit: cores ÷ one verification (measured in the storm)",
            f"{fig['server_cores']:.0f} ÷ {fmt_duration_ns(fig['hash_s'] * 1e9)} = "
            f"{fig['limit']:.1f} logins/s",
        ),
        (
            "The same from the micro-benchmark, for comparison",
            f"{fig['server_cores']:.0f} ÷ {fmt_duration_ns(micro['argon2id/verify'].mean_ns)} = "
            f"{fig['criterion_limit']:.1f} logins/s",
        ),
        ("Throughput ÷ limit", f"**{fig['login_ratio']:.2f}** (target ≥ {LOGIN_VS_LIMIT_MIN:.2f})"),
        (
            "Refused quickly with Retry-After (429/503)",
            fmt_int(sum(fig["refused"].values())),
        ),
        ("Other 5xx", fmt_int(sum(fig["bad_5xx"].values()))),
        ("Other answers", ", ".join(f"{k}: {n}" for k, n in sorted(fig["other"].items())) or "none"),
        ("Every answer, by status", answers or "none"),
        ("Socket errors and timeouts", fmt_int(storm.socket_errors)),
        ("Server CPU busy during the storm", f"{float(meta.get('storm_server_cpu_share', 'nan')):.0%}"),
        (
            "Gated route during the storm: p50 / p99",
            f"{fmt_ms(light.latency_us['p50'])} / **{fmt_ms(light.latency_us['p99'])}** "
            f"({fmt_int(light.requests)} requests; target p99 ≤ {STORM_P99_MAX_MS:.0f} ms)",
        ),
        ("Server peak RSS (VmHWM, whole run)", f"{fig['rss_mib']:.1f} MiB (target ≤ {PEAK_RSS_MAX_MIB:.0f} MiB)"),
        ("Server RSS just before the storm", f"{number(meta, 'server_rss_before_storm_kib') / 1024:.1f} MiB"),
        (
            "Server threads before / after the storm",
            f"{meta.get('server_threads_before_storm', '?')} / {meta.get('server_threads_after_storm', '?')}",
        ),
        ("Server stop on SIGTERM", meta.get("server_stop", "?")),
    ]
    for key, value in rows:
        add(f"| {key} | {value} |")
    add("")

    add("## 4. Developer loop")
    add("")
    if quick:
        add("Skipped in a quick run.")
    else:
        add(
            "A cold `cargo build --workspace` (debug profile) into its own target folder "
            "(`target/bench-cold`, so the everyday one is not wiped), then the time from touching "
            f"`lessons/{meta.get('edit_lesson', '?')}`'s source to `cargo test` for that lesson "
            "passing again, snapshot test included. These have no target; they are recorded so "
            "a regression in build time shows up here."
        )
        add("")
        add("| Figure | Time |")
        add("|---|---|")
        for target in listed[-2:]:
            add(f"| {target.name} | {target.measured} |")
    add("")

    findings = notes(fig, listed)
    if findings:
        add("## Findings from this run")
        add("")
        for finding in findings:
            add(f"- {finding}")
        add("")

    add("## What the figures mean")
    add("")
    uncached_verify_ns = micro["wristband_token/verify"].mean_ns
    uncached_open_ns = fig["open_cpu_share"] / open_load.rps * 1e9
    uncached_ceiling = uncached_open_ns / (uncached_open_ns + uncached_verify_ns)
    add(
        "- **Gated ÷ open throughput** is the share of an open route's throughput that a route "
        "behind the gate keeps. Both routes answer a few bytes of JSON, so the difference is the "
        "gate: parsing the `Authorization` header, finding the token among those already "
        "verified (or verifying its signature and claims), checking expiry and the scope. "
        "The figure is for a client that reuses its token, as real clients do until it "
        "expires. A client sending a new token on every request would pay the full "
        f"verification ({fmt_duration_ns(uncached_verify_ns)}) each time; against the "
        f"{fmt_duration_ns(uncached_open_ns)} an open request cost the server here, that "
        f"would keep at most {uncached_ceiling:.2f} of the open throughput. The cache, not a "
        "faster signature, is what meets the target."
    )
    add(
        "- **Login throughput ÷ limit** says how close the server comes to the most logins its "
        "cores can hash. Below the limit, time is going somewhere other than hashing: request "
        "handling, the database, or a hashing pool that leaves cores idle."
    )
    add(
        "- **Gated p99 during the storm** shows whether hashing starves everything else. "
        "argon2id runs on the hashing pool's own threads, off the async runtime, so a "
        "wristband check should not wait behind a password check."
    )
    add(
        "- **Peak RSS** is the most memory the server process held. Each argon2id hash fills "
        "19 MiB; without a bound on concurrent hashes, 64 logins at once would need over a "
        "gigabyte. The pool runs one hashing thread per core, each reusing its own 19 MiB, so "
        "hashing memory stays at cores × 19 MiB however many logins arrive."
    )
    add(
        "- **5xx** answers other than a quick `503` with `Retry-After` from the bounded hashing "
        "pool would be failures: the pool refuses excess logins on purpose, fast, and says when "
        "to come back."
    )
    add("")
    add("## Why argon2id is deliberately slow")
    add("")
    add(
        "A password hash is not meant to be fast. If the user table leaks, an attacker tries "
        "guesses offline, as fast as their hardware allows; every guess costs them one argon2id "
        "computation. At the OWASP parameters each computation takes tens of milliseconds and "
        "19 MiB of memory, and the memory is what matters: GPUs and ASICs have many cores but "
        "little memory per core, so they cannot run thousands of guesses side by side as they "
        "could with a fast hash such as SHA-256. The honest server pays the same cost once per "
        "login, which is why the festival checks the ticket once and hands out a wristband "
        "(a token checked in microseconds) for everything after."
    )
    add("")
    add("## Running it")
    add("")
    add(
        "`just bench` runs everything (about ten minutes) and rewrites this page and its chart. "
        "`just bench --quick` is a smoke run of a few seconds of load that writes its report "
        "under `target/bench/quick/` instead; CI runs it so the harness cannot rot. Raw outputs "
        "(criterion, wrk, server log) are kept in `target/bench/<mode>/results/`."
    )
    add("<!-- ANCHOR_END: details -->")
    add("")
    return "\n".join(out)


def notes(fig: dict, listed: list[Target]) -> list[str]:
    """Observations computed from this run's figures, chiefly for missed targets."""
    meta, micro = fig["meta"], fig["micro"]
    found = []
    if fig["gate_ratio"] < GATED_VS_OPEN_MIN:
        open_cpu_ns = fig["open_cpu_share"] / fig["open"].rps * 1e9
        gated_cpu_ns = (
            fig["gated_cpu_share"] / fig["gated"].rps * 1e9
        )
        verify_ns = micro["wristband_token/verify"].mean_ns
        ceiling = open_cpu_ns / (open_cpu_ns + verify_ns)
        found.append(
            "Gate overhead: an open request cost the server "
            f"{fmt_duration_ns(open_cpu_ns)} of CPU and a gated one "
            f"{fmt_duration_ns(gated_cpu_ns)}. Verifying the token alone takes "
            f"{fmt_duration_ns(verify_ns)} (criterion). When the server's CPU is the "
            "bottleneck and a request checks its signature afresh, the ratio is at most "
            f"{fmt_duration_ns(open_cpu_ns)} ÷ ({fmt_duration_ns(open_cpu_ns)} + "
            f"{fmt_duration_ns(verify_ns)}) = {ceiling:.2f}."
        )
    if fig["login_ratio"] < LOGIN_VS_LIMIT_MIN:
        share = float(meta.get("storm_server_cpu_share", "nan"))
        found.append(
            f"Login storm: the server was busy {share:.0%} of the time on "
            f"{fig['server_cores']:.0f} core(s) and reached {fig['login_ratio']:.2f} of the "
            "hashing limit; the rest of its time went to request handling, refusals and the "
            "database, or its cores stood idle."
        )
    if fig["login_ratio"] > 1.1:
        verify = micro["argon2id/verify"]
        found.append(
            f"Login storm: the server hashed {fig['login_ratio']:.2f}× faster than the limit "
            "allows, which no server can: the hashing threads' CPU time was not read correctly "
            f"(criterion puts one verification at {fmt_duration_ns(verify.mean_ns)})."
        )
    if fig["light"].latency_us["p99"] / 1000 > STORM_P99_MAX_MS:
        found.append(
            "Storm latency: wristband checks waited behind password checks; the async runtime "
            "and the hashing threads share the server's cores."
        )
    growth_mib = fig["rss_mib"] - number(meta, "server_rss_before_storm_kib") / 1024
    bound_mib = fig["server_cores"] * 19
    if growth_mib > 2 * bound_mib:
        found.append(
            f"Memory: during the storm the server's RSS grew by {growth_mib:.0f} MiB, "
            f"{growth_mib / bound_mib:.1f}× the {bound_mib:.0f} MiB that the hashes the pool "
            f"runs at once need by default ({fig['server_cores']:.0f} × 19 MiB); its threads went "
            f"from {meta.get('server_threads_before_storm', '?')} to "
            f"{meta.get('server_threads_after_storm', '?')}. The bound on concurrent hashes "
            "does not account for that memory."
        )
    return found


# --- The chart ------------------------------------------------------------------------------


def svg_chart(fig: dict) -> str:
    """Two panels: throughput ratios against their targets, and latencies in milliseconds."""
    width, height = 760, 390
    top, bottom = 60, 300
    plot_h = bottom - top
    parts: list[str] = []
    add = parts.append
    esc = html.escape

    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        'role="img" aria-labelledby="title desc">'
    )
    add('<title id="title">Wristband benchmarks: what the gate costs</title>')
    add(
        '<desc id="desc">Left: gated throughput as a share of open throughput, and login '
        "throughput as a share of the hashing limit, with their targets. Right: p50 and p99 "
        "latency of the open route, the gated route, and the gated route during the login "
        "storm, with the 10 ms target.</desc>"
    )
    add(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')

    # Left panel: ratios.
    left, right = 60, 340
    ratios = [
        ("gated ÷ open", fig["gate_ratio"], GATED_VS_OPEN_MIN, "req/s"),
        ("logins ÷ limit", fig["login_ratio"], LOGIN_VS_LIMIT_MIN, "logins/s"),
    ]
    scale_max = max(1.2, max(value for _, value, _, _ in ratios) * 1.1)

    def y_ratio(value: float) -> float:
        return bottom - value / scale_max * plot_h

    add(f'<text x="{left}" y="30" font-size="14" font-weight="bold">Throughput, share of its reference</text>')
    tick = 0.0
    while tick <= scale_max + 1e-9:
        y = y_ratio(tick)
        add(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        add(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick:.1f}</text>')
        tick += 0.2
    slot = (right - left) / len(ratios)
    for index, (label, value, wanted, _) in enumerate(ratios):
        x = left + index * slot + slot * 0.25
        bar_w = slot * 0.5
        colour = "#2e7d32" if value >= wanted else "#c62828"
        y = y_ratio(value)
        add(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bottom - y:.1f}" '
            f'fill="{colour}"><title>{esc(label)}: {value:.2f} (target ≥ {wanted:.2f})</title></rect>'
        )
        add(f'<text x="{x + bar_w / 2:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-weight="bold">{value:.2f}</text>')
        ty = y_ratio(wanted)
        add(
            f'<line x1="{x - 8:.1f}" y1="{ty:.1f}" x2="{x + bar_w + 8:.1f}" y2="{ty:.1f}" '
            'stroke="#000" stroke-width="2" stroke-dasharray="5,3"/>'
        )
        add(f'<text x="{x + bar_w + 10:.1f}" y="{ty + 4:.1f}" font-size="11">target {wanted:.2f}</text>')
        add(f'<text x="{x + bar_w / 2:.1f}" y="{bottom + 18}" text-anchor="middle">{esc(label)}</text>')
    add(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    add(
        f'<text x="{left}" y="{bottom + 44}" fill="#555" font-size="11">'
        f'open {fmt_int(fig["open"].rps)} req/s, gated {fmt_int(fig["gated"].rps)} req/s; '
        f'{fig["login_rps"]:.1f} logins/s, limit {fig["limit"]:.1f}</text>'
    )

    # Right panel: latency.
    left, right = 440, 740
    groups = [
        ("GET /health", fig["open"]),
        ("GET /api/backstage", fig["gated"]),
        ("backstage, storm", fig["light"]),
    ]
    values = [load.latency_us[p] / 1000 for _, load in groups for p in ("p50", "p99")]
    top_ms = max(max(values), STORM_P99_MAX_MS) * 1.15
    step = 10 ** math.floor(math.log10(top_ms / 4)) if top_ms > 0 else 1
    for nice in (1, 2, 5, 10):
        if top_ms / (step * nice) <= 6:
            step *= nice
            break

    def y_ms(value: float) -> float:
        return bottom - value / top_ms * plot_h

    add(f'<text x="{left}" y="30" font-size="14" font-weight="bold">Latency (ms)</text>')
    tick = 0.0
    while tick <= top_ms + 1e-9:
        y = y_ms(tick)
        add(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        add(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{tick:g}</text>')
        tick += step
    slot = (right - left) / len(groups)
    colours = {"p50": "#90a4ae", "p99": "#37474f"}
    for index, (label, load) in enumerate(groups):
        for offset, percentile in enumerate(("p50", "p99")):
            value = load.latency_us[percentile] / 1000
            bar_w = slot * 0.3
            x = left + index * slot + slot * 0.18 + offset * bar_w
            y = y_ms(value)
            add(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bottom - y:.1f}" '
                f'fill="{colours[percentile]}"><title>{esc(label)} {percentile}: {value:.2f} ms</title></rect>'
            )
            add(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="10">{value:.2f}</text>')
        add(f'<text x="{left + index * slot + slot / 2:.1f}" y="{bottom + 18}" text-anchor="middle" font-size="11">{esc(label)}</text>')
    ty = y_ms(STORM_P99_MAX_MS)
    add(
        f'<line x1="{left}" y1="{ty:.1f}" x2="{right}" y2="{ty:.1f}" stroke="#c62828" '
        'stroke-width="1.5" stroke-dasharray="5,3"/>'
    )
    add(f'<text x="{right}" y="{ty - 5:.1f}" text-anchor="end" fill="#c62828" font-size="11">storm p99 target {STORM_P99_MAX_MS:g} ms</text>')
    add(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    for offset, percentile in enumerate(("p50", "p99")):
        x = left + offset * 70
        add(f'<rect x="{x}" y="{bottom + 32}" width="12" height="12" fill="{colours[percentile]}"/>')
        add(f'<text x="{x + 16}" y="{bottom + 43}">{percentile}</text>')

    mode = fig["meta"].get("mode", "?")
    add(
        f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" fill="#888" font-size="10">'
        f'{esc(fig["meta"].get("date_utc", ""))}, {esc(fig["meta"].get("cpu_model", ""))}, '
        f'nproc {esc(fig["meta"].get("nproc", "?"))}, {esc(mode)} run</text>'
    )
    add("</svg>")
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--svg", type=Path, required=True)
    args = parser.parse_args()
    try:
        fig = analyse(args.results)
        listed = targets(fig)
        page = markdown(fig, listed, os.path.relpath(args.svg, args.markdown.parent))
        chart = svg_chart(fig)
    except (HarnessError, OSError, ValueError, KeyError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.svg.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(page)
    args.svg.write_text(chart)
    for target in listed:
        print(f"{mark(target.holds)} {target.name}: {target.measured} ({target.wanted})")
    return 3 if any(target.holds is False for target in listed) else 0


if __name__ == "__main__":
    sys.exit(main())
