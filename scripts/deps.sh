#!/usr/bin/env bash
# Installs the Debian packages concbench needs, or says exactly how to.
# Exit 0 when everything is present (or was installed), 1 when it cannot install.
set -euo pipefail

# Each package for its job (see README "Dependencies").
PACKAGES=(
  build-essential pkg-config
  libcurl4-openssl-dev   # HTTP client: easy + multi interfaces
  libssl-dev             # OpenSSL libcrypto: EVP SHA-256
  libevent-dev           # flagd's evhttp server, the coroutine driver's loop
  libjansson-dev         # every JSON written or read
  libxml2-dev            # crawl: libxml2's HTML parser (lib/crawl.c says why)
  libcsv-dev             # the harness reads results CSV (RFC 4180)
  libcmocka-dev          # unit tests
  bats bats-support bats-assert   # command-line tests
  parallel               # bats --jobs: make test runs the bats files and tests side by side
  hyperfine              # whole-run timing
  gnuplot-nox            # plots
  famfamfam-flag-gif     # the flag images flagd serves
  iso-codes              # country names for metadata.json
  curl                   # tests and anchors compare against the curl tool
  wrk                    # flagd_load.bats: 1000 connections at once
  jq                     # tests read --json records
  util-linux             # tests: unshare (read-only and full directories), setpriv
  valgrind               # make valgrind; its header lets lib/coro.c register coroutine stacks
  clang-format           # make format, and make test's format-check (.clang-format)
  python3-yaml           # ci.bats: the workflow is valid YAML
  help2man               # make install: one man page per binary, from its --help
)
# Extra packages a target asks for: scripts/deps.sh PKG...; make fuzz asks for clang and
# libclang-rt-14-dev (libFuzzer lives in the latter, which clang only recommends).
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=sudo
else
  echo "deps: missing packages; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx-light start their service on install; concbench starts its own
# servers on free ports and must leave none behind, so forbid service starts meanwhile.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
# A fresh machine has no package lists yet; refresh them once when install fails for that reason.
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
