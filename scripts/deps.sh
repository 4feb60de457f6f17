# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo: installs what is missing from
# Debian's packages. One list, so a fresh machine gets everything. clang,
# libclang-rt-14-dev (libFuzzer and clang's sanitizers: only a Recommends
# of clang) and llvm (llvm-symbolizer) are for tests/fuzz/run.sh.
# openssh-client is the ssh that reaches remote targets; openssh-server
# (sshd, run by tests/fleet/fleetlab.sh inside network
# namespaces; no system service is needed) and nftables (its drop and
# loss faults) are for the fleet tests (tests/fleet/), with iproute2
# (ip: namespaces, veth links), which minimal images leave out.
RIPCORD_PACKAGES=(
  build-essential meson ninja-build pkg-config scdoc git
  libgit2-dev libarchive-dev libcurl4-openssl-dev libinih-dev
  libsqlite3-dev libssl-dev libjansson-dev libcmocka-dev libpq-dev
  zstd openssl sqlite3 coreutils util-linux postgresql postgresql-client
  python3 python3-prometheus-client curl systemd chromium fonts-dejavu-core
  nginx-light procps openssh-client openssh-server nftables iproute2
  clang libclang-rt-14-dev llvm
)

ripcord_install_deps() {
  local missing=()
  for p in "${RIPCORD_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
