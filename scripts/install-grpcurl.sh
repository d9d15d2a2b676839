#!/usr/bin/env bash
# Usage: scripts/install-grpcurl.sh
#
# Installs grpcurl, a gRPC client written in Go that the end-to-end tests use
# as an independent peer (through server reflection, as the README shows),
# into .tools/bin/, built from the Go module proxy at a pinned version.
#
# Environment:
#   GRPCURL_VERSION  module version to build (default below)
set -euo pipefail

# shellcheck source=scripts/go-tool.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"

install_go_tool grpcurl github.com/fullstorydev/grpcurl \
  "${GRPCURL_VERSION:-v1.9.3}" ./cmd/grpcurl
