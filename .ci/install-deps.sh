#!/bin/sh
# System packages the build needs: a C++ compiler for the embedded Squirrel VM (build.rs),
# and cmake + libclang for the squirrel-sys crate's own build script. POSIX sh, so README's
# first command can run it with `sh`; installs only what is missing (as root, or with sudo).
set -eu
missing=""
for p in cmake clang libclang-dev g++; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
