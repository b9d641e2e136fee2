"""Drive netdevd with Netmiko's hp_comware driver, as automation does.

Usage: netmiko_comware.py HOST PORT USER PASSWORD
Prints one line per step; exits non-zero on the first failure.
"""
import sys

from netmiko import ConnectHandler

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = ConnectHandler(device_type="hp_comware", host=host, port=port, username=user,
                      password=password, fast_cli=False, timeout=20)
prompt = conn.find_prompt()
print("PROMPT", prompt)
version = conn.send_command("display version")
print("VERSION", ", Release " in version and "uptime is" in version)
out = conn.send_config_set([
    "cloud-management server domain netmiko.example.test",
    "cloud-management backup-server domain backup1.example.test port 20443",
    "cloud-management keepalive 45",
])
print("CONFIG_OUTPUT_ERRORS", "%" in out)
saved = conn.save_config()
print("SAVED", "successfully" in saved)
conn.disconnect()
