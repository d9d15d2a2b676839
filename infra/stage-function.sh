#!/usr/bin/env bash
#
# Usage: infra/stage-function.sh OUT_DIR [REPO_DIR]
#
# Prepares the directory `gcloud functions deploy --source` uploads: the
# compiled code the function runs (dist/, without the gateway, producer,
# benchmarks and tests), the table definitions it reads (infra/schema/),
# package-lock.json, and a package.json whose `main` is the function module
# and which has no scripts.
#
# Why not upload the repository: the Cloud Run functions build runs
# `npm run build` when package.json has a build script, which would need the
# dev dependencies and the whole source tree; and it finds the function
# through `main`. Staging ships the code already compiled and tested here.
#
# OUT_DIR is replaced if it holds an earlier staging (it carries a marker
# file); any other existing directory is refused rather than deleted.
# REPO_DIR defaults to the repository this script is in; it must have been
# built (npm run build).
set -euo pipefail

readonly MARKER=.ingest-function-stage
readonly FUNCTION_MODULE=dist/functions/index.js
# Compiled folders the function does not load.
readonly LEFT_OUT=(gateway producer bench test local)

usage() {
  sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  (($# >= 1 && $# <= 2)) || usage
  local out=$1
  local repo=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

  if [[ ! -f "${repo}/${FUNCTION_MODULE}" ]]; then
    echo "error: ${repo}/${FUNCTION_MODULE} is missing: run npm run build" >&2
    exit 1
  fi
  if [[ -e "${out}" && ! -f "${out}/${MARKER}" ]]; then
    echo "error: ${out} exists and is not a function staging; not touching it" >&2
    exit 1
  fi

  rm -rf "${out}"
  mkdir -p "${out}/dist"
  touch "${out}/${MARKER}"

  local entry name skip left_out
  for entry in "${repo}"/dist/*/; do
    name=$(basename "${entry}")
    skip=false
    for left_out in "${LEFT_OUT[@]}"; do
      if [[ "${name}" == "${left_out}" ]]; then
        skip=true
      fi
    done
    if [[ "${skip}" != true ]]; then
      cp -R "${entry}" "${out}/dist/${name}"
    fi
  done

  mkdir -p "${out}/infra"
  cp -R "${repo}/infra/schema" "${out}/infra/schema"
  cp "${repo}/package-lock.json" "${out}/package-lock.json"
  # The lock file still matches: dependencies are untouched, only `main` and
  # `scripts` change, and npm ci compares dependencies alone.
  node -e '
    const fs = require("node:fs");
    const [from, to, main] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(from, "utf8"));
    pkg.main = main;
    delete pkg.scripts;
    fs.writeFileSync(to, JSON.stringify(pkg, null, 2) + "\n");
  ' "${repo}/package.json" "${out}/package.json" "${FUNCTION_MODULE}"

  # The upload is this directory alone; the marker need not travel.
  printf '%s\n' "${MARKER}" >"${out}/.gcloudignore"
  echo "staged the function in ${out}" >&2
}

main "$@"
