#!/usr/bin/env bash
# Installs the Debian toolchains the plugin builds need, when missing:
# clang + lld + wasi-libc + the wasm32 compiler-rt builtins (the C plugin; without
# libclang-rt-19-dev-wasm32 wasm-ld cannot link libclang_rt.builtins) and wabt
# (the WAT test fixtures).
set -euo pipefail
need=()
command -v clang-19 >/dev/null || need+=(clang-19)
command -v wasm-ld-19 >/dev/null || command -v wasm-ld >/dev/null || need+=(lld-19)
[ -d /usr/include/wasm32-wasi ] || [ -d /usr/share/wasi-sysroot ] || need+=(wasi-libc)
[ -f /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a ] || need+=(libclang-rt-19-dev-wasm32)
command -v wat2wasm >/dev/null || need+=(wabt)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} ..."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
