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

# Bootstrap 5 (the merchant console's CSS; the bundle includes Popper for dropdowns)
mkdir -p "$OUT/bootstrap"
cp "$NM/bootstrap/dist/css/bootstrap.min.css"      "$OUT/bootstrap/bootstrap.min.css"
cp "$NM/bootstrap/dist/js/bootstrap.bundle.min.js" "$OUT/bootstrap/bootstrap.bundle.min.js"
cp "$NM/bootstrap/LICENSE"                         "$OUT/bootstrap/LICENSE"

# htmx 2.0.x (pinned: the registry's latest is a rewrite), partial updates in the console
mkdir -p "$OUT/htmx"
cp "$NM/htmx.org/dist/htmx.min.js" "$OUT/htmx/htmx.min.js"
cp "$NM/htmx.org/LICENSE"          "$OUT/htmx/LICENSE"

# Chart.js 4 (the console dashboard's line and bar charts; the UMD build defines window.Chart)
mkdir -p "$OUT/chartjs"
cp "$NM/chart.js/dist/chart.umd.min.js" "$OUT/chartjs/chart.umd.min.js"
cp "$NM/chart.js/LICENSE.md"            "$OUT/chartjs/LICENSE"

# Strip sourceMappingURL comments: the .map files are not vendored, and a
# dangling reference only causes 404 noise in browser devtools.
for f in "$OUT/qr-scanner/qr-scanner.umd.min.js" "$OUT/qr-scanner/qr-scanner-worker.min.js" \
         "$OUT/bootstrap/bootstrap.min.css" "$OUT/bootstrap/bootstrap.bundle.min.js" \
         "$OUT/chartjs/chart.umd.min.js"; do
  sed -i -e 's|//# sourceMappingURL=[^ ]*\.map$||' -e 's|/\*# sourceMappingURL=[^ ]*\.map \*/||' "$f"
done

echo "weui       $(node -p "require('$NM/weui/package.json').version")"
echo "bootstrap  $(node -p "require('$NM/bootstrap/package.json').version")"
echo "htmx.org   $(node -p "require('$NM/htmx.org/package.json').version")"
echo "chart.js   $(node -p "require('$NM/chart.js/package.json').version")"
echo "qr-scanner $(node -p "require('$NM/qr-scanner/package.json').version")"
find "$OUT" -type f ! -name README.md | sort | xargs ls -l
