"""Read netdevd's network displays and run ping with Netmiko's hp_comware
driver, as inventory and troubleshooting scripts do.

Usage: netmiko_network.py HOST PORT USER PASSWORD TARGET
Prints each command's output between BEGIN/END markers; exits non-zero on
a failure.
"""
import sys

from netmiko import ConnectHandler

host, port, user, password, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
conn = ConnectHandler(device_type="hp_comware", host=host, port=port, username=user,
                      password=password, fast_cli=False, timeout=20)
for command in ["display interface brief", "display interface Vlan-interface 1",
                "display ip interface brief", "display ip routing-table", "display arp",
                "ping -c 3 " + target]:
    out = conn.send_command(command)
    print("BEGIN", command)
    print(out)
    print("END", command)
conn.disconnect()
