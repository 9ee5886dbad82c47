#!/usr/bin/env python3
"""Flash and RAM of a firmware image per component, from its linker map.

    footprint.py build/an385/alert_poster.map [--elf alert_poster.elf --nm arm-none-eabi-nm]

Reads the "Linker script and memory map" part of a GNU ld map file and adds
up every input section that was kept, by the object or library it came
from:
  flash = .text* + .rodata* (+ the .data initialisers, shown apart)
  RAM   = .data* + .bss* + COMMON
The stack and heap regions the linker script reserves are listed on their
own lines, and counted in "RAM as linked" (static RAM plus those regions:
what a device must have), which is held to the same budget as static RAM. Components are recognised by library and object names of this
project's build (core, http, TLS glue, identity, Mbed TLS, lwIP, lwIP
port, driver, board, app, C library). "identity" is what alertpost adds for
mutual TLS: the core's ap_tls_identity.c and the board's identity record and
PSA import (boards/mps2/common/identity_*.c); what Mbed TLS needs for it
(signing, the client's Certificate and CertificateVerify) counts under
Mbed TLS, and with LTO much of it is inlined into its callers. The whole
cost of a feature is therefore measured between two images:
--compare-map OTHER.map prints this image's flash and static RAM against
another's (e.g. one built with -DAP_MPS2_CLIENT_IDENTITY=OFF).

With link-time optimisation the map can no longer tell which library a
function came from: LTO's output is one object. Given --elf, the part the
map cannot place ("other") is then split by the source file of each symbol,
from the image's debug information (`nm -S -l`; the firmware is built with
-g, which costs no flash). What no symbol covers (alignment padding, literal
pools, merged strings) stays "unattributed".
"""

import argparse
import os
import re
import subprocess
import sys

ORDER = ["core", "http", "TLS glue", "identity", "Mbed TLS", "lwIP", "lwIP port", "driver",
         "board", "app", "C library", "other", "unattributed"]


def is_identity(path):
    """The sources of the client identity (mutual TLS)."""
    name = os.path.basename(path)
    return name.startswith("ap_tls_identity.c") or (
        "/boards/mps2/" in path.replace("\\", "/") and name.startswith("identity_"))


def component_of_source(path):
    """The component a source file belongs to, by where it lives."""
    p = path.replace("\\", "/")
    if is_identity(p):
        return "identity"
    if "/boards/mps2/" in p:
        if p.endswith("/lan9118.c"):
            return "driver"
        return "app" if "/apps/" in p else "board"
    if "/ports/lwip/" in p:
        return "lwIP port"
    if "/core/src/http/" in p:
        return "http"
    if "/core/src/tls/" in p:
        return "TLS glue"
    if "/core/src/" in p:
        return "core"
    if "mbedtls" in p or "p256-m" in p:
        return "Mbed TLS"
    if "lwip" in p:
        return "lwIP"
    return None


def split_by_symbols(elf, nm, other):
    """Split the map's "other" bucket by the source file of each symbol."""
    out = subprocess.run([nm, "-S", "-l", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ ([0-9a-f]+) ([A-Za-z]) \S+\t(.+):\d+$", line)
        if not m:
            continue
        size, typ, src = int(m.group(1), 16), m.group(2).lower(), m.group(3)
        c = component_of_source(src)
        k = {"t": "flash", "r": "flash", "d": "data", "b": "bss"}.get(typ)
        if c is None or k is None:
            continue
        found.setdefault(c, {"flash": 0, "data": 0, "bss": 0})[k] += size
    rest = dict(other)
    for t in found.values():
        for k in rest:
            rest[k] -= t[k]
    if any(v < 0 for v in rest.values()):
        return None  # the symbols do not fit the bucket: keep the map's view
    found["unattributed"] = rest
    return found


def component(path):
    name = os.path.basename(path)
    if is_identity(path) or "(ap_tls_identity.c" in name:
        return "identity"
    if "libap_core_codec.a" in path:
        return "http" if "ap_http_" in name else "core"
    if "libap_core_mbedtls" in path:
        return "TLS glue" if "ap_tls_mbedtls" in name else "core"
    if "libap_mbedtls" in path:
        return "Mbed TLS"
    if "port_lwip" in path:
        return "lwIP port"
    if "libap_mps2_lwip.a" in path:
        return "lwIP"
    if "lan9118.c" in name:
        return "driver"
    if "ap_mps2_board.dir" in path or "mbedtls_hooks.c" in name:
        return "board"
    if "apps/" in path or "/apps" in path:
        return "app"
    if re.search(r"lib(c|c_nano|g|g_nano|gcc|m|nosys)\.a|crt|arm-none-eabi", path):
        return "C library"
    return "other"


def kind(section):
    if section.startswith((".text", ".rodata", ".glue", ".vfp11", ".v4_bx", ".iplt",
                           ".isr_vector", ".ARM")):
        return "flash"
    if section.startswith(".data"):
        return "data"
    if section.startswith((".bss", "COMMON")):
        return "bss"
    return None


def parse(map_path):
    totals = {}
    reserved = {}
    with open(map_path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        sys.exit("footprint: %s is not a GNU ld map file" % map_path)
    pending = None
    out_section = None
    for line in lines[start + 1:]:
        if line.startswith("/DISCARD/"):
            break
        m = re.match(r"^(\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)", line)
        if m:
            out_section = m.group(1)
            if out_section in (".stack", ".heap"):
                reserved[out_section] = int(m.group(3), 16)
            continue
        if re.match(r"^\.\S+\s*$", line):
            out_section = line.strip()
            continue
        m = re.match(r"^ (\S+)\s*$", line)
        if m and kind(m.group(1)) is not None:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m:
            section = m.group(1) or pending
            pending = None
            if section is None or kind(section) is None:
                continue
            addr, size, path = int(m.group(2), 16), int(m.group(3), 16), m.group(4)
            if size == 0 or addr == 0 and kind(section) != "flash":
                continue
            k = kind(section)
            if out_section in (".stack", ".heap"):
                continue
            c = component(path)
            totals.setdefault(c, {"flash": 0, "data": 0, "bss": 0})[k] += size
        else:
            pending = None
    return totals, reserved


def sums_of(totals):
    """(flash, static RAM) of a parse() result: .data counts in both."""
    flash = sum(t["flash"] + t["data"] for t in totals.values())
    return flash, sum(t["data"] + t["bss"] for t in totals.values())


def compare(totals, other, other_path):
    """This image against another, before any LTO split (totals are exact)."""
    (flash, ram), (o_flash, o_ram) = sums_of(totals), sums_of(other)
    print("against %s: flash %d vs %d (%+d bytes), static RAM %d vs %d (%+d bytes)"
          % (other_path, flash, o_flash, flash - o_flash, ram, o_ram, ram - o_ram))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("map", help="the linker map file (<image>.map)")
    ap.add_argument("--flash-budget", type=int, default=128 * 1024,
                    help="bytes of flash the image may use (default 128 KiB)")
    ap.add_argument("--ram-budget", type=int, default=64 * 1024,
                    help="bytes of RAM at peak, stack included (default 64 KiB)")
    ap.add_argument("--elf", help="the image, to split what the map cannot place")
    ap.add_argument("--nm", default="arm-none-eabi-nm", help="nm for the image's target")
    ap.add_argument("--ram-map", help="map of the same image linked without LTO, for RAM "
                                      "per component (its variables are the image's)")
    ap.add_argument("--compare-map", metavar="OTHER.map",
                    help="print flash and static RAM against another image's map")
    args = ap.parse_args()
    totals, reserved = parse(args.map)
    if args.compare_map:
        compare(totals, parse(args.compare_map)[0], args.compare_map)
    ram_totals = parse(args.ram_map)[0] if args.ram_map else None
    if args.elf and "other" in totals:
        split = split_by_symbols(args.elf, args.nm, totals["other"])
        if split is not None:
            del totals["other"]
            for c, t in split.items():
                base = totals.setdefault(c, {"flash": 0, "data": 0, "bss": 0})
                for k in base:
                    base[k] += t[k]
    if ram_totals is not None:
        # RAM from the non-LTO map, component by component; flash stays the image's.
        for c in set(totals) | set(ram_totals):
            base = totals.setdefault(c, {"flash": 0, "data": 0, "bss": 0})
            r = ram_totals.get(c, {"data": 0, "bss": 0})
            base["flash"] += base["data"] - r["data"]  # keep the image's .data initialisers
            base["data"], base["bss"] = r["data"], r["bss"]
    print("%-10s %10s %10s %10s" % ("component", "flash", "RAM", "(of which .data)"))
    sums = {"flash": 0, "ram": 0, "data": 0}
    for c in ORDER:
        if c not in totals:
            continue
        t = totals[c]
        flash = t["flash"] + t["data"]
        ram = t["data"] + t["bss"]
        sums["flash"] += flash
        sums["ram"] += ram
        sums["data"] += t["data"]
        print("%-10s %10d %10d %10d" % (c, flash, ram, t["data"]))
    print("%-10s %10d %10d %10d" % ("total", sums["flash"], sums["ram"], sums["data"]))
    for name in (".stack", ".heap"):
        if name in reserved:
            print("%-10s %10s %10d   (reserved by the linker script)" % (name[1:], "", reserved[name]))
    # The budgets of the README's footprint section. Static RAM includes the
    # whole Mbed TLS pool; the stack the firmware reports at run time comes
    # on top of it.
    # RAM as linked: everything the image reserves in RAM, the stack and heap
    # regions included, which is what a device must have.
    as_linked = sums["ram"] + reserved.get(".stack", 0) + reserved.get(".heap", 0)
    for what, used, budget in (("flash", sums["flash"], args.flash_budget),
                               ("static RAM", sums["ram"], args.ram_budget),
                               ("RAM as linked", as_linked, args.ram_budget)):
        print("%-10s %.1f KiB of %.0f KiB (%s by %.1f KiB)"
              % (what, used / 1024.0, budget / 1024.0,
                 "under" if used <= budget else "OVER", abs(budget - used) / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
