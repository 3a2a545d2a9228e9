#!/bin/sh
# Builds a base image for deploy/Containerfile where no container registry is reachable,
# from Debian's own package mirror: Debian 12 (bookworm) with its Python 3.11, venv and CA
# certificates, imported into podman. Where a registry is reachable, use python:3.11-slim
# (the Containerfile's default) instead.
#
#   deploy/container/make-base-image.sh [IMAGE]      default: localhost/credit-registry-base:bookworm
#
# Needs root (debootstrap), debootstrap and podman. DEBIAN_MIRROR chooses the mirror
# (default: debootstrap's own); PODMAN holds the podman command with any global options,
# e.g. PODMAN="podman --root /var/tmp/store --storage-driver vfs".
set -eu

image=${1:-localhost/credit-registry-base:bookworm}
podman=${PODMAN:-podman}
mirror=${DEBIAN_MIRROR:-}

for tool in debootstrap tar; do
    command -v "$tool" >/dev/null || { echo "make-base-image: $tool is not installed" \
        "(apt-get install debootstrap podman)" >&2; exit 2; }
done

root=$(mktemp -d "${TMPDIR:-/var/tmp}/credit-registry-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"  # it becomes the image's /: mktemp's 0700 would shut out every other user

# minbase: essential packages only, with apt; python3-venv brings ensurepip, which the
# image's build stage uses to make the virtual environment.
# shellcheck disable=SC2086  # an empty mirror is no argument: debootstrap's default
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" $mirror

# What a container never needs: downloaded packages, package lists, documentation.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/*

# An imported file system has no environment: give it Debian's PATH, as images built from a
# registry's have (the Containerfile puts its virtual environment in front of it).
tar --numeric-owner -C "$root" -c . \
    | $podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' - "$image" >/dev/null
echo "$image"
