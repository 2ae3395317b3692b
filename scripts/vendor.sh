#!/usr/bin/env bash
# Refresh static/vendor/ from the npm registry: the exact versions in package.json, each with its licence.
# The result is committed, so installing and running Xiangzhi never needs npm or the network.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
(cd "$work" && npm install --no-audit --no-fund --ignore-scripts --silent)
nm="$work/node_modules"

copy() {  # copy PACKAGE FILE... : into static/vendor/PACKAGE/ with its LICENSE and version
  local pkg=$1; shift
  local dest="static/vendor/$pkg"
  rm -rf "$dest"; mkdir -p "$dest"
  for f in "$@"; do cp "$nm/$pkg/$f" "$dest/"; done
  cp "$nm/$pkg"/LICENSE* "$dest/" 2>/dev/null || cp "$nm/$pkg"/license* "$dest/"
  # Apache-2.0 packages carry a NOTICE that must travel with the code.
  if compgen -G "$nm/$pkg/NOTICE*" >/dev/null; then cp "$nm/$pkg"/NOTICE* "$dest/"; fi
  node -e "console.log(require('$nm/$pkg/package.json').version)" > "$dest/VERSION"
  echo "vendored $pkg $(cat "$dest/VERSION")"
}

copy htmx.org dist/htmx.min.js
copy echarts dist/echarts.min.js
