#!/usr/bin/env bash
# alertpost set-up for a Debian 12 (bookworm) machine. Run as root; safe to run again.
#
# 1. Installs the Debian packages that the build, the demo and the tests need.
# 2. Fetches the Mbed TLS and lwIP sources with `apt-get source`:
#      bookworm: mbedtls 2.28.x, lwip 2.1.x      trixie: mbedtls 3.6.x, lwip 2.2.x
#    The deb-src entries are derived from this machine's own apt sources (the
#    archive it already installs bookworm from), so no mirror is named here.
# 3. Caches them outside the source tree, in $ALERTPOST_DEPS (default
#    /var/cache/alertpost), under stable names that CMake looks for:
#      mbedtls-3.6  mbedtls-2.28  lwip-2.2  lwip-2.1
#
# To build against another tree (an upstream Mbed TLS 3.6.x release, say), skip
# nothing here and pass -DALERTPOST_MBEDTLS3_SOURCE_DIR=/path to cmake instead.
set -euo pipefail

deps=${ALERTPOST_DEPS:-/var/cache/alertpost}
packages=(
  build-essential cmake ninja-build pkg-config dpkg-dev python3
  libcmocka-dev openssl ca-certificates gnutls-bin
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  cppcheck clang-tidy python3-minimal iproute2 nginx tinyproxy-bin
)

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (it installs packages with apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# deb-src entries: take the URIs and keyring of the entry this machine installs
# its own release from, and offer source packages of bookworm and trixie from it.
src_list=/etc/apt/sources.list.d/alertpost-src.sources
added_src=0
if [ ! -f "$src_list" ]; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  # deb822 stanzas (*.sources) and one-line entries (sources.list); awk is
  # part of every Debian system, python3 may not be there yet.
  read -r uri keyring < <(
    {
      for f in /etc/apt/sources.list.d/*.sources; do
        if [ -f "$f" ]; then cat "$f"; echo; fi
      done
    } | awk -v want="$codename" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uris != "") {
          split(uris, u, " "); if (!found) { print u[1], (key == "" ? "-" : key); found = 1 }
        }
        types = suites = uris = key = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:"     { $1 = ""; types = substr($0, 2) }
      tolower($1) == "suites:"    { $1 = ""; suites = substr($0, 2) }
      tolower($1) == "uris:"      { $1 = ""; uris = substr($0, 2) }
      tolower($1) == "signed-by:" { $1 = ""; key = substr($0, 2) }
      END { flush() }'
    [ -f /etc/apt/sources.list ] && awk -v want="$codename" '
      $1 == "deb" {
        i = 2; key = "-"
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) key = $i; i++ }
                          if ($i ~ /signed-by=/) key = $i; i++ }
        sub(/.*signed-by=/, "", key); sub(/\].*/, "", key)
        if ($(i + 1) == want) { print $i, key; exit }
      }' /etc/apt/sources.list
  ) || true
  if [ -z "${uri:-}" ]; then
    echo "setup: no apt source for $codename found to derive deb-src entries from" >&2
    exit 1
  fi
  {
    echo "# Added by alertpost's cmake/setup.sh: source packages for Mbed TLS and lwIP."
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: bookworm trixie"
    echo "Components: main"
    if [ "$keyring" != "-" ]; then echo "Signed-By: $keyring"; fi
  } > "$src_list"
  added_src=1
  log "added deb-src entries for bookworm and trixie in $src_list"
fi

if [ ${#missing[@]} -gt 0 ] || [ $added_src -eq 1 ] || [ ! -d "$deps/mbedtls-3.6" ] \
   || [ ! -d "$deps/mbedtls-2.28" ] || [ ! -d "$deps/lwip-2.2" ] || [ ! -d "$deps/lwip-2.1" ]; then
  log "apt-get update"
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# fetch NAME SUITE LINK: unpack the source package of NAME from SUITE into
# $deps and point $deps/LINK at it.
fetch() {
  local name=$1 suite=$2 link=$3 dir
  if [ -d "$deps/$link" ] && [ -n "$(ls -A "$deps/$link" 2>/dev/null)" ]; then
    return 0
  fi
  mkdir -p "$deps/$suite"
  log "apt-get source $name/$suite"
  (cd "$deps/$suite" && apt-get source -qq "$name/$suite" >/dev/null 2>&1) || {
    echo "setup: could not fetch the $name source package from $suite" >&2
    exit 1
  }
  dir=$(find "$deps/$suite" -maxdepth 1 -mindepth 1 -type d -name "$name-*" | sort | tail -1)
  [ -n "$dir" ] || { echo "setup: $name source not unpacked in $deps/$suite" >&2; exit 1; }
  ln -sfn "$dir" "$deps/$link"
  log "$link -> $dir"
}
mkdir -p "$deps"
fetch mbedtls trixie mbedtls-3.6
fetch mbedtls bookworm mbedtls-2.28
fetch lwip trixie lwip-2.2
fetch lwip bookworm lwip-2.1
log "ready: sources in $deps"
