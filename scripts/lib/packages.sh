# Sourced by scripts/*: ensure_packages PKG... installs the Debian packages that are missing
# (apt-get update runs once, and only when something is missing). Safe to run again.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

# Boost.Hana: Debian 12's libboost1.81-dev where available, else libboost-dev (1.74).
boost_package() {
  if dpkg -s libboost1.81-dev >/dev/null 2>&1 || dpkg -s libboost-dev >/dev/null 2>&1; then
    dpkg -s libboost1.81-dev >/dev/null 2>&1 && echo libboost1.81-dev || echo libboost-dev
  elif apt-cache show libboost1.81-dev >/dev/null 2>&1; then
    echo libboost1.81-dev
  else
    echo libboost-dev
  fi
}
