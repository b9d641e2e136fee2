#!/usr/bin/env bash
# Installs what the tests need and the Go toolchain does not bring: dnsmasq
# (zero-touch end-to-end), OpenSSH client and server (SSH tests and the
# side-by-side baseline), Kea (the shipped Kea example is tested), iproute2 (network namespaces), tmux (driving the
# OpenSSH client like a person), busybox (udhcpc baseline), Netmiko and TextFSM, lintian
# (checks the Debian packages), systemd (systemd-analyze verify on the
# packaged unit; systemd need not run), ssh-audit (audits the SSH server's
# algorithms), expect (drives ssh as login scripts do) and iputils-ping (the
# bench's baseline for the device's ping).
# Idempotent: installs only what is missing. Needs root.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have dnsmasq || need+=(dnsmasq-base)
have ssh || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
have ip || need+=(iproute2)
have tmux || need+=(tmux)
have busybox || need+=(busybox)
have kea-dhcp4 || need+=(kea-dhcp4-server)
/usr/bin/python3 -c 'import netmiko' >/dev/null 2>&1 || need+=(python3-netmiko)
/usr/bin/python3 -c 'import textfsm' >/dev/null 2>&1 || need+=(python3-textfsm)
have lintian || need+=(lintian)
have systemd-analyze || need+=(systemd)
have ssh-audit || need+=(ssh-audit)
have expect || need+=(expect)
have ping || need+=(iputils-ping)
# util-linux: setpriv (the bring-up test runs the daemon with the unit's
# capabilities) and unshare (the bench's OpenSSH password baseline, rttssh)
have setpriv && have unshare || need+=(util-linux)
# the bench's OpenSSH password baseline (rttssh): a shadow copy in a mount namespace
have openssl || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: need root to install: ${need[*]}" >&2
  exit 1
fi
echo "install-test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
