#!/usr/bin/env bash
# Installs what iovsim needs to build and test on Debian 12, if it is missing (run as root, or with
# sudo available). Everything comes from Debian's archive.
set -euo pipefail
packages=(g++ cmake make pkg-config libsystemc-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev
          libcli11-dev libboost-dev libgtest-dev libgmock-dev tshark gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "installing: ${missing[*]}"
    $sudo_cmd apt-get update -q
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo_cmd debconf-set-selections
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
