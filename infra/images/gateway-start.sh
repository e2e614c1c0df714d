#!/bin/bash
# The rap-gateway image's command (infra/images/gateway.Containerfile):
# renders infra/nginx/nginx.conf.template into /tmp/nginx.conf the way the
# Helm chart does (templates/configmaps.yaml): the services by name instead
# of 127.0.0.1, listening on every address, logs to stdout and stderr, pid
# and temporary files under /tmp, no `user` (nginx runs as the image's
# non-root user), then runs nginx in the foreground.
#
# Settings (environment, with defaults):
#   RAP_GATEWAY_PORT=8080  RAP_GATEWAY_UPLOAD_API=upload-api:8101
#   RAP_GATEWAY_JOB_API=job-api:8102  RAP_GATEWAY_NOTIFIERS=notifier:8103
#   (host:port, comma-separated)  RAP_UPLOAD_MAX_BYTES=10737418240
set -eu

template=/usr/share/rap/nginx/nginx.conf.template
conf=/tmp/nginx.conf
port=${RAP_GATEWAY_PORT:-8080}
upload=${RAP_GATEWAY_UPLOAD_API:-upload-api:8101}
job=${RAP_GATEWAY_JOB_API:-job-api:8102}
notifiers=${RAP_GATEWAY_NOTIFIERS:-notifier:8103}
body_max=$((${RAP_UPLOAD_MAX_BYTES:-10737418240} + 65536))
nofile=$(ulimit -n)
[[ $nofile == unlimited ]] && nofile=65536

servers=""
for s in $(printf '%s' "$notifiers" | tr ',' ' '); do
	servers="${servers}server $s; "
done

mkdir -p /tmp/client_body /tmp/proxy /tmp/fastcgi /tmp/uwsgi /tmp/scgi
sed -e "s|127\.0\.0\.1:@UPLOAD_PORT@|$upload|" \
	-e "s|127\.0\.0\.1:@JOB_PORT@|$job|" \
	-e "s|listen 127\.0\.0\.1:@GATEWAY_PORT@|listen $port|" \
	-e "s|@LOG_DIR@/nginx-error\.log|stderr|" \
	-e "s|@LOG_DIR@/nginx-access\.log|/dev/stdout|" \
	-e "s|@NGINX_DIR@/tmp/|/tmp/|g" -e "s|@NGINX_DIR@|/tmp|g" \
	-e "s|@USER_DIRECTIVE@|# user: none, nginx runs as the image's user (non-root)|" \
	-e "s|@NOTIFIER_SERVERS@|$servers|" \
	-e "s|@WEB_ROOT@|/usr/share/rap/web|" \
	-e "s|@NOFILE@|$nofile|" -e "s|@UPLOAD_BODY_MAX@|$body_max|g" \
	"$template" >"$conf"
if grep -qE '@[A-Z_]+@' "$conf"; then
	echo "rap-gateway-start: unreplaced token(s) in $conf: $(grep -oE '@[A-Z_]+@' "$conf" | sort -u | tr '\n' ' ')" >&2
	exit 1
fi
exec nginx -c "$conf" -e stderr -g 'daemon off;'
