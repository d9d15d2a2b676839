#!/usr/bin/env bash
# Usage: scripts/install-bigquery-emulator.sh
#
# Installs the BigQuery emulator the tests and the local stack run against
# (goccy/bigquery-emulator, pure Go since v0.7) into .tools/bin/, built from
# the Go module proxy at a pinned version. Reuses an existing build of that
# version. Needs Go 1.25+ on PATH; a first build takes several minutes on two
# cores, later ones reuse Go's build cache.
#
# Environment:
#   BIGQUERY_EMULATOR_VERSION  module version to build (default below)
set -euo pipefail

readonly VERSION="${BIGQUERY_EMULATOR_VERSION:-v0.8.1}"
readonly MODULE=github.com/goccy/bigquery-emulator

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly bin_dir="${root}/.tools/bin"
readonly binary="${bin_dir}/bigquery-emulator"
readonly stamp="${binary}.version"

if [[ -x "${binary}" && -f "${stamp}" && "$(cat "${stamp}")" == "${VERSION}" ]]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-bigquery-emulator: Go is needed to build ${MODULE}" >&2
  exit 1
fi

# `go install MODULE@VERSION` asks the proxy for the module's version list to
# check for deprecation, and the proxy reachable here refuses that list. So
# fetch the one pinned version and build it inside its own module instead.
echo "building ${MODULE}@${VERSION} into ${bin_dir}" >&2
src="$(go mod download -json "${MODULE}@${VERSION}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [[ -z "${src}" || ! -d "${src}" ]]; then
  echo "install-bigquery-emulator: could not download ${MODULE}@${VERSION}" >&2
  exit 1
fi

mkdir -p "${bin_dir}"
(cd "${src}" && CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go build -trimpath -o "${binary}" ./cmd/bigquery-emulator)
echo "${VERSION}" >"${stamp}"
"${binary}" --version >&2 || true
