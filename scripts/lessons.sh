#!/usr/bin/env bash
# Lists the lessons, or runs one of them. Used by `just lessons` and `just lesson N`.
#
#   scripts/lessons.sh list      one line per lesson: its folder and what it teaches
#   scripts/lessons.sh run 3     runs lessons/03-*/ (also accepts 03), printing its transcript
#
# A lesson lives in lessons/NN-topic/ and its package is named lesson-NN-topic.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The value of `key = "..."` in the [package] table of a Cargo.toml, or nothing.
package_field() {
    local manifest=$1 key=$2
    awk -v key="$key" '
        /^\[/ { in_package = ($0 ~ /^\[package\][[:space:]]*$/) }
        in_package && $0 ~ "^" key "[[:space:]]*=[[:space:]]*\"" {
            sub("^" key "[[:space:]]*=[[:space:]]*\"", "")
            sub("\"[[:space:]]*$", "")
            print
            exit
        }
    ' "$manifest"
}

lesson_dirs() {
    local dir
    for dir in lessons/[0-9][0-9]-*/; do
        [[ -f "$dir/Cargo.toml" ]] && printf '%s\n' "${dir%/}"
    done
    return 0
}

list() {
    local dirs
    dirs=$(lesson_dirs)
    if [[ -z "$dirs" ]]; then
        echo "No lessons yet (lessons/NN-topic/ folders appear as they are written)."
        return 0
    fi
    local dir description
    while IFS= read -r dir; do
        description=$(package_field "$dir/Cargo.toml" description)
        printf '  %-24s %s\n' "${dir#lessons/}" "${description:-(no description in Cargo.toml)}"
    done <<<"$dirs"
    echo
    echo "Run one with: just lesson 01"
}

run() {
    local wanted=${1:-}
    if [[ ! "$wanted" =~ ^[0-9]{1,2}$ ]]; then
        echo "Which lesson? Give its number, e.g. \`just lesson 01\` or \`just lesson 3\`." >&2
        exit 2
    fi
    local number
    number=$(printf '%02d' "$((10#$wanted))")

    local matches=(lessons/"$number"-*/)
    local dir=${matches[0]%/}
    if [[ ! -f "$dir/Cargo.toml" ]]; then
        echo "There is no lesson $number yet. The lessons so far:" >&2
        list >&2
        exit 1
    fi

    # The package name is lesson-<folder>; read it from the manifest in case it differs.
    local package
    package=$(package_field "$dir/Cargo.toml" name)
    package=${package:-lesson-${dir#lessons/}}
    exec cargo run --quiet --package "$package"
}

case "${1:-}" in
    list) list ;;
    run) run "${2:-}" ;;
    *)
        echo "usage: $0 list | run N" >&2
        exit 2
        ;;
esac
