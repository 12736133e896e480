#!/usr/bin/env bash
# System packages the build needs: a C++ compiler for the embedded Squirrel VM (build.rs),
# and cmake + libclang for the squirrel-sys crate's own build script.
set -euo pipefail
pkgs=(cmake clang libclang-dev g++)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
