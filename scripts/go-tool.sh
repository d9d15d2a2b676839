# shellcheck shell=bash
# Sourced by the install-*.sh scripts: builds one Go command from the Go
# module proxy at a pinned version into .tools/bin/, once per version.

# install_go_tool NAME MODULE VERSION PACKAGE
#   NAME     file name in .tools/bin
#   MODULE   Go module path
#   VERSION  exact module version
#   PACKAGE  the command's package inside the module, e.g. ./cmd/NAME
install_go_tool() {
  local name="$1" module="$2" version="$3" package="$4"
  local root bin_dir binary stamp src
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  bin_dir="${root}/.tools/bin"
  binary="${bin_dir}/${name}"
  stamp="${binary}.version"

  if [[ -x "${binary}" && -f "${stamp}" && "$(cat "${stamp}")" == "${version}" ]]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "install ${name}: Go is needed to build ${module}" >&2
    return 1
  fi

  # `go install MODULE@VERSION` asks the proxy for the module's version list
  # to check for deprecation, and the proxy reachable here refuses that
  # list. So fetch the one pinned version and build inside its own module.
  echo "building ${module}@${version} into ${bin_dir}" >&2
  src="$(go mod download -json "${module}@${version}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "${src}" || ! -d "${src}" ]]; then
    echo "install ${name}: could not download ${module}@${version}" >&2
    return 1
  fi

  mkdir -p "${bin_dir}"
  (cd "${src}" && CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -o "${binary}" "${package}")
  echo "${version}" >"${stamp}"
}
