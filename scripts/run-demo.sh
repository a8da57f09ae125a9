#!/usr/bin/env bash
# Starts the Wristband demo, used by `just run`: the festival app in demo mode and the ticket
# vendor (the demo's own OpenID Connect provider) side by side. Ctrl-C stops both.
#
# Reads FESTIVAL_ADDR (default 127.0.0.1:8080), FESTIVAL_PUBLIC_URL (default http://FESTIVAL_ADDR)
# and VENDOR_ADDR (default 127.0.0.1:8081) to print the right addresses and to derive
# VENDOR_ISSUER and VENDOR_REDIRECT_URI when they are unset;
# the two programs read those, and their other settings (see .env.example, `festival-app
# --help`, `ticket-vendor --help`), themselves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

festival_addr=${FESTIVAL_ADDR:-127.0.0.1:8080}
vendor_addr=${VENDOR_ADDR:-127.0.0.1:8081}
# The two servers must agree on each other's URLs: the festival finds the vendor by its issuer
# URL, and the vendor redirects only to the festival callback it has registered. Deriving both
# from the addresses keeps them in step when either address changes.
export VENDOR_ISSUER=${VENDOR_ISSUER:-http://$vendor_addr}
# The festival builds its callback from its public URL, so the vendor must register that one.
festival_url=${FESTIVAL_PUBLIC_URL:-http://$festival_addr}
festival_url=${festival_url%/}
export VENDOR_REDIRECT_URI=${VENDOR_REDIRECT_URI:-$festival_url/auth/vendor/callback}

if [[ -t 2 ]]; then
    say() { printf '\033[1m[run]\033[0m %s\n' "$*" >&2; }
else
    say() { printf '[run] %s\n' "$*" >&2; }
fi

# --- Which parts of the demo exist in this checkout? ------------------------------------------

if ! metadata=$(cargo metadata --no-deps --format-version 1 --locked 2>&1); then
    say "cargo cannot load the workspace, so the demo cannot be built:"
    printf '%s\n' "$metadata" >&2
    exit 1
fi
has_package() { grep -q "\"name\":\"$1\",\"version\"" <<<"$metadata"; }

if ! has_package festival-app; then
    say "The festival app (package festival-app) is not in this workspace yet, so there is no demo to start."
    if compgen -G "lessons/01-*/Cargo.toml" >/dev/null; then
        say "Meanwhile, here is lesson 01:"
        exec scripts/lessons.sh run 01
    fi
    exit 1
fi

packages=(festival-app)
if has_package ticket-vendor; then
    packages+=(ticket-vendor)
else
    say "The ticket vendor (package ticket-vendor) is not in this workspace yet:"
    say "starting the festival app alone; \"Log in with the ticket vendor\" will not work."
fi

# --- Build everything first, so build output never interleaves with the servers' logs ---------

build_args=()
for package in "${packages[@]}"; do build_args+=(--package "$package"); done
say "Building ${packages[*]}..."
cargo build --locked "${build_args[@]}"

target_dir=$(sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p' <<<"$metadata")
bin_dir=${target_dir:-target}/debug

# --- Refuse to start beside servers that are already running ---------------------------------

# If an earlier demo (or anything else) still holds a port, the new server would fail to bind
# while the old one answered every check below, and the demo would look started when it is not.
port_taken() {
    local host=${1%:*} port=${1##*:}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}
addresses=("$festival_addr")
[[ " ${packages[*]} " == *" ticket-vendor "* ]] && addresses+=("$vendor_addr")
for address in "${addresses[@]}"; do
    if port_taken "$address"; then
        say "Something is already listening on $address: an earlier \`just run\` still running?"
        say "Stop it first (Ctrl-C in its terminal, or kill it), or choose other addresses with"
        say "FESTIVAL_ADDR and VENDOR_ADDR."
        exit 1
    fi
done

# --- Start the servers, each in its own process group -----------------------------------------

# Each server runs in a session (and process group) of its own: stopping a server also stops
# anything it spawned, and the terminal's Ctrl-C reaches only this script, which then shuts
# the servers down in order. Without setsid (not Linux) they share this script's group.
detach=()
command -v setsid >/dev/null 2>&1 && detach=(setsid)
pids=()
names=()

stop_all() {
    # A second Ctrl-C or TERM must not cut the shutdown short and orphan a server.
    trap '' INT TERM
    trap - EXIT
    local pid i
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
    # Give each server up to ten seconds to finish its requests and close its database.
    for ((i = 0; i < 100; i++)); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap 'echo >&2; say "Stopping..."; stop_all; say "Stopped."; exit 0' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

start() {
    local name=$1
    shift
    "${detach[@]}" "$@" &
    pids+=("$!")
    names+=("$name")
}

if has_package ticket-vendor; then
    start ticket-vendor "$bin_dir/ticket-vendor"
fi
start festival-app env FESTIVAL_DEMO=1 "$bin_dir/festival-app"

# --- Wait until both listen, then say where to go ---------------------------------------------

listening() {
    local host=${1%:*} port=${1##*:}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# The index of a server that has exited, if any.
exited_server() {
    local i
    for i in "${!pids[@]}"; do
        if ! kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "$i"
            return 0
        fi
    done
    return 1
}

addresses=("$festival_addr")
has_package ticket-vendor && addresses+=("$vendor_addr")
for ((tries = 0; tries < 600; tries++)); do
    if index=$(exited_server); then
        status=0
        wait "${pids[$index]}" || status=$?
        say "${names[$index]} stopped during startup (exit status $status); see its messages above."
        say "If the address is in use, stop the other program or set FESTIVAL_ADDR (see .env.example)."
        exit 1
    fi
    ready=1
    for address in "${addresses[@]}"; do listening "$address" || ready=0; done
    ((ready)) && break
    sleep 0.1
done
((ready)) || say "Still starting after a minute; the addresses below answer once the logs say so."

cat >&2 <<EOF

  Wristband festival:  $festival_url/
EOF
if has_package ticket-vendor; then
    printf '  Ticket vendor:       http://%s/\n' "$vendor_addr" >&2
fi
cat >&2 <<EOF

  Demo logins at the festival gate:
    alice / green-wristband-demo   green wristband: the stages
    bob   / gold-wristband-demo    gold wristband: the stages and backstage
EOF
if has_package ticket-vendor; then
    cat >&2 <<EOF

  Demo ticket holders at the vendor ("Log in with the ticket vendor"):
    carol / vendor-green-demo      green ticket
    dave  / vendor-gold-demo       gold ticket
EOF
fi
cat >&2 <<EOF

  Press Ctrl-C to stop.

EOF

# --- Run until one server stops or Ctrl-C -----------------------------------------------------

status=0
wait -n || status=$?
if index=$(exited_server); then
    say "${names[$index]} stopped (exit status $status); stopping the rest."
fi
exit "$status"
