#!/bin/bash
# `check --changed-since HEAD` (one sub-chart changed) of two chartforge checkouts, paired A B A B.
#
#   bash bench/changed_ab.sh OLD/generator NEW/generator [CHARTS=200] [PAIRS=3] [--slim]
#
# A synthetic catalog (bench/synthetic.py) is built and committed; each side fills its own result
# cache with a full check of that commit (the cache CI keeps from main); svc-000's template is then
# changed and rebuilt, and each pair runs both sides on a fresh copy of its cache. --slim replaces
# the sub-chart schemas embedded in the umbrella's values.schema.json by {"type": "object"} in
# copies of both checkouts (what helm 4 spends validating that schema is another item of issue 15).
# Prints wall and CPU seconds of every run, and `uptime` before each pair. Not a test.
set -euo pipefail
OLD=$1 NEW=$2 N=${3:-200} PAIRS=${4:-3} SLIM=${5:-}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/chartforge-changed-ab-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export PATH="$HERE/../.tools/bin:$PATH" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com GIT_CONFIG_GLOBAL=/dev/null
for side in old new; do
  src=$OLD; [ $side = new ] && src=$NEW
  cp -r "$src" "$WORK/$side"
  if [ "$SLIM" = --slim ]; then
    sed -i 's/sub = chart_schema(catalog, by_name\[dep.name\], nested=True)/sub = {"type": "object"}/' \
      "$WORK/$side/chartforge/compile/schema.py"
  fi
done
ROOT=$WORK/syn
python3 "$HERE/synthetic.py" "$ROOT" "$N" >/dev/null
PYTHONPATH=$WORK/old python3 -m chartforge -C "$ROOT" build >/dev/null
(cd "$ROOT" && git init -q && git add -A && git commit -qm base)
for side in old new; do  # the base commit's full check, cached
  PYTHONPATH=$WORK/$side CHARTFORGE_CACHE=$WORK/cache-$side python3 -m chartforge -C "$ROOT" check \
    --engine kubeconform >/dev/null 2>&1 || true
done
echo "# changed" >> "$ROOT/sources/charts/svc-000/templates/service.yaml.j2"
PYTHONPATH=$WORK/old python3 -m chartforge -C "$ROOT" build >/dev/null
for _ in $(seq "$PAIRS"); do
  uptime
  for side in old new; do
    rm -rf "$WORK/run" && cp -r "$WORK/cache-$side" "$WORK/run"
    PYTHONPATH=$WORK/$side CHARTFORGE_CACHE=$WORK/run /usr/bin/time -f "$side %e s wall, %U s user, %S s sys" \
      python3 -m chartforge -C "$ROOT" check --engine kubeconform --changed-since HEAD -o json \
      2>&1 >"$WORK/$side.json" | tail -1
  done
  cmp -s <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['diagnostics'], d['resources'])" "$WORK/old.json") \
         <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['diagnostics'], d['resources'])" "$WORK/new.json") \
    && echo "same findings and objects" || echo "FINDINGS DIFFER"
done
