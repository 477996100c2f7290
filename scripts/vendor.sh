#!/usr/bin/env bash
# Refresh front-end vendor assets in static/vendor/ from the pinned npm packages.
# Usage: bash scripts/vendor.sh   (or: npm run vendor)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

NM="$ROOT/node_modules"
OUT="$ROOT/static/vendor"

# WeUI (CSS only)
mkdir -p "$OUT/weui"
cp "$NM/weui/dist/style/weui.min.css" "$OUT/weui/weui.min.css"
cp "$NM/weui/LICENSE.txt"             "$OUT/weui/LICENSE"

# qr-scanner: UMD build + worker (must stay in the same directory; the UMD
# build does import("./qr-scanner-worker.min.js") relative to its own URL)
mkdir -p "$OUT/qr-scanner"
cp "$NM/qr-scanner/qr-scanner.umd.min.js"    "$OUT/qr-scanner/qr-scanner.umd.min.js"
cp "$NM/qr-scanner/qr-scanner-worker.min.js" "$OUT/qr-scanner/qr-scanner-worker.min.js"
cp "$NM/qr-scanner/LICENSE"                  "$OUT/qr-scanner/LICENSE"

# Strip sourceMappingURL comments: the .map files are not vendored, and a
# dangling reference only causes 404 noise in browser devtools.
for f in "$OUT/qr-scanner/qr-scanner.umd.min.js" "$OUT/qr-scanner/qr-scanner-worker.min.js"; do
  sed -i -e 's|//# sourceMappingURL=[^ ]*\.map$||' "$f"
done

echo "weui       $(node -p "require('$NM/weui/package.json').version")"
echo "qr-scanner $(node -p "require('$NM/qr-scanner/package.json').version")"
find "$OUT" -type f ! -name README.md | sort | xargs ls -l
