#!/usr/bin/env bash
# Builds the platform's container images with podman, from Debian, with no
# image registry: a base root file system made by mmdebstrap (minbase,
# bookworm) and imported, then one image per Containerfile of infra/images/,
# each FROM that base with only its runtime packages and, for the platform's
# own images, the binaries and files that `cmake --install` stages from the
# normal build (build/, RelWithDebInfo, stripped).
#
#   rap-upload-api rap-job-api rap-worker rap-notifier   the four services
#   rap-gateway                                           nginx + the web UI
#   rap-rabbitmq rap-postgres rap-s3rver                  what compose needs
#   rap-prometheus                                        Prometheus, on request
#
# Podman's storage and configuration are private to this script and its
# users (tests, compose): CONTAINERS_STORAGE_CONF and CONTAINERS_CONF point at
# files written under $RAP_IMAGES_DIR (/var/cache/rap-images), where the
# images stay between runs. The base is tagged with a hash of what it is
# made from, so it is built once per machine (about a minute) and again only
# when that changes; podman's layer cache makes an unchanged image a no-op.
#
# Usage: scripts/images.sh [build [prometheus]]  installs what is missing,
#                                   builds (Prometheus too if named), prints sizes
#        scripts/images.sh env      prints the exports that select this storage
#        scripts/images.sh sizes    prints the images' sizes
#        scripts/images.sh podman ARGS...   podman on this storage
#        scripts/images.sh clean    removes the images and the storage
#
# Environment: RAP_IMAGES_DIR=/var/cache/rap-images
#   RAP_IMAGES_BUILD_DIR=<repo>/build (the normal build; not RAP_BUILD_DIR,
#   which scripts/test points at the sanitizer build for its stack)
#   RAP_IMAGE_TAG=dev (tag of the platform's images)
# Needs root (apt-get, mmdebstrap, rootful podman).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images_dir=${RAP_IMAGES_DIR:-/var/cache/rap-images}
build_dir=${RAP_IMAGES_BUILD_DIR:-$repo/build}
tag=${RAP_IMAGE_TAG:-dev}
# Podman's run-time state (locks, mounts) for this storage: another
# RAP_IMAGES_DIR gets its own.
run_dir=/run/rap-images.$(printf '%s' "$images_dir" | sha256sum | cut -c1-8)
# The platform's images, then the infrastructure compose runs.
SERVICE_IMAGES=(upload-api job-api worker notifier gateway)
INFRA_IMAGES=(rabbitmq postgres s3rver)
# Built only when asked for (`build prometheus`): Debian's Prometheus pulls
# in 220 MB of JavaScript for its console.
OPTIONAL_IMAGES=(prometheus)

say() { printf 'images: %s\n' "$*"; }
die() {
	printf 'images: error: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- tools

# What podman needs on Debian 12 as measured on the build machines: runc
# (crun 1.8 rejects their hybrid cgroups),
# netavark and aardvark-dns (container names resolve), catatonit (--init),
# uidmap, iptables (netavark sets its rules with it), mmdebstrap for the
# base, podman-compose for infra/compose.
TOOL_PACKAGES=(podman buildah runc netavark aardvark-dns catatonit uidmap
	fuse-overlayfs slirp4netns iptables mmdebstrap podman-compose)

install_tools() {
	local installed missing=() p
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${TOOL_PACKAGES[@]}" 2>/dev/null |
		awk '$2 ~ /^.i/ {print $1}') || true
	for p in "${TOOL_PACKAGES[@]}"; do
		grep -qxF "$p" <<<"$installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	say "apt-get install ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- podman

# Writes the private storage and containers configuration (only when their
# content changes) and exports the variables that select them.
configure_podman() {
	local run=$run_dir
	mkdir -p "$images_dir/storage" "$images_dir/networks" "$run"
	write_if_changed "$images_dir/storage.conf" <<EOF
# Written by scripts/images.sh: podman storage private to the platform's images.
[storage]
driver = "overlay"
graphroot = "$images_dir/storage"
runroot = "$run/storage"
EOF
	write_if_changed "$images_dir/containers.conf" <<EOF
# Written by scripts/images.sh: runc, netavark with aardvark-dns, and the
# ulimits root may set here (no CAP_SYS_RESOURCE; the open-file hard limit is 20000).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
init_path = "/usr/bin/catatonit"
# aardvark-dns drops a query now and then while it reloads (a container
# joins the network): retry after 1 s rather than glibc's 5 s, or the first
# S3 request after a compose up can wait out its 20 s timeout resolving.
dns_options = ["timeout:1", "attempts:5"]

[network]
network_backend = "netavark"
network_config_dir = "$images_dir/networks"

[engine]
runtime = "runc"
helper_binaries_dir = ["/usr/lib/podman", "/usr/libexec/podman"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$run/events.log"
tmp_dir = "$run/tmp"
EOF
	export CONTAINERS_STORAGE_CONF=$images_dir/storage.conf
	export CONTAINERS_CONF=$images_dir/containers.conf
	# No registries: every image here is local (localhost/...).
	export CONTAINERS_REGISTRIES_CONF=$images_dir/registries.conf
	write_if_changed "$images_dir/registries.conf" <<EOF
# Written by scripts/images.sh: no registry is searched; images are local.
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
}

# Writes stdin to $1 unless $1 already holds exactly that.
write_if_changed() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
	else
		mv "$tmp" "$1"
	fi
}

# ---------------------------------------------------------------- base

# The base image: Debian 12 minbase with CA certificates, without man
# pages, documentation (copyright files kept) or translations, in the base
# and in whatever the images install over it (the dpkg settings stay in
# it). Its tag is a hash of this recipe, so a change builds a new one and
# the old one is removed.
BASE_ARGS=(--variant=minbase --include=ca-certificates
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
	bookworm)

base_image() {
	local hash
	hash=$(printf '%s\n' "${BASE_ARGS[@]}" | sha256sum | cut -c1-12)
	echo "localhost/rap-base:$hash"
}

build_base() {
	local base tmp t0=$SECONDS
	base=$(base_image)
	if podman image exists "$base"; then
		say "base $base: cached"
		return 0
	fi
	say "base $base: mmdebstrap (about a minute)"
	tmp=$(mktemp -d "$images_dir/base.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	mmdebstrap --quiet "${BASE_ARGS[@]}" "$tmp/rootfs.tar"
	podman import --quiet --change 'CMD ["/bin/bash"]' "$tmp/rootfs.tar" "$base" >/dev/null
	rm -rf "$tmp"
	trap - EXIT
	say "base $base: built in $((SECONDS - t0)) s"
}

# Removes bases of other recipes, once no image is built on them any more.
remove_old_bases() {
	local base
	base=$(base_image)
	podman images --format '{{.Repository}}:{{.Tag}}' localhost/rap-base |
		grep -vxF "$base" | xargs -r podman rmi >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- stage

# Stages what the images copy: `cmake --install` from the normal build into
# $images_dir/stage/usr/local (unchanged files keep their time stamps, and
# podman's cache keys on content, so an unchanged build rebuilds nothing).
stage() {
	[[ -f $build_dir/CMakeCache.txt ]] || die "no build in $build_dir (scripts/up builds, or cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo)"
	cmake --build "$build_dir" -j"$(nproc)" --target rap-upload-api rap-job-api rap-worker \
		rap-notifier rap-processor rap-cli >/dev/null
	cmake --install "$build_dir" --prefix "$images_dir/stage/usr/local" --strip >/dev/null
	# s3rver and the npm packages it needs, from the repository's node_modules
	# (package-lock.json pins them).
	node "$repo/infra/images/s3rver-closure.cjs" "$repo/node_modules" "$images_dir/stage/s3rver" >/dev/null
	local f dst
	# Prometheus's configuration and rules, as observability/ holds them.
	mkdir -p "$images_dir/stage/prometheus/rules"
	for f in "$repo"/observability/prometheus/prometheus.yml "$repo"/observability/prometheus/rules/*.yml; do
		dst=$images_dir/stage/prometheus/${f#"$repo"/observability/prometheus/}
		cmp -s "$f" "$dst" || install -m 0644 "$f" "$dst"
	done
	# The images' own scripts (the gateway's and PostgreSQL's commands).
	mkdir -p "$images_dir/stage/images"
	for f in "$repo"/infra/images/*.sh; do
		cmp -s "$f" "$images_dir/stage/images/${f##*/}" || install -m 0755 "$f" "$images_dir/stage/images/"
	done
}

# ---------------------------------------------------------------- images

# Builds image rap-$1 from infra/images/$1.Containerfile.
build_image() {
	local name=$1 t0=$SECONDS
	podman build --quiet --format docker --pull=never --layers \
		--build-arg "BASE=$(base_image)" \
		-f "$repo/infra/images/$name.Containerfile" -t "localhost/rap-$name:$tag" \
		"$images_dir/stage" >/dev/null || die "building rap-$name failed"
	say "rap-$name:$tag ($((SECONDS - t0)) s)"
}

print_sizes() {
	local name
	printf '%-28s %s\n' IMAGE SIZE
	for name in "${SERVICE_IMAGES[@]}" "${INFRA_IMAGES[@]}" "${OPTIONAL_IMAGES[@]}"; do
		[[ " ${OPTIONAL_IMAGES[*]} " == *" $name "* ]] && ! podman image exists "localhost/rap-$name:$tag" && continue
		podman image inspect --format '{{.Size}}' "localhost/rap-$name:$tag" 2>/dev/null |
			awk -v n="rap-$name:$tag" '{printf "%-28s %.0f MB\n", n, $1 / 1e6}' ||
			printf '%-28s %s\n' "rap-$name:$tag" missing
	done
	podman image inspect --format '{{.Size}}' "$(base_image)" 2>/dev/null |
		awk -v n="$(base_image)" '{printf "%-28s %.0f MB (the shared base)\n", n, $1 / 1e6}' || true
}

cmd_build() {
	local t0=$SECONDS name extra=()
	for name in "$@"; do
		[[ " ${OPTIONAL_IMAGES[*]} " == *" $name "* ]] || die "build: unknown image $name (optional: ${OPTIONAL_IMAGES[*]})"
		extra+=("$name")
	done
	[[ $EUID -eq 0 ]] || die "must run as root"
	install_tools
	configure_podman
	build_base
	stage
	for name in "${SERVICE_IMAGES[@]}" "${INFRA_IMAGES[@]}" "${extra[@]}"; do
		build_image "$name"
	done
	# Layers no tag uses any more (an earlier build's) go, and old bases.
	podman image prune --force >/dev/null
	remove_old_bases
	print_sizes
	say "done in $((SECONDS - t0)) s"
}

main() {
	local cmd=${1:-build}
	shift || true
	case $cmd in
	build) cmd_build "$@" ;;
	env)
		printf 'export CONTAINERS_STORAGE_CONF=%q\n' "$images_dir/storage.conf"
		printf 'export CONTAINERS_CONF=%q\n' "$images_dir/containers.conf"
		printf 'export CONTAINERS_REGISTRIES_CONF=%q\n' "$images_dir/registries.conf"
		;;
	sizes)
		configure_podman
		print_sizes
		;;
	podman)
		configure_podman
		exec podman "$@"
		;;
	clean)
		configure_podman
		podman system reset --force
		rm -rf "$images_dir" "$run_dir"
		;;
	-h | --help | help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
	*) die "unknown command $cmd (build, env, sizes, podman, clean)" ;;
	esac
}

main "$@"
