"""Read the device's displays with Netmiko's hp_comware driver and parse
them with TextFSM, as inventory tools do.

Usage: netmiko_displays.py HOST PORT USER PASSWORD
Prints one "KEY value" line per parsed field; exits non-zero when a display
does not parse (TextFSM's Error rule fires on a line the template does not
know, or a template finds nothing).

The templates are this project's own, written from Comware 7's layouts;
they key on the same lines the public hp_comware templates do (the version
line `... Software, Version V, Release R`, `MODEL uptime is ...`,
`Last reboot reason : ...`, the manuinfo `NAME : value` fields).
"""
import io
import sys

import textfsm
from netmiko import ConnectHandler

TEMPLATES = {
    "display version": r"""Value VERSION (\S+)
Value RELEASE (\S+)
Value MODEL (.+?)
Value UPTIME (.+)
Value LAST_REBOOT_REASON (.+)

Start
  ^.*Comware\s+Software,\s+Version\s+${VERSION},\s+Release\s+${RELEASE}\s*$$
  ^\s*Copyright
  ^\s*${MODEL}\s+uptime\s+is\s+${UPTIME}\s*$$
  ^\s*Last\s+reboot\s+reason\s*:\s*${LAST_REBOOT_REASON}\s*$$ -> Record
  ^\s*$$
  ^. -> Error
""",
    "display device manuinfo": r"""Value SLOT (\d+)
Value DEVICE_NAME (.+)
Value SERIAL (\S+)
Value MAC (\S+)
Value DATE (\S+)
Value VENDOR (\S+)

Start
  ^\s*Slot\s+${SLOT}
  ^\s*DEVICE_NAME\s*:\s*${DEVICE_NAME}\s*$$
  ^\s*DEVICE_SERIAL_NUMBER\s*:\s*${SERIAL}
  ^\s*MAC_ADDRESS\s*:\s*${MAC}
  ^\s*MANUFACTURING_DATE\s*:\s*${DATE}
  ^\s*VENDOR_NAME\s*:\s*${VENDOR} -> Record
  ^\s*$$
  ^. -> Error
""",
    "display device": r"""Value SLOT (\d+)
Value TYPE (\S+)
Value STATE (\S+)
Value SOFT_VER (\S+)

Start
  ^Slot\s+Type\s+State\s+Subslot\s+Soft\s+Ver\s+Patch\s+Ver\s*$$
  ^${SLOT}\s+${TYPE}\s+${STATE}\s+\d+\s+${SOFT_VER}\s+\S+\s*$$ -> Record
  ^. -> Error
""",
    "display cpu-usage": r"""Value SLOT (\d+)
Value CPU (\d+)
Value FIVE_SEC (\d+)
Value ONE_MIN (\d+)
Value FIVE_MIN (\d+)

Start
  ^Slot\s+${SLOT}\s+CPU\s+${CPU}\s+CPU\s+usage:
  ^\s+${FIVE_SEC}%\s+in\s+last\s+5\s+seconds
  ^\s+${ONE_MIN}%\s+in\s+last\s+1\s+minute
  ^\s+${FIVE_MIN}%\s+in\s+last\s+5\s+minutes -> Record
  ^. -> Error
""",
    "display memory": r"""Value SLOT (\d+)
Value TOTAL (\d+)
Value USED (\d+)
Value FREE (\d+)
Value FREE_RATIO (\d+\.\d+)

Start
  ^Memory\s+statistics\s+are\s+measured\s+in\s+KB:
  ^Slot\s+${SLOT}:
  ^\s+Total\s+Used\s+Free\s+Shared\s+Buffers\s+Cached\s+FreeRatio
  ^Mem:\s+${TOTAL}\s+${USED}\s+${FREE}\s+\d+\s+\d+\s+\d+\s+${FREE_RATIO}%
  ^-/\+\s+Buffers/Cache:
  ^Swap: -> Record
  ^. -> Error
""",
    "display local-user": r"""Value Required NAME (\S+)
Value STATE (\S+)
Value SERVICE (\S*)
Value ROLE (\S+)

Start
  ^Total\s+\d+\s+local\s+users\s+matched\.
  ^Device\s+management\s+user\s+${NAME}: -> User
  ^\s*$$
  ^. -> Error

User
  ^\s+State:\s+${STATE}
  ^\s+Service\s+type:\s*${SERVICE}\s*$$
  ^\s+User\s+role\s+list:\s+${ROLE} -> Record Start
  ^\s+\S
""",
    "display ssh server session": r"""Value PID (\d+)
Value SESSION (\d+)
Value VERSION (\S+)
Value CIPHER (\S+)
Value STATE (\S+)
Value RETRIES (\d+)
Value SERVICE (\S+)
Value USER (\S+)

Start
  ^UserPid\s+SessID\s+Ver\s+Encrypt\s+State\s+Retries\s+Serv\s+Username
  ^\s*${PID}\s+${SESSION}\s+${VERSION}\s+${CIPHER}\s+${STATE}\s+${RETRIES}\s+${SERVICE}\s+${USER}\s*$$ -> Record
  ^. -> Error
""",
    "display startup": r"""Value CURRENT (\S+)
Value NEXT_MAIN (\S+)

Start
  ^\s*Current\s+startup\s+saved-configuration\s+file:\s+${CURRENT}
  ^\s*Next\s+main\s+startup\s+saved-configuration\s+file:\s+${NEXT_MAIN}
  ^\s*Next\s+backup\s+startup\s+saved-configuration\s+file: -> Record
  ^. -> Error
""",
    "dir": r"""Value INDEX (\d+)
Value ATTR ([-drw]{4})
Value SIZE (\d+|-)
Value NAME (\S+)

Start
  ^Directory\s+of\s+flash:
  ^\s*${INDEX}\s+${ATTR}\s+${SIZE}\s+\w{3}\s+\d{2}\s+\d{4}\s+\d{2}:\d{2}:\d{2}\s+${NAME}\s*$$ -> Record
  ^\d+\s+KB\s+total\s+\(\d+\s+KB\s+free\)
  ^\s*$$
  ^. -> Error
""",
    "display users": r"""Value CURRENT (\+?)
Value INDEX (\d+)
Value LINE (\S+\s\d+)
Value TYPE (\S*)

Start
  ^\s+Idx\s+Line\s+Idle\s+Time\s+Pid\s+Type
  ^${CURRENT}\s+${INDEX}\s+${LINE}\s+\d\d:\d\d:\d\d\s+\w{3}\s+\d{2}\s+\d\d:\d\d:\d\d\s+\d+\s*${TYPE}\s*$$ -> Record
  ^\s*$$
  ^Following\s+are\s+more\s+details\. -> Details
  ^. -> Error

Details
  ^\S.*\s+:\s*$$
  ^\s+User\s+name:\s+\S+
  ^\s+Location:\s+\S+
  ^\s+\+\s+:\s+Current\s+operation\s+user\.
  ^\s+F\s+:\s+Current\s+operation\s+user\s+works\s+in\s+async\s+mode\.
  ^. -> Error
""",
}


def parse(command, text):
    fsm = textfsm.TextFSM(io.StringIO(TEMPLATES[command]))
    rows = fsm.ParseText(text)
    if not rows:
        raise SystemExit(f"{command}: nothing parsed from:\n{text}")
    return [dict(zip(fsm.header, row)) for row in rows]


host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = ConnectHandler(device_type="hp_comware", host=host, port=port, username=user,
                      password=password, fast_cli=False, timeout=20)
for command in TEMPLATES:
    text = conn.send_command(command)
    try:
        rows = parse(command, text)
    except textfsm.TextFSMError as e:
        raise SystemExit(f"{command}: {e}\n{text}")
    for i, row in enumerate(rows):
        for key, value in row.items():
            print(f"{command.upper().replace(' ', '_')}.{i}.{key} {value}")
config = conn.send_command("display current-configuration")
first = [line for line in config.splitlines() if line.strip() and line.strip() != "#"][:2]
print("CONFIG_HEAD", " | ".join(first))
conn.disconnect()
print("DONE")
