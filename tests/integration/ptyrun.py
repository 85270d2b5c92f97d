#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# ptyrun.py - run a command as the leader of a new session whose
# controlling terminal is a fresh pseudo-terminal, with LINE typed into
# it.  Everything the command writes to the terminal goes to stdout; the
# exit status is the command's (128 + N when signal N ended it).
#
#   python3 ptyrun.py [--after TEXT] LINE COMMAND [ARGS...]
#
# The line is typed at once (the terminal keeps it until something
# reads), or with --after once the command has written TEXT (a password
# prompt discards what was typed before it).
import os
import pty
import sys


def main():
    args = sys.argv[1:]
    after = None
    if args[:1] == ["--after"] and len(args) > 1:
        after = args[1].encode()
        args = args[2:]
    if len(args) < 2:
        sys.stderr.write("usage: ptyrun.py [--after TEXT] LINE COMMAND "
                         "[ARGS...]\n")
        return 2
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(args[1], args[1:])
        finally:
            os._exit(127)
    line = args[0].encode() + b"\n"
    if after is None:
        os.write(fd, line)
    out = bytearray()
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the last process on the terminal is gone
            break
        if not data:
            break
        out += data
        if after is not None and after in out:
            os.write(fd, line)
            after = None
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(bytes(out))
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
