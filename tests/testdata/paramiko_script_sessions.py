"""Issue 11's reproduction with Debian's python3-paramiko, N sessions in a row.

Usage: paramiko_script_sessions.py HOST PORT USER PASSWORD COUNT WAIT_SECONDS

Each session does what scrapli's hp_comware driver does over paramiko, reading
the way it reads (escape sequences and CRs removed, the prompt recognised only on
a line of its own, `^<name>\\s*$`):
  1. invoke_shell() with a PTY (TERM xterm, vt100, dumb in turn);
  2. send "\\n" at once;
  3. read until the second prompt (the first one and the answer to the return);
  4. send "screen-length disable" without a newline and wait for its echo right
     after the prompt, then send "\\n" and read until the next prompt;
  5. quit.
Prints "OK i TERM" or "LOST i TERM reason transcript" per session, then
"SUMMARY lost=L sessions=N". Exit status 0 even when sessions are lost (the
caller counts); 2 when a session cannot even be opened.
"""
import re
import socket
import sys
import time

import paramiko

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
count, wait = int(sys.argv[5]), float(sys.argv[6])
PROMPT = "<netdevd>"
COMMAND = "screen-length disable"
TERMS = ["xterm", "vt100", "dumb"]
ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")
PROMPT_LINE = re.compile(r"(?m)^" + re.escape(PROMPT) + r"[ \t]*$")


class Lost(Exception):
    pass


def clean(raw):
    return ESCAPES.sub("", raw.decode("utf-8", "replace")).replace("\r", "")


class Reader:
    """The channel and everything read from it."""

    def __init__(self, chan):
        self.chan, self.raw = chan, b""

    def until(self, cond, what):
        deadline = time.monotonic() + wait
        while not cond(clean(self.raw)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Lost("no %s within %.0fs" % (what, wait))
            self.chan.settimeout(min(left, 0.5))
            try:
                data = self.chan.recv(65535)
            except socket.timeout:
                continue
            if not data:
                raise Lost("session ended before %s" % what)
            self.raw += data


def session(term):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host, port=port, username=user, password=password,
                   look_for_keys=False, allow_agent=False, timeout=wait)
    r = None
    try:
        chan = client.invoke_shell(term=term)
        r = Reader(chan)
        chan.send("\n")
        r.until(lambda t: len(PROMPT_LINE.findall(t)) >= 2, "second prompt")
        chan.send(COMMAND)
        echo = "\n" + PROMPT + COMMAND
        r.until(lambda t: echo in "\n" + t, "echo after the prompt")
        chan.send("\n")

        def answer(t):
            return ("\n" + t).split(echo, 1)[1]

        r.until(lambda t: answer(t).startswith("\n") and PROMPT_LINE.search(answer(t)) is not None,
                "prompt after the command")
        if "% " in answer(clean(r.raw)):
            raise Lost("the command failed: %r" % answer(clean(r.raw)))
        chan.send("quit\n")
    except Lost as e:
        e.raw = r.raw if r else b""
        raise
    finally:
        client.close()


lost = 0
for i in range(count):
    term = TERMS[i % len(TERMS)]
    try:
        session(term)
        print("OK", i, term, flush=True)
    except Lost as e:
        lost += 1
        print("LOST", i, term, e, repr(e.raw), flush=True)
    except (paramiko.SSHException, OSError) as e:
        print("ERROR", i, term, repr(e), flush=True)
        sys.exit(2)
print("SUMMARY lost=%d sessions=%d" % (lost, count), flush=True)
