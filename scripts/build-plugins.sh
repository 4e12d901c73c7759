#!/usr/bin/env bash
# Builds every example plugin into build/plugins/NAME.wasm and every WAT test
# fixture into build/fixtures/NAME.wasm.
#   examples/plugins/NAME/ with Go files: GOOS=wasip1 GOARCH=wasm -buildmode=c-shared
#   examples/plugins/NAME/ with a build.sh: that script, called with the output path
#   test/fixtures/NAME.wat: wat2wasm
# A plugin whose folder has a file OUTDIR is built into the folder it names
# instead (the conformance plugin also serves "/" and so runs on its own).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/plugins
fixtures=build/fixtures
mkdir -p "$out" "$fixtures"
for dir in examples/plugins/*/; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  dest=$out
  [ -f "$dir/OUTDIR" ] && dest=$(tr -d '[:space:]' < "$dir/OUTDIR")
  mkdir -p "$dest"
  if [ -x "$dir/build.sh" ]; then
    "$dir/build.sh" "$PWD/$dest/$name.wasm"
  elif ls "$dir"/*.go >/dev/null 2>&1; then
    GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o "$dest/$name.wasm" "./$dir"
  else
    continue
  fi
  # settings file beside the module, when the plugin has one
  if [ -f "$dir/$name.json" ]; then cp "$dir/$name.json" "$dest/$name.json"; fi
done
for wat in test/fixtures/*.wat; do
  [ -f "$wat" ] || continue
  wat2wasm "$wat" -o "$fixtures/$(basename "${wat%.wat}").wasm"
done
echo "plugins: $(ls "$out"/*.wasm 2>/dev/null | wc -l) built into $out; fixtures: $(ls "$fixtures"/*.wasm 2>/dev/null | wc -l)"
