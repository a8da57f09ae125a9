# Wristband's everyday commands. `just` (or `just --list`) shows them all.
# Every recipe is a thin wrapper over cargo, so the cargo line is always one
# `just --show RECIPE` away for anyone without `just`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Variables from a local `.env` (see `.env.example`) reach every recipe.
set dotenv-load := true

# Recipe arguments arrive as "$1", "$@": quoted by the shell, never pasted into it.
set positional-arguments := true

# Snapshot tests must never rewrite snapshots behind CI's back: with `CI` set,
# a changed transcript fails the run. Locally insta's own default applies
# (`auto`: write a `.snap.new` to review with `just snapshots`).
export INSTA_UPDATE := if env("CI", "") != "" { "no" } else { env("INSTA_UPDATE", "auto") }

# List the recipes with what each one does
default:
    @"{{ just_executable() }}" --justfile "{{ justfile() }}" --list --unsorted

# Start the demo: the festival app (demo mode) and the ticket vendor; Ctrl-C stops both
run:
    @scripts/run-demo.sh

# Run every test in the workspace (what the README's quick start runs)
test:
    cargo test --workspace --locked

# Run lesson N and print its transcript, e.g. `just lesson 01` or `just lesson 3`
lesson N:
    @scripts/lessons.sh run "$1"

# List the lessons with a line on what each one teaches
lessons:
    @scripts/lessons.sh list

# Review pending snapshot changes (installs cargo-insta on first use)
snapshots:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! cargo insta --version >/dev/null 2>&1; then
        echo "cargo-insta is not installed; installing it with: cargo install cargo-insta --locked"
        cargo install cargo-insta --locked
    fi
    cargo insta review

# Format every crate in place
fmt:
    cargo fmt --all

# Check formatting without changing files
fmt-check:
    cargo fmt --all -- --check

# Lint every crate and target; any warning is an error
lint:
    cargo clippy --workspace --all-targets --locked -- -D warnings

# What CI checks: formatting, lints, then the full test suite
check: fmt-check lint test

# Build the book into docs/book (installs mdbook on first use; works offline after that)
book:
    #!/usr/bin/env bash
    set -euo pipefail
    # Only the features `build` needs, which keeps a first install to a few minutes.
    install=(cargo install mdbook --locked --version 0.5.4 --no-default-features --features search)
    if ! command -v mdbook >/dev/null 2>&1; then
        echo "mdbook is not installed; installing it with: ${install[*]}"
        "${install[@]}"
    fi
    mdbook build docs
    echo "The book is at docs/book/index.html"

# Measure what the gate costs and write the report (pass --quick for a smoke run)
bench *ARGS:
    bash scripts/bench.sh {{ARGS}}

# Delete the demo's data folder (its database and generated keys) to start afresh
clean-data:
    #!/usr/bin/env bash
    set -euo pipefail
    if [[ -e data ]]; then
        rm -rf -- data
        echo "Removed data/: the next \`just run\` starts with a fresh database and new keys."
    else
        echo "Nothing to remove: there is no data/ folder."
    fi
