#!/usr/bin/env python3
"""Builds one consumer project of tests/consumers/ the way a user of
alertpost would, in a scratch folder of the build tree, and runs or
inspects what it made.

  run_consumer.py installed --build DIR --work DIR [common options]
      cmake --install DIR into WORK/prefix; checks the installed files; builds
      installed/ with find_package(alertpost) from that prefix and a program
      with pkg-config alone; runs both.
  run_consumer.py subdir --source DIR --work DIR --mbedtls-lib LIB
                  --mbedtls-include DIR --mbedtls-config FILE [common options]
      copies the source tree as a clone would have it into WORK/clone; builds
      subdir/, which adds it with add_subdirectory() and hands it LIB as its
      own Mbed TLS; runs its two programs; then turns the CLI on and runs it.
  run_consumer.py mbedtls_package --source DIR --work DIR --mbedtls-source DIR
                  [common options]
      installs a real Mbed TLS 3.6 with its own CMake build from DIR, builds
      and installs the clone against it (ALERTPOST_FIND_MBEDTLS), then builds
      installed/ from both prefixes: the package must find that Mbed TLS
      again and carry none of its own; pkg-config the same.
  run_consumer.py firmware --source DIR --work DIR --lwip DIR [common options]
      the same clone, cross-built for a Cortex-M4 by firmware/ with its own
      toolchain file, lwipopts.h and Mbed TLS configuration; checks the image
      holds the core, the lwIP port and Mbed TLS's handshake.

Common options: --cmake EXE, --generator NAME, --cc EXE (host consumers),
--version X.Y.Z (what the package and the program must report),
--sanitize FLAGS (the build under test is sanitized: the subdir consumer,
which links a library of that build directly, compiles with FLAGS too; the
installed package must bring them itself), --openssl EXE.

Exit 0 passed, 1 failed (the failing step and its output on stderr), 77
skipped (firmware: no arm-none-eabi-gcc, outside CI; with CI=true a missing
cross compiler fails instead).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
STEP_TIMEOUT_S = 300


class Failed(Exception):
    pass


def run(cmd, env=None, cwd=None):
    """Runs cmd; returns its stdout; raises Failed with its output if it fails."""
    shown = " ".join(cmd)
    print(f"+ {shown}", flush=True)
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Failed(f"{shown}: still running after {STEP_TIMEOUT_S} s")
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise Failed(f"{shown}: exit {p.returncode}\n{out}")
    return out


def clone(source, dest):
    """The files a fresh clone of source would have (tracked and new, not
    ignored: no build tree), copied to dest; a plain copy without build/
    where source is not a git checkout."""
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    listed = None
    if shutil.which("git"):
        p = subprocess.run(["git", "-C", source, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        if p.returncode == 0:
            listed = [f for f in p.stdout.decode("utf-8", "surrogateescape").split("\0") if f]
    if listed is None:
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("build", ".git"))
        return
    for rel in listed:
        src = os.path.join(source, rel)
        if not os.path.isfile(src):
            continue  # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))


def configure_and_build(args, src, build, extra):
    if os.path.isdir(build):
        shutil.rmtree(build)
    run([args.cmake, "-S", src, "-B", build, "-G", args.generator] + extra)
    run([args.cmake, "--build", build, "-j2"])


def host_flags(args, sanitize=True):
    flags = [f"-DCMAKE_C_COMPILER={args.cc}", "-DCMAKE_BUILD_TYPE=Debug"]
    if sanitize and args.sanitize:
        flags += [f"-DCMAKE_C_FLAGS={args.sanitize}", f"-DCMAKE_EXE_LINKER_FLAGS={args.sanitize}"]
    return flags


def make_anchor(args):
    """A real CA certificate (P-256, self-signed) for ap_client_init()."""
    if not args.openssl:
        raise Failed("the openssl command is needed to make the test's trust anchor")
    key = os.path.join(args.work, "ca.key")
    pem = os.path.join(args.work, "ca.pem")
    run([args.openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", pem, "-days", "30", "-subj", "/CN=consumer test CA"])
    return pem


def check_program(args, exe, anchor):
    out = run([exe, anchor])
    want = re.compile(r"^alertpost " + re.escape(args.version) + r" on Mbed TLS \d+\.\d+\.\d+: ",
                      re.M)
    if not want.search(out):
        raise Failed(f"{exe} printed\n{out}\nexpected a line 'alertpost {args.version} on Mbed TLS x.y.z: ...'")
    print(out.strip())


def installed(args):
    prefix = os.path.join(args.work, "prefix")
    if os.path.isdir(prefix):
        shutil.rmtree(prefix)
    run([args.cmake, "--install", args.build, "--prefix", prefix])
    need = ["bin/alertpost", "include/alertpost/alertpost.h", "include/alertpost/ap_version.h",
            "include/alertpost/ap_posix.h", "include/alertpost-mbedtls/mbedtls/ssl.h"]
    if os.path.isfile(os.path.join(args.source, "boards/host/alertpost.1")):
        need.append("share/man/man1/alertpost.1")
    libdir = None
    for root, _dirs, files in os.walk(prefix):
        if "alertpostConfig.cmake" in files:
            libdir = os.path.dirname(os.path.dirname(root))
    if libdir is None:
        raise Failed(f"no alertpostConfig.cmake under {prefix}")
    rel_lib = os.path.relpath(libdir, prefix)
    need += [f"{rel_lib}/{n}" for n in ("libalertpost_core.a", "libalertpost_codec.a",
                                        "libalertpost_port_posix.a", "libalertpost_mbedtls.a",
                                        "pkgconfig/alertpost.pc")]
    missing = [n for n in need if not os.path.isfile(os.path.join(prefix, n))]
    if missing:
        raise Failed(f"not installed under {prefix}: {', '.join(missing)}")
    anchor = make_anchor(args)

    build = os.path.join(args.work, "find_package")
    configure_and_build(args, os.path.join(HERE, "installed"), build,
                        host_flags(args, sanitize=False) + [f"-DCMAKE_PREFIX_PATH={prefix}"])
    check_program(args, os.path.join(build, "consumer_main"), anchor)

    # pkg-config alone, as a Makefile would use it.
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    pkg = shutil.which("pkg-config")
    if pkg is None:
        raise Failed("pkg-config is needed to test alertpost.pc")
    got = run([pkg, "--modversion", "alertpost"], env=env).strip()
    if got != args.version:
        raise Failed(f"alertpost.pc says version {got}, the project is {args.version}")
    cflags = run([pkg, "--cflags", "alertpost"], env=env).split()
    libs = run([pkg, "--libs", "alertpost"], env=env).split()
    exe = os.path.join(args.work, "pkg_config_main")
    run([args.cc, "-std=c99", "-o", exe,
        os.path.join(HERE, "common", "consumer_main.c")] + cflags + libs)
    check_program(args, exe, anchor)


def mbedtls_package(args):
    mbedtls_prefix = os.path.join(args.work, "mbedtls-prefix")
    ap_prefix = os.path.join(args.work, "alertpost-prefix")
    for d in (mbedtls_prefix, ap_prefix):
        if os.path.isdir(d):
            shutil.rmtree(d)
    host = host_flags(args, sanitize=False)
    mbedtls_build = os.path.join(args.work, "mbedtls-build")
    configure_and_build(args, args.mbedtls_source, mbedtls_build, host + [
        "-DENABLE_PROGRAMS=OFF", "-DENABLE_TESTING=OFF", "-DMBEDTLS_FATAL_WARNINGS=OFF",
        # Mbed TLS's .pc files hold the configured prefix, not --install's.
        f"-DCMAKE_INSTALL_PREFIX={mbedtls_prefix}"])
    run([args.cmake, "--install", mbedtls_build, "--prefix", mbedtls_prefix])

    tree = os.path.join(args.work, "clone")
    clone(args.source, tree)
    ap_build = os.path.join(args.work, "alertpost-build")
    configure_and_build(args, tree, ap_build, host + [
        "-DALERTPOST_FIND_MBEDTLS=ON", f"-DCMAKE_PREFIX_PATH={mbedtls_prefix}",
        "-DALERTPOST_TESTS=OFF", "-DALERTPOST_CLI=OFF", "-DALERTPOST_MBEDTLS2=OFF"])
    run([args.cmake, "--install", ap_build, "--prefix", ap_prefix])
    carried = [os.path.join(r, f) for r, _d, fs in os.walk(ap_prefix) for f in fs
               if f == "libalertpost_mbedtls.a" or f == "ssl.h"]
    if carried:
        raise Failed(f"built against an installed Mbed TLS, the package still carries {carried}")

    anchor = make_anchor(args)
    build = os.path.join(args.work, "find_package")
    configure_and_build(args, os.path.join(HERE, "installed"), build,
                        host + [f"-DCMAKE_PREFIX_PATH={ap_prefix};{mbedtls_prefix}"])
    check_program(args, os.path.join(build, "consumer_main"), anchor)

    pkg = shutil.which("pkg-config")
    if pkg is None:
        raise Failed("pkg-config is needed to test alertpost.pc")
    pc_dirs = sorted({r for p in (ap_prefix, mbedtls_prefix) for r, _d, fs in os.walk(p)
                      if any(f.endswith(".pc") for f in fs)})
    env = dict(os.environ, PKG_CONFIG_PATH=os.pathsep.join(pc_dirs))
    flags = run([pkg, "--cflags", "--libs", "alertpost"], env=env).split()
    exe = os.path.join(args.work, "pkg_config_main")
    run([args.cc, "-std=c99", "-o", exe, os.path.join(HERE, "common", "consumer_main.c")] + flags)
    check_program(args, exe, anchor)


def subdir(args):
    tree = os.path.join(args.work, "clone")
    clone(args.source, tree)
    anchor = make_anchor(args)
    build = os.path.join(args.work, "build")
    configure_and_build(args, os.path.join(HERE, "subdir"), build, host_flags(args) + [
        f"-DALERTPOST_DIR={tree}",
        f"-DVENDOR_MBEDTLS_LIB={args.mbedtls_lib}",
        f"-DVENDOR_MBEDTLS_INCLUDE={args.mbedtls_include}",
        f"-DVENDOR_MBEDTLS_CONFIG_DIR={os.path.dirname(args.mbedtls_config)}",
        f"-DVENDOR_MBEDTLS_CONFIG={os.path.basename(args.mbedtls_config)}"])
    for exe in ("consumer_main", "consumer_ported"):
        check_program(args, os.path.join(build, exe), anchor)
    # The CLI, asked for, builds in the subproject's own binary folder.
    run([args.cmake, "-DALERTPOST_CLI=ON", build])
    run([args.cmake, "--build", build, "-j2"])
    usage = run([os.path.join(build, "alertpost", "alertpost"), "--help"])
    if not usage.startswith("usage: alertpost"):
        raise Failed(f"alertpost --help printed\n{usage}")


def firmware(args):
    gcc = shutil.which("arm-none-eabi-gcc")
    nm = shutil.which("arm-none-eabi-nm")
    if gcc is None or nm is None:
        if os.environ.get("CI", "").lower() == "true":
            raise Failed("arm-none-eabi-gcc/nm not found, and CI=true: a CI machine must have "
                         "the cross compiler (cmake/setup.sh installs gcc-arm-none-eabi)")
        print("SKIPPED: no arm-none-eabi-gcc/nm (cmake/setup.sh installs gcc-arm-none-eabi)",
              file=sys.stderr)
        return SKIP
    tree = os.path.join(args.work, "clone")
    clone(args.source, tree)
    src = os.path.join(HERE, "firmware")
    build = os.path.join(args.work, "build")
    configure_and_build(args, src, build, [
        f"-DCMAKE_TOOLCHAIN_FILE={os.path.join(src, 'toolchain-cortex-m4.cmake')}",
        "-DCMAKE_BUILD_TYPE=MinSizeRel", f"-DALERTPOST_DIR={tree}", f"-DLWIP_DIR={args.lwip}"])
    elf = os.path.join(build, "sensor_fw.elf")
    header = open(elf, "rb").read(20)
    if header[:4] != b"\x7fELF" or header[18:20] != b"\x28\x00":  # EM_ARM
        raise Failed(f"{elf} is not an Arm ELF image")
    syms = set(re.findall(r"^[0-9a-f]+ [Tt] (\S+)$", run([nm, elf]), re.M))
    want = {"ap_client_init", "ap_post", "ap_lwip_transport_init", "mbedtls_ssl_handshake",
            "tcp_connect", "main"}
    if not want <= syms:
        raise Failed(f"{elf} lacks {sorted(want - syms)}")
    print(f"{elf}: Arm image with {', '.join(sorted(want))}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["installed", "mbedtls_package", "subdir", "firmware"])
    ap.add_argument("--work", required=True)
    ap.add_argument("--source")
    ap.add_argument("--build")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--generator", default="Ninja")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--version", required=True)
    ap.add_argument("--sanitize", default="")
    ap.add_argument("--openssl", default=shutil.which("openssl"))
    ap.add_argument("--mbedtls-lib")
    ap.add_argument("--mbedtls-include")
    ap.add_argument("--mbedtls-config")
    ap.add_argument("--lwip")
    ap.add_argument("--mbedtls-source")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    try:
        rc = {"installed": installed, "mbedtls_package": mbedtls_package, "subdir": subdir,
              "firmware": firmware}[args.kind](args)
    except Failed as e:
        print(f"consumer '{args.kind}' failed: {e}", file=sys.stderr)
        return 1
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
