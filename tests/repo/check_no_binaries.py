#!/usr/bin/env python3
"""Fails if any file git tracks is build output: an ELF file (executables,
objects, shared libraries, firmware images), an ar archive (static
libraries), a Mach-O or COFF object, or LLVM bitcode.

The file's first bytes decide, not its name: a test binary committed as
"test_posix_platform" has no suffix to give it away.

  check_no_binaries.py REPO       check the tracked files of REPO
  check_no_binaries.py --self-test
                                  build a scratch repository holding each kind
                                  of binary and a text file, and check that
                                  the binaries, and only they, are reported

Exit 0: nothing found; 1: binaries tracked (each named on stderr);
77: REPO is not a git checkout or git is missing (ctest reports SKIPPED).
"""
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

# (leading bytes, what they mean). Four-byte magics, so a text file cannot
# match by chance; COFF's two-byte machine numbers are checked with more of
# the header below.
MAGICS = [
    (b"\x7fELF", "ELF file"),
    (b"!<arch>\n", "ar archive (static library)"),
    (b"!<thin>\n", "thin ar archive"),
    (b"\xfe\xed\xfa\xce", "Mach-O file"),
    (b"\xce\xfa\xed\xfe", "Mach-O file"),
    (b"\xfe\xed\xfa\xcf", "Mach-O file"),
    (b"\xcf\xfa\xed\xfe", "Mach-O file"),
    (b"BC\xc0\xde", "LLVM bitcode"),
]
# COFF object machine numbers (little endian): i386, x86-64, ARM Thumb-2, ARM64.
COFF_MACHINES = {b"\x4c\x01", b"\x64\x86", b"\xc4\x01", b"\x64\xaa"}


def kind_of(head):
    """What kind of build output the leading bytes show, or None."""
    for magic, kind in MAGICS:
        if head.startswith(magic):
            return kind
    # A COFF header: machine, section count (small, non-zero), and an
    # optional-header size of 0 for an object file.
    if len(head) >= 20 and head[:2] in COFF_MACHINES:
        sections = int.from_bytes(head[2:4], "little")
        opt_size = int.from_bytes(head[16:18], "little")
        if 0 < sections < 96 and opt_size == 0:
            return "COFF object"
    return None


def tracked_binaries(repo):
    """[(path, kind)] for the tracked files of repo that are build output."""
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z"], check=True,
                         stdout=subprocess.PIPE).stdout
    found = []
    for rel in out.decode("utf-8", "surrogateescape").split("\0"):
        if not rel:
            continue
        path = os.path.join(repo, rel)
        # A file deleted in the work tree but still in the index is
        # reported by git status, not here.
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            kind = kind_of(f.read(64))
        if kind:
            found.append((rel, kind))
    return found


def is_git_checkout(repo):
    if shutil.which("git") is None:
        return False
    r = subprocess.run(["git", "-C", repo, "rev-parse", "--is-inside-work-tree"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.returncode == 0 and r.stdout.strip() == b"true"


def check(repo):
    if not is_git_checkout(repo):
        print(f"SKIPPED: {repo} is not a git checkout (or git is missing); "
              "there are no tracked files to check", file=sys.stderr)
        return SKIP
    found = tracked_binaries(repo)
    for rel, kind in found:
        print(f"tracked build output: {rel} ({kind}); remove it with "
              f"'git rm --cached {rel}' and keep it out with .gitignore",
              file=sys.stderr)
    if not found:
        print(f"{repo}: no tracked ELF, object or archive files")
    return 1 if found else 0


def self_test():
    """The checker must name every planted binary and nothing else."""
    if shutil.which("git") is None:
        print("SKIPPED: git is missing", file=sys.stderr)
        return SKIP
    planted = {
        "bin/no_suffix": b"\x7fELF\x02\x01\x01" + bytes(57),
        "lib/libx.a": b"!<arch>\n" + b"x.o/  " + bytes(50),
        "obj/x.obj": b"\x64\x86\x03\x00" + bytes(12) + b"\x00\x00" + bytes(2),
        "obj/x.bc": b"BC\xc0\xde" + bytes(8),
    }
    clean = {
        "README.md": b"# text\n",
        "data.bin": b"\x00\x01ELF not at the start\n",
    }
    with tempfile.TemporaryDirectory() as repo:
        for rel, data in {**planted, **clean}.items():
            os.makedirs(os.path.dirname(os.path.join(repo, rel)) or repo, exist_ok=True)
            with open(os.path.join(repo, rel), "wb") as f:
                f.write(data)
        git = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(git[:3] + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        got = {rel for rel, _ in tracked_binaries(repo)}
    if got != set(planted):
        print(f"self-test failed: found {sorted(got)}, planted {sorted(planted)}",
              file=sys.stderr)
        return 1
    print(f"self-test: found exactly the {len(planted)} planted binaries")
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    return check(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
