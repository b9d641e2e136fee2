"""Log in with Debian's paramiko (the library under Netmiko), run one command
and print the algorithms it agreed on.

Usage: paramiko_login.py HOST PORT USER PASSWORD COMMAND
Prints `AGREED Kex: …`, `AGREED HostKey: …`, `AGREED Cipher: …`,
`AGREED MAC: …`, `STATUS N`, then the command's output.
"""
import logging
import sys

import paramiko

host, port, user, password, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


class Agreed(logging.Handler):
    """Keeps paramiko's debug lines that name an agreed algorithm."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.split(":")[0] in ("Kex", "HostKey", "Cipher", "MAC"):
            self.lines.append(msg)


agreed = Agreed()
log = logging.getLogger("paramiko.transport")
log.setLevel(logging.DEBUG)
log.addHandler(agreed)

client = paramiko.SSHClient()
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
client.connect(host, port=port, username=user, password=password, look_for_keys=False,
               allow_agent=False, timeout=20)
_, stdout, _ = client.exec_command(command, timeout=20)
out = stdout.read().decode()
status = stdout.channel.recv_exit_status()
for line in agreed.lines:
    print("AGREED", line)
print("STATUS", status)
print(out)
client.close()
