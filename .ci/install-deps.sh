#!/bin/sh
# Checks for what the build needs beyond Rust: a C and C++ compiler for the embedded Squirrel
# VM (crates/impt-vm/build.rs compiles its vendor/squirrel with cc). Installs only what is missing,
# with the platform's package manager (apt-get, dnf, yum, apk, zypper, pacman or brew), as
# root or through sudo; when it cannot, it says exactly what to install and exits 1.
# POSIX sh, so README's first command can run it with `sh`.
set -eu

have() { command -v "$1" >/dev/null 2>&1; }

cxx_ok() {
  for c in "${CXX:-}" c++ g++ clang++; do
    [ -n "$c" ] && have "$c" && return 0
  done
  return 1
}
cc_ok() {
  for c in "${CC:-}" cc gcc clang; do
    [ -n "$c" ] && have "$c" && return 0
  done
  return 1
}

if ! have cargo; then
  echo "install-deps: cargo not found; install Rust first (https://rustup.rs), then rerun." >&2
  exit 1
fi
if cxx_ok && cc_ok; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo"; else SUDO="none"; fi
fi

os="$(uname -s)"
if [ "$os" = Darwin ]; then
  if have brew; then
    # Apple's clang comes with the Command Line Tools; brew's llvm also works.
    echo "install-deps: no C++ compiler; run: xcode-select --install (or: brew install llvm)" >&2
  else
    echo "install-deps: no C++ compiler; run: xcode-select --install" >&2
  fi
  exit 1
fi

if have apt-get; then
  pm="apt-get"; pkgs="g++"; install="apt-get install -y -qq g++"
elif have dnf; then
  pm="dnf"; pkgs="gcc-c++"; install="dnf install -y gcc gcc-c++"
elif have yum; then
  pm="yum"; pkgs="gcc-c++"; install="yum install -y gcc gcc-c++"
elif have apk; then
  pm="apk"; pkgs="g++"; install="apk add --no-cache build-base"
elif have zypper; then
  pm="zypper"; pkgs="gcc-c++"; install="zypper --non-interactive install gcc gcc-c++"
elif have pacman; then
  pm="pacman"; pkgs="gcc"; install="pacman -S --noconfirm --needed gcc"
else
  echo "install-deps: no C/C++ compiler found and no known package manager;" >&2
  echo "install a C++ compiler (g++ or clang++) and rerun." >&2
  exit 1
fi

if [ "$SUDO" = none ]; then
  echo "install-deps: no C++ compiler found; as root run: $install" >&2
  exit 1
fi
echo "install-deps: installing $pkgs with $pm" >&2
if [ "$pm" = apt-get ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
if ! $SUDO $install; then
  echo "install-deps: '$install' failed; install a C++ compiler (package $pkgs) and rerun." >&2
  exit 1
fi
cxx_ok || { echo "install-deps: still no C++ compiler after installing $pkgs" >&2; exit 1; }
