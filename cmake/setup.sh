#!/usr/bin/env bash
# alertpost set-up for a Debian 12 (bookworm) machine. Run as root; safe to run again.
#
# 1. Installs the Debian packages that the build, the demo and the tests need.
# 2. Fetches the Mbed TLS and lwIP sources with `apt-get source`:
#      bookworm: mbedtls 2.28.x, lwip 2.1.x      trixie: mbedtls 3.6.x, lwip 2.2.x
#    The deb-src entries are derived from this machine's own apt sources (the
#    archive it already installs bookworm from), so no mirror is named here.
#    They live in a private apt configuration (source list, package lists,
#    caches) in a temporary directory that only this script's own
#    `apt-get update` and `apt-get source` calls use, removed on every way out:
#    the machine's apt sources, lists and caches are left as they were found.
# 3. Caches them outside the source tree, in $ALERTPOST_DEPS (default
#    /var/cache/alertpost), under stable names that CMake looks for:
#      mbedtls-3.6  mbedtls-2.28  lwip-2.2  lwip-2.1
#    and records the exact source package versions in use in
#    $ALERTPOST_DEPS/versions.txt, printed at the end.
#
# To build against another tree (an upstream Mbed TLS 3.6.x release, say), skip
# nothing here and pass -DALERTPOST_MBEDTLS3_SOURCE_DIR=/path to cmake instead.
set -euo pipefail

deps=${ALERTPOST_DEPS:-/var/cache/alertpost}
packages=(
  build-essential cmake ninja-build pkg-config dpkg-dev python3
  libcmocka-dev openssl ca-certificates gnutls-bin
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  cppcheck clang-tidy python3-minimal iproute2 nginx tinyproxy-bin apache2 haproxy lighttpd lighttpd-mod-openssl lighttpd-mod-gnutls lighttpd-mod-mbedtls
  prometheus-alertmanager publicsuffix
  clang libclang-rt-14-dev
  curl python3-requests
  valgrind gnuplot-nox tshark time
)
# LINK NAME SUITE: what CMake looks for, from which source package and release.
sources=(
  "mbedtls-3.6 mbedtls trixie"
  "mbedtls-2.28 mbedtls bookworm"
  "lwip-2.2 lwip trixie"
  "lwip-2.1 lwip bookworm"
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
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get update"
  apt-get update -qq
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# An earlier version of this script added its deb-src entries to the
# machine's own sources for good. Say so, but leave the machine's sources alone.
old_list=/etc/apt/sources.list.d/alertpost-src.sources
if [ -f "$old_list" ] && grep -q "alertpost's cmake/setup.sh" "$old_list"; then
  log "note: $old_list was added by an earlier alertpost setup.sh and is no longer needed;" \
      "remove it with: rm $old_list && apt-get update"
fi

have() { [ -d "$deps/$1" ] && [ -n "$(ls -A "$deps/$1" 2>/dev/null)" ]; }
need_fetch=0
for entry in "${sources[@]}"; do
  read -r link _ _ <<<"$entry"
  have "$link" || need_fetch=1
done

# uri_and_keyring CODENAME: prints "URI KEYRING" (KEYRING "-" if none) of the
# first deb entry for CODENAME in the machine's apt sources: deb822 stanzas
# (*.sources) first, then one-line entries (sources.list). awk is part of
# every Debian system; python3 may not be there yet.
uri_and_keyring() {
  local want=$1
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ] && [ "$f" != "$old_list" ]; then cat "$f"; echo; fi
    done
  } | awk -v want="$want" '
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
  if [ -f /etc/apt/sources.list ]; then
    awk -v want="$want" '
      $1 == "deb" {
        i = 2; key = "-"
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { if ($i ~ /signed-by=/) key = $i; i++ }
                          if ($i ~ /signed-by=/) key = $i; i++ }
        sub(/.*signed-by=/, "", key); sub(/\].*/, "", key)
        if ($(i + 1) == want) { print $i, key; exit }
      }' /etc/apt/sources.list
  fi
}

# The private apt configuration: set up only when something is to be fetched.
apt_private=()
if [ $need_fetch -eq 1 ]; then
  apt_tmp=$(mktemp -d "${TMPDIR:-/tmp}/alertpost-apt.XXXXXX")
  trap 'rm -rf "$apt_tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  read -r uri keyring < <(uri_and_keyring "$codename" | head -n 1) || true
  if [ -z "${uri:-}" ]; then
    echo "setup: no apt source for $codename found to derive deb-src entries from;" \
         "add a deb entry for $codename to the apt sources and run again" >&2
    exit 1
  fi
  mkdir -p "$apt_tmp/sources.list.d" "$apt_tmp/lists/partial" "$apt_tmp/cache/archives/partial"
  : > "$apt_tmp/sources.list"
  {
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: bookworm trixie"
    echo "Components: main"
    if [ "$keyring" != "-" ]; then echo "Signed-By: $keyring"; fi
  } > "$apt_tmp/sources.list.d/alertpost-src.sources"
  # apt downloads as its unprivileged _apt user where there is one.
  chmod 755 "$apt_tmp"
  if id _apt >/dev/null 2>&1; then chown -R _apt:root "$apt_tmp/lists/partial"; fi
  apt_private=(
    -o "Dir::Etc::SourceList=$apt_tmp/sources.list"
    -o "Dir::Etc::SourceParts=$apt_tmp/sources.list.d"
    -o "Dir::State::Lists=$apt_tmp/lists"
    -o "Dir::Cache=$apt_tmp/cache"
  )
  log "apt-get update (private: deb-src for bookworm and trixie from the $codename archive)"
  apt-get "${apt_private[@]}" update -qq
fi

# fetch LINK NAME SUITE: unpack the source package of NAME from SUITE into
# $deps/SUITE and point $deps/LINK at it (nothing to do if LINK is there).
fetch() {
  local link=$1 name=$2 suite=$3 dir
  if have "$link"; then
    return 0
  fi
  mkdir -p "$deps/$suite"
  log "apt-get source $name/$suite"
  (cd "$deps/$suite" && apt-get "${apt_private[@]}" source -qq "$name/$suite" >/dev/null 2>&1) || {
    echo "setup: could not fetch the $name source package from $suite;" \
         "check that the machine reaches its apt archive (apt-get update)" >&2
    exit 1
  }
  dir=$(find "$deps/$suite" -maxdepth 1 -mindepth 1 -type d -name "$name-*" | sort | tail -1)
  [ -n "$dir" ] || { echo "setup: $name source not unpacked in $deps/$suite" >&2; exit 1; }
  ln -sfn "$dir" "$deps/$link"
  log "$link -> $dir"
}

# version_of DIR NAME: the Debian source version of the tree in DIR: from the
# .dsc apt-get source left beside it, else from its debian/changelog.
version_of() {
  local dir=$1 name=$2 upstream dsc
  upstream=${dir##*/"$name"-}
  for dsc in "${dir%/*}/${name}_${upstream}"-*.dsc "${dir%/*}/${name}_${upstream}.dsc"; do
    if [ -f "$dsc" ]; then
      sed -n 's/^Version: *//p' "$dsc" | head -n 1
      return 0
    fi
  done
  if [ -f "$dir/debian/changelog" ] && command -v dpkg-parsechangelog >/dev/null; then
    dpkg-parsechangelog -l "$dir/debian/changelog" -S Version
    return 0
  fi
  echo "unknown"
}

mkdir -p "$deps"
for entry in "${sources[@]}"; do
  # shellcheck disable=SC2086 # the entry is three words by construction
  fetch $entry
done

versions="$deps/versions.txt"
{
  echo "# Source packages in $deps, recorded by cmake/setup.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# link          package  suite     version                   tree"
  for entry in "${sources[@]}"; do
    read -r link name suite <<<"$entry"
    dir=$(readlink -f "$deps/$link")
    printf '%-15s %-8s %-9s %-25s %s\n' "$link" "$name" "$suite" "$(version_of "$dir" "$name")" "$dir"
  done
} > "$versions.tmp"
mv "$versions.tmp" "$versions"
log "ready: sources in $deps ($versions):"
grep -v '^#' "$versions" >&2
