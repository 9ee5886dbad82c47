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
  libcmocka-dev openssl gnutls-bin
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  cppcheck clang-tidy python3-minimal
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
  read -r uri keyring < <(python3 - "$codename" <<'PY'
import glob, re, sys
codename = sys.argv[1]
found = []
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')) + ['/etc/apt/sources.list']:
    try:
        text = open(path).read()
    except OSError:
        continue
    if path.endswith('.sources'):
        for stanza in re.split(r'\n\s*\n', text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith('#') or ':' not in line or line[0].isspace():
                    continue
                k, v = line.split(':', 1)
                fields[k.strip().lower()] = v.strip()
            if 'deb' in fields.get('types', '').split() and codename in fields.get('suites', '').split():
                for u in fields.get('uris', '').split():
                    found.append((u, fields.get('signed-by', '')))
    else:
        for line in text.splitlines():
            m = re.match(r'\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s', line)
            if m and m.group(3) == codename:
                opts = m.group(1) or ''
                k = re.search(r'signed-by=(\S+?)[\s\]]', opts)
                found.append((m.group(2), k.group(1) if k else ''))
if not found:
    sys.exit('setup: no apt source for %s found to derive deb-src entries from' % codename)
uri, key = found[0]
print(uri, key or '-')
PY
)
  {
    echo "# Added by alertpost's cmake/setup.sh: source packages for Mbed TLS and lwIP."
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: bookworm trixie"
    echo "Components: main"
    [ "$keyring" != "-" ] && echo "Signed-By: $keyring"
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
