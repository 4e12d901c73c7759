#!/usr/bin/env bash
# Builds cecho.wasm with Debian's clang-19, lld-19 and wasi-libc
# (scripts/install-toolchains.sh installs them). Usage: build.sh OUTPUT.wasm
set -euo pipefail
out=${1:?usage: build.sh OUTPUT.wasm}
cd "$(dirname "$0")"
# --target=wasm32-wasi with Debian's sysroot (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi); -mexec-model=reactor: a library with _initialize,
# no main; -fuse-ld=lld: clang-19 runs wasm-ld-19. The memory is exported by
# default; the three ABI functions are exported by name; a 16 KiB stack lets
# the instance start with one 64 KiB page (malloc grows it on demand).
clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror \
  -mexec-model=reactor -fuse-ld=lld \
  -Wl,--export=edged_abi_v1 -Wl,--export=edged_init -Wl,--export=edged_on \
  -Wl,-z,stack-size=16384 -Wl,--strip-debug \
  -o "$out" cecho.c json.c
