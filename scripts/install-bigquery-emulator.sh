#!/usr/bin/env bash
# Usage: scripts/install-bigquery-emulator.sh
#
# Installs the BigQuery emulator the tests and the local stack run against
# (goccy/bigquery-emulator, pure Go since v0.7) into .tools/bin/, built from
# the Go module proxy at a pinned version. Reuses an existing build of that
# version. Needs Go 1.25+; a first build takes several minutes on two cores,
# later ones reuse Go's build cache.
#
# Environment:
#   BIGQUERY_EMULATOR_VERSION  module version to build (default below)
set -euo pipefail

# shellcheck source=scripts/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"

install_go_tool bigquery-emulator github.com/goccy/bigquery-emulator \
  "${BIGQUERY_EMULATOR_VERSION:-v0.8.1}" ./cmd/bigquery-emulator
