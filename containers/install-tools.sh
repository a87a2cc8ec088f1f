#!/usr/bin/env bash
# Installs what containers/build.sh and the compose smoke test need, when missing (root):
# podman, runc, debootstrap (Debian), and Docker Compose v2 built from its Go module (no binary
# download is reachable here; the Go module proxy is), cached outside the checkout.
# Prints the path of the docker compose binary on its last line.
set -euo pipefail
COMPOSE_VERSION=v2.40.3
TOOLS=${SF_CONNECTOR_TOOLS_CACHE:-$HOME/.cache/sf-neurons-connector/tools}
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >&2
fi
compose="$TOOLS/compose-$COMPOSE_VERSION/docker-compose"
if [ ! -x "$compose" ]; then
  command -v go >/dev/null || { echo "go is needed to build Docker Compose $COMPOSE_VERSION" >&2; exit 1; }
  echo "building Docker Compose $COMPOSE_VERSION from the Go module proxy (a few minutes, once)" >&2
  # `go install module@version` refuses compose's go.mod (it has replace/exclude directives), so the
  # module's source is built in a copy.
  src=$(mktemp -d)
  dir=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  cp -r "$dir/." "$src" && chmod -R u+w "$src"
  mkdir -p "$(dirname "$compose")"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$compose.part" ./cmd) >&2
  mv "$compose.part" "$compose" && rm -rf "$src"
fi
"$compose" version >&2
echo "$compose"
